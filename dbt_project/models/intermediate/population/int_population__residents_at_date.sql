{#-
  The residents at the as_of_date, one row per person: in silver.person (a valid register row),
  born and registered on or before the date, and not dead by then (died_on null or later;
  silver.person keeps the deceased). Each with the age in completed years and its five-year band,
  and the district and street in the codes valid at the date (a retired code counts under its
  successor; the district is the one the street lies in). A code the division table does not know
  is kept as recorded, so the marts' tests name it instead of it vanishing.
-#}
with persons as (

    select * from {{ ref('stg_silver__person') }}

),

division_codes as (

    select * from {{ ref('int_population__division_codes_at_date') }}

),

residents_at_date as (

    select
        persons.id_number,
        persons.name,
        persons.gender,
        persons.birth_date,
        persons.household_id,
        persons.relation_to_head,
        persons.district_code,
        persons.street_code,
        persons.address,
        persons.phone,
        persons.registered_on,
        {{ age_in_years('persons.birth_date', as_of_date()) }} as age
    from persons
    where persons.birth_date <= {{ as_of_date() }}
        and (persons.registered_on is null or persons.registered_on <= {{ as_of_date() }})
        and (persons.died_on is null or persons.died_on > {{ as_of_date() }})
        -- a 'deceased' without a date of death is not counted as alive on any date
        and not (persons.status = 'deceased' and persons.died_on is null)

),

residents_in_current_divisions as (

    select
        residents_at_date.id_number,
        residents_at_date.name,
        residents_at_date.gender,
        residents_at_date.birth_date,
        residents_at_date.household_id,
        residents_at_date.relation_to_head,
        residents_at_date.address,
        residents_at_date.phone,
        residents_at_date.registered_on,
        residents_at_date.age,
        coalesce(streets.current_parent_code, districts.current_code, residents_at_date.district_code)
            as current_district_code,
        coalesce(streets.current_code, residents_at_date.street_code) as current_street_code
    from residents_at_date
    left join division_codes as streets
        on residents_at_date.street_code = streets.division_code
        and streets.division_level = 'street'
    left join division_codes as districts
        on residents_at_date.district_code = districts.division_code
        and districts.division_level = 'district'

),

final as (

    select
        residents_in_current_divisions.id_number,
        residents_in_current_divisions.name,
        residents_in_current_divisions.gender,
        residents_in_current_divisions.birth_date,
        residents_in_current_divisions.age,
        {{ age_band('residents_in_current_divisions.age') }} as age_band,
        residents_in_current_divisions.household_id,
        residents_in_current_divisions.relation_to_head,
        residents_in_current_divisions.current_district_code as district_code,
        residents_in_current_divisions.current_street_code as street_code,
        residents_in_current_divisions.address,
        residents_in_current_divisions.phone,
        residents_in_current_divisions.registered_on,
        {{ as_of_date() }} as as_of_date
    from residents_in_current_divisions

)

select * from final
