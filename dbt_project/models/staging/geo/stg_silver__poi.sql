with source as (

    select * from {{ source('silver', 'poi') }}

),

renamed as (

    select
        cast(source.poi_id as {{ dbt.type_string() }}) as poi_id,
        cast(source.name as {{ dbt.type_string() }}) as poi_name,
        cast(source.category as {{ dbt.type_string() }}) as category,
        cast(source.category_code as {{ dbt.type_string() }}) as category_code,
        cast(source.address as {{ dbt.type_string() }}) as address,
        cast(source.longitude as decimal(9, 6)) as longitude,
        cast(source.latitude as decimal(9, 6)) as latitude,
        cast(source.district_code as {{ dbt.type_string() }}) as district_code,
        cast(source.street_code as {{ dbt.type_string() }}) as street_code,
        cast(source.is_open as boolean) as is_open,
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
