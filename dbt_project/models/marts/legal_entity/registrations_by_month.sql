{#-
  Registrations and deregistrations of legal entities per calendar month and entity type, over the
  whole register as known at the as_of_date: an entity counts in the month it was established and,
  once deregistered by the date, in the month of its deregistration. Months without either are absent.
-#}
with entities as (

    select * from {{ ref('dim_legal_entity') }}

),

events as (

    select
        date_format(entities.established_on, 'yyyy-MM') as month,
        entities.entity_type,
        1 as registered,
        0 as deregistered
    from entities

    union all

    select
        date_format(entities.deregistered_on, 'yyyy-MM') as month,
        entities.entity_type,
        0 as registered,
        1 as deregistered
    from entities
    where entities.deregistered_on is not null

),

final as (

    select
        events.month,
        events.entity_type,
        cast(sum(events.registered) as {{ dbt.type_bigint() }}) as registrations,
        cast(sum(events.deregistered) as {{ dbt.type_bigint() }}) as deregistrations
    from events
    group by events.month, events.entity_type

)

select * from final
