with source as (

    select * from {{ source('silver', 'legal_entity_status_history') }}

),

renamed as (

    select
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source.valid_from as date) as valid_from,
        cast(source.valid_to as date) as valid_to,
        cast(source.is_current as boolean) as is_current,
        cast(source.status as {{ dbt.type_string() }}) as status,
        cast(source.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
