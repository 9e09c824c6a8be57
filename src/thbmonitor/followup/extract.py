"""Curves for a user's own cohort extract (a CSV file), as behind ``thbmonitor survival``.

The file has one row per person, a duration column (>= 0) and an event column (0 censored,
any other number an event). With ``competing`` given, rows whose event equals it are the
competing event and the result is the Aalen-Johansen incidence of the other events;
without it, Kaplan-Meier 1 - S(t). Every bad row is reported at once, by row and field,
never by value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.errors import InputError, Problem, ValidationError
from thbmonitor.followup.curves import IncidenceCurve, aalen_johansen, kaplan_meier

logger = logging.getLogger(__name__)

__all__ = ["curves_from_csv", "read_cohort_csv"]


def _numbers(frame: pd.DataFrame, column: str, file: str, problems: list[Problem]) -> np.ndarray:
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(text.eq("").to_numpy()):
        problems.append(Problem(file, int(i) + 1, column, "is empty; give a number"))
    for i in np.flatnonzero(np.isnan(values) & text.ne("").to_numpy()):
        problems.append(Problem(file, int(i) + 1, column, "is not a number"))
    for i in np.flatnonzero(np.isinf(values)):
        problems.append(Problem(file, int(i) + 1, column, "is not a finite number"))
    return values


def read_cohort_csv(
    path: str | Path,
    *,
    duration: str,
    event: str,
    group: str | None = None,
    competing: str | None = None,
) -> pd.DataFrame:
    """Read and check an extract; returns columns ``duration``, ``event`` (0/1/2), ``group``."""
    path = Path(path)
    file = path.name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise InputError(f"{file}: file not found; check the path.") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{file}: cannot be read as CSV ({type(exc).__name__}); "
            "save it as comma-separated UTF-8 text with a header row."
        ) from exc
    wanted = [c for c in (duration, event, group) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(
            f"{file}: column(s) {', '.join(map(repr, missing))} not found; the file has "
            f"{', '.join(map(repr, frame.columns))}."
        )
    if frame.empty:
        raise InputError(f"{file}: has a header but no data rows.")
    competing_value: float | None = None
    if competing is not None:
        try:
            competing_value = float(competing)
        except ValueError as exc:
            raise InputError("--competing must be a number (an event code).") from exc
        if competing_value == 0:
            raise InputError("--competing cannot be 0: 0 means censored.")
    problems: list[Problem] = []
    d = _numbers(frame, duration, file, problems)
    e = _numbers(frame, event, file, problems)
    for i in np.flatnonzero(d < 0):
        problems.append(Problem(file, int(i) + 1, duration, "is negative; durations are >= 0"))
    for i in np.flatnonzero(e < 0):
        problems.append(Problem(file, int(i) + 1, event, "is negative; event codes are >= 0"))
    if problems:
        problems.sort(key=lambda p: (p.row, p.field))
        raise ValidationError(problems)
    code = np.where(e == 0, 0, 1)
    if competing_value is not None:
        code = np.where(e == competing_value, 2, code)
    out = pd.DataFrame({"duration": d, "event": code})
    if group is not None:
        out["group"] = frame[group].str.strip().replace("", "missing").to_numpy()
    return out


def curves_from_csv(
    path: str | Path,
    *,
    duration: str,
    event: str,
    group: str | None = None,
    competing: str | None = None,
    alpha: float = 0.05,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, IncidenceCurve]:
    """One curve per group (key ``"all"`` without a group column), in sorted group order.

    ``progress(done, total)`` is called after reading (step 1) and after every curve."""
    cohort = read_cohort_csv(path, duration=duration, event=event, group=group, competing=competing)
    estimator = aalen_johansen if competing is not None else kaplan_meier
    parts = (
        [("all", cohort)]
        if group is None
        else [(str(label), sub) for label, sub in cohort.groupby("group", sort=True)]
    )
    total = 1 + len(parts)
    if progress is not None:
        progress(1, total)
    out: dict[str, IncidenceCurve] = {}
    for i, (label, sub) in enumerate(parts, start=2):
        out[label] = estimator(sub["duration"], sub["event"], alpha=alpha)
        if progress is not None:
            progress(i, total)
    return out


def curves_to_json(curves: dict[str, IncidenceCurve]) -> dict[str, dict[str, list[float]]]:
    """The JSON shape of ``thbmonitor survival``: timeline, estimate, lower, upper per group."""
    return {
        name: {
            "timeline": curve.timeline.tolist(),
            "estimate": curve.estimate.tolist(),
            "lower": curve.lower.tolist(),
            "upper": curve.upper.tolist(),
        }
        for name, curve in curves.items()
    }
