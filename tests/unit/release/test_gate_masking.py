"""Sample rows of a failed expectation as the gate shows them: masked by the catalog item (no Spark)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from citydata.catalog.items import load_item
from citydata.release.gate import WITHHELD, _fill_queries, mask_row, suite_datasets, suite_parameters


def test_sample_rows_are_masked_by_the_catalog_item() -> None:
    row = {"id_number": "339901199001010012", "name": "欧阳明月", "gender": "F", "birth_date": date(1990, 1, 1),
           "age": 36, "household_id": "3399010010001", "address": "示范市东湖区湖滨街道人民路12号",
           "phone": "13805710001", "registered_on": date(2000, 1, 1), "silver_residents": 3, "extra": "x"}
    shown = mask_row(row, load_item("resident_extract"), public_columns=["silver_residents", "id_number"])
    assert shown == {"id_number": "339901********0012", "name": "欧阳**", "gender": "F", "birth_date": "1990",
                     "age": 36, "household_id": WITHHELD, "address": "示范市东湖区湖滨街道",
                     "phone": "138****0001", "registered_on": WITHHELD,
                     "silver_residents": 3,  # a count the query declared public
                     "extra": WITHHELD}  # undeclared
    # a query cannot declare a sensitive field public: the item's classification wins (id_number above)
    assert mask_row({"area_km2": Decimal("1.500")}, load_item("dim_district")) == {"area_km2": "1.500"}
    assert mask_row({"district_code": "339901"}, None) == {"district_code": WITHHELD}  # no item: nothing shown


def test_date_placeholders_are_filled_or_the_expectation_is_left_out_and_named() -> None:
    expectations = [{"type": "unexpected_rows_expectation", "description": "silver total",
                     "kwargs": {"unexpected_rows_query": "select 1 from {batch} where d <= $as_of"}},
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "d"}}]
    kept, skipped = _fill_queries(expectations, {"as_of": "date'2025-01-31'", "period_start": None})
    assert kept[0]["kwargs"]["unexpected_rows_query"] == "select 1 from {batch} where d <= date'2025-01-31'"
    assert skipped == []
    kept, skipped = _fill_queries(expectations, {"as_of": None, "period_start": None})
    assert [e["type"] for e in kept] == ["expect_column_values_to_not_be_null"]
    assert skipped == ["silver total: skipped, run_gate was given no as_of"]


def test_suite_parameters_come_from_the_standards() -> None:
    parameters = suite_parameters()
    assert "339906" in parameters["city_district_codes"]  # merged in 2021, still resolves
    assert parameters["city_division_codes"][0] == "339900"  # the city total of the economic indicators
    assert parameters["industry_sections"][:3] == ["A", "B", "C"] and "64" in parameters["industry_divisions"]
    assert "dim_district" in suite_datasets() and "credit_repair" not in suite_datasets()


def test_listing_the_released_datasets_imports_neither_spark_nor_gx() -> None:
    import subprocess
    import sys

    code = ("import sys; from citydata.release.gate import suite_datasets; names = suite_datasets(); "
            "heavy = [m for m in ('pyspark', 'great_expectations') if m in sys.modules]; "
            "print(bool(names), heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True []"


def test_gx_parameters_parse_in_several_threads_once_the_gate_warmed_the_parser() -> None:
    """GX's one pyparsing grammar learns its parse actions' arity on first use, racily: eight threads parsing their
    first `$PARAMETER`s at once in a fresh interpreter failed with TypeError (push_first) in 3 of 5 tries. After
    the gate's warm-up in one thread, every thread gets its own value."""
    import subprocess
    import sys

    script = """
import threading
from great_expectations.core.suite_parameters import parse_suite_parameter
from citydata.release.gate import warm_parameter_parser
warm_parameter_parser()
start, errors = threading.Barrier(8), []
def parse(i):
    start.wait()
    for _ in range(50):
        value = parse_suite_parameter(f"codes_{i}", {f"codes_{i}": [i]})
        if value != [i]:
            errors.append(value)
threads = [threading.Thread(target=parse, args=(i,)) for i in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(errors))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0"
