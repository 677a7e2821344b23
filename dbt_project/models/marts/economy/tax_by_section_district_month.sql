{#-
  Tax paid by industry section, district, tax period and tax type: every payment delivered so far,
  its latest correction applied, attributed to the paying entity's section and district. Payments of
  taxpayers the legal-entity master does not hold form rows with an empty section and district.
-#}
with payments as (

    select * from {{ ref('int_economy__tax_payments_attributed') }}

),

industry as (

    select * from {{ ref('stg_standards__industry') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

sums as (

    select
        payments.section,
        payments.district_code,
        payments.tax_period,
        payments.tax_type,
        sum(payments.amount_yuan) as amount_yuan,
        sum(payments.revenue_yuan) as revenue_yuan,
        count(*) as payments
    from payments
    group by payments.section, payments.district_code, payments.tax_period, payments.tax_type

),

final as (

    select
        sums.section,
        industry.industry_name as section_name,
        sums.district_code,
        districts.district_name,
        sums.tax_period,
        sums.tax_type,
        cast(sums.amount_yuan as decimal(20, 2)) as amount_yuan,
        cast(sums.revenue_yuan as decimal(20, 2)) as revenue_yuan,
        cast(sums.payments as {{ dbt.type_bigint() }}) as payments
    from sums
    left join industry
        on sums.section = industry.industry_code
        and industry.industry_level = 'section'
    left join districts
        on sums.district_code = districts.district_code

)

select * from final
