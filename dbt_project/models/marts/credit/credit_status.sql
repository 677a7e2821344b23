{#-
  The credit profile of every subject of the legal-entity register at the as_of_date (every entity
  registered by then, deregistered ones included): licences valid, penalties in publicity, and
  whether it is on a red list or a black list at that date.
-#}
with subjects as (

    select * from {{ ref('int_legal_entity__entities_at_date') }}

),

licences as (

    select * from {{ ref('int_credit__licences_valid_at_date') }}

),

penalties as (

    select * from {{ ref('int_credit__penalties_at_date') }}

),

list_entries as (

    select * from {{ ref('int_credit__list_entries_at_date') }}

),

licences_by_subject as (

    select
        licences.credit_code,
        count(*) as licences_valid
    from licences
    group by licences.credit_code

),

penalties_by_subject as (

    select
        penalties.credit_code,
        count(*) as penalties_in_publicity
    from penalties
    where penalties.in_publicity
    group by penalties.credit_code

),

lists_by_subject as (

    select
        list_entries.credit_code,
        max(case when list_entries.list_colour = 'red' then 1 else 0 end) as red_list,
        max(case when list_entries.list_colour = 'black' then 1 else 0 end) as black_list
    from list_entries
    group by list_entries.credit_code

),

final as (

    select
        subjects.credit_code,
        subjects.entity_name,
        subjects.entity_type,
        subjects.status_at_date as status,
        cast(coalesce(licences_by_subject.licences_valid, 0) as {{ dbt.type_bigint() }}) as licences_valid,
        cast(coalesce(penalties_by_subject.penalties_in_publicity, 0) as {{ dbt.type_bigint() }})
            as penalties_in_publicity,
        cast(coalesce(lists_by_subject.red_list, 0) as {{ dbt.type_int() }}) as red_list,
        cast(coalesce(lists_by_subject.black_list, 0) as {{ dbt.type_int() }}) as black_list,
        subjects.as_of_date
    from subjects
    left join licences_by_subject
        on subjects.credit_code = licences_by_subject.credit_code
    left join penalties_by_subject
        on subjects.credit_code = penalties_by_subject.credit_code
    left join lists_by_subject
        on subjects.credit_code = lists_by_subject.credit_code

)

select * from final
