{#-
  Administrative penalties decided on or before the as_of_date, each with its publicity state at that
  date: in publicity while date < publicity_until (公示截止期, exclusive), left publicity on
  publicity_until once that day has come (信用修复).
-#}
with penalties as (

    select * from {{ ref('stg_silver__administrative_penalty') }}

),

decided_by_date as (

    select
        penalties.decision_no,
        penalties.credit_code,
        penalties.subject_name,
        penalties.subject_category,
        penalties.violation_type,
        penalties.penalty_category,
        penalties.fine_amount_yuan,
        penalties.decided_on,
        penalties.publicity_until,
        penalties.penalty_authority,
        penalties.publicity_until > {{ as_of_date() }} as in_publicity
    from penalties
    where penalties.decided_on <= {{ as_of_date() }}

)

select * from decided_by_date
