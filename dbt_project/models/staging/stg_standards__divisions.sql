with source as (

    select * from {{ source('standards', 'divisions') }}

),

renamed as (

    select
        cast(source.code as {{ dbt.type_string() }}) as division_code,
        cast(source.name as {{ dbt.type_string() }}) as division_name,
        cast(source.level as {{ dbt.type_string() }}) as division_level,
        cast(nullif(source.parent, '') as {{ dbt.type_string() }}) as parent_code,
        cast(source.valid_from as date) as valid_from,
        cast(nullif(source.valid_to, '') as date) as valid_to,
        cast(nullif(source.successor, '') as {{ dbt.type_string() }}) as successor_code
    from source

)

select * from renamed
