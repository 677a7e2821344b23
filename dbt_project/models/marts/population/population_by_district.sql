{#-
  Residents per district at the as_of_date: one row per district valid at that date (zero when
  nobody lives there). A resident still carrying the code of a district retired by then is counted
  under its successor. A code that is not a district of the table keeps its own row with no name,
  so the tests and the release gate see it instead of it vanishing.
-#}
with residents as (

    select * from {{ ref('dim_resident') }}

),

divisions as (

    select * from {{ ref('stg_standards__divisions') }}

),

districts_at_date as (

    select
        divisions.division_code as district_code,
        divisions.division_name as district_name
    from divisions
    where divisions.division_level = 'district'
        and divisions.valid_from <= {{ as_of_date() }}
        and (divisions.valid_to is null or divisions.valid_to >= {{ as_of_date() }})

),

retired_districts as (

    select
        divisions.division_code as retired_code,
        divisions.successor_code
    from divisions
    where divisions.division_level = 'district'
        and divisions.valid_to < {{ as_of_date() }}
        and divisions.successor_code is not null

),

residents_in_current_district as (

    select
        coalesce(retired_districts.successor_code, residents.district_code) as district_code,
        residents.gender
    from residents
    left join retired_districts
        on residents.district_code = retired_districts.retired_code

),

counts_by_district as (

    select
        residents_in_current_district.district_code,
        count(*) as residents,
        sum(case when residents_in_current_district.gender = 'M' then 1 else 0 end) as male,
        sum(case when residents_in_current_district.gender = 'F' then 1 else 0 end) as female
    from residents_in_current_district
    group by residents_in_current_district.district_code

),

final as (

    select
        coalesce(districts_at_date.district_code, counts_by_district.district_code) as district_code,
        districts_at_date.district_name,
        cast(coalesce(counts_by_district.residents, 0) as {{ dbt.type_bigint() }}) as residents,
        cast(coalesce(counts_by_district.male, 0) as {{ dbt.type_bigint() }}) as male,
        cast(coalesce(counts_by_district.female, 0) as {{ dbt.type_bigint() }}) as female
    from districts_at_date
    full outer join counts_by_district
        on districts_at_date.district_code = counts_by_district.district_code

)

select * from final
