with source as (

    select * from {{ source('silver', 'administrative_penalty') }}

),

renamed as (

    select
        cast(source.decision_no as {{ dbt.type_string() }}) as decision_no,
        cast(source.credit_code as {{ dbt.type_string() }}) as credit_code,
        cast(source.subject_name as {{ dbt.type_string() }}) as subject_name,
        cast(source.subject_category as {{ dbt.type_string() }}) as subject_category,
        cast(source.legal_representative as {{ dbt.type_string() }}) as legal_representative,
        cast(source.violation_type as {{ dbt.type_string() }}) as violation_type,
        cast(source.penalty_category as {{ dbt.type_string() }}) as penalty_category,
        cast(source.fine_amount as decimal(20, 2)) as fine_amount_yuan,
        cast(source.decided_on as date) as decided_on,
        cast(source.publicity_until as date) as publicity_until,
        cast(source.penalty_authority as {{ dbt.type_string() }}) as penalty_authority,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
