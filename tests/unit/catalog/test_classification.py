"""Which columns get no min/max statistics: the contracts' sensitive and core fields by name, and gold columns
the dbt YAML classifies so (read from a run's manifest)."""

from __future__ import annotations

import json
from pathlib import Path

from citydata.catalog.classification import personal_column_names, personal_columns
from citydata.catalog.contracts import Classification, load_contracts
from citydata.transform.runner import personal_model_columns


def test_every_sensitive_or_core_contract_field_is_personal_and_nothing_else() -> None:
    names = personal_column_names()
    assert {"id_number", "name", "phone", "address", "birth_date", "mother_id_number", "husband_name",
            "legal_representative", "legal_representative_id_number", "contribution_base"} <= names
    fields = [f for c in load_contracts().values() for f in c.fields]
    assert names == {f.name for f in fields if f.classification in (Classification.SENSITIVE, Classification.CORE)}
    assert not names & {"district_code", "street_code", "gender", "_batch_id", "credit_code", "id_hash"}
    assert personal_columns("silver", "person") == personal_columns("gold", "dim_resident") == names


def test_gold_personal_columns_come_from_the_manifest_meta(tmp_path: Path) -> None:
    manifest = {"nodes": {
        "model.citydata.dim_resident": {"resource_type": "model", "name": "dim_resident", "columns": {
            "id_number": {"meta": {"classification": "sensitive"}},
            "secret_code": {"config": {"meta": {"classification": "core"}}},
            "district_code": {"meta": {"classification": "public"}},
            "age": {"meta": {}}}},
        "test.citydata.unique_dim_resident_id_number": {"resource_type": "test", "name": "t", "columns": {
            "id_number": {"meta": {"classification": "sensitive"}}}},
    }}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert personal_model_columns(tmp_path) == {"dim_resident": {"id_number", "secret_code"}}
    assert personal_model_columns(tmp_path / "absent") == {}


def test_the_project_dbt_yaml_classifies_dim_residents_personal_columns() -> None:
    """What the manifest will say for dim_resident: its YAML marks the register's personal fields."""
    import yaml

    models = yaml.safe_load((Path(__file__).parents[3] / "dbt_project/models/marts/population/_population.yml")
                            .read_text(encoding="utf-8"))["models"]
    dim = next(m for m in models if m["name"] == "dim_resident")
    personal = {c["name"] for c in dim["columns"]
                if (c.get("meta") or {}).get("classification") in ("sensitive", "core")}
    assert {"id_number", "name", "birth_date", "address", "phone"} <= personal
