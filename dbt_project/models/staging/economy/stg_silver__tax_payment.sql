with source as (

    select * from {{ source('silver', 'tax_payment') }}

),

renamed as (

    select
        cast(source.tax_voucher_no as {{ dbt.type_string() }}) as tax_voucher_no,
        cast(source.taxpayer_id as {{ dbt.type_string() }}) as taxpayer_id,
        cast(source.taxpayer_name as {{ dbt.type_string() }}) as taxpayer_name,
        cast(source.tax_type as {{ dbt.type_string() }}) as tax_type,
        cast(source.tax_period as {{ dbt.type_string() }}) as tax_period,
        cast(source.paid_date as date) as paid_date,
        cast(source.amount as decimal(20, 2)) as amount_yuan,
        cast(source.revenue as decimal(20, 2)) as revenue_yuan,
        cast(source.correction = '1' as boolean) as is_correction,
        cast(source.correction_date as date) as correction_date,
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
