{#- Households per street at the as_of_date: the distinct household numbers (户号) of the street's
    residents. A household whose members are registered in two streets counts in each. -#}
with residents as (

    select * from {{ ref('int_population__residents_at_date') }}

),

final as (

    select
        residents.district_code,
        residents.street_code,
        cast(count(distinct residents.household_id) as {{ dbt.type_bigint() }}) as households
    from residents
    group by
        residents.district_code,
        residents.street_code

)

select * from final
