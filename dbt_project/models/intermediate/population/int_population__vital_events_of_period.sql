{#-
  The vital events of the delivery period [period_start, as_of_date] as the household register's
  change log tells them, one row per event and street: a 出生 row is a birth and a 死亡 row a death
  at the row's street; a 迁移 row is a move in at the street moved to and a move out at the
  street moved from (原街道代码). Only rows with a valid identity number reach silver. Streets in
  the codes valid at the as_of_date.
-#}
with changes as (

    select * from {{ ref('stg_silver__person_change') }}

),

division_codes as (

    select * from {{ ref('int_population__division_codes_at_date') }}

),

changes_of_period as (

    select
        changes.id_number,
        changes.changed_on,
        changes.change_reason,
        changes.street_code,
        changes.previous_street_code
    from changes
    where changes.changed_on >= {{ period_start() }}
        and changes.changed_on <= {{ as_of_date() }}
        and changes.change_reason in ('出生', '死亡', '迁移')

),

events as (

    select
        changes_of_period.id_number,
        changes_of_period.changed_on,
        case changes_of_period.change_reason
            when '出生' then 'birth'
            when '死亡' then 'death'
            else 'move_in'
        end as event_type,
        changes_of_period.street_code
    from changes_of_period

    union all

    select
        changes_of_period.id_number,
        changes_of_period.changed_on,
        'move_out' as event_type,
        changes_of_period.previous_street_code as street_code
    from changes_of_period
    where changes_of_period.change_reason = '迁移'

),

final as (

    select
        events.id_number,
        events.changed_on,
        events.event_type,
        coalesce(streets.current_parent_code, substr(events.street_code, 1, 6)) as district_code,
        coalesce(streets.current_code, events.street_code) as street_code
    from events
    left join division_codes as streets
        on events.street_code = streets.division_code
        and streets.division_level = 'street'

)

select * from final
