"""The catalog items of the released datasets: one per gold table, every dbt column in order, each mart
released or named as not released, and the new keys (key, key_figure, drift) validated."""

from __future__ import annotations

import pytest
import yaml

from citydata.catalog.contracts import Classification, ContractError
from citydata.catalog.items import (
    NOT_RELEASED,
    item_for_table,
    load_item,
    load_items,
    open_items,
    parse_item,
    released_items,
)
from citydata.release.suites import dbt_models, mart_names


def test_every_item_lists_its_dbt_models_columns_in_order_with_meaning() -> None:
    models = dbt_models()
    for item in released_items():
        layer, table = item.source_table.split("/")
        assert layer == "gold", item.name
        model = models[table]
        assert item.columns == model.column_names, item.name
        for field, column in zip(item.fields, model.columns, strict=True):
            assert field.description == column.description and field.description, (item.name, field.name)
            assert field.title and field.title != field.name, (item.name, field.name)


def test_each_gold_mart_is_released_or_named_as_not_released() -> None:
    released = {item.table for item in released_items()}
    marts = set(mart_names())
    assert released | set(NOT_RELEASED) == marts
    assert not released & set(NOT_RELEASED)
    assert all(reason.strip() for reason in NOT_RELEASED.values())


def test_one_item_per_table() -> None:
    tables = [item.source_table for item in load_items()]
    assert len(tables) == len(set(tables))
    assert item_for_table("dim_resident").name == "resident_extract"
    assert item_for_table("gold/population_by_district").name == "population_by_district"
    with pytest.raises(ContractError, match="no catalog item for gold/credit_repair"):
        item_for_table("credit_repair")


def test_the_portal_draws_from_unconditionally_open_items() -> None:
    opened = {item.table for item in open_items()}
    assert {"dim_district", "dim_street", "city_portrait_district", "population_by_district",
            "economic_indicators"} <= opened
    assert "dim_resident" not in opened  # personal-level: 有条件开放 through resident_extract
    assert load_item("resident_extract").opening == "有条件开放"
    for item in open_items():
        for field in item.fields:  # an open dataset carries no unmasked personal field
            assert field.classification is not Classification.SENSITIVE or field.mask, (item.name, field.name)


def test_person_counts_are_suppressed_and_key_figures_chart_numbers() -> None:
    assert load_item("population_by_district").suppress == ("residents", "male", "female")
    assert load_item("city_portrait_district").suppress == ("residents", "working_age_residents", "insured_employees")
    assert load_item("employment_by_section_district").suppress == ("insured",)
    portrait = load_item("city_portrait_district")
    assert (portrait.key_figure.column, portrait.key_figure.label_column) == ("residents", "district_name")
    for item in released_items():
        assert item.key, item.name
        if item.key_figure:
            assert item.field(item.key_figure.column).type in ("integer", "decimal"), item.name


def test_metadata_carries_fields_key_key_figure_and_drift() -> None:
    meta = load_item("population_by_district").metadata()
    assert meta["fields"][2] == {"name": "residents", "type": "integer", "classification": "public",
                                 "title": "户籍人口", "description": "户籍人口数。"}
    assert meta["key"] == ["district_code"]
    assert meta["key_figure"] == {"column": "residents", "label_column": "district_name", "title": "户籍人口",
                                  "unit": "人"}
    assert meta["drift"] == {"rows": 0.2, "totals": {"residents": 0.05, "male": 0.05, "female": 0.05}}
    assert meta["opening_attribute"] == "无条件开放"
    assert load_item("double_publicity_penalties").metadata()["drift"] is None  # a listing of events


def _raw() -> dict:
    return yaml.safe_load(load_item("population_by_district").file.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "message"), [
    ({"key": ["nope"]}, "key column 'nope' is not a field"),
    ({"key_figure": {"column": "district_name", "label_column": "district_code", "title": "x", "unit": "y"}},
     "key_figure column 'district_name' is string, not a number"),
    ({"key_figure": {"column": "residents"}}, "key_figure needs column, label_column, title and unit"),
    ({"drift": {"rows": -1}}, r"drift.rows must be a relative change >= 0"),
    ({"drift": {"totals": {"district_name": 0.1}}}, "drift total column 'district_name' is string"),
    ({"drift": {"rowz": 0.1}}, "drift takes `rows:` and/or `totals:"),
])
def test_bad_new_keys_are_refused_naming_the_fix(change: dict, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        parse_item({**_raw(), **change}, "x.yml")
