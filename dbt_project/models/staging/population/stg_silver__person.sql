{#- silver.person, the population master (citydata.ingest.population): one row per identity number of
    the household register, the deceased included (status, died_on), typed. -#}
with source as (

    select * from {{ source('silver', 'person') }}

),

renamed as (

    select
        cast(source.id_number as {{ dbt.type_string() }}) as id_number,
        cast(source.name as {{ dbt.type_string() }}) as name,
        cast(source.gender as {{ dbt.type_string() }}) as gender,
        cast(source.birth_date as date) as birth_date,
        cast(source.household_id as {{ dbt.type_string() }}) as household_id,
        cast(source.relation_to_head as {{ dbt.type_string() }}) as relation_to_head,
        cast(source.district_code as {{ dbt.type_string() }}) as district_code,
        cast(source.street_code as {{ dbt.type_string() }}) as street_code,
        cast(source.address as {{ dbt.type_string() }}) as address,
        cast(source.phone as {{ dbt.type_string() }}) as phone,
        cast(source.registered_on as date) as registered_on,
        cast(source.status as {{ dbt.type_string() }}) as status,
        cast(source.died_on as date) as died_on,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
