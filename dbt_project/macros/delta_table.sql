{#-
  delta_table: writes the model to a Delta table at {lakehouse_root}/gold/<model> through the
  temp-view sink, in ONE Delta commit per run:
    1. create or replace temporary view <tmp> as <model sql>
    2. create or replace temporary view <sink> (<columns>) using delta options (path '<table>')
    3. insert overwrite <sink> select <columns> from <tmp>        -- the commit
    4. create or replace temporary view gold_<model> using delta options (path '<table>')
       -- re-registered: a temp view pins the file list it saw when it was created
  Under citydata.transform.run_dbt (var gold_staging_dir set), steps 2-3 are instead
    2'. insert overwrite directory '<gold_staging_dir>/<model>' using parquet
        options ('parquet.column.statistics.enabled' 'false') select <columns> from <tmp>
    3'. create or replace temporary view gold_<model> using parquet options (path '<that folder>')
  — Spark's native writer, read back natively by the tests and models downstream; run_dbt commits every
  staged model to its Delta table (one commit each) only after the whole command succeeded, so a failing
  model or test leaves every gold table at its version. (The `delta` data source path above starts
  Python planner processes: seconds per model on a small machine.)
  Idempotent: when the caller registered fresh views of the lakehouse (var lakehouse_views =
  'registered', what citydata.transform.run_dbt does) and the new result has the same columns and
  the same rows (EXCEPT ALL both ways) as the current gold_<model>, nothing is written: no new
  Delta version. Model config `skip_unchanged: false` always writes. With plain dbt (hook mode
  'delta') every run writes a new version.
-#}
{% materialization delta_table, adapter='spark' %}
  {%- set table_path = gold_table_path(model.name) -%}
  {%- set target_relation = api.Relation.create(identifier=lakehouse_view_name('gold', model.name), type='view').include(database=False, schema=False) -%}
  {%- set tmp_view = 'dbt_tmp__' ~ model.name -%}
  {%- set sink_view = 'dbt_sink__' ~ model.name -%}

  {{ run_hooks(pre_hooks) }}

  {% call statement('tmp_view') -%}
    create or replace temporary view {{ tmp_view }} as
    {{ sql }}
  {%- endcall %}

  {%- set columns = described_columns(tmp_view) -%}
  {%- set column_list -%}
    {%- for c in columns %}`{{ c.name }}`{{ ", " if not loop.last }}{% endfor -%}
  {%- endset -%}

  {%- set unchanged = false -%}
  {%- set cached = false -%}
  {%- set compare = config.get('skip_unchanged', true) and var('lakehouse_views', 'delta') == 'registered' -%}
  {%- if compare and (run_query("show views like '" ~ target_relation.identifier ~ "'").rows | length) > 0
        and described_columns(target_relation.identifier) == columns -%}
    {% call statement('cache_tmp_view') -%}
      cache lazy table {{ tmp_view }}
    {%- endcall %}
    {%- set cached = true -%}
    {%- set differences = run_query(
          "select count(*) from ((select " ~ column_list ~ " from " ~ tmp_view ~ " except all select "
          ~ column_list ~ " from " ~ target_relation.identifier ~ ") union all (select " ~ column_list
          ~ " from " ~ target_relation.identifier ~ " except all select " ~ column_list ~ " from "
          ~ tmp_view ~ "))").columns[0].values()[0] -%}
    {%- set unchanged = (differences | int) == 0 -%}
  {%- endif -%}

  {% if unchanged %}
  {{ log("citydata: " ~ model.name ~ " unchanged (same columns and rows as " ~ table_path ~ "): no new Delta version", info=true) }}
  {% call statement('main') -%}
    select 'unchanged' as status
  {%- endcall %}
  {% elif var('gold_staging_dir', none) %}
  {%- set staged = var('gold_staging_dir') ~ '/' ~ model.name -%}
  {#- no row-group or page statistics (min/max) in the staged files: they may hold personal values (dim_resident),
      and anyone who can list the lakehouse could read a footer; run_dbt's commit writes the gold table's own
      files with statistics on the non-personal columns only -#}
  {% call statement('main') -%}
    insert overwrite directory '{{ staged }}' using parquet
    options ('parquet.column.statistics.enabled' 'false')
    select {{ column_list }}
    from {{ tmp_view }}
  {%- endcall %}
  {% call statement('staged_view') -%}
    create or replace temporary view {{ target_relation.identifier }} using parquet options (path '{{ staged }}')
  {%- endcall %}
  {% else %}
  {#- min/max statistics on every column but those the model's YAML classifies sensitive or core (recorded as the
      table property delta.dataSkippingStatsColumns when this write creates the table) -#}
  {%- set personal = [] -%}
  {%- for name, column in model.columns.items() -%}
    {%- if (column.meta or {}).get('classification') in ('sensitive', 'core') -%}
      {%- do personal.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set stats_columns = [] -%}
  {%- for c in columns if c.name not in personal -%}
    {%- do stats_columns.append('`' ~ c.name ~ '`') -%}
  {%- endfor %}
  {% call statement('sink_view') -%}
    create or replace temporary view {{ sink_view }} (
      {%- for c in columns %}
      `{{ c.name }}` {{ c.type }}{{ "," if not loop.last }}
      {%- endfor %}
    )
    using delta
    options (path '{{ table_path }}', 'delta.dataSkippingStatsColumns' '{{ stats_columns | join(",") }}')
  {%- endcall %}

  {% call statement('main') -%}
    insert overwrite {{ sink_view }}
    select {{ column_list }}
    from {{ tmp_view }}
  {%- endcall %}

  {{ register_delta_view(target_relation.identifier, table_path) }}

  {% call statement('drop_work_views') -%}
    drop view if exists {{ sink_view }}
  {%- endcall %}
  {% endif %}
  {#- only what was cached: UNCACHE analyses the view's whole query again (~0.1-0.8 s a model) -#}
  {% if cached %}
  {% call statement('uncache_tmp_view') -%}
    uncache table if exists {{ tmp_view }}
  {%- endcall %}
  {% endif %}
  {% call statement('drop_tmp_view') -%}
    drop view if exists {{ tmp_view }}
  {%- endcall %}

  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- Column names and types of a relation, as `describe` reports them (stops at the partition section). -#}
{% macro described_columns(relation_name) %}
  {%- set columns = [] -%}
  {%- set state = {'done': false} -%}
  {%- for row in run_query('describe ' ~ relation_name).rows -%}
    {%- if not row[0] or row[0].startswith('#') -%}
      {%- do state.update({'done': true}) -%}
    {%- elif not state.done -%}
      {%- do columns.append({'name': row[0], 'type': row[1]}) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(columns) }}
{% endmacro %}
