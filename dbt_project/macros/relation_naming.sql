{#-
  Spark temporary views cannot be schema-qualified, and Delta tables backed by the project's Python
  data source cannot be catalog tables (see ARCHITECTURE.md). So every relation dbt renders is a
  temporary view named by the platform's rule f"{layer}_{table}":
    source('silver', 'person')   -> silver_person       (registered by the on-run-start hook)
    ref('dim_resident')          -> gold_dim_resident   (registered by the delta_table materialization
                                                         and by the hook for already-built models)
  Ephemeral models keep dbt's own CTE name.
-#}

{% macro lakehouse_view_name(layer, table) -%}
  {{- return(layer ~ '_' ~ table) -}}
{%- endmacro %}

{% macro ref() %}
  {%- set rel = builtins.ref(*varargs, **kwargs) -%}
  {%- if rel is none or rel.identifier is none or rel.identifier.startswith('__dbt__cte__') -%}
    {{- return(rel) -}}
  {%- endif -%}
  {{- return(rel.incorporate(path={'identifier': lakehouse_view_name('gold', rel.identifier)}).include(database=False, schema=False)) -}}
{% endmacro %}

{% macro source(source_name, table_name) %}
  {%- set rel = builtins.source(source_name, table_name) -%}
  {{- return(rel.incorporate(path={'identifier': lakehouse_view_name(rel.schema, rel.identifier)}).include(database=False, schema=False)) -}}
{% endmacro %}

{#- Gold has no catalog schema (nothing is a catalog table): creating one would only leave an empty
    spark-warehouse/gold.db folder in the working directory. -#}
{% macro spark__create_schema(relation) -%}
  {{ log("citydata: no catalog schema is created for " ~ relation ~ " (gold lives in Delta + temp views)") }}
{%- endmacro %}
