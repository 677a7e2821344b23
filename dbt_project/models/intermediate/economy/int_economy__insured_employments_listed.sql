{#-
  The contributions of social insurance's latest full list that are active (参保状态 正常参保), one row
  per insured person and employer (several insurance types of one job count once), with the
  employer's industry section and district from the legal-entity master. An employer the master does
  not hold keeps its employees with a null section and district.
-#}
with contributions as (

    select * from {{ ref('stg_silver__insured_employment') }}

),

entities as (

    select * from {{ ref('stg_silver__legal_entity') }}

),

listed_jobs as (

    select distinct
        contributions.id_number,
        contributions.employer_credit_code
    from contributions
    where contributions.in_latest_list
        and contributions.insurance_status = '正常参保'

),

final as (

    select
        listed_jobs.id_number,
        listed_jobs.employer_credit_code,
        entities.industry_section as section,
        entities.district_code
    from listed_jobs
    left join entities
        on listed_jobs.employer_credit_code = entities.credit_code

)

select * from final
