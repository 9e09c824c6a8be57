"""Validation of an input frame against a declared layout: every problem at once, no values.

Each check is vectorised over the whole column, so a police register of millions of rows is
checked in seconds. Problems name the file, the row (1-based, counting data rows after the
header) and the field, never the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from thbmonitor.errors import InputError, Problem
from thbmonitor.ingest.readers import TEXT
from thbmonitor.pseudonymise import ages_at
from thbmonitor.schema import MULTI_SEPARATOR, Field

TRUE_TEXT = frozenset({"1", "true", "yes", "ja", "y", "j"})
FALSE_TEXT = frozenset({"0", "false", "no", "nee", "n"})
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_COUNTRY_PATTERN = r"^[A-Z]{2}$"
MAX_AGE = 110
MIN_YEAR, MAX_YEAR = 1900, 2100
# C0 and C1 control characters and DEL: a NUL cut values short in the CSV reader, and a tab or
# line break inside a value is a broken export, never data
CONTROL = r"[\x00-\x1f\x7f-\x9f]"

# The reason of each rule, for a file (:func:`validate`) and for one record
# (:func:`thbmonitor.ingest.record.check_record`): one rule set, checked two ways
CONTROL_REASON = "holds a control character (a NUL, tab, line break or other invisible character)"
REQUIRED_REASON = "is required but empty"
DATE_REASON = "is not a valid date written YYYY-MM-DD"
EARLY_REASON = f"lies before {MIN_YEAR}"
INT_REASON = f"is not a whole number from 0 to {MAX_AGE}"
YEAR_REASON = f"is not a year from {MIN_YEAR} to {MAX_YEAR} (YYYY)"
COUNT_REASON = "is not a whole number of 0 or more (digits only)"
BOOL_REASON = "is not a yes/no value (1/0, true/false, yes/no)"
NATIONALITY_REASON = "holds a value that is not an ISO 3166 alpha-2 country code (e.g. NL)"


def future_reason(today: date) -> str:
    return f"lies in the future (after the day of ingest, {today.isoformat()})"


def code_reason(f: Field) -> str:
    return f"is not one of the codes: {', '.join(f.codes)}"


def codes_reason(f: Field) -> str:
    if f.kind == "nationalities":
        return NATIONALITY_REASON
    return f"holds a value that is not one of the codes: {', '.join(f.codes)}"


def after_reason(what: str) -> str:
    return f"lies after the {what}"


def too_old_reason(what: str) -> str:
    return f"gives an age above {MAX_AGE} at the {what}"


def exploitation_reason(what: str) -> str:
    return f"is above the age at the {what} (from the date of birth)"


def check_columns(file: str, frame: pd.DataFrame, fields: Sequence[Field]) -> None:
    """The file must hold every required column; unknown columns are refused too."""
    names = {f.name for f in fields}
    missing = [f.name for f in fields if f.required and f.name not in frame.columns]
    unknown = [c for c in frame.columns if c not in names]
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing required column(s): {', '.join(missing)}")
    if unknown:
        parts.append(
            f"unknown column(s): {', '.join(map(str, unknown))} "
            "(remove them or rename them to the schema's names)"
        )
    if dupes:
        parts.append(f"duplicated column(s): {', '.join(dupes)}")
    if parts:
        raise InputError(f"{file}: " + "; ".join(parts) + ". Nothing was imported.")


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates written YYYY-MM-DD; anything else (and empty) gives NaT."""
    ok = text.str.match(_DATE_PATTERN)
    return pd.to_datetime(text.where(ok), format="%Y-%m-%d", errors="coerce")


def parse_bool(text: pd.Series) -> pd.Series:
    """Yes/no text as a nullable boolean: missing where it is neither (built from two masks at
    once: a masked assignment per value costs milliseconds, the registry calls this per batch)."""
    low = text.str.strip().str.lower()
    true = low.isin(TRUE_TEXT).to_numpy(dtype=bool)
    false = low.isin(FALSE_TEXT).to_numpy(dtype=bool)
    return pd.Series(pd.arrays.BooleanArray(true, ~(true | false)), index=text.index)


