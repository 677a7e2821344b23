{#-
  Insured employees by the employer's industry section and district: the active contributions of
  social insurance's latest full list, one per person and employer. Employees of employers the
  legal-entity master does not hold form a row with an empty section and district.
-#}
with jobs as (

    select * from {{ ref('int_economy__insured_employments_listed') }}

),

industry as (

    select * from {{ ref('stg_standards__industry') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

counts as (

    select
        jobs.section,
        jobs.district_code,
        count(*) as insured
    from jobs
    group by jobs.section, jobs.district_code

),

final as (

    select
        counts.section,
        industry.industry_name as section_name,
        counts.district_code,
        districts.district_name,
        cast(counts.insured as {{ dbt.type_bigint() }}) as insured
    from counts
    left join industry
        on counts.section = industry.industry_code
        and industry.industry_level = 'section'
    left join districts
        on counts.district_code = districts.district_code

)

select * from final
