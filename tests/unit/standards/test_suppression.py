"""Small-cell suppression with complementary suppression."""

from itertools import product

from hypothesis import given
from hypothesis import strategies as st

from citydata.standards.suppression import SUPPRESSED, suppress_small_cells, suppress_wide_table, suppression_plan


def test_one_dimension_needs_a_second_suppressed_cell():
    rows = [{"district": "339901", "n": 3}, {"district": "339902", "n": 7}, {"district": "339903", "n": 100}]
    out = suppress_small_cells(rows, "n", ["district"])
    assert [row["n"] for row in out] == [SUPPRESSED, SUPPRESSED, 100]
    assert [(s.index, s.kind) for s in suppression_plan(rows, "n", ["district"])] == [
        (0, "primary"), (1, "complementary")]
    assert rows[0]["n"] == 3  # input untouched


def test_nothing_small_nothing_suppressed():
    rows = [{"d": "a", "n": 5}, {"d": "b", "n": 9}]
    assert suppress_small_cells(rows, "n", ["d"]) == rows


def test_suppressed_cells_must_add_up_to_the_threshold():
    # 1 and 2 suppressed together would still reveal "3 between them": a third cell joins
    rows = [{"d": "a", "n": 1}, {"d": "b", "n": 2}, {"d": "c", "n": 40}, {"d": "e", "n": 50}]
    assert [row["n"] for row in suppress_small_cells(rows, "n", ["d"])] == [SUPPRESSED, SUPPRESSED, SUPPRESSED, 50]


def test_two_dimensions_rows_and_columns_are_protected():
    counts = {("339901", "M"): 3, ("339901", "F"): 10, ("339902", "M"): 20, ("339902", "F"): 30,
              ("339903", "M"): 40, ("339903", "F"): 41}
    rows = [{"district": d, "gender": g, "n": n} for (d, g), n in counts.items()]
    out = {(r["district"], r["gender"]): r["n"] for r in suppress_small_cells(rows, "n", ["district", "gender"])}
    assert out == {("339901", "M"): SUPPRESSED, ("339901", "F"): SUPPRESSED, ("339902", "M"): SUPPRESSED,
                   ("339902", "F"): SUPPRESSED, ("339903", "M"): 40, ("339903", "F"): 41}


def test_custom_marker_and_threshold():
    rows = [{"d": "a", "n": 8}, {"d": "b", "n": 9}, {"d": "c", "n": 30}]
    assert [r["n"] for r in suppress_small_cells(rows, "n", ["d"], threshold=10, marker=None)] == [None, None, 30]


def _lines(cells, dims):
    for d in range(dims):
        groups = {}
        for key in cells:
            groups.setdefault(key[:d] + key[d + 1:], []).append(key)
        yield from groups.values()


@given(st.lists(st.integers(min_value=0, max_value=30), min_size=12, max_size=12))
def test_no_line_total_reveals_a_suppressed_cell(values):
    keys = list(product("abc", "xyzw"))
    rows = [{"r": r, "c": c, "n": n} for (r, c), n in zip(keys, values)]
    out = {(row["r"], row["c"]): row["n"] for row in suppress_small_cells(rows, "n", ["r", "c"])}
    true = dict(zip(keys, values))
    for key, value in true.items():
        if value < 5:
            assert out[key] == SUPPRESSED
    for line in _lines(true, 2):
        hidden = [key for key in line if out[key] == SUPPRESSED]
        if hidden:
            assert len(hidden) >= 2 and sum(true[key] for key in hidden) >= 5 or len(hidden) == len(line)


def test_wide_table_like_population_by_district():
    rows = [
        {"district_code": "339901", "residents": 13, "male": 3, "female": 10},
        {"district_code": "339902", "residents": 50, "male": 20, "female": 30},
        {"district_code": "339903", "residents": 81, "male": 40, "female": 41},
        {"district_code": "339904", "residents": 4, "male": 1, "female": 3},
    ]
    out = suppress_wide_table(rows, ["district_code"], ["male", "female"], total_field="residents")
    assert [(r["residents"], r["male"], r["female"]) for r in out] == [
        (SUPPRESSED, SUPPRESSED, SUPPRESSED),  # total 13: complementary to 4 in the totals column
        (50, SUPPRESSED, SUPPRESSED),  # male 20 completes the male column (3 + 1 < 5), female 30 its row
        (81, 40, 41),
        (SUPPRESSED, SUPPRESSED, SUPPRESSED),  # total 4 and both cells under 5
    ]
