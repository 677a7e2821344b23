"""Access classes: what analysts and privileged engineers see of each lakehouse column (no Spark)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from citydata.catalog.access import DERIVED, AccessRules, Audience, ColumnAccess, Shown
from citydata.catalog.contracts import Classification, load_contract, load_contracts, parse_contract

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
LINEAGE = ["_source", "_file", "_row_number", "_batch_id", "_ingested_at", "_encoding", "_content_hash"]


def _shown(access: list[ColumnAccess]) -> dict[str, str]:
    return {a.column: a.shown.value + (f" {a.mask}" if a.mask else "") for a in access}


def test_analysts_see_the_household_register_masked_by_its_contract_and_lineage_as_stored() -> None:
    rules = AccessRules.load()
    columns = [*load_contract("household_register").field_names, *LINEAGE]
    seen = _shown(rules.columns("bronze", "household_register", columns))
    assert seen == {
        "id_number": "masked id_number", "name": "masked name", "gender": "as stored",
        "birth_date": "masked birth_date", "household_id": "as stored", "relation_to_head": "as stored",
        "district_code": "as stored", "street_code": "as stored", "address": "masked address",
        "phone": "masked mobile", "registered_on": "as stored", **dict.fromkeys(LINEAGE, "as stored")}
    # silver of the same source: the same classes, plus the columns silver adds
    silver = _shown(rules.columns("silver", "household_registration", ["id_number", "phone", "_updated_at"]))
    assert silver == {"id_number": "masked id_number", "phone": "masked mobile", "_updated_at": "as stored"}


def test_a_core_field_is_left_out_and_a_sensitive_field_without_mask_is_masked_whole() -> None:
    raw = yaml.safe_load((SCHEMAS / "social_insurance_employment.yml").read_text(encoding="utf-8"))
    for field in raw["fields"]:
        if field["name"] == "employer_name":
            field["classification"] = "core"
    contract = parse_contract(raw, "social_insurance_employment.yml")
    rules = AccessRules.load(contracts=[contract], items=[])
    seen = _shown(rules.columns("silver", contract.tables.silver,
                                ["id_number", "employer_name", "contribution_base", "in_latest_list"]))
    assert seen == {"id_number": "masked id_number", "employer_name": "hidden", "contribution_base": "masked full",
                    "in_latest_list": "as stored"}


def test_columns_nobody_classified_are_left_out_for_analysts_only() -> None:
    rules = AccessRules.load()
    columns = ["id_number", "id_number_copy", "_batch_id"]
    analyst = rules.columns("silver", "person", columns)
    assert _shown(analyst) == {"id_number": "masked id_number", "id_number_copy": "hidden", "_batch_id": "as stored"}
    assert [a.technical for a in analyst] == [False, False, True]
    assert _shown(rules.columns("silver", "a_table_nobody_declared", ["name", "_file"])) == {
        "name": "hidden", "_file": "as stored"}
    privileged = rules.columns("silver", "person", columns, Audience.PRIVILEGED)
    assert {a.shown for a in privileged} == {Shown.AS_STORED}
    assert privileged[0].classification is Classification.SENSITIVE and privileged[1].classification is None


def test_rejects_show_their_reasons_and_the_masked_row() -> None:
    rules = AccessRules.load()
    seen = _shown(rules.columns("bronze", "household_register_rejects",
                                [*LINEAGE[:5], "reason_code", "reason_detail", "raw_masked"]))
    assert set(seen.values()) == {"as stored"}


def test_released_marts_take_their_catalog_items_classes() -> None:
    rules = AccessRules.load()
    resident = _shown(rules.columns("gold", "dim_resident", ["id_number", "name", "age", "household_id", "phone"]))
    assert resident == {"id_number": "masked id_number", "name": "masked name", "age": "as stored",
                        "household_id": "as stored", "phone": "masked mobile"}
    by_district = rules.classes("gold", "population_by_district")
    assert by_district and {c.classification for c in by_district.values()} == {Classification.PUBLIC}


def test_derived_tables_inherit_their_sources_classes_and_declare_the_rest() -> None:
    contracts = load_contracts()
    assert {d.based_on for d in DERIVED.values() if d.based_on} <= set(contracts)
    rules = AccessRules.load()
    person = rules.classes("silver", "person")
    register = contracts["household_register"]
    for spec in register.fields:  # every field of the register keeps its class in the master
        assert (person[spec.name].classification, person[spec.name].mask) == (spec.classification, spec.mask)
    assert (person["died_on"].classification, person["died_on"].mask) == (Classification.SENSITIVE, "birth_date")
    assert person["marital_status"].classification is Classification.INTERNAL
    assert person["id_hash"].classification is Classification.INTERNAL  # the pseudonymous key: shown as stored
    # a declared class overrides an inherited one, and the contract's own silver table keeps its fields
    poi = rules.classes("silver", "poi")
    assert poi["district_code"].classification is Classification.PUBLIC and "category" in poi


def test_rules_follow_the_contracts_given() -> None:
    register = load_contract("household_register")
    renamed = replace(register, tables=replace(register.tables, silver="residents"))
    rules = AccessRules.load(contracts=[*load_contracts().values(), renamed], items=[])
    assert _shown(rules.columns("silver", "residents", ["phone"])) == {"phone": "masked mobile"}
