"""One registration checked and made into the store's row without a frame.

``thbmonitor ingest`` checks a file column by column (:func:`thbmonitor.ingest.validate.
validate`) and derives the store's rows with pandas (:func:`thbmonitor.ingest.prepare_rows`):
seconds for a million rows, but tens of milliseconds for any frame, even of one row. The
registry's submissions come one at a time, so :func:`check_record` and :func:`prepare_record`
apply the same rules (with validate's reasons and limits) and the same derivations (the
profile's groups and age bands, :func:`thbmonitor.pseudonymise.encode_record`) to one record's
text, in tens of microseconds. ``tests/foundation/test_record.py`` feeds the same rows, good
and bad, to both ways and requires the same problems and the same rows.

Where pandas decides what a date or a number is, this module follows it: a date outside
pandas' timestamps (before 1677-09-22 or after 2262-04-11) is not a valid date, and a number
is what :func:`pandas.to_numeric` reads (not 1e400, nor Unicode digits). Python's
``str.strip`` removes what Arrow's trim does (checked for every character to U+3100).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from thbmonitor.errors import Problem
from thbmonitor.ingest.validate import (
    BOOL_REASON,
    CONTROL,
    CONTROL_REASON,
    COUNT_REASON,
    DATE_REASON,
    EARLY_REASON,
    FALSE_TEXT,
    INT_REASON,
    MAX_AGE,
    MAX_YEAR,
    MIN_YEAR,
    REQUIRED_REASON,
    TRUE_TEXT,
    YEAR_REASON,
    after_reason,
    code_reason,
    codes_reason,
    exploitation_reason,
    future_reason,
    too_old_reason,
)
from thbmonitor.profiles import Profile, default_profile
from thbmonitor.pseudonymise import Encoder, age_at, encode_record
from thbmonitor.schema import HELP_FLAGS, MULTI_SEPARATOR, Field
from thbmonitor.store import IDENTIFIER_COLUMNS, REGISTRATION_COLUMNS

__all__ = ["check_record", "parse_date", "prepare_record"]

_CONTROL = re.compile(CONTROL)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_COUNT = re.compile(r"[0-9]{1,15}")
# what pandas.to_numeric reads: decimal numbers (ASCII digits) with an exponent, and infinity
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INFINITE = {
    f"{sign}{word}": -math.inf if sign == "-" else math.inf
    for sign in ("", "+", "-")
    for word in ("inf", "infinity")
}
_FIRST_DAY = pd.Timestamp.min.ceil("D").date()
_LAST_DAY = pd.Timestamp.max.floor("D").date()


def parse_date(text: str) -> date | None:
    """A date written YYYY-MM-DD (within pandas' timestamps, as ingest's parse_dates reads
    it); None otherwise."""
    if not _DATE.fullmatch(text):
        return None
    try:
        day = date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return None
    return day if _FIRST_DAY <= day <= _LAST_DAY else None


def _number(text: str) -> float | None:
    """The number :func:`pandas.to_numeric` reads from stripped text; None where it reads
    none (as for nan, and for a number too large for a float: pandas gives NA, not inf)."""
    if _NUMBER.fullmatch(text):
        number = float(text)
        return None if math.isinf(number) else number
    return _INFINITE.get(text.lower())


def _whole_in(text: str, low: int, high: int) -> bool:
    num = _number(text)
    return num is not None and math.isfinite(num) and num % 1 == 0 and low <= num <= high


def check_record(
    values: Mapping[str, str],
    fields: Sequence[Field],
    today: date | None = None,
    file: str = "submission",
    row: int = 1,
) -> list[Problem]:
    """Every problem of one record (its fields' text; a field it lacks counts as empty), as
    :func:`thbmonitor.ingest.validate.validate` finds them in a file's row ``row``: the same
    reasons in the same order. A file's own checks (unknown columns, an id repeated in the
    file) are not a record's."""
    today = today or date.today()
    found: list[tuple[int, Problem]] = []
    order = {f.name: i for i, f in enumerate(fields)}

    def add(name: str, reason: str) -> None:
        found.append((order.get(name, 0), Problem(file, row, name, reason)))

    for f in fields:
        raw = values.get(f.name, "")
        if _CONTROL.search(raw):
            add(f.name, CONTROL_REASON)
        text = raw.strip()
        if not text:
            if f.required:
                add(f.name, REQUIRED_REASON)
            continue
        if f.kind == "date":
            day = parse_date(text)
            if day is None:
                add(f.name, DATE_REASON)
            else:
                if day.year < MIN_YEAR:
                    add(f.name, EARLY_REASON)
                if day > today:
                    add(f.name, future_reason(today))
        elif f.kind == "int":
            if not _whole_in(text, 0, MAX_AGE):
                add(f.name, INT_REASON)
        elif f.kind == "year":
            if not _whole_in(text, MIN_YEAR, MAX_YEAR):
                add(f.name, YEAR_REASON)
        elif f.kind == "count":
            if not _COUNT.fullmatch(text):
                add(f.name, COUNT_REASON)
        elif f.kind == "bool":
            if text.lower() not in TRUE_TEXT | FALSE_TEXT:
                add(f.name, BOOL_REASON)
        elif f.kind == "code":
            if text not in f.codes:
                add(f.name, code_reason(f))
        elif f.kind in ("codes", "nationalities"):
            parts = [p.strip() for p in text.split(MULTI_SEPARATOR)]
            if f.kind == "codes":
                bad = any(p not in f.codes for p in parts)
            else:
                bad = not all(_COUNTRY.fullmatch(p) for p in parts)
            if bad:
                add(f.name, codes_reason(f))
    if "date_of_birth" in order:
        _check_age(values, order, add)
    found.sort(key=lambda t: t[0])
    return [p for _, p in found]


