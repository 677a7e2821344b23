{#- Births, deaths, moves in and moves out per street in the delivery period [period_start,
    as_of_date], as the household register's change log tells them; only streets with an event. -#}
with events as (

    select * from {{ ref('int_population__vital_events_of_period') }}

),

final as (

    select
        events.district_code,
        events.street_code,
        cast(sum(case when events.event_type = 'birth' then 1 else 0 end) as {{ dbt.type_bigint() }}) as births,
        cast(sum(case when events.event_type = 'death' then 1 else 0 end) as {{ dbt.type_bigint() }}) as deaths,
        cast(sum(case when events.event_type = 'move_in' then 1 else 0 end) as {{ dbt.type_bigint() }}) as moves_in,
        cast(sum(case when events.event_type = 'move_out' then 1 else 0 end) as {{ dbt.type_bigint() }}) as moves_out,
        {{ period_start() }} as period_start,
        {{ as_of_date() }} as period_end
    from events
    group by
        events.district_code,
        events.street_code

)

select * from final
