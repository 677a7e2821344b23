"""No personal value leaves: every citizen ID number, phone, full name and exact address of the shared city's
deliveries (days 1-3) is looked for in everything the platform publishes or documents — the open-data export
(CSV, JSON, Parquet, catalog.jsonld, the CKAN API documents), the portal, the release manifests, Great
Expectations' Data Docs and the dbt artifacts and docs — and found in none of it."""

from __future__ import annotations

import pytest

from personal_values import PersonalValues, collect, leaks


def test_no_personal_value_is_in_any_published_or_documented_file(shared_city) -> None:
    values = collect(shared_city.days)
    # Enough of each kind that a leak could not hide: every resident has an ID, a name and a phone.
    assert len(values.ids) >= 500 and len(values.names) >= 400 and len(values.phones) >= 400, len(values)
    assert sum(len(v) for v in values.addresses.values()) >= 100

    home, paths = shared_city.home, shared_city.paths
    published = {
        "open-data export": paths.exports,
        "portal": home / "data" / "portal",
        "releases (manifests, Data Docs, dbt docs)": paths.releases,
        "dbt artifacts": home / "data" / "dbt",
        "dbt docs": home / "data" / "dbt-docs",
    }
    for what, folder in published.items():
        assert folder.is_dir() and any(p.is_file() for p in folder.rglob("*")), f"{what}: nothing at {folder}"
    kinds = {p.suffix for folder in published.values() for p in folder.rglob("*") if p.is_file()}
    assert {".csv", ".json", ".parquet", ".jsonld", ".html"} <= kinds, kinds

    assert leaks(values, published.values()) == {}


def test_the_scan_finds_personal_values_where_they_are(shared_city) -> None:
    """The same scan over a delivery finds its values: the test above can fail."""
    values = collect(shared_city.days[:1])
    found = leaks(values, [shared_city.days[0] / "delivery" / "police"])
    assert any(path.endswith("household_register.csv") for path in found), found


def test_a_failed_scan_quotes_masked_values_only() -> None:
    """What a failing privacy assertion prints: counts and masked samples, never the raw values it protects."""
    raw = {"id": "339901198406180264", "phone": "13805710008", "name": "陈建国"}
    values = PersonalValues()
    for kind, value in raw.items():
        values.add(kind, value)
    log_line = f"landed row of {raw['name']} ({raw['id']}, {raw['phone']})"
    found = values.masked_in(log_line)
    assert found == ["138****0008", "339901********0264", "陈**"]
    with pytest.raises(AssertionError) as failure:  # the tests' pattern: pytest would quote a call's argument
        assert found == [], "a log"
    message = f"{failure.value}\n{values!r}"
    assert "138****0008" in message and "PersonalValues(1 IDs, 1 phones, 1 names" in message
    assert not any(value in message for value in raw.values()), message
