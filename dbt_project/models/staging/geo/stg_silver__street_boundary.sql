with source as (

    select * from {{ source('silver', 'street_boundary') }}

),

renamed as (

    select
        cast(source.code as {{ dbt.type_string() }}) as division_code,
        cast(source.name as {{ dbt.type_string() }}) as division_name,
        cast(source.level as {{ dbt.type_string() }}) as division_level,
        cast(source.parent_code as {{ dbt.type_string() }}) as parent_code,
        cast(source.geometry as {{ dbt.type_string() }}) as geometry_geojson,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
