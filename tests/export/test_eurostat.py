"""The Eurostat delivery on a small seeded store, against the report's own protected tables.

The report side is the monitor's release as the report protects it (``monitor.chapters`` with
the pipeline's ``Publication``); the deliveries are protected in that release and audited with
it. Figures the report publishes must come out equal; the cells new to the delivery (forms of
exploitation, adults) are recounted here with pandas from the registrations.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from monitor.conftest import WINDOW, make_registrations, units, write_store  # isort: skip
from thbmonitor.export.eurostat import eurostat_csv, eurostat_rows
from thbmonitor.export.release import Delivered
from thbmonitor.export.tables import delivery_tables

from .conftest import CODES, NL, YEAR, World, report_cell


def _rows_of(delivered: Delivered) -> list[dict[str, str]]:
    text = eurostat_csv(eurostat_rows(delivered, NL, CODES))
    return list(csv.DictReader(io.StringIO(text)))


def _rows(world: World) -> list[dict[str, str]]:
    return _rows_of(world.delivered)


def _value(row: dict[str, str]) -> int | None:
    return int(row["value"]) if row["value"] else None


def _find(rows: list[dict[str, str]], indicator: str = "VICT", **dims: str) -> dict[str, str]:
    want = {"sex": "T", "age": "TOTAL", "citizenship": "TOTAL", "exploitation": "TOTAL",
            "organisation": "TOTAL", **dims}  # fmt: skip
    hits = [
        r for r in rows if r["indicator"] == indicator and all(r[k] == v for k, v in want.items())
    ]
    assert len(hits) == 1, (indicator, dims)
    return hits[0]


def test_layout_and_convention(world: World) -> None:
    """Columns as the issue names them; every value is empty or a whole number; a protected
    cell is empty with flag C; identified and presumed victims are not known (the store does
    not say which registrations are identified): empty, no flag."""
    rows = _rows(world)
    assert list(rows[0]) == ["indicator", "sex", "age", "citizenship", "exploitation",
                             "organisation", "year", "value", "flag"]  # fmt: skip
    assert {r["year"] for r in rows} == {str(YEAR)}
    for r in rows:
        assert r["flag"] in ("", "C")
        assert r["value"] == "" or r["value"].isdigit()
        if r["flag"] == "C":
            assert r["value"] == ""
    for indicator in ("VICT_IDNT", "VICT_PRSM"):
        row = _find(rows, indicator)
        assert row["value"] == "" and row["flag"] == ""


def test_no_count_from_1_to_9(world: World) -> None:
    """No delivered count lies from 1 to 9 (the report shows persons of unknown sex even when
    few; they are in the total only, not a row)."""
    values = [_value(r) for r in _rows(world)]
    assert not [v for v in values if v is not None and 1 <= v <= 9]
    assert any(v is not None and v >= 10 for v in values)


def test_totals_equal_the_reports_published_figures(world: World) -> None:
    """Every delivered figure that is a report cell is the report's: the same number where the
    report shows it, confidential where the report hides it (victims of the year, by sex, age
    band of minors, nationality group, reporting organisation)."""
    rows = _rows(world)
    y = str(YEAR)
    pairs = [
        (_find(rows), report_cell(world, "vic_year_group", year=y)),
        *((_find(rows, sex=s), report_cell(world, "vic_year_sex", year=y, sex=s))
          for s in ("F", "M")),
        (_find(rows, age="Y_LT18"), report_cell(world, "vic_year_age", year=y,
                                                 age_band="minor")),
        (_find(rows, age="UNK"), report_cell(world, "vic_year_age", year=y,
                                              age_band="unknown")),
        *((_find(rows, citizenship=CODES.citizenship[g]),
           report_cell(world, "vic_year_natgroup", year=y, nationality_group=g))
          for g in NL.nationality.groups),
        *((_find(rows, organisation=CODES.organisation[CODES.organisations[o]]),
           report_cell(world, "vic_year_org", year=y, reporting_organisation=o))
          for o in NL.field_codes("reporting_organisation")),
    ]  # fmt: skip
    shown = 0
    for row, report in pairs:
        if report is None:
            assert row["flag"] == "C" and row["value"] == ""
        else:
            assert _value(row) == report
            shown += 1
    assert shown >= len(pairs) // 2  # most are shown: the check compares numbers
    total = _value(_find(rows))
    assert total is not None and total >= 100


def test_new_cells_equal_a_recount(world: World) -> None:
    """Forms of exploitation (the main form of the victim's first registration of the year)
    and adults, recounted with pandas from the registrations: a shown figure is the true count,
    and the shown figures of a breakdown never exceed the total."""
    victims = units(world.regs, world.mapping)["victims"]
    victims = victims[victims["year"] == str(YEAR)]
    # the first registration of each victim-year (earliest date, then lowest id), as units()
    r = world.regs[world.regs["registration_year"] == YEAR].merge(
        world.mapping, on="registration_id", how="left"
    )
    r["person_id"] = r["person_id"].fillna("unlinked:" + r["registration_id"])
    first = r.sort_values(["registration_date", "registration_id"]).groupby("person_id").head(1)
    assert len(first) == len(victims)
    form_class = first["forms_of_exploitation"].map(CODES.forms).fillna(CODES.form_missing)
    expected = form_class.value_counts()
    rows = _rows(world)
    shown = 0
    for cls, code in CODES.exploitation.items():
        row = _find(rows, exploitation=code)
        if row["flag"] != "C":
            assert _value(row) == int(expected.get(cls, 0)), cls
            shown += 1
    assert shown >= 2
    adults = int(victims["age_band"].isin(["18-22", "23+"]).sum())
    row = _find(rows, age="Y_GE18")
    assert row["flag"] == "C" or _value(row) == adults
    assert _value(_find(rows)) == len(victims)


def test_every_hidden_report_cell_stays_hidden(world: World) -> None:
    """The deliveries share cells with the report: a shared cell has one status in both (the
    report's), so the delivery never shows what the report hides."""
    status: dict[str, set[str]] = {}
    for pt in world.release.tables:
        for key, s in zip(pt.keys, pt.frame["status"], strict=True):
            status.setdefault(key, set()).add(str(s))
    shared = [k for pt in world.delivered.tables.values() for k in pt.keys]
    assert len(shared) > 20
    assert all(len(status[k]) == 1 for k in shared)


def test_suspects_from_the_police_register(tmp_path: Path) -> None:
    """Suspected persons: distinct persons (identity token) with a trafficking suspect event in
    the year, by sex; other roles, crimes and years do not count. Hand-counted: 12 women
    (one of them with two events) and 15 men."""

    regs, mapping = make_registrations(seed=1, n_persons=200)
    store = write_store(tmp_path / "s.duckdb", regs, mapping)
    rows = []
    for i in range(12):
        rows.append(("F", "suspect", "trafficking", 2020, f"w{i}"))
    rows.append(("F", "suspect", "trafficking", 2020, "w0"))  # the same woman again
    for i in range(15):
        rows.append(("M", "suspect", "trafficking", 2020, f"m{i}"))
    rows += [("M", "victim", "trafficking", 2020, "v"), ("M", "suspect", "property", 2020, "p"),
             ("F", "suspect", "trafficking", 2019, "x")]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["sex", "role", "crime_type", "event_year", "tok"])
    frame["event_id"] = [f"E{i}" for i in range(len(frame))]
    frame["event_date"] = pd.to_datetime(frame["event_year"].astype(str) + "-06-01").dt.date
    store.register("ev", frame)
    store.execute(
        "INSERT INTO police_events (event_id, event_date, event_year, role, crime_type, sex, "
        "tok_identity) SELECT event_id, event_date, event_year, role, crime_type, sex, tok FROM ev"
    )
    from thbmonitor.export.tables import SUSPECTS, delivery_tables

    tables = delivery_tables(store, WINDOW, 2020, NL, CODES)
    suspects = next(t for t in tables.tables if t.name == SUSPECTS).frame.set_index("sex")
    assert suspects.loc["F", "count"] == 12
    assert suspects.loc["M", "count"] == 15
    assert suspects.loc["Total", "count"] == 27
    store.close()


def test_a_table_without_a_safe_pattern_is_withheld(world: World) -> None:
    """If the delivery tables have no safe pattern together, each is protected in turn and one
    that has none is withheld: its figures go out empty with flag C, the others as protected."""
    from thbmonitor.disclosure import CountTable, Relations, Release, protect_release
    from thbmonitor.errors import DisclosureError
    from thbmonitor.export import tables as T
    from thbmonitor.export.release import protect_deliveries

    tables = delivery_tables(world.store, WINDOW, YEAR, NL, CODES)

    def release(given: list[CountTable], relations: Relations | None = None) -> Release:
        """As the report's Publication protects (its tables as context), but refusing the
        organisations, and leaving the shared Publication as it is."""
        if any(t.name == T.ORGANISATION for t in given):
            raise DisclosureError("no safe suppression pattern")
        return protect_release(
            given,
            world.release.rules,
            relations=world.release.relations + (relations or Relations()),
            context=world.release.tables,
        )

    delivered = protect_deliveries(release, tables, 10)
    assert delivered.withheld == (T.ORGANISATION,)
    rows = _rows_of(delivered)
    org = [r for r in rows if r["organisation"] != "TOTAL"]
    assert len(org) == len(CODES.organisation)
    assert all(r["value"] == "" and r["flag"] == "C" for r in org)
    assert _value(_find(rows)) == _value(_find(_rows(world)))


def test_shipped_profiles_map_every_code() -> None:
    """Both shipped profiles' deliveries.toml load: every sex, nationality group, form of
    exploitation and reporting organisation of the profile is mapped to the receiver's code
    (htcds names its own nationality group own_country; its extra forms ChildLabour and
    ForcedMilitaryByNonStateActors are labour and other)."""
    from thbmonitor.export.codes import delivery_codes
    from thbmonitor.profiles import load_profile

    for name in ("nl", "htcds"):
        profile = load_profile(name)
        codes = delivery_codes(profile).eurostat
        own = profile.nationality.own
        assert codes.citizenship[own] == "NAT"
        assert set(codes.forms) == set(profile.field_codes("forms_of_exploitation"))
        assert set(codes.organisations) == set(profile.field_codes("reporting_organisation"))
    htcds = delivery_codes(load_profile("htcds")).eurostat
    assert htcds.forms["ChildLabour"] == "labour"
    assert htcds.forms["ForcedMilitaryByNonStateActors"] == "other"


def test_a_code_left_unmapped_is_refused(tmp_path: Path) -> None:
    """A profile copy whose deliveries.toml leaves a form of exploitation unmapped is refused,
    naming the section and the code."""
    import shutil

    from thbmonitor.errors import ConfigError
    from thbmonitor.export.codes import delivery_codes
    from thbmonitor.profiles import load_profile

    folder = tmp_path / "mine"
    shutil.copytree(NL.path, folder)
    toml = folder / "deliveries.toml"
    toml.write_text(toml.read_text().replace('Servitude = "labour"\n', ""), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"\[eurostat.exploitation.forms\] maps no code for Servitude"
    ):
        delivery_codes(load_profile(folder))
