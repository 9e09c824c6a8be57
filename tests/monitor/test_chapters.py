"""Chapters and results.json: protected figures only, fixed keys, joint protection."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Relations, Release, protect_release
from thbmonitor.engine import Store
from thbmonitor.monitor import chapters, compare_counts
from thbmonitor.report.model import Chapter, Report, Text
from thbmonitor.report.publish import check_report

YEARS = [str(y) for y in range(2016, 2021)]
GROUPS = ["domestic_sexual", "cross_border_sexual", "labour", "criminal", "other_unknown"]


@pytest.fixture(scope="module")
def monitor(
    world: tuple[Store, pd.DataFrame, pd.DataFrame],
) -> tuple[list[Chapter], dict[str, Any], list[str]]:
    store, _, _ = world
    seen: list[str] = []

    def protect(tables: Sequence[CountTable], relations: Relations | None = None) -> Release:
        seen.extend(t.name for t in tables)
        return protect_release(tables, relations=relations)

    chs, results = chapters(store, Settings(window_first=2016, window_last=2020), protect)
    return chs, results, seen


def test_results_keys_and_types(monitor: tuple[list[Chapter], dict[str, Any], list[str]]) -> None:
    _, r, _ = monitor
    assert r["window"] == [2016, 2020]
    for key in ("registrations_by_year", "victims_by_year"):
        assert list(r[key]) == YEARS
        assert all(v is None or type(v) is int for v in r[key].values())
    assert list(r["victims_by_year_and_group"]) == YEARS
    for y in YEARS:
        assert list(r["victims_by_year_and_group"][y]) == GROUPS
        assert all(v is None or type(v) is int for v in r["victims_by_year_and_group"][y].values())
    assert {"change", "help", "key_findings", "help_model"} <= set(r)
    assert set(r["help"]) == {
        "shelter",
        "victim_scheme_applied",
        "victim_scheme_granted",
        "care_referral",
    }


def test_results_equal_independent_counts(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
    expected: dict[str, pd.DataFrame],
) -> None:
    """Published yearly figures equal pandas counts (hidden ones are null)."""
    _, r, _ = monitor
    u = expected
    for y in YEARS:
        assert r["registrations_by_year"][y] == (u["registrations"]["year"] == y).sum()
        assert r["victims_by_year"][y] == (u["victims"]["year"] == y).sum()
        for g in GROUPS:
            v = r["victims_by_year_and_group"][y][g]
            n = ((u["victims"]["year"] == y) & (u["victims"]["group"] == g)).sum()
            assert v is None or v == n
    assert r["persons_in_window"] == len(u["persons"])


def test_change_uses_published_counts(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    _, r, _ = monitor
    yoy = r["change"]["victims"]["year_on_year"]
    c = compare_counts(r["victims_by_year"]["2019"], r["victims_by_year"]["2020"])
    assert yoy["ratio"] == pytest.approx(c.ratio) and yoy["p_value"] == pytest.approx(c.p_value)
    assert r["change"]["victims"]["trend"]["method"] in ("poisson", "quasi-poisson")
    # a series with a hidden count gets no test
    series = {"victims_minors": r["minors_by_year"]}
    for g in GROUPS:
        series[f"victims_{g}"] = {y: r["victims_by_year_and_group"][y][g] for y in YEARS}
    for name, counts in series.items():
        if counts["2019"] is None or counts["2020"] is None:
            assert r["change"][name]["year_on_year"] is None
        if None in counts.values():
            assert r["change"][name]["trend"] is None
    # the test world has 7 minor victims in 2018 ('<10': no trend) and 16 and 15 in 2019 and
    # 2020, which the cost weights keep published (not complements): their change is tested
    assert r["minors_by_year"]["2018"] is None
    assert r["change"]["victims_minors"]["trend"] is None
    assert r["change"]["victims_minors"]["year_on_year"] is not None


def _ints(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ints(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ints(v)]
    return [value] if type(value) is int else []


def test_no_published_count_from_1_to_9(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    chs, r, _ = monitor
    n_tables = 0
    for ch in chs:
        for t in ch.tables:
            n_tables += 1
            if t.key == "vic_year_group_pct":
                assert all(str(c).endswith("_pct") for c in t.frame.columns)
                continue
            if t.key == "help_model":  # relative risks, no counts (test_help_model.py)
                assert not t.legend and "rr" in t.frame.columns
                continue
            cols = ["earlier", "later"] if t.key == "change_over_time" else [
                c for c in t.frame.columns if not str(c).endswith("_pct")
            ]  # fmt: skip
            for c in cols:
                for v in t.frame[c]:
                    if t.key != "change_over_time":  # counts are ints, else a marker
                        assert isinstance(v, int) or v in ("<10", "x", "–", "."), (t.key, c)
                    assert not (isinstance(v, int) and 1 <= v <= 9), (t.key, c)
            assert t.legend
    assert n_tables >= 40
    counts = {k: r[k] for k in r if k.endswith("_by_year") or k.endswith("_and_group")}
    assert not [v for v in _ints(counts) if 1 <= v <= 9]
    markers = {v for ch in chs for t in ch.tables for c in t.frame.columns for v in t.frame[c]
               if isinstance(v, str)}  # fmt: skip
    assert "<10" in markers and "x" in markers  # the test world has small cells


def test_every_table_goes_through_protect(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    """Every count table is handed to ``protect`` (per universe), none is withheld."""
    chs, _, seen = monitor
    shown = {t.key for ch in chs for t in ch.tables}
    assert len(seen) == len(set(seen)) >= 40
    assert shown == {*seen, "change_over_time", "vic_year_group_pct", "help_model"}
    assert monitor[1]["withheld_tables"] == []


def test_report_contract_holds(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    """The renderer's own checks: table keys, charts, headline values equal results."""
    chs, r, _ = monitor
    report = Report(Text("Monitor", "Monitor"), chs, r)
    for lang in ("en", "nl"):
        check_report(report, lang)
    heads = [h for ch in chs for h in ch.headlines]
    assert heads and all(h.key.startswith("key_findings.") for h in heads)
    for ch in chs:
        assert ch.title.en and ch.title.nl
        for chart in ch.charts:
            assert set(chart.data.columns) >= {"x", "series", "y"}


