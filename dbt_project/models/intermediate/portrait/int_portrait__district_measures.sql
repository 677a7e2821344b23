{#-
  The counts and sums the city portrait divides, one row per district and measure (long form, so each
  theme adds its measures in one CTE and the portrait pivots them): households, working-age residents
  (15–64), active entities, active entities with a penalty in publicity, black-listed entities, tax of
  the 12 months up to the as_of month, insured employees and open POIs.
-#}
with age_gender as (

    select * from {{ ref('population_by_street_age_gender') }}

),

households as (

    select * from {{ ref('households_by_street') }}

),

entities as (

    select * from {{ ref('dim_legal_entity') }}

),

credit as (

    select * from {{ ref('credit_status') }}

),

tax as (

    select * from {{ ref('tax_by_section_district_month') }}

),

employment as (

    select * from {{ ref('employment_by_section_district') }}

),

pois as (

    select * from {{ ref('poi_by_district') }}

),

population_measures as (

    select households.district_code, 'households' as measure, cast(households.households as decimal(20, 2)) as value
    from households
    union all
    select age_gender.district_code, 'working_age_residents', cast(age_gender.residents as decimal(20, 2))
    from age_gender
    where age_gender.age_band in ('15-19', '20-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54',
                                 '55-59', '60-64')

),

entities_with_credit as (

    select
        entities.district_code,
        entities.status,
        coalesce(credit.penalties_in_publicity, 0) as penalties_in_publicity,
        coalesce(credit.black_list, 0) as black_list
    from entities
    left join credit
        on entities.credit_code = credit.credit_code

),

entity_measures as (

    select entities_with_credit.district_code, 'active_entities' as measure, cast(1 as decimal(20, 2)) as value
    from entities_with_credit
    where entities_with_credit.status = 'active'
    union all
    select entities_with_credit.district_code, 'active_entities_with_penalty', cast(1 as decimal(20, 2))
    from entities_with_credit
    where entities_with_credit.status = 'active' and entities_with_credit.penalties_in_publicity > 0
    union all
    select entities_with_credit.district_code, 'black_listed_entities', cast(1 as decimal(20, 2))
    from entities_with_credit
    where entities_with_credit.black_list = 1

),

economy_measures as (

    select tax.district_code, 'tax_yuan_12_months' as measure, cast(tax.amount_yuan as decimal(20, 2)) as value
    from tax
    where tax.tax_period > date_format(add_months({{ as_of_date() }}, -12), 'yyyy-MM')
        and tax.tax_period <= date_format({{ as_of_date() }}, 'yyyy-MM')
    union all
    select employment.district_code, 'insured_employees', cast(employment.insured as decimal(20, 2))
    from employment
    union all
    select pois.district_code, 'pois', cast(pois.pois as decimal(20, 2))
    from pois

),

all_measures as (

    select * from population_measures
    union all
    select * from entity_measures
    union all
    select * from economy_measures

),

final as (

    select
        all_measures.district_code,
        all_measures.measure,
        cast(sum(all_measures.value) as decimal(20, 2)) as value
    from all_measures
    where all_measures.district_code is not null and all_measures.district_code != ''
    group by all_measures.district_code, all_measures.measure

)

select * from final
