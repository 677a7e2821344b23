{#- Completed years between birth_date and as_of (both dates): the usual "age at a date".
    Someone born on 29 February turns a year older on 1 March in common years. -#}
{% macro age_in_years(birth_date, as_of) -%}
  (year({{ as_of }}) - year({{ birth_date }})
    - case when date_format({{ as_of }}, 'MMdd') < date_format({{ birth_date }}, 'MMdd') then 1 else 0 end)
{%- endmacro %}

{#- Five-year age band of an age in completed years: '00-04', '05-09', …, '80-84', then '85+'
    (the bands of the population statistics, truth.py AGE_BANDS). -#}
{% macro age_band(age) -%}
  case
    when {{ age }} >= 85 then '85+'
    else concat(
      lpad(cast(floor({{ age }} / 5) * 5 as {{ dbt.type_string() }}), 2, '0'), '-',
      lpad(cast(floor({{ age }} / 5) * 5 + 4 as {{ dbt.type_string() }}), 2, '0'))
  end
{%- endmacro %}

{#- The date residency and ages are computed at: var as_of_date (YYYY-MM-DD), else the run's start
    date in UTC (run_started_at is UTC), so one run uses one date throughout. -#}
{% macro as_of_date() -%}
  {%- set value = var('as_of_date', none) -%}
  {%- if value is none or (value | string) == '' -%}
    {%- set value = run_started_at.strftime('%Y-%m-%d') -%}
  {%- endif -%}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
    {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
  {%- endif -%}
  {{- return("date'" ~ value ~ "'") -}}
{%- endmacro %}
