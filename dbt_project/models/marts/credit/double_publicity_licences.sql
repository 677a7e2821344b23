{#-
  双公示 administrative licences as published at the as_of_date: every licence valid at that date, with
  the public fields of the contract only (the legal representative, personal information, is left out).
-#}
with licences as (

    select * from {{ ref('int_credit__licences_valid_at_date') }}

),

final as (

    select
        licences.decision_no,
        licences.credit_code,
        licences.subject_name,
        licences.subject_category,
        licences.licence_category,
        licences.licence_content,
        licences.decided_on,
        licences.valid_from,
        licences.valid_to,
        licences.licensing_authority,
        licences.data_provider,
        {{ as_of_date() }} as as_of_date
    from licences

)

select * from final
