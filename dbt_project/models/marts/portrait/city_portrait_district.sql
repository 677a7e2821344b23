{#-
  The city portrait (城市画像): one row per district valid at the as_of_date, the themes joined into the
  indicators a city dashboard shows. Definitions and units are in _portrait.yml (what the portal shows).
  A ratio whose denominator is zero is null, not zero: "no residents" is not "no activity per resident".
-#}
with population as (

    select * from {{ ref('population_by_district') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

measures as (

    select * from {{ ref('int_portrait__district_measures') }}

),

measures_by_district as (

    select
        measures.district_code,
        sum(case when measures.measure = 'households' then measures.value else 0 end) as households,
        sum(case when measures.measure = 'working_age_residents' then measures.value else 0 end)
            as working_age_residents,
        sum(case when measures.measure = 'active_entities' then measures.value else 0 end) as active_entities,
        sum(case when measures.measure = 'active_entities_with_penalty' then measures.value else 0 end)
            as active_entities_with_penalty,
        sum(case when measures.measure = 'black_listed_entities' then measures.value else 0 end)
            as black_listed_entities,
        sum(case when measures.measure = 'tax_yuan_12_months' then measures.value else 0 end) as tax_yuan_12_months,
        sum(case when measures.measure = 'insured_employees' then measures.value else 0 end) as insured_employees,
        sum(case when measures.measure = 'pois' then measures.value else 0 end) as pois
    from measures
    group by measures.district_code

),

indicators as (

    select
        population.district_code,
        population.district_name,
        population.residents,
        coalesce(measures_by_district.households, 0) as households,
        coalesce(measures_by_district.working_age_residents, 0) as working_age_residents,
        coalesce(measures_by_district.active_entities, 0) as active_entities,
        coalesce(measures_by_district.active_entities_with_penalty, 0) as active_entities_with_penalty,
        coalesce(measures_by_district.black_listed_entities, 0) as black_listed_entities,
        coalesce(measures_by_district.tax_yuan_12_months, 0) as tax_yuan_12_months,
        coalesce(measures_by_district.insured_employees, 0) as insured_employees,
        coalesce(measures_by_district.pois, 0) as pois,
        districts.area_km2
    from population
    left join measures_by_district
        on population.district_code = measures_by_district.district_code
    left join districts
        on population.district_code = districts.district_code

),

final as (

    select
        indicators.district_code,
        indicators.district_name,
        cast(indicators.residents as {{ dbt.type_bigint() }}) as residents,
        cast(indicators.households as {{ dbt.type_bigint() }}) as households,
        cast(indicators.working_age_residents as {{ dbt.type_bigint() }}) as working_age_residents,
        cast(indicators.active_entities as {{ dbt.type_bigint() }}) as active_entities,
        cast(round(indicators.active_entities * 10000 / nullif(indicators.residents, 0), 2) as decimal(20, 2))
            as active_entities_per_10k_residents,
        cast(indicators.tax_yuan_12_months as decimal(20, 2)) as tax_yuan_12_months,
        cast(round(indicators.tax_yuan_12_months / nullif(indicators.residents, 0), 2) as decimal(20, 2))
            as tax_yuan_per_resident,
        cast(indicators.insured_employees as {{ dbt.type_bigint() }}) as insured_employees,
        cast(round(indicators.insured_employees * 100 / nullif(indicators.working_age_residents, 0), 2)
            as decimal(20, 2)) as insured_per_100_working_age,
        cast(indicators.active_entities_with_penalty as {{ dbt.type_bigint() }}) as active_entities_with_penalty,
        cast(round(indicators.active_entities_with_penalty * 100 / nullif(indicators.active_entities, 0), 2)
            as decimal(20, 2)) as active_entities_with_penalty_pct,
        cast(indicators.black_listed_entities as {{ dbt.type_bigint() }}) as black_listed_entities,
        cast(indicators.pois as {{ dbt.type_bigint() }}) as pois,
        cast(indicators.area_km2 as decimal(20, 3)) as area_km2,
        cast(round(indicators.pois / nullif(indicators.area_km2, 0), 2) as decimal(20, 2)) as pois_per_km2,
        {{ as_of_date() }} as as_of_date
    from indicators

)

select * from final
