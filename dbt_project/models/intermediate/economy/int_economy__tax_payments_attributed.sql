{#-
  Every tax payment delivered so far (its latest correction applied) with the industry section and
  district of the legal entity that paid it. A payer the legal-entity master does not hold (rejected
  by the registry, not delivered yet, or a legacy number that links to no entity) keeps its payment
  with a null section and district: the tax was paid, only its attribution is unknown.
-#}
with payments as (

    select * from {{ ref('stg_silver__tax_payment') }}

),

entities as (

    select * from {{ ref('stg_silver__legal_entity') }}

),

final as (

    select
        payments.tax_voucher_no,
        payments.credit_code,
        entities.industry_section as section,
        entities.district_code,
        payments.tax_period,
        payments.tax_type,
        payments.paid_date,
        payments.amount_yuan,
        payments.revenue_yuan
    from payments
    left join entities
        on payments.credit_code = entities.credit_code

)

select * from final