def _check_age(values: Mapping[str, str], order: Mapping[str, int], add: Any) -> None:
    """validate's age checks of one record (see ``_check_ages`` there)."""
    when_col = "registration_date" if "registration_date" in order else "event_date"
    if when_col not in order:
        return
    dob = values.get("date_of_birth", "").strip()
    born = parse_date(dob)
    when = parse_date(values.get(when_col, "").strip())
    if born is None or when is None:
        return
    what = when_col.replace("_", " ")
    if born > when:
        add("date_of_birth", after_reason(what))
        return
    age = age_at(dob, when)
    assert age is not None
    if age > MAX_AGE:
        add("date_of_birth", too_old_reason(what))
    if "age_at_exploitation" in order:
        at_exploitation = _number(values.get("age_at_exploitation", "").strip())
        if at_exploitation is not None and at_exploitation > age:
            add("age_at_exploitation", exploitation_reason(what))


def _flag(text: str) -> bool | None:
    low = text.lower()
    return True if low in TRUE_TEXT else False if low in FALSE_TEXT else None


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(MULTI_SEPARATOR) if x.strip()]


def prepare_record(
    values: Mapping[str, str],
    encoder: Encoder,
    profile: Profile | None = None,
    sha: str = "",
    row: int = 1,
) -> dict[str, Any]:
    """The store's row of one valid registration (one without problems in
    :func:`check_record`): :func:`thbmonitor.ingest.prepare_rows` of a one-row frame, with
    plain Python values (None for missing), the plaintext identifiers not among them."""
    profile = profile or default_profile()

    def text(name: str) -> str:
        return values.get(name, "").strip()

    registered = parse_date(text("registration_date"))
    nats = _split(text("nationality"))
    forms = _split(text("forms_of_exploitation"))
    dob = text("date_of_birth")
    out: dict[str, Any] = {
        "registration_id": text("registration_id"),
        "source_sha256": sha,
        "source_row": row,
        "reporting_organisation": text("reporting_organisation"),
        "registration_date": registered,
        "registration_year": None if registered is None else registered.year,
        "sex": text("sex"),
        "nationality": MULTI_SEPARATOR.join(nats),
        "nationality_primary": nats[0] if nats else None,
        "nationality_group": profile.nationality.group_of_all(nats, registered),
        "residence_status": text("residence_status"),
        "municipality": text("municipality") or None,
        "forms_of_exploitation": MULTI_SEPARATOR.join(forms),
        "monitor_group": profile.monitor_group(forms, nats),
        "sector": text("sector") or None,
    }
    at_exploitation = _number(text("age_at_exploitation")) if not dob else None
    out["age_at_exploitation"] = None if at_exploitation is None else int(at_exploitation)
    for flag in HELP_FLAGS:
        out[flag] = _flag(text(flag))
    estimated = _flag(text("date_of_birth_estimated")) or False
    ids = encode_record(values, encoder, registered, estimated)
    age = ids.pop("age")
    out["age_band"] = profile.age_band(age)
    out.update(ids)
    out["dob_missing"] = dob == ""
    return {c: out[c] for c in REGISTRATION_COLUMNS + IDENTIFIER_COLUMNS}
