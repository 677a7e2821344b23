{#-
  Social insurance delivers its full list every day, and silver keeps every key it has seen (MERGE
  never deletes): in_latest_list marks the contributions of the latest list (schemas/
  social_insurance_employment.yml declares `full_list: true`; citydata.ingest.silver sets the flag).
-#}
with source as (

    select * from {{ source('silver', 'insured_employment') }}

),

renamed as (

    select
        cast(source.id_number as {{ dbt.type_string() }}) as id_number,
        cast(source.name as {{ dbt.type_string() }}) as person_name,
        cast(source.employer_credit_code as {{ dbt.type_string() }}) as employer_credit_code,
        cast(source.employer_name as {{ dbt.type_string() }}) as employer_name,
        cast(source.insurance_type as {{ dbt.type_string() }}) as insurance_type,
        cast(source.insured_on as date) as insured_on,
        cast(source.contribution_base as decimal(20, 2)) as contribution_base_yuan,
        cast(source.status as {{ dbt.type_string() }}) as insurance_status,
        cast(source.in_latest_list as boolean) as in_latest_list,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
