{#- Project generic tests (no dbt packages: the network is closed). Each returns the failing rows. -#}

{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not regexp_like({{ column_name }}, '{{ pattern }}')
{% endtest %}

{% test sum_of_columns_equals(model, column_name, parts) %}
select *
from {{ model }}
where {{ column_name }} <> ({{ parts | join(' + ') }})
{% endtest %}

{% test not_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
