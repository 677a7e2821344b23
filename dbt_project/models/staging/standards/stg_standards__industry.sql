with source as (

    select * from {{ source('standards', 'industry') }}

),

renamed as (

    select
        cast(source.code as {{ dbt.type_string() }}) as industry_code,
        cast(source.name as {{ dbt.type_string() }}) as industry_name,
        cast(source.level as {{ dbt.type_string() }}) as industry_level,
        cast(source.section as {{ dbt.type_string() }}) as section_code
    from source

)

select * from renamed
