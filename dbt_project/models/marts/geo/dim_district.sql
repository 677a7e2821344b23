{#-
  One row per district of the city valid at the as_of_date, with its boundary as delivered by the
  natural resources and planning bureau and its area in km². A district without a delivered
  boundary keeps its row with a null geometry and area, so the tests and the gate see it.
-#}
with divisions as (

    select * from {{ ref('int_geo__divisions_at_date') }}

),

boundaries as (

    select * from {{ ref('int_geo__boundary_areas') }}

),

districts as (

    select
        divisions.division_code as district_code,
        divisions.division_name as district_name,
        divisions.parent_code as city_code,
        divisions.valid_from
    from divisions
    where divisions.division_level = 'district'

),

cities as (

    select
        divisions.division_code as city_code,
        divisions.division_name as city_name
    from divisions
    where divisions.division_level = 'prefecture'

),

streets_per_district as (

    select
        divisions.parent_code as district_code,
        count(*) as streets
    from divisions
    where divisions.division_level = 'street'
    group by divisions.parent_code

),

district_boundaries as (

    select
        boundaries.division_code as district_code,
        boundaries.geometry_geojson,
        boundaries.area_km2
    from boundaries
    where boundaries.division_level = 'district'

),

final as (

    select
        districts.district_code,
        districts.district_name,
        districts.city_code,
        cities.city_name,
        districts.valid_from,
        cast(coalesce(streets_per_district.streets, 0) as {{ dbt.type_bigint() }}) as streets,
        district_boundaries.geometry_geojson,
        district_boundaries.area_km2
    from districts
    left join cities
        on districts.city_code = cities.city_code
    left join streets_per_district
        on districts.district_code = streets_per_district.district_code
    left join district_boundaries
        on districts.district_code = district_boundaries.district_code

)

select * from final
