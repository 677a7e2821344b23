{#-
  Open points of interest inside the city by district and category: the POIs of the latest crawl
  (is_open) that lie in a district of the city. Points outside the city were rejected at bronze
  (GEO_OUTSIDE_CITY); a POI in no district is not counted.
-#}
with pois as (

    select * from {{ ref('stg_silver__poi') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

open_pois_in_city as (

    select
        pois.district_code,
        pois.category
    from pois
    where pois.is_open
        and pois.district_code is not null

),

pois_by_district_category as (

    select
        open_pois_in_city.district_code,
        open_pois_in_city.category,
        count(*) as pois
    from open_pois_in_city
    group by open_pois_in_city.district_code, open_pois_in_city.category

),

final as (

    select
        pois_by_district_category.district_code,
        districts.district_name,
        pois_by_district_category.category,
        cast(pois_by_district_category.pois as {{ dbt.type_bigint() }}) as pois
    from pois_by_district_category
    left join districts
        on pois_by_district_category.district_code = districts.district_code

)

select * from final
