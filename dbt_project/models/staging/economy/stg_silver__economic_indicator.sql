with source as (

    select * from {{ source('silver', 'economic_indicator') }}

),

renamed as (

    select
        cast(source.report_title as {{ dbt.type_string() }}) as report_title,
        cast(source.division_name as {{ dbt.type_string() }}) as division_name,
        cast(source.division_code as {{ dbt.type_string() }}) as division_code,
        cast(source.gdp as decimal(20, 2)) as gdp_100m_yuan,
        cast(source.gdp_growth as decimal(20, 2)) as gdp_growth_pct,
        cast(source.retail_sales as decimal(20, 2)) as retail_sales_100m_yuan,
        cast(source.retail_sales_growth as decimal(20, 2)) as retail_sales_growth_pct,
        cast(source.resident_population as decimal(20, 2)) as resident_population_10k,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
