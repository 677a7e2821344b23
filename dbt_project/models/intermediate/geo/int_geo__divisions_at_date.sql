{#-
  The city's divisions as they are at the as_of_date: one row per prefecture, district and street
  code whose version is valid that day (a renamed street has its new name, a merged district is
  gone and its streets carry their new codes).
-#}
with divisions as (

    select * from {{ ref('stg_standards__divisions') }}

),

final as (

    select
        divisions.division_code,
        divisions.division_name,
        divisions.division_level,
        divisions.parent_code,
        divisions.valid_from
    from divisions
    where divisions.division_level in ('prefecture', 'district', 'street')
        and divisions.valid_from <= {{ as_of_date() }}
        and (divisions.valid_to is null or divisions.valid_to >= {{ as_of_date() }})

)

select * from final
