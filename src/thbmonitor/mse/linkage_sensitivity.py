"""How much the hidden number depends on the linkage: the last year at other link thresholds.

The linkage clusters the same scored pairs at a few other match-probability thresholds
(``registration_person_sensitivity``, see :data:`thbmonitor.linkage.dedupe.
SENSITIVITY_THRESHOLDS`). A missed link puts a person on one list twice, which raises the
estimate; a false link does the opposite. For each threshold the last year's capture histories
are rebuilt from that clustering and fitted exactly as the chapter's last-year estimate
(:class:`MultipleSystemsEstimator`, same settings, profile-likelihood interval given the
model). The main threshold's row is the chapter's own estimate on ``registration_person``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CountTable, Release
from thbmonitor.engine import Store
from thbmonitor.errors import EstimationError, InputError
from thbmonitor.mse.estimator import MultipleSystemsEstimator, fit_settings
from thbmonitor.mse.table import CaptureTable
from thbmonitor.report.model import Table, Text

log = logging.getLogger(__name__)

__all__ = ["METHOD_SENTENCE", "LinkageRow", "linkage_rows", "linkage_table"]

Protect = Callable[[Sequence[CountTable]], Release]

SENSITIVITY_TABLE = "registration_person_sensitivity"

METHOD_SENTENCE = Text(
    "The linkage sensitivity table repeats the last year's estimate with the registrations "
    "linked into persons at other match-probability thresholds (same scored pairs and model "
    "choice): a lower threshold links more registrations, which usually leaves fewer persons "
    "on one list only and a lower estimate.",
    "De gevoeligheidstabel voor de koppeling herhaalt de schatting van het laatste jaar met "
    "meldingen die bij andere drempels voor de koppelkans tot personen zijn samengevoegd "
    "(dezelfde gescoorde paren en modelkeuze): een lagere drempel voegt meer meldingen samen, "
    "waardoor meestal minder personen op maar één lijst staan en de schatting lager uitvalt.",
)


@dataclass(frozen=True)
class LinkageRow:
    """The last year's persons and estimate under one linkage threshold (true counts)."""

    threshold: float
    main: bool
    persons: int
    single_list: int
    estimate: float | None
    lower: float | None
    upper: float | None
    model: str | None


def _row(
    threshold: float, main: bool, table: CaptureTable, estimator: MultipleSystemsEstimator | None
) -> LinkageRow:
    single = int(table.counts[table.histories.sum(axis=1) == 1].sum())
    if estimator is None:
        return LinkageRow(threshold, main, table.observed, single, None, None, None, None)
    interval = estimator.conditional_interval_
    return LinkageRow(
        threshold,
        main,
        table.observed,
        single,
        float(estimator.estimate_),
        float(interval.lower),
        float(interval.upper),
        " + ".join(estimator.model_) or "main effects",
    )


def _histories_at(store: Store, threshold: float, year: int) -> CaptureTable | None:
    """The year's capture histories with persons from the clustering at ``threshold``."""
    from thbmonitor.linkage.capture import history_table, store_lists

    frame = store.df(
        "SELECT CAST(s.cluster AS VARCHAR) AS person_id, r.reporting_organisation, "
        f"r.registration_year FROM registrations r JOIN {SENSITIVITY_TABLE} s "
        "USING (registration_id) WHERE s.threshold = ? AND r.registration_year = ? "
        "ORDER BY r.registration_date, r.registration_id",
        [threshold, year],
    )
    if frame.empty:
        return None
    lists = store_lists(store)
    counts = history_table(frame, lists, ("year",))
    return CaptureTable.from_frame(counts, lists=list(lists), covariates=["year"]).collapse()


def stored_thresholds(store: Store) -> list[float]:
    """The thresholds held in ``registration_person_sensitivity`` (none in an older store)."""
    exists = store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [SENSITIVITY_TABLE]
    )
    if not exists:
        return []
    got = store.df(f"SELECT DISTINCT threshold FROM {SENSITIVITY_TABLE}")["threshold"]
    return sorted(float(t) for t in got)


