"""The address geocoder: division names (any version) to today's district and street codes."""

from datetime import date

import pytest

from citydata.sources.simulate.population import city_streets
from citydata.standards.divisions import Division, DivisionTable, load_divisions
from citydata.standards.geocode import Geocode, geocode, normalize_address

TODAY = date(2025, 1, 1)


def _codes(address: str) -> tuple[str, str | None]:
    result = geocode(address)
    assert result.ok, (address, result)
    return result.value.district_code, result.value.street_code


def test_every_street_in_the_simulators_address_forms_resolves_to_its_code():
    """Residents and entities: district + street + road (`_addresses`); POIs: street + road."""
    streets = city_streets(TODAY)
    assert len(streets) == 26
    for st in streets:
        assert _codes(f"{st.district_name}{st.name}中山人民路12号3幢101室") == (st.district, st.code)
        assert _codes(f"{st.name}江南路7号") == (st.district, st.code)  # a road named like 江南街道's prefix


def test_merged_district_and_renamed_street_resolve_to_todays_codes():
    # 新港区 (339906) and its 新港街道 339906001 were merged into 339905 / 339905005 on 2021-07-01
    assert _codes("新港区新港街道建设路1号") == ("339905", "339905005")
    assert _codes("中和区新港街道建设路1号") == ("339905", "339905005")
    assert _codes("新港区白沙镇渔港路3号") == ("339905", "339905101")
    # 钱塘街道 became 文澜街道 on 2019-01-01, code 339902003 kept
    assert _codes("西山区钱塘街道和平路3号") == _codes("西山区文澜街道和平路3号") == ("339902", "339902003")


def test_province_city_prefixes_full_width_and_spaces_are_ignored():
    assert _codes("浙江省示范市东湖区湖滨街道解放路１２号") == ("339901", "339901001")
    assert _codes("示范市 东湖区\u3000清波街道") == ("339901", "339901002")
    assert normalize_address("東 湖区１号") == "東湖区1号"


def test_district_without_street_passes_with_no_street_code():
    assert geocode("南江区长江路5号").value == Geocode("339903", None)
    assert geocode("新港区海滨路5号").value == Geocode("339905", None)


@pytest.mark.parametrize("address", ["", None, "上海市静安区南京西路1号", "示范市", "长江路5号"])
def test_no_name_of_the_city_is_unmatched(address):
    result = geocode(address)
    assert (result.ok, result.reason, result.value) == (False, "GEO_ADDRESS_UNMATCHED", None)


def test_street_outside_the_named_district_is_ambiguous_and_the_detail_quotes_no_address():
    result = geocode("北塘区湖滨街道建设路57号8幢")
    assert (result.ok, result.reason) == (False, "GEO_ADDRESS_AMBIGUOUS")
    assert "57" not in result.detail and "湖滨街道" in result.detail and "339904" in result.detail


def test_street_name_shared_by_two_districts_needs_the_district():
    base = load_divisions()
    start = date(1983, 1, 1)
    twin = Division("339903005", "湖滨街道", "street", "339903", start, None, None)
    table = DivisionTable(base.rows + (twin,), base.city_code)
    result = geocode("湖滨街道1号", table)
    assert (result.ok, result.reason) == (False, "GEO_ADDRESS_AMBIGUOUS")
    assert "339901001" in result.detail and "339903005" in result.detail
    assert geocode("南江区湖滨街道1号", table).value == Geocode("339903", "339903005")
    assert geocode("东湖区湖滨街道1号", table).value == Geocode("339901", "339901001")


def test_first_street_name_wins_over_a_later_one():
    assert _codes("东湖区湖滨街道清波街道口1号") == ("339901", "339901001")
