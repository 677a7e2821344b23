{#- One row per person resident at the as_of_date (int_population__residents_at_date: the residency
    rule, the age and today's division codes), with the personal fields of silver.person. -#}
with residents as (

    select * from {{ ref('int_population__residents_at_date') }}

),

final as (

    select
        residents.id_number,
        residents.name,
        residents.gender,
        residents.birth_date,
        residents.age,
        residents.household_id,
        residents.relation_to_head,
        residents.district_code,
        residents.street_code,
        residents.address,
        residents.phone,
        residents.registered_on,
        residents.as_of_date
    from residents

)

select * from final
