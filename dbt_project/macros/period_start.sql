{#- The first day of the delivery period, inclusive: var period_start (YYYY-MM-DD, set from the day's
    manifest `period[0]`), else as_of_date (a one-day period). Marts of "events of the period" count
    events dated in [period_start(), as_of_date()]. A period_start after as_of_date is refused. -#}
{% macro period_start() -%}
  {%- set as_of = as_of_date() -%}
  {%- set value = var('period_start', none) -%}
  {%- if value is none or (value | string) == '' -%}
    {{- return(as_of) -}}
  {%- endif -%}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
    {{ exceptions.raise_compiler_error("var period_start must be YYYY-MM-DD, got '" ~ value ~ "'") }}
  {%- endif -%}
  {%- set literal = "date'" ~ value ~ "'" -%}
  {%- if literal > as_of -%}
    {{ exceptions.raise_compiler_error("var period_start (" ~ value ~ ") is after as_of_date (" ~ as_of ~ ")") }}
  {%- endif -%}
  {{- return(literal) -}}
{%- endmacro %}
