with source as (

    select * from {{ source('silver', 'legal_entity') }}

),

renamed as (

    select
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source.name as {{ dbt.type_string() }}) as entity_name,
        cast(source.entity_type as {{ dbt.type_string() }}) as entity_type,
        cast(source.industry_code as {{ dbt.type_string() }}) as industry_code,
        cast(source.industry_section as {{ dbt.type_string() }}) as industry_section,
        cast(source.registered_capital as decimal(20, 2)) as registered_capital_yuan,
        cast(source.established_on as date) as established_on,
        cast(source.status as {{ dbt.type_string() }}) as status,
        cast(source.deregistered_on as date) as deregistered_on,
        cast(source.authority_district_code as {{ dbt.type_string() }}) as authority_district_code,
        cast(source.address as {{ dbt.type_string() }}) as address,
        cast(source.district_code as {{ dbt.type_string() }}) as district_code,
        cast(source.street_code as {{ dbt.type_string() }}) as street_code,
        cast(source.org_code as {{ dbt.type_string() }}) as org_code,
        cast(source.source as {{ dbt.type_string() }}) as source_name,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
