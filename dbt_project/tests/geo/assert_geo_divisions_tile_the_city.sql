{#-
  The districts' areas add up to the city boundary's area, and each district's streets add up to
  the district's area (to 1 m² per km²): the boundaries tile the city without gaps or overlaps that
  change the total, and the area method is consistent across levels. Returns the offending division.
-#}
with districts as (

    select * from {{ ref('dim_district') }}

),

streets as (

    select * from {{ ref('dim_street') }}

),

boundaries as (

    select * from {{ ref('int_geo__boundary_areas') }}

),

city_total as (

    select
        boundaries.division_code,
        boundaries.area_km2 as area_km2,
        (select sum(districts.area_km2) from districts) as parts_km2
    from boundaries
    where boundaries.division_level = 'prefecture'

),

district_totals as (

    select
        districts.district_code as division_code,
        districts.area_km2,
        sum(streets.area_km2) as parts_km2
    from districts
    left join streets
        on districts.district_code = streets.district_code
    group by districts.district_code, districts.area_km2

),

compared as (

    select city_total.division_code, city_total.area_km2, city_total.parts_km2
    from city_total

    union all

    select district_totals.division_code, district_totals.area_km2, district_totals.parts_km2
    from district_totals

)

select
    compared.division_code,
    compared.area_km2,
    compared.parts_km2
from compared
where compared.parts_km2 is null
    or abs(compared.area_km2 - compared.parts_km2) > compared.area_km2 * 1e-6
