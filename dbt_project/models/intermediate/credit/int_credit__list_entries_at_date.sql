{#-
  Red-list (守信激励) and black-list (失信惩戒) entries in force at the as_of_date: listed on or before it
  and valid_until (有效期至, exclusive) after it or open-ended.
-#}
with red_list as (

    select * from {{ ref('stg_silver__credit_red_list') }}

),

black_list as (

    select * from {{ ref('stg_silver__credit_black_list') }}

),

entries as (

    select
        'red' as list_colour,
        red_list.credit_code,
        red_list.subject_name,
        red_list.list_type,
        red_list.listed_on,
        red_list.valid_until,
        red_list.deciding_department
    from red_list

    union all

    select
        'black' as list_colour,
        black_list.credit_code,
        black_list.subject_name,
        black_list.list_type,
        black_list.listed_on,
        black_list.valid_until,
        black_list.deciding_department
    from black_list

),

in_force_at_date as (

    select
        entries.list_colour,
        entries.credit_code,
        entries.subject_name,
        entries.list_type,
        entries.listed_on,
        entries.valid_until,
        entries.deciding_department
    from entries
    where entries.listed_on <= {{ as_of_date() }}
        and (entries.valid_until is null or entries.valid_until > {{ as_of_date() }})

)

select * from in_force_at_date
