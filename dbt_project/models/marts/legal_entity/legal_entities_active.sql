{#- Active legal entities at the as_of_date by industry section, district and entity type. -#}
with entities as (

    select * from {{ ref('dim_legal_entity') }}

),

divisions as (

    select * from {{ ref('stg_standards__divisions') }}

),

districts_at_date as (

    select
        divisions.division_code as district_code,
        divisions.division_name as district_name
    from divisions
    where divisions.division_level = 'district'
        and divisions.valid_from <= {{ as_of_date() }}
        and (divisions.valid_to is null or divisions.valid_to >= {{ as_of_date() }})

),

active_by_cell as (

    select
        entities.industry_section as section,
        entities.section_name,
        entities.district_code,
        entities.entity_type,
        count(*) as active
    from entities
    where entities.status = 'active'
    group by entities.industry_section, entities.section_name, entities.district_code, entities.entity_type

),

final as (

    select
        active_by_cell.section,
        active_by_cell.section_name,
        active_by_cell.district_code,
        districts_at_date.district_name,
        active_by_cell.entity_type,
        cast(active_by_cell.active as {{ dbt.type_bigint() }}) as active
    from active_by_cell
    left join districts_at_date
        on active_by_cell.district_code = districts_at_date.district_code

)

select * from final
