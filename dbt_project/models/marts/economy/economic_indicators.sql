{#-
  The statistics bureau's main economic indicators of the latest quarter delivered by the as_of_date
  (its period ended before that day), one row per division and indicator, on the platform's division
  dimension: districts as in dim_district, the city total under the city's code. Earlier quarters stay
  in silver.economic_indicator.
-#}
with indicators as (

    select * from {{ ref('int_economy__indicators_by_period') }}

),

divisions as (

    select * from {{ ref('int_geo__divisions_at_date') }}

),

latest_period as (

    select max(indicators.period_end_date) as period_end_date
    from indicators
    where indicators.period_end_date < {{ as_of_date() }}

),

latest_indicators as (

    select
        indicators.period,
        indicators.period_end_date,
        indicators.division_code,
        indicators.indicator,
        indicators.unit,
        indicators.value
    from indicators
    inner join latest_period
        on indicators.period_end_date = latest_period.period_end_date

),

final as (

    select
        latest_indicators.period,
        latest_indicators.period_end_date,
        latest_indicators.division_code,
        divisions.division_name,
        divisions.division_level,
        latest_indicators.indicator,
        latest_indicators.unit,
        cast(latest_indicators.value as decimal(20, 2)) as value
    from latest_indicators
    left join divisions
        on latest_indicators.division_code = divisions.division_code

)

select * from final
