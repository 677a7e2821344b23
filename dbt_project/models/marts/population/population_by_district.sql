{#-
  Residents per district at the as_of_date: one row per district valid at that date (zero when
  nobody lives there). A resident still carrying the code of a district retired by then is counted
  under its successor. A code that is not a district of the table keeps its own row with no name,
  so the tests and the release gate see it instead of it vanishing.
-#}
with residents as (

    select * from {{ ref('int_population__residents_at_date') }}

),

division_codes as (

    select * from {{ ref('int_population__division_codes_at_date') }}

),

districts_at_date as (

    select
        division_codes.current_code as district_code,
        division_codes.current_name as district_name
    from division_codes
    where division_codes.division_level = 'district'
        and division_codes.division_code = division_codes.current_code

),

counts_by_district as (

    select
        residents.district_code,
        count(*) as residents,
        sum(case when residents.gender = 'M' then 1 else 0 end) as male,
        sum(case when residents.gender = 'F' then 1 else 0 end) as female
    from residents
    group by residents.district_code

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
