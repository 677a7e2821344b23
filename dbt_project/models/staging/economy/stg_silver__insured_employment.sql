{#-
  Social insurance delivers its full list every day, and silver keeps every key it has seen (MERGE
  never deletes). A silver table that marks the keys of the latest list (column in_latest_list) is
  used as is; one without the column cannot tell a contribution dropped from the list from one
  delivered again unchanged, so every row counts as listed (docs/gold-marts.md, Economy).
-#}
{%- set insured_columns = [] -%}
{%- if execute -%}
  {%- set insured_columns = adapter.get_columns_in_relation(source('silver', 'insured_employment')) | map(attribute='name') | list -%}
{%- endif -%}

with source as (

    select * from {{ source('silver', 'insured_employment') }}

),

renamed as (

    select
        cast(source.id_number as {{ dbt.type_string() }}) as id_number,
        cast(source.name as {{ dbt.type_string() }}) as person_name,
        cast(source.employer_credit_code as {{ dbt.type_string() }}) as employer_credit_code,
        cast(source.employer_name as {{ dbt.type_string() }}) as employer_name,
        cast(source.insurance_type as {{ dbt.type_string() }}) as insurance_type,
        cast(source.insured_on as date) as insured_on,
        cast(source.contribution_base as decimal(20, 2)) as contribution_base_yuan,
        cast(source.status as {{ dbt.type_string() }}) as insurance_status,
        {% if 'in_latest_list' in insured_columns -%}
        cast(source.in_latest_list as boolean) as in_latest_list,
        {%- else -%}
        cast(true as boolean) as in_latest_list,
        {%- endif %}
        cast(source._batch_id as {{ dbt.type_string() }}) as silver_batch_id
    from source

)

select * from renamed
