{#-
  信用修复: every penalty whose publicity period has ended by the as_of_date (公示截止期 on or before it),
  with the day it left publicity and how many penalties of the same subject are still in publicity.
-#}
with penalties as (

    select * from {{ ref('int_credit__penalties_at_date') }}

),

left_publicity as (

    select
        penalties.decision_no,
        penalties.credit_code,
        penalties.subject_name,
        penalties.subject_category,
        penalties.violation_type,
        penalties.penalty_category,
        penalties.decided_on,
        penalties.publicity_until as left_publicity_on
    from penalties
    where not penalties.in_publicity

),

still_in_publicity as (

    select
        penalties.credit_code,
        count(*) as penalties_in_publicity
    from penalties
    where penalties.in_publicity
    group by penalties.credit_code

),

final as (

    select
        left_publicity.decision_no,
        left_publicity.credit_code,
        left_publicity.subject_name,
        left_publicity.subject_category,
        left_publicity.violation_type,
        left_publicity.penalty_category,
        left_publicity.decided_on,
        left_publicity.left_publicity_on,
        cast(coalesce(still_in_publicity.penalties_in_publicity, 0) as {{ dbt.type_bigint() }})
            as subject_penalties_in_publicity,
        {{ as_of_date() }} as as_of_date
    from left_publicity
    left join still_in_publicity
        on left_publicity.credit_code = still_in_publicity.credit_code

)

select * from final