def _check_ages(frame: pd.DataFrame, add: Callable[[pd.Series, str, str], None]) -> None:
    """The birth date against the record's date: not after it, an age of at most
    :data:`MAX_AGE` at it, and an age at exploitation not above the age at registration."""
    dob = frame["date_of_birth"].astype(TEXT).str.strip()
    born = parse_dates(dob)
    when_col = "registration_date" if "registration_date" in frame.columns else "event_date"
    if when_col not in frame.columns:
        return
    when_text = frame[when_col].astype(TEXT).str.strip()
    when = parse_dates(when_text)
    what = when_col.replace("_", " ")
    add(born > when, "date_of_birth", after_reason(what))
    known = born.notna() & when.notna() & (born <= when)
    age = ages_at(dob.where(known, ""), when_text.where(known, ""))
    add((age > MAX_AGE).fillna(False), "date_of_birth", too_old_reason(what))
    if "age_at_exploitation" in frame.columns:
        text = frame["age_at_exploitation"].astype(TEXT).str.strip()
        at_exploitation = pd.to_numeric(text.where(text != ""), errors="coerce")
        add(
            (at_exploitation > age.astype("float64")).fillna(False),
            "age_at_exploitation",
            exploitation_reason(what),
        )


def _rows(mask: pd.Series | np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.asarray(mask)) + 1


def validate(
    file: str,
    frame: pd.DataFrame,
    fields: Sequence[Field],
    key: Sequence[str] | None = None,
    today: date | None = None,
) -> list[Problem]:
    """Every problem of every row, in row order.

    ``key``: the columns that identify a row (default: the first field, an id); a row that
    repeats an earlier row's key is a problem. ``today`` (default: the day of ingest): no date
    may lie after it."""
    today = today or date.today()
    check_columns(file, frame, fields)
    found: list[tuple[int, int, Problem]] = []
    order = {f.name: i for i, f in enumerate(fields)}

    def add(mask: pd.Series | np.ndarray, field: str, reason: str) -> None:
        for row in _rows(mask):
            found.append((int(row), order.get(field, 0), Problem(file, int(row), field, reason)))

    for f in fields:
        if f.name not in frame.columns:
            continue
        raw = frame[f.name].astype(TEXT)
        add(raw.str.contains(CONTROL, regex=True).fillna(False), f.name, CONTROL_REASON)
        text = raw.str.strip()
        empty = text == ""
        if f.required:
            add(empty, f.name, REQUIRED_REASON)
        present = ~empty
        if f.kind == "date":
            parsed = parse_dates(text)
            add(present & parsed.isna(), f.name, DATE_REASON)
            add(parsed.dt.year < MIN_YEAR, f.name, EARLY_REASON)
            add(parsed > pd.Timestamp(today), f.name, future_reason(today))
        elif f.kind == "int":
            num = pd.to_numeric(text.where(present), errors="coerce")
            bad = present & (num.isna() | (num % 1 != 0) | (num < 0) | (num > MAX_AGE))
            add(bad, f.name, INT_REASON)
        elif f.kind == "year":
            num = pd.to_numeric(text.where(present), errors="coerce")
            bad = present & (num.isna() | (num % 1 != 0) | (num < MIN_YEAR) | (num > MAX_YEAR))
            add(bad, f.name, YEAR_REASON)
        elif f.kind == "count":
            bad = present & ~text.str.fullmatch(r"\d{1,15}")
            add(bad, f.name, COUNT_REASON)
        elif f.kind == "bool":
            low = text.str.lower()
            bad = present & ~low.isin(TRUE_TEXT | FALSE_TEXT)
            add(bad, f.name, BOOL_REASON)
        elif f.kind == "code":
            bad = present & ~text.isin(f.codes)
            add(bad, f.name, code_reason(f))
        elif f.kind in ("codes", "nationalities"):
            parts = text.where(present, "").str.split(MULTI_SEPARATOR).explode().str.strip()
            if f.kind == "codes":
                bad_part = ~parts.isin(f.codes)
            else:
                bad_part = ~parts.str.match(_COUNTRY_PATTERN)
            bad_rows = bad_part.groupby(level=0).any()
            add(present & bad_rows.reindex(text.index, fill_value=False), f.name, codes_reason(f))

    if "date_of_birth" in frame.columns:
        _check_ages(frame, add)

    names = list(key) if key is not None else [fields[0].name]
    if all(n in frame.columns for n in names):
        cols = [frame[n].astype(TEXT).str.strip() for n in names]
        filled = np.logical_and.reduce([(c != "").to_numpy(dtype=bool) for c in cols])
        if len(cols) == 1:
            dup = cols[0].duplicated(keep="first").to_numpy() & filled
        else:
            dup = pd.concat(cols, axis=1).duplicated(keep="first").to_numpy() & filled
        what = "the id" if key is None else f"the {', '.join(names)}"
        add(dup, names[0], f"repeats {what} of an earlier row in this file")

    found.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in found]
