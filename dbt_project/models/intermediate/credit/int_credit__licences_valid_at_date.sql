{#-
  Administrative licences valid at the as_of_date: decided by then and valid_from <= date < valid_to
  (有效期至 is the first day the licence no longer holds, as the simulated city's truth counts it).
-#}
with licences as (

    select * from {{ ref('stg_silver__administrative_licence') }}

),

valid_at_date as (

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
        licences.data_provider
    from licences
    where licences.decided_on <= {{ as_of_date() }}
        and licences.valid_from <= {{ as_of_date() }}
        and licences.valid_to > {{ as_of_date() }}

)

select * from valid_at_date
