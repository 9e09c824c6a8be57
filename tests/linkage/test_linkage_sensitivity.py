"""The hidden number at other linkage thresholds, on the small linked test world.

References: the store's own ``registration_person`` (and ``registrations``) counted by plain SQL,
the chapter's own last-year estimate, and one fact of graph theory: lowering the threshold only
adds links, so the connected components at a lower threshold are unions of those at a higher
one (never more of them).
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thbmonitor.config import Settings
from thbmonitor.linkage.dedupe import SENSITIVITY_THRESHOLDS
from thbmonitor.mse.chapter import report_chapter
from thbmonitor.pipeline import REPORT_TITLE, Publication
from thbmonitor.report import Report, write_report
from thbmonitor.store import open_store, resolve_window


@pytest.fixture(scope="module")
def chapter(linked) -> tuple[Any, dict[str, Any], Settings]:  # type: ignore[no-untyped-def]
    with open_store(str(linked.store_path), read_only=True) as store:
        settings = resolve_window(store, Settings())
        found, results = report_chapter(store, settings, Publication(settings))
    return found, results, settings


def _persons_sql(path: Path, year: int, threshold: float | None) -> tuple[int, int]:
    """Distinct persons registered in ``year`` and those registered by one organisation only,
    counted straight from the store (``registration_person`` or the sensitivity table)."""
    if threshold is None:
        source = "SELECT registration_id, person_id AS who FROM registration_person"
    else:
        source = (
            "SELECT registration_id, CAST(cluster AS VARCHAR) AS who "
            f"FROM registration_person_sensitivity WHERE threshold = {threshold}"
        )
    with open_store(str(path), read_only=True) as store:
        persons, single = store.rows(
            "SELECT count(*), count(*) FILTER (WHERE n_org = 1) FROM ("
            "  SELECT p.who, count(DISTINCT r.reporting_organisation) AS n_org"
            f"  FROM registrations r JOIN ({source}) p USING (registration_id)"
            "  WHERE r.registration_year = ? GROUP BY p.who)",
            [year],
        )[0]
    return int(persons), int(single)


def test_the_store_holds_every_registration_at_every_sensitivity_threshold(linked) -> None:
    """One row per registration and threshold, in the same transaction as registration_person;
    the cluster counts are those of the clusterings the run made."""
    result = linked.summary.dedupe
    with open_store(str(linked.store_path), read_only=True) as store:
        n = store.scalar("SELECT count(*) FROM registrations")
        per = store.df(
            "SELECT threshold, count(*) AS n, count(DISTINCT registration_id) AS ids, "
            "count(DISTINCT cluster) AS clusters "
            "FROM registration_person_sensitivity GROUP BY threshold ORDER BY threshold"
        )
    expected = sorted(set(SENSITIVITY_THRESHOLDS) - {Settings().linkage_threshold})
    assert per["threshold"].tolist() == expected
    assert (per["n"] == n).all() and (per["ids"] == n).all()
    for t, clusters in zip(per["threshold"], per["clusters"], strict=True):
        assert clusters == len(np.unique(result.sensitivity[t].labels))


def test_components_never_grow_in_number_as_the_threshold_falls(linked) -> None:
    """Graph theory: the links at a lower threshold are a superset of those at a higher one, so
    the connected components (before the average-linkage veto, which may split a component and
    so is not monotone) can only merge. A lower threshold must also really link more here."""
    result = linked.summary.dedupe
    by_threshold = {t: c.components for t, c in result.sensitivity.items()}
    by_threshold[Settings().linkage_threshold] = result.clustering.components
    ordered = [by_threshold[t] for t in sorted(by_threshold, reverse=True)]  # strictest first
    assert all(a >= b for a, b in itertools.pairwise(ordered)), by_threshold
    assert ordered[0] > ordered[-1], by_threshold


def test_a_row_per_threshold_with_persons_from_the_store(linked, chapter) -> None:
    """Persons and single-list persons of every row equal plain SQL counts on the store: the
    main row on ``registration_person``, the others on ``registration_person_sensitivity``."""
    found, results, settings = chapter
    rows = results["linkage_sensitivity"]
    thresholds = [r["threshold"] for r in rows]
    assert thresholds == sorted({*SENSITIVITY_THRESHOLDS, settings.linkage_threshold}, reverse=True)
    year = settings.window_last
    for row in rows:
        assert set(row) == {"threshold", "persons", "single_list", "estimate", "lower", "upper"}
        main = row["threshold"] == settings.linkage_threshold
        persons, single = _persons_sql(linked.store_path, year, None if main else row["threshold"])
        assert (row["persons"], row["single_list"]) == (persons, single), row
        assert row["lower"] <= row["estimate"] <= row["upper"]
        assert row["estimate"] >= row["persons"]
    # observed on this world (not guaranteed by the veto, see above): no more persons and no more
    # single-list persons as the threshold falls (in this small world's last year the clusters
    # of its 158 persons do not change at all; the components over all years do, see above)
    persons = [r["persons"] for r in rows]
    single = [r["single_list"] for r in rows]
    assert persons == sorted(persons, reverse=True), rows
    assert single == sorted(single, reverse=True), rows
    table = next(t for t in found.tables if t.key == "hidden_number_linkage")
    assert len(table.frame) == len(rows)
    assert table.frame["persons"].tolist() == persons
    assert "linkage threshold" in table.columns["threshold"].en.lower()
    assert "koppeldrempel" in table.columns["threshold"].nl.lower()
    assert "other match-probability thresholds" in found.method.en
    assert "andere drempels voor de koppelkans" in found.method.nl


def test_the_main_row_is_the_chapters_last_year_estimate(chapter) -> None:
    """Reference: the chapter's own last-year estimate (``hidden_number.last_year``, the
    MultipleSystemsEstimator with the run's settings) and its profile-likelihood interval."""
    _, results, settings = chapter
    main = next(
        r for r in results["linkage_sensitivity"] if r["threshold"] == settings.linkage_threshold
    )
    last = results["last_year"]
    assert last["year"] == settings.window_last
    assert main["persons"] == last["observed"]
    assert main["estimate"] == round(last["estimate"])
    assert main["lower"] == round(last["conditional_interval"]["lower"])
    assert main["upper"] == round(last["conditional_interval"]["upper"])