def test_write_report(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]], tmp_path: Path
) -> None:
    from thbmonitor.report.publish import write_report

    chs, r, _ = monitor
    paths = write_report(Report(Text("Monitor", "Monitor"), chs, r), tmp_path, "nl")
    assert paths["html"].exists() and paths["csv:vic_year_group"].exists()


def test_charts_only_show_published_figures(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    """Chart points are published counts or shares (hidden ones are gaps, NaN)."""
    chs, r, _ = monitor
    charts = {c.key: c for ch in chs for c in ch.charts}
    by_group = charts["monitor_victims_by_group"].data
    for row in by_group.itertuples():
        v = r["victims_by_year_and_group"][str(row.x)][row.series]
        assert (v is None and pd.isna(row.y)) or v == row.y
    helped = charts["monitor_help_res"].data
    for row in helped.itertuples():
        shares = [e["yes_pct"] for e in r["help"][row.series]["by_residence_status"].values()]
        assert pd.isna(row.y) or row.y in shares
    assert helped["y"].notna().any()


def test_help_shares_equal_pandas(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
    expected: dict[str, pd.DataFrame],
) -> None:
    """Shelter etc. per residence status: published share = 100 * yes / persons (pandas)."""
    _, r, _ = monitor
    p = expected["persons"]
    checked = 0
    for m in ("shelter", "victim_scheme_applied", "victim_scheme_granted", "care_referral"):
        assert r["help"][m]["persons"] == len(p)
        for status, entry in r["help"][m]["by_residence_status"].items():
            rows = p[p["residence_status"] == status]
            yes = int((rows[m] == "yes").sum())
            assert entry["yes"] is None or entry["yes"] == yes
            if entry["yes_pct"] is not None:
                assert entry["yes_pct"] == pytest.approx(round(100 * yes / len(rows), 1))
                checked += 1
    assert checked >= 5


def test_unprotectable_universe_falls_back_to_core_tables(
    world: tuple[Store, pd.DataFrame, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If no safe pattern exists for all persons tables, the core ones are still published."""
    from thbmonitor.errors import DisclosureError
    from thbmonitor.monitor.published import CORE

    store, _, _ = world

    def protect(tables: Sequence[CountTable], relations: Relations | None = None) -> Release:
        names = {t.name for t in tables}
        if "help_shelter_res" in names or "help_victim_scheme_applied_res" in names:
            raise DisclosureError("no safe suppression pattern (simulated)")
        return protect_release(tables, relations=relations)

    # the trials (which publish nothing, monitor.published.trial_protect) meet the same
    # simulated failure
    module = importlib.import_module("thbmonitor.monitor.published")
    monkeypatch.setattr(module, "default_protect", lambda settings, **kw: protect)
    chs, r = chapters(store, Settings(window_first=2016, window_last=2020), protect)
    shown = {t.key for ch in chs for t in ch.tables}
    withheld = set(r["withheld_tables"])
    assert withheld == {"help_shelter_res", "help_victim_scheme_applied_res"}
    assert not withheld & shown and not withheld & CORE
    assert {"per_group_sex", "vic_year_group", "reg_year_group"} <= shown
    assert "help_shelter_age" in shown  # kept: it leaves the pattern safe
    assert r["help"]["shelter"]["by_residence_status"]["EUCitizen"]["yes"] is None  # withheld
    assert r["victims_by_year"]["2020"] is not None
    people = next(ch for ch in chs if ch.key == "monitor_people")
    assert people.method is not None and "not published" in people.method.en


def test_method_text_says_what_is_sensitive_merged_and_guaranteed(
    monitor: tuple[list[Chapter], dict[str, Any], list[str]],
) -> None:
    """The protection method text (nl and en) states the threshold, the unknown setting and
    the joint audit's guarantee; each merge made and each small count shown is named in the
    method text of the chapter that holds its table."""
    chs, r, _ = monitor
    by_key = {c.key: c for c in chs}
    people = by_key["monitor_people"].method
    assert people is not None
    assert "1 to 9" in people.en and "1 tot en met 9" in people.nl
    assert "disclosure_unknown_primary = true" in people.en
    assert "disclosure_unknown_primary = true" in people.nl
    assert "at least 3 wide" in people.en and "ten minste 3 breed" in people.nl
    made = r["disclosure_merges"]
    chapter_of = {t: c.key for c in chs for t in (tb.key for tb in c.tables)}
    for m in made["merges"]:
        label = {"OtherOrUnknown": "Other or unknown", "no_or_unknown": "No or unknown"}[m["into"]]
        for table in m["tables"]:
            text = by_key[chapter_of[table]].method
            assert text is not None and label in text.en and table in text.nl
    for cell in made["shown_small"]:
        text = by_key[chapter_of[cell["table"]]].method
        assert text is not None and "unknown sex" in text.en and cell["year"] in text.en


def test_method_text_when_unknowns_are_shown() -> None:
    from thbmonitor.monitor.texts import protection

    text = protection(threshold=5, unknown_primary=False)
    assert "1 to 4" in text.en and "disclosure_unknown_primary = false" in text.en
    assert "disclosure_unknown_primary = false" in text.nl and "<5" in text.nl
