{#-
  Every district and street code of the division table, with the code that stands for it at the
  as_of_date: itself while a version of it is valid that day (a renamed street keeps its code and
  takes its new name), else the successor of a retired code (339906 → 339905, 339906001 →
  339905005 on 2021-07-01). One hop: a successor retired in turn is not followed (the table has
  none), so such a code has no row and the tests on the marts name it.
-#}
with divisions as (

    select * from {{ ref('stg_standards__divisions') }}

),

divisions_at_date as (

    select
        divisions.division_code,
        divisions.division_name,
        divisions.division_level,
        divisions.parent_code
    from divisions
    where divisions.division_level in ('district', 'street')
        and divisions.valid_from <= {{ as_of_date() }}
        and (divisions.valid_to is null or divisions.valid_to >= {{ as_of_date() }})

),

retired_codes as (

    select
        divisions.division_code,
        max(divisions.successor_code) as successor_code
    from divisions
    left anti join divisions_at_date
        on divisions.division_code = divisions_at_date.division_code
    where divisions.division_level in ('district', 'street')
        and divisions.valid_to < {{ as_of_date() }}
        and divisions.successor_code is not null
    group by divisions.division_code

),

code_mapping as (

    select
        divisions_at_date.division_code,
        divisions_at_date.division_code as current_code
    from divisions_at_date

    union all

    select
        retired_codes.division_code,
        retired_codes.successor_code as current_code
    from retired_codes

),

final as (

    select
        code_mapping.division_code,
        divisions_at_date.division_level,
        code_mapping.current_code,
        divisions_at_date.division_name as current_name,
        divisions_at_date.parent_code as current_parent_code
    from code_mapping
    inner join divisions_at_date
        on code_mapping.current_code = divisions_at_date.division_code

)

select * from final
