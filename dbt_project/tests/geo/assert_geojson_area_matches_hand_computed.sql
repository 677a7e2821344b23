{#-
  macro geojson_area_km2 against areas computed by hand. On the WGS-84 ellipsoid (a = 6378137 m,
  f = 1/298.257223563, e² = f(2 − f), b² = a²(1 − e²)) the area of the cell between longitudes λ1, λ2
  and latitudes φ1, φ2 is (λ2 − λ1) · (S(φ2) − S(φ1)) with
  S(φ) = b²/2 · (sin φ / (1 − e² sin² φ) + atanh(e sin φ) / e); checked independently by Simpson's
  rule on ∫ M(φ) N(φ) cos φ dφ (same to 1e-11), and the whole ellipsoid gives 510,065,621.724 km².
    cell 120–121°E × 30–31°N                      = 10642.393439 km²
    hole 120.25–120.75°E × 30.25–30.75°N          =  2660.623702 km²  (cell minus hole: 7981.769737)
    cell 122–123°E × 1°S–0°                        = 12308.463894 km²  (with the first: 22950.857333)
  Fails (returns the case) when the macro differs by more than 1e-6 km².
-#}
-- depends_on: {{ ref('dim_district') }}
with cases as (

    select 'cell, closed ring, counter-clockwise' as polygon_case,
        '{"type":"Polygon","coordinates":[[[120,30],[121,30],[121,31],[120,31],[120,30]]]}' as geometry,
        10642.393439d as expected_km2
    union all
    select 'cell, open ring, clockwise',
        '{"type":"Polygon","coordinates":[[[120,30],[120,31],[121,31],[121,30]]]}',
        10642.393439d
    union all
    select 'cell with a hole',
        '{"type":"Polygon","coordinates":[[[120,30],[121,30],[121,31],[120,31],[120,30]],'
            || '[[120.25,30.25],[120.25,30.75],[120.75,30.75],[120.75,30.25],[120.25,30.25]]]}',
        7981.769737d
    union all
    select 'multipolygon of two cells',
        '{"type":"MultiPolygon","coordinates":[[[[120,30],[121,30],[121,31],[120,31],[120,30]]],'
            || '[[[122,-1],[123,-1],[123,0],[122,0],[122,-1]]]]}',
        22950.857333d

),

measured as (

    select
        cases.polygon_case,
        cases.expected_km2,
        {{ geojson_area_km2('cases.geometry') }} as measured_km2
    from cases

)

select
    measured.polygon_case,
    measured.expected_km2,
    measured.measured_km2
from measured
where measured.measured_km2 is null
    or abs(measured.measured_km2 - measured.expected_km2) > 1e-6
