{#-
  Every delivered boundary (the city, its districts, its streets) with its area in km² on the WGS-84
  ellipsoid (macro geojson_area_km2: Lambert cylindrical equal-area projection, exact for
  longitude/latitude cells; see macros/geo/geojson_area.sql).
-#}
with district_boundaries as (

    select * from {{ ref('stg_silver__district_boundary') }}

),

street_boundaries as (

    select * from {{ ref('stg_silver__street_boundary') }}

),

boundaries as (

    select
        district_boundaries.division_code,
        district_boundaries.division_level,
        district_boundaries.geometry_geojson
    from district_boundaries

    union all

    select
        street_boundaries.division_code,
        street_boundaries.division_level,
        street_boundaries.geometry_geojson
    from street_boundaries

),

final as (

    select
        boundaries.division_code,
        boundaries.division_level,
        boundaries.geometry_geojson,
        cast(round({{ geojson_area_km2('boundaries.geometry_geojson') }}, 6) as decimal(18, 6)) as area_km2
    from boundaries

)

select * from final
