"""The population master's pure rules: residence/status history from register events, division codes of today."""

from __future__ import annotations

from datetime import date

from citydata.ingest.population import (
    BIRTH,
    CORRECTION,
    DEATH,
    DECEASED,
    MOVE,
    REGISTER,
    REGISTERED,
    Event,
    Period,
    current_code,
    person_timeline,
    successor_codes,
)

D = date


def _district(street: str) -> str:
    return street[:6]


def test_retired_codes_map_to_their_successor_and_current_ones_stay() -> None:
    assert current_code("339906") == "339905"          # 新港区 merged into 中和区 on 2021-07-01
    assert current_code("339906001") == "339905005"    # its streets renumbered under 339905
    assert current_code("339901001") == "339901001"
    assert current_code(None) is None
    assert "339901" not in successor_codes()


def test_a_first_registration_opens_one_current_period() -> None:
    periods = person_timeline(None, [Event(D(2001, 3, 15), REGISTER, "339902", "339902001", batch_id="b1")], _district)
    assert periods == [Period(D(2001, 3, 15), None, REGISTERED, "339902", "339902001", "首次登记", "b1")]


def test_a_move_closes_the_period_on_its_date_and_opens_the_next() -> None:
    current = Period(D(2001, 3, 15), None, REGISTERED, "339902", "339902001", "首次登记", "b1")
    # day 2 delivers the move twice: the change log's 迁移 and the re-registration dated the same day
    events = [Event(D(2025, 1, 20), MOVE, "339901", "339901003", "339902001", "b2"),
              Event(D(2025, 1, 20), REGISTER, "339901", "339901003", batch_id="b2r")]
    periods = person_timeline(current, events, _district)
    assert periods == [
        Period(D(2001, 3, 15), D(2025, 1, 20), REGISTERED, "339902", "339902001", "首次登记", "b1"),
        Period(D(2025, 1, 20), None, REGISTERED, "339901", "339901003", "迁移", "b2"),
    ]


def test_a_death_closes_the_period_and_opens_a_deceased_one_and_nothing_follows() -> None:
    current = Period(D(2001, 3, 15), None, REGISTERED, "339902", "339902001", "首次登记", "b1")
    events = [Event(D(2025, 1, 5), MOVE, "339903", "339903001", "339902001", "b2"),
              Event(D(2025, 1, 9), DEATH, "339903", "339903001", batch_id="b2"),
              Event(D(2025, 1, 12), REGISTER, "339904", "339904001", batch_id="b2")]  # after death: ignored
    periods = person_timeline(current, events, _district)
    assert [(p.valid_from, p.valid_to, p.status, p.street_code, p.change_reason) for p in periods] == [
        (D(2001, 3, 15), D(2025, 1, 5), REGISTERED, "339902001", "首次登记"),
        (D(2025, 1, 5), D(2025, 1, 9), REGISTERED, "339903001", "迁移"),
        (D(2025, 1, 9), None, DECEASED, "339903001", "死亡"),
    ]


def test_a_move_and_a_death_on_one_day_are_one_period() -> None:
    current = Period(D(2001, 3, 15), None, REGISTERED, "339902", "339902001", "首次登记", "b1")
    events = [Event(D(2025, 1, 9), DEATH, "339903", "339903001", batch_id="b2"),
              Event(D(2025, 1, 9), MOVE, "339903", "339903001", "339902001", "b2")]
    periods = person_timeline(current, events, _district)
    assert [(p.valid_from, p.status, p.change_reason) for p in periods[1:]] == [(D(2025, 1, 9), DECEASED, "迁移,死亡")]


def test_registration_before_a_move_of_the_same_delivery_opens_at_the_street_moved_from() -> None:
    # day 1's register states today's street; the change log of day 1's period says the person moved
    events = [Event(D(1990, 5, 1), REGISTER, "339901", "339901003", batch_id="r1"),
              Event(D(2024, 12, 20), MOVE, "339901", "339901003", "339902001", "c1")]
    periods = person_timeline(None, events, _district)
    assert [(p.valid_from, p.valid_to, p.district_code, p.street_code, p.change_reason) for p in periods] == [
        (D(1990, 5, 1), D(2024, 12, 20), "339902", "339902001", "首次登记"),
        (D(2024, 12, 20), None, "339901", "339901003", "迁移"),
    ]


def test_birth_and_correction_name_the_opening_period() -> None:
    born = person_timeline(None, [Event(D(2025, 1, 3), BIRTH, "339901", "339901001", batch_id="c"),
                                  Event(D(2025, 1, 20), REGISTER, "339901", "339901001", batch_id="r")], _district)
    assert [(p.valid_from, p.change_reason) for p in born] == [(D(2025, 1, 3), "出生")]
    fixed = person_timeline(None, [Event(D(2025, 1, 31), CORRECTION, "339902", "339902001", batch_id="c"),
                                   Event(D(2025, 1, 31), REGISTER, "339902", "339902001", batch_id="r")], _district)
    assert [(p.valid_from, p.valid_to, p.change_reason) for p in fixed] == [(D(2025, 1, 31), None, "更正")]


def test_a_death_alone_opens_nothing() -> None:
    assert person_timeline(None, [Event(D(2025, 1, 9), DEATH, "339901", "339901001", batch_id="c")], _district) == []


def test_applying_the_same_events_again_changes_nothing() -> None:
    current = Period(D(2001, 3, 15), None, REGISTERED, "339902", "339902001", "首次登记", "b1")
    events = [Event(D(2025, 1, 20), MOVE, "339901", "339901003", "339902001", "b2"),
              Event(D(2025, 1, 25), DEATH, "339901", "339901003", batch_id="b2")]
    first = person_timeline(current, events, _district)
    again = person_timeline(first[-1], events, _district)  # a rerun after the merge, before the batch was recorded
    assert again == [first[-1]]


def test_a_late_event_changes_the_open_period_in_place() -> None:
    current = Period(D(2025, 1, 20), None, REGISTERED, "339901", "339901003", "迁移", "b2")
    periods = person_timeline(current, [Event(D(2025, 1, 2), REGISTER, "339904", "339904001", batch_id="b3")],
                              _district)
    assert periods == [Period(D(2025, 1, 20), None, REGISTERED, "339904", "339904001", "迁移,登记变更", "b3")]