def test_results_json_carries_the_linkage_sensitivity(chapter, tmp_path: Path) -> None:
    """The chapter written as the pipeline writes it (``results["hidden_number"]``, see
    ``pipeline.analyse``): results.json holds the list, the table gets its CSV, and the report
    renders in both languages."""
    found, results, _ = chapter
    hidden = {k: v for k, v in results.items() if k != "key_findings"}
    written_results = {"key_findings": results["key_findings"], "hidden_number": hidden}
    report = Report(REPORT_TITLE, [found], written_results)
    for lang in ("nl", "en"):
        files = write_report(report, tmp_path / lang, lang)
        written = json.loads(files["results"].read_text(encoding="utf-8"))
        assert written["hidden_number"]["linkage_sensitivity"] == results["linkage_sensitivity"]
        assert "csv:hidden_number_linkage" in files
    html = files["html"].read_text(encoding="utf-8")
    assert "by linkage threshold" in html


def test_a_store_linked_before_the_table_existed_still_reports(linked, tmp_path: Path) -> None:
    """An older store has no ``registration_person_sensitivity``: opened read-only the chapter
    shows the main threshold only; opened for writing the table is created (empty)."""
    store_path = tmp_path / "old.duckdb"
    shutil.copy(linked.store_path, store_path)
    with open_store(str(store_path), create=True) as store:
        store.execute("DROP TABLE registration_person_sensitivity")
    with open_store(str(store_path), read_only=True) as store:
        settings = resolve_window(store, Settings())
        _, results = report_chapter(store, settings, Publication(settings))
    assert [r["threshold"] for r in results["linkage_sensitivity"]] == [settings.linkage_threshold]
    with open_store(str(store_path), create=True) as store:
        assert store.scalar("SELECT count(*) FROM registration_person_sensitivity") == 0
