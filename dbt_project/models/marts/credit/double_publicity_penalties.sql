{#-
  双公示 administrative penalties as published at the as_of_date: every penalty still in publicity at
  that date, with the public fields of the contract only (the legal representative is left out).
-#}
with penalties as (

    select * from {{ ref('int_credit__penalties_at_date') }}

),

final as (

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
        {{ as_of_date() }} as as_of_date
    from penalties
    where penalties.in_publicity

)

select * from final
