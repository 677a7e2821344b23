{#-
  delta_table: writes the model to a Delta table at {lakehouse_root}/gold/<model> through the
  temp-view sink, in ONE Delta commit per run:
    1. create or replace temporary view <tmp> as <model sql>
    2. create or replace temporary view <sink> (<columns>) using delta options (path '<table>')
    3. insert overwrite <sink> select <columns> from <tmp>        -- the commit
    4. create or replace temporary view gold_<model> using delta options (path '<table>')
       -- re-registered: a temp view pins the file list it saw when it was created
  A rerun on the same input writes a new Delta version with the same content (overwrite).
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

  {%- set described = run_query('describe ' ~ tmp_view) -%}
  {%- set columns = [] -%}
  {%- for row in described.rows -%}
    {%- if row[0] and not row[0].startswith('#') -%}
      {%- do columns.append({'name': row[0], 'type': row[1]}) -%}
    {%- endif -%}
  {%- endfor -%}

  {% call statement('sink_view') -%}
    create or replace temporary view {{ sink_view }} (
      {%- for c in columns %}
      `{{ c.name }}` {{ c.type }}{{ "," if not loop.last }}
      {%- endfor %}
    )
    using delta
    options (path '{{ table_path }}')
  {%- endcall %}

  {% call statement('main') -%}
    insert overwrite {{ sink_view }}
    select {% for c in columns %}`{{ c.name }}`{{ ", " if not loop.last }}{% endfor %}
    from {{ tmp_view }}
  {%- endcall %}

  {{ register_delta_view(target_relation.identifier, table_path) }}

  {% call statement('drop_work_views') -%}
    drop view if exists {{ sink_view }}
  {%- endcall %}
  {% call statement('drop_tmp_view') -%}
    drop view if exists {{ tmp_view }}
  {%- endcall %}

  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
