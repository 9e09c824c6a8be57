"""The counting rules on a hand-made store whose every count is known in advance."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.errors import ConfigError
from thbmonitor.monitor import build_tables, chapters

from .conftest import make_registrations, write_store


def _reg(rid: str, day: str, group: str, **extra: object) -> dict[str, object]:
    d = date.fromisoformat(day)
    row: dict[str, object] = {
        "registration_id": rid,
        "registration_date": d,
        "registration_year": d.year,
        "monitor_group": group,
        "sex": "F",
        "age_band": "23+",
        "nationality_primary": "PL",
        "nationality_group": "other_EU",
        "residence_status": "EUCitizen",
        "reporting_organisation": "Police",
        "municipality": "Amsterdam",
        "sector": "Agriculture",
        "shelter": None,
        "victim_scheme_applied": None,
        "victim_scheme_granted": None,
        "care_referral": None,
    }
    row.update(extra)
    return row


def test_counting_rules(tmp_path: Path) -> None:
    """Person A: two registrations in 2018 (labour first, then criminal) and one in 2019.
    Person B: two registrations on the same day in 2018; the lower id (criminal) is first.
    C: a registration never linked (its own person). D: registered in 2015 only (outside).
    """
    regs = pd.DataFrame(
        [
            _reg("a2", "2018-06-01", "criminal", shelter=True, sex="M"),
            _reg("a1", "2018-02-01", "labour", shelter=False),
            _reg("a3", "2019-01-10", "other_unknown", age_band="minor", municipality=None),
            _reg("b2", "2018-03-03", "labour", victim_scheme_applied=True),
            _reg(
                "b1", "2018-03-03", "criminal", victim_scheme_applied=False, municipality=" venlo"
            ),
            _reg("c1", "2019-05-05", "labour", care_referral=False),
            _reg("d1", "2015-05-05", "labour"),
        ]
    )
    mapping = pd.DataFrame(
        {"registration_id": ["a1", "a2", "a3", "b1", "b2", "d1"],
         "person_id": ["A", "A", "A", "B", "B", "D"]}
    )  # fmt: skip
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    # the counts as defined, without the merges of small unknowns that protection makes
    plain = Settings(window_first=2016, window_last=2020, disclosure_unknown_primary=False)
    t = {x.key: x for x in build_tables(store, plain)}
    store.close()
    # registrations: 6 in 2018-2019; the 2015 one is outside the window
    assert t["reg_year_group"].count() == 6
    assert t["reg_year_group"].count(year="2018") == 4
    # victims per year: 2018 has A and B; A's group is labour (first), B's criminal (b1 < b2)
    vic = t["vic_year_group"]
    assert vic.count(year="2018") == 2
    assert vic.count(year="2018", group="labour") == 1
    assert vic.count(year="2018", group="criminal") == 1
    assert vic.count(year="2019") == 2  # A again, and C
    assert sum(vic.count(year=str(y)) for y in range(2016, 2021)) == 4  # victim-years
    assert t["vic_year_sex"].count(year="2018", sex="M") == 0  # A's first 2018 record is F
    assert t["vic_minor_year_group"].count(year="2019", age_band="minor") == 1
    # persons in the window: A, B, C; A registered in two years
    assert t["per_group_sex"].count() == 3
    assert t["per_years_registered"].count(years_registered="2+") == 1
    assert t["per_years_registered"].count(years_registered="2+", group="labour") == 1
    assert t["per_group_sex"].count(group="labour") == 2  # A (first in window) and C
    # regions: 'Amsterdam' and ' venlo' are matched, a missing municipality is unknown
    assert t["vic_year_region"].count(year="2018", region="Noord-Holland") == 1  # A
    assert t["vic_year_region"].count(year="2018", region="Limburg") == 1  # B via b1
    assert t["vic_year_region"].count(year="2019", region="unknown") == 1  # A via a3
    # help: any 'yes' wins, then any 'no', else unknown
    assert t["help_shelter_res"].count(shelter="yes") == 1  # A
    assert t["help_shelter_res"].count(shelter="unknown") == 2  # B, C
    assert t["help_victim_scheme_applied_res"].count(victim_scheme_applied="yes") == 1  # B
    assert t["help_care_referral_res"].count(care_referral="no") == 1  # C


def test_empty_window_is_a_clear_error(tmp_path: Path) -> None:
    regs = pd.DataFrame([_reg("a1", "2018-02-01", "labour")])
    mapping = pd.DataFrame({"registration_id": ["a1"], "person_id": ["A"]})
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    with pytest.raises(ConfigError, match="no registrations in the monitoring window 2030-2031"):
        build_tables(store, Settings(window_first=2030, window_last=2031))
    store.close()


def test_single_year_window_has_no_change(tmp_path: Path) -> None:
    """One year: tables and results, but no year-on-year change or trend."""
    regs, mapping = make_registrations()
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    chs, results = chapters(store, Settings(window_first=2020, window_last=2020))
    store.close()
    assert list(results["victims_by_year"]) == ["2020"]
    assert results["change"] == {}
    assert any(t.key == "vic_year_group" for ch in chs for t in ch.tables)
