{#- One row per legal entity (unified social credit code) registered on or before the as_of_date,
    with its status at that date; deregistered entities stay, with their deregistration date. -#}
with entities as (

    select * from {{ ref('int_legal_entity__entities_at_date') }}

),

industries as (

    select * from {{ ref('stg_standards__industry') }}

),

final as (

    select
        entities.credit_code,
        entities.entity_name,
        entities.entity_type,
        entities.industry_code,
        divisions.industry_name,
        entities.industry_section,
        sections.industry_name as section_name,
        entities.registered_capital_yuan,
        entities.established_on,
        entities.status_at_date as status,
        entities.deregistered_on,
        entities.district_code,
        entities.street_code,
        entities.authority_district_code,
        entities.address,
        entities.org_code,
        entities.source_name,
        entities.as_of_date
    from entities
    left join industries as divisions
        on entities.industry_code = divisions.industry_code
    left join industries as sections
        on entities.industry_section = sections.industry_code

)

select * from final
