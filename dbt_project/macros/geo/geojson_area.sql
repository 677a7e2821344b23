{#-
  Area of a GeoJSON Polygon or MultiPolygon (WGS-84 longitude/latitude, RFC 7946) on the WGS-84
  ellipsoid, in km², computed in Spark SQL.

  Method: Lambert's cylindrical equal-area projection of the ellipsoid, x = longitude (radians),
  y = zone_area(latitude) = the ellipsoid's surface between the equator and that latitude per radian
  of longitude (m²):
      zone_area(φ) = b²/2 · ( sin φ / (1 − e² sin² φ) + atanh(e sin φ) / e )
  The projection preserves area, so a ring's area is the trapezoid (shoelace) sum over its edges,
      Σ (x[i+1] − x[i]) · (y[i] + y[i+1]) / 2,
  taken as an absolute value; a polygon is its exterior ring minus its holes, a MultiPolygon the sum
  of its polygons. An edge is a straight line in the projection: exact for edges along meridians and
  parallels (the area of a longitude/latitude cell is then exact), and for the short edges of real
  boundaries within a fraction of a per mille of the geodesic polygon. The ring may be closed or open
  (the edge back to the first vertex is always added; a closed ring adds a zero-length one).
  Checked against hand-computed cells in tests/geo/assert_geojson_area_matches_hand_computed.sql.
-#}
{% macro ellipsoid_zone_area_m2(latitude_degrees) -%}
    {#- WGS-84: semi-major axis a (m), flattening f; e² = f(2 − f), b² = a²(1 − e²) -#}
    {%- set wgs84_a = 6378137.0 -%}
    {%- set wgs84_f = 1 / 298.257223563 -%}
    {%- set e2 = wgs84_f * (2 - wgs84_f) -%}
    {%- set e = e2 ** 0.5 -%}
    {%- set b2 = wgs84_a * wgs84_a * (1 - e2) -%}
    ({{ b2 }}D / 2 * (
        sin(radians({{ latitude_degrees }})) / (1 - {{ e2 }}D * pow(sin(radians({{ latitude_degrees }})), 2))
        + atanh({{ e }}D * sin(radians({{ latitude_degrees }}))) / {{ e }}D
    ))
{%- endmacro %}

{% macro geojson_polygons(geometry) -%}
    case get_json_object({{ geometry }}, '$.type')
        when 'Polygon' then array(from_json(get_json_object({{ geometry }}, '$.coordinates'), 'array<array<array<double>>>'))
        when 'MultiPolygon' then from_json(get_json_object({{ geometry }}, '$.coordinates'), 'array<array<array<array<double>>>>')
    end
{%- endmacro %}

{% macro geojson_area_km2(geometry) -%}
    aggregate(
        flatten(transform({{ geojson_polygons(geometry) }}, polygon -> transform(polygon, (ring, ring_index) ->
            (case when ring_index = 0 then 1 else -1 end) * abs(aggregate(
                sequence(0, size(ring) - 1),
                cast(0 as double),
                (ring_area, i) -> ring_area
                    + (radians(ring[(i + 1) % size(ring)][0]) - radians(ring[i][0]))
                    * ({{ ellipsoid_zone_area_m2('ring[i][1]') }} + {{ ellipsoid_zone_area_m2('ring[(i + 1) % size(ring)][1]') }}) / 2
            ))
        ))),
        cast(0 as double),
        (total, part) -> total + part
    ) / 1000000
{%- endmacro %}