def linkage_rows(
    store: Store,
    settings: Settings,
    year: int,
    main_table: CaptureTable,
    main_estimator: MultipleSystemsEstimator | None,
) -> list[LinkageRow]:
    """One row per linkage threshold, strictest first; the main row from the chapter's fit.

    ``main_table`` is the chapter's collapsed table of ``year`` (from ``registration_person``)
    and ``main_estimator`` its fitted estimator (``None`` if it failed).
    """
    main = settings.linkage_threshold
    rows = [_row(main, True, main_table, main_estimator)]
    for threshold in stored_thresholds(store):
        if np.isclose(threshold, main):
            continue
        table = _histories_at(store, threshold, year)
        if table is None:
            continue
        estimator: MultipleSystemsEstimator | None = None
        try:
            estimator = MultipleSystemsEstimator(**fit_settings(settings), seed=settings.seed).fit(
                table
            )
        except (EstimationError, InputError) as exc:
            log.warning("no estimate at linkage threshold %s: %s", threshold, exc)
        rows.append(_row(threshold, False, table, estimator))
    return sorted(rows, key=lambda r: -r.threshold)


def linkage_table(
    rows: Sequence[LinkageRow], year: int, protect: Protect
) -> tuple[Table, list[dict[str, Any]]]:
    """The published table and the results.json list; counts go through disclosure control.

    An estimate whose persons count is suppressed is not shown either.
    """
    labels = [f"{r.threshold:g}" for r in rows]
    tables = [
        CountTable.from_cells(
            f"hidden_number_linkage_{what}",
            pd.DataFrame({"threshold": labels, "count": values}),
            ["threshold"],
            universe=f"capture_persons_{what}_{year}",
            margins=(),
        )
        for what, values in (
            ("persons", [r.persons for r in rows]),
            ("single_list", [r.single_list for r in rows]),
        )
    ]
    release = protect(tables)
    shown = {
        t.name: release[t.name].published_counts().set_index("threshold")["count"] for t in tables
    }

    def count(label: str, what: str) -> int | None:
        value = shown[f"hidden_number_linkage_{what}"].get(label)
        return None if value is None or pd.isna(value) else int(value)

    table_rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for label, r in zip(labels, rows, strict=True):
        persons, single = count(label, "persons"), count(label, "single_list")
        ok = persons is not None and r.estimate is not None

        def rounded(v: float | None, ok: bool = ok) -> int | None:
            return round(v) if ok and v is not None and np.isfinite(v) else None

        est, low, high = rounded(r.estimate), rounded(r.lower), rounded(r.upper)
        results.append(
            {
                "threshold": r.threshold,
                "persons": persons,
                "single_list": single,
                "estimate": est,
                "lower": low,
                "upper": high,
            }
        )
        table_rows.append(
            {
                "threshold": f"{label} (main)" if r.main else label,
                "persons": "x" if persons is None else persons,
                "single_list": "x" if single is None else single,
                "estimate": "." if est is None else est,
                "lower": "." if low is None else low,
                "upper": "." if high is None else high,
                "model": r.model if ok and r.model else ".",
            }
        )
    table = Table(
        "hidden_number_linkage",
        Text(
            f"Hidden number {year} by linkage threshold (sensitivity)",
            f"Verborgen aantal {year} per koppeldrempel (gevoeligheid)",
        ),
        pd.DataFrame(table_rows),
        Text(
            "Registrations linked into persons at each threshold; thbmonitor linkage and MSE.",
            "Meldingen per drempel tot personen gekoppeld; thbmonitor-koppeling en MSE.",
        ),
        note=Text(
            "Threshold: the match probability above which two registrations are linked "
            "(main: the one used everywhere else). The year is fitted alone without covariates, "
            "as in the sensitivity table; 95% profile-likelihood intervals given the model.",
            "Drempel: de koppelkans waarboven twee meldingen aan elkaar worden gekoppeld (main: "
            "de drempel die overal elders is gebruikt). Het jaar wordt apart geschat zonder "
            "covariaten, zoals in de gevoeligheidstabel; 95%-profiel-likelihoodintervallen "
            "gegeven het model.",
        ),
        columns={
            "threshold": Text("Linkage threshold", "Koppeldrempel"),
            "persons": Text("Registered (distinct persons)", "Geregistreerd (unieke personen)"),
            "single_list": Text("On one list only", "Op één lijst"),
            "estimate": Text("Estimated total", "Geschat totaal"),
            "lower": Text("95% lower", "95% onder"),
            "upper": Text("95% upper", "95% boven"),
            "model": Text("Model (interactions)", "Model (interacties)"),
        },
    )
    return table, results
