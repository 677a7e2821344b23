{#-
  tax_by_section_district_month loses no payment: its vouchers, amounts and revenues add up to those
  of silver.tax_payment (an unlinked taxpayer lands in the empty section and district, not nowhere).
  Returns one row when the totals differ.
-#}
with mart as (

    select * from {{ ref('tax_by_section_district_month') }}

),

payments as (

    select * from {{ ref('stg_silver__tax_payment') }}

),

mart_totals as (

    select
        coalesce(sum(mart.payments), 0) as payments,
        coalesce(sum(mart.amount_yuan), 0) as amount_yuan,
        coalesce(sum(mart.revenue_yuan), 0) as revenue_yuan
    from mart

),

silver_totals as (

    select
        count(*) as payments,
        coalesce(sum(payments.amount_yuan), 0) as amount_yuan,
        coalesce(sum(payments.revenue_yuan), 0) as revenue_yuan
    from payments

)

select
    mart_totals.payments as mart_payments,
    silver_totals.payments as silver_payments,
    mart_totals.amount_yuan as mart_amount_yuan,
    silver_totals.amount_yuan as silver_amount_yuan
from mart_totals
cross join silver_totals
where mart_totals.payments <> silver_totals.payments
    or mart_totals.amount_yuan <> silver_totals.amount_yuan
    or mart_totals.revenue_yuan <> silver_totals.revenue_yuan
