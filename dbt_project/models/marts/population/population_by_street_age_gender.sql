{#- Residents at the as_of_date per street, five-year age band and gender: only the cells someone is in. -#}
with residents as (

    select * from {{ ref('int_population__residents_at_date') }}

),

final as (

    select
        residents.district_code,
        residents.street_code,
        residents.age_band,
        residents.gender,
        cast(count(*) as {{ dbt.type_bigint() }}) as residents
    from residents
    group by
        residents.district_code,
        residents.street_code,
        residents.age_band,
        residents.gender

)

select * from final
