{#-
  Every legal entity of the master registered on or before the as_of_date, whatever its status then
  (the credit subjects of the register), with its status at that date read from the status history:
  the period holding at the date (valid_from <= date < valid_to; an empty, withdrawn period never
  holds). The deregistration date is the start of the deregistered period holding at the date.
  District: where the entity is (its geocoded address), else its registration authority's district.
-#}
with entities as (

    select * from {{ ref('stg_silver__legal_entity') }}

),

status_history as (

    select * from {{ ref('stg_silver__legal_entity_status_history') }}

),

registered_by_date as (

    select
        entities.credit_code,
        entities.entity_name,
        entities.entity_type,
        entities.industry_code,
        entities.industry_section,
        entities.registered_capital_yuan,
        entities.established_on,
        entities.authority_district_code,
        coalesce(entities.district_code, entities.authority_district_code) as district_code,
        entities.street_code,
        entities.address,
        entities.org_code,
        entities.source_name
    from entities
    where entities.established_on <= {{ as_of_date() }}

),

status_at_date as (

    select
        status_history.credit_code,
        status_history.status,
        status_history.valid_from
    from status_history
    where status_history.valid_from <= {{ as_of_date() }}
        and (status_history.valid_to is null or status_history.valid_to > {{ as_of_date() }})

),

final as (

    select
        registered_by_date.credit_code,
        registered_by_date.entity_name,
        registered_by_date.entity_type,
        registered_by_date.industry_code,
        registered_by_date.industry_section,
        registered_by_date.registered_capital_yuan,
        registered_by_date.established_on,
        registered_by_date.authority_district_code,
        registered_by_date.district_code,
        registered_by_date.street_code,
        registered_by_date.address,
        registered_by_date.org_code,
        registered_by_date.source_name,
        status_at_date.status as status_at_date,
        case
            when status_at_date.status = 'deregistered' then status_at_date.valid_from
        end as deregistered_on,
        {{ as_of_date() }} as as_of_date
    from registered_by_date
    left join status_at_date
        on registered_by_date.credit_code = status_at_date.credit_code

)

select * from final
