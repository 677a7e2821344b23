with source as (

    select * from {{ source('silver', 'credit_black_list') }}

),

renamed as (

    select
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source.subject_name as {{ dbt.type_string() }}) as subject_name,
        cast(source.list_type as {{ dbt.type_string() }}) as list_type,
        cast(source.listed_on as date) as listed_on,
        cast(source.valid_until as date) as valid_until,
        cast(source.deciding_department as {{ dbt.type_string() }}) as deciding_department,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
