{#-
  status and died_on come from the population master (citydata.ingest.population). A silver.person
  written before it (the register alone, as in older lakehouses and hand-made test tables) has
  neither: everyone in it is registered and alive, which is what that table meant.
-#}
{%- set person_columns = [] -%}
{%- if execute -%}
  {%- set person_columns = adapter.get_columns_in_relation(source('silver', 'person')) | map(attribute='name') | list -%}
{%- endif -%}

with source as (

    select * from {{ source('silver', 'person') }}

),

renamed as (

    select
        cast(source.id_number as {{ dbt.type_string() }}) as id_number,
        cast(source.name as {{ dbt.type_string() }}) as name,
        cast(source.gender as {{ dbt.type_string() }}) as gender,
        cast(source.birth_date as date) as birth_date,
        cast(source.household_id as {{ dbt.type_string() }}) as household_id,
        cast(source.relation_to_head as {{ dbt.type_string() }}) as relation_to_head,
        cast(source.district_code as {{ dbt.type_string() }}) as district_code,
        cast(source.street_code as {{ dbt.type_string() }}) as street_code,
        cast(source.address as {{ dbt.type_string() }}) as address,
        cast(source.phone as {{ dbt.type_string() }}) as phone,
        cast(source.registered_on as date) as registered_on,
        {% if 'status' in person_columns -%}
        cast(source.status as {{ dbt.type_string() }}) as status,
        cast(source.died_on as date) as died_on,
        {%- else -%}
        cast('registered' as {{ dbt.type_string() }}) as status,
        cast(null as date) as died_on,
        {%- endif %}
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
