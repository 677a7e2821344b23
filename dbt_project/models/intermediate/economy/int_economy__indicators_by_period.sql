{#-
  The statistics bureau's indicators in long form: one row per period, division and indicator, with
  the indicator's unit. The period (YYYY年第Q季度) comes from the report title and ends on the last day
  of its quarter; a division code retired by the end of the period is reported under its successor.
-#}
with indicators as (

    select * from {{ ref('stg_silver__economic_indicator') }}

),

divisions as (

    select * from {{ ref('stg_standards__divisions') }}

),

reports as (

    select
        regexp_extract(indicators.report_title, '([0-9]{4}年第[1-4]季度)', 1) as period,
        indicators.division_code,
        indicators.gdp_100m_yuan,
        indicators.gdp_growth_pct,
        indicators.retail_sales_100m_yuan,
        indicators.retail_sales_growth_pct,
        indicators.resident_population_10k
    from indicators

),

reports_dated as (

    select
        reports.period,
        last_day(make_date(
            cast(substr(reports.period, 1, 4) as int),
            cast(regexp_extract(reports.period, '第([1-4])季度', 1) as int) * 3,
            1
        )) as period_end_date,
        reports.division_code,
        reports.gdp_100m_yuan,
        reports.gdp_growth_pct,
        reports.retail_sales_100m_yuan,
        reports.retail_sales_growth_pct,
        reports.resident_population_10k
    from reports

),

unpivoted as (

    select
        reports_dated.period,
        reports_dated.period_end_date,
        reports_dated.division_code,
        measures.indicator,
        measures.unit,
        measures.value
    from reports_dated
    lateral view inline(array(
        struct('地区生产总值' as indicator, '亿元' as unit, reports_dated.gdp_100m_yuan as value),
        struct('地区生产总值同比增长' as indicator, '%' as unit, reports_dated.gdp_growth_pct as value),
        struct('社会消费品零售总额' as indicator, '亿元' as unit, reports_dated.retail_sales_100m_yuan as value),
        struct('社会消费品零售总额同比增长' as indicator, '%' as unit, reports_dated.retail_sales_growth_pct as value),
        struct('常住人口' as indicator, '万人' as unit, reports_dated.resident_population_10k as value)
    )) measures

),

retired_divisions as (

    select
        divisions.division_code as retired_code,
        divisions.valid_to,
        divisions.successor_code
    from divisions
    where divisions.successor_code is not null

),

final as (

    select
        unpivoted.period,
        unpivoted.period_end_date,
        coalesce(retired_divisions.successor_code, unpivoted.division_code) as division_code,
        unpivoted.indicator,
        unpivoted.unit,
        unpivoted.value
    from unpivoted
    left join retired_divisions
        on unpivoted.division_code = retired_divisions.retired_code
        and retired_divisions.valid_to < unpivoted.period_end_date

)

select * from final
