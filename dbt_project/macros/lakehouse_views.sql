{#- Where gold tables live, and the views that make lakehouse tables queryable by name. -#}

{% macro gold_table_path(model_name) -%}
  {%- set root = var('lakehouse_root') | string -%}
  {{- return(root.rstrip('/') ~ '/gold/' ~ model_name) -}}
{%- endmacro %}

{% macro register_delta_view(view_name, table_path) -%}
  {% call statement('register_' ~ view_name) -%}
    create or replace temporary view {{ view_name }} using delta options (path '{{ table_path }}')
  {%- endcall %}
{%- endmacro %}

{#-
  on-run-start: registers the temporary views that the selected nodes read and this run does not
  build itself: sources (silver_person, ...) and delta_table models built by an earlier run. So
  `dbt test` alone, or `dbt build -s population_by_district`, works in a fresh session, and a full
  `dbt build` needs only its sources (each model registers its own view once written).
  Sources of schema `standards` are the CSVs shipped in citydata/standards/data, read as strings.
  var lakehouse_views: 'delta' (default) registers `USING delta` views here; 'registered' means the
  caller (citydata.transform.run_dbt) has just registered fresh views of every silver and gold table
  through Lakehouse.register_views (Spark's native Parquet reader over the snapshot's files: column
  pruning, no Python workers) and of the reference CSVs (built on the driver), so nothing is
  registered here.
-#}
{% macro register_lakehouse_views() %}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set root = var('lakehouse_root') | string -%}
  {%- set mode = var('lakehouse_views', 'delta') -%}
  {%- if mode not in ('delta', 'registered') -%}
    {{ exceptions.raise_compiler_error("var lakehouse_views must be 'delta' or 'registered', got '" ~ mode ~ "'") }}
  {%- endif -%}
  {%- set needed = {} -%}
  {%- set todo = [] -%}
  {%- for uid in selected_resources -%}
    {%- set node = graph.nodes.get(uid) -%}
    {%- if node is not none -%}{%- do todo.extend(node.depends_on.nodes) -%}{%- endif -%}
  {%- endfor -%}
  {#- Jinja has no while loop: walk the upstream graph breadth-first over a growing list. -#}
  {%- for uid in todo if uid not in needed -%}
    {%- do needed.update({uid: true}) -%}
    {%- if uid in graph.nodes -%}
      {%- set node = graph.nodes[uid] -%}
      {%- if node.config.materialized != 'delta_table' -%}
        {%- do todo.extend(node.depends_on.nodes) -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set registered = [] -%}
  {%- for uid in needed -%}
    {%- if uid in graph.sources -%}
      {%- set src = graph.sources[uid] -%}
      {%- set view_name = lakehouse_view_name(src.schema, src.identifier) -%}
      {%- if mode == 'registered' -%}
        {#- the caller registered it -#}
      {%- elif src.schema == 'standards' -%}
        {%- set csv = var('standards_data_dir', env_var('CITYDATA_HOME', '..') ~ '/src/citydata/standards/data') ~ '/' ~ src.identifier ~ '.csv' -%}
        {% call statement('register_' ~ view_name) -%}
          create or replace temporary view {{ view_name }}
          using csv options (path '{{ csv }}', header 'true', inferSchema 'false', encoding 'UTF-8')
        {%- endcall %}
        {%- do registered.append(view_name) -%}
      {%- elif mode == 'delta' -%}
        {{ register_delta_view(view_name, root.rstrip('/') ~ '/' ~ src.schema ~ '/' ~ src.identifier) }}
        {%- do registered.append(view_name) -%}
      {%- endif -%}
    {%- elif mode == 'delta' and uid in graph.nodes and uid not in selected_resources
             and graph.nodes[uid].config.materialized == 'delta_table' -%}
      {%- set name = graph.nodes[uid].name -%}
      {{ register_delta_view(lakehouse_view_name('gold', name), gold_table_path(name)) }}
      {%- do registered.append(lakehouse_view_name('gold', name)) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ log("citydata: registered views " ~ (registered | sort | join(', ')), info=true) }}
  {{ return('') }}
{% endmacro %}
