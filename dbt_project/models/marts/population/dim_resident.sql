{#- One row per person resident at the as_of_date: born and registered on or before it, not dead by then
    (silver.person keeps the deceased, with died_on, for the history). -#}
with persons as (

    select * from {{ ref('stg_silver__person') }}

),

residents_at_date as (

    select
        persons.*,
        {{ as_of_date() }} as as_of_date
    from persons
    where persons.birth_date <= {{ as_of_date() }}
        and (persons.registered_on is null or persons.registered_on <= {{ as_of_date() }})
        and (persons.died_on is null or persons.died_on > {{ as_of_date() }})

),

final as (

    select
        residents_at_date.id_number,
        residents_at_date.name,
        residents_at_date.gender,
        residents_at_date.birth_date,
        {{ age_in_years('residents_at_date.birth_date', 'residents_at_date.as_of_date') }} as age,
        residents_at_date.household_id,
        residents_at_date.relation_to_head,
        residents_at_date.district_code,
        residents_at_date.street_code,
        residents_at_date.address,
        residents_at_date.phone,
        residents_at_date.registered_on,
        residents_at_date.as_of_date
    from residents_at_date

)

select * from final
