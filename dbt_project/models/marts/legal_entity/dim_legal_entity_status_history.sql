{#-
  The status history of every legal entity as known at the as_of_date: the periods of
  silver.legal_entity_status_history that had begun by then. A period still running at the date has
  no end (valid_to null) even if a later delivery already ended it, so the table is the same
  whenever it is rebuilt for the same date; is_current marks the period holding at the date.
-#}
with status_history as (

    select * from {{ ref('stg_silver__legal_entity_status_history') }}

),

begun_by_date as (

    select
        status_history.credit_code,
        status_history.valid_from,
        case
            when status_history.valid_to <= {{ as_of_date() }} then status_history.valid_to
        end as valid_to,
        status_history.status,
        status_history.change_reason
    from status_history
    where status_history.valid_from <= {{ as_of_date() }}

),

final as (

    select
        begun_by_date.credit_code,
        begun_by_date.valid_from,
        begun_by_date.valid_to,
        begun_by_date.valid_to is null as is_current,
        begun_by_date.status,
        begun_by_date.change_reason,
        {{ as_of_date() }} as as_of_date
    from begun_by_date

)

select * from final
