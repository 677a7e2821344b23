with source as (

    select * from {{ source('silver', 'administrative_licence') }}

),

renamed as (

    select
        cast(source.decision_no as {{ dbt.type_string() }}) as decision_no,
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source.subject_name as {{ dbt.type_string() }}) as subject_name,
        cast(source.subject_category as {{ dbt.type_string() }}) as subject_category,
        cast(source.legal_representative as {{ dbt.type_string() }}) as legal_representative,
        cast(source.licence_category as {{ dbt.type_string() }}) as licence_category,
        cast(source.licence_content as {{ dbt.type_string() }}) as licence_content,
        cast(source.decided_on as date) as decided_on,
        cast(source.valid_from as date) as valid_from,
        cast(source.valid_to as date) as valid_to,
        cast(source.licensing_authority as {{ dbt.type_string() }}) as licensing_authority,
        cast(source.data_provider as {{ dbt.type_string() }}) as data_provider,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
