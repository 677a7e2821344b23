{#- The household register's change log (silver.person_change), typed; one row per change. -#}
with source as (

    select * from {{ source('silver', 'person_change') }}

),

renamed as (

    select
        cast(source.id_number as {{ dbt.type_string() }}) as id_number,
        cast(source.change_type as {{ dbt.type_string() }}) as change_type,
        cast(source.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(source.changed_on as date) as changed_on,
        cast(source.district_code as {{ dbt.type_string() }}) as district_code,
        cast(source.street_code as {{ dbt.type_string() }}) as street_code,
        cast(nullif(source.previous_street_code, '') as {{ dbt.type_string() }}) as previous_street_code,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
