{#-
  One row per street or township of the city valid at the as_of_date (after a merge, the renumbered
  streets; after a rename, the new name), with its district, its boundary as delivered by the natural
  resources and planning bureau and its area in km². A street without a delivered boundary keeps its
  row with a null geometry and area, so the tests and the gate see it.
-#}
with divisions as (

    select * from {{ ref('int_geo__divisions_at_date') }}

),

boundaries as (

    select * from {{ ref('int_geo__boundary_areas') }}

),

streets as (

    select
        divisions.division_code as street_code,
        divisions.division_name as street_name,
        divisions.parent_code as district_code,
        divisions.valid_from
    from divisions
    where divisions.division_level = 'street'

),

districts as (

    select
        divisions.division_code as district_code,
        divisions.division_name as district_name
    from divisions
    where divisions.division_level = 'district'

),

street_boundaries as (

    select
        boundaries.division_code as street_code,
        boundaries.geometry_geojson,
        boundaries.area_km2
    from boundaries
    where boundaries.division_level = 'street'

),

final as (

    select
        streets.street_code,
        streets.street_name,
        streets.district_code,
        districts.district_name,
        streets.valid_from,
        street_boundaries.geometry_geojson,
        street_boundaries.area_km2
    from streets
    left join districts
        on streets.district_code = districts.district_code
    left join street_boundaries
        on streets.street_code = street_boundaries.street_code

)

select * from final
