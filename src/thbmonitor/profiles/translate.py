"""Reading a file written in a profile's layout into the monitor's own layout.

The file is read with the profile's delimiter and encoding, its columns renamed to the
monitor's fields, code spellings mapped to the codes, dates in the profile's formats written
YYYY-MM-DD, yes/no spellings written 1/0 and multi-valued fields joined with the monitor's
separator. What the profile cannot map is listed (:class:`Unmapped`) by file, column and number
of rows, and left as it was, so that validation still names each row. The value is shown only
for coded columns: never for an identifier, a date or free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thbmonitor.errors import InputError
from thbmonitor.ingest.readers import TEXT, read_text_frame
from thbmonitor.profiles import KINDS, Profile
from thbmonitor.schema import (
    MULTI_SEPARATOR,
    Field,
    denominator_fields,
    police_fields,
    population_fields,
    registration_fields,
)

__all__ = ["Translated", "Unmapped", "fields_of", "read_in_profile", "translate"]

ISO = "%Y-%m-%d"
_LAYOUTS = {
    "registrations": registration_fields,
    "police": police_fields,
    "population": population_fields,
    "population_denominators": denominator_fields,
}


@dataclass(frozen=True)
class Unmapped:
    """Values of one column that the profile cannot map (``value`` only for coded columns)."""

    file: str
    column: str  # as named in the file
    rows: int
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        what = f"'{self.value}' " if self.value is not None else ""
        rows = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        return f"{self.file}: column '{self.column}': {what}in {rows} {self.reason}"


@dataclass(frozen=True)
class Translated:
    """A file in the monitor's layout (every cell text), its kind and what did not map."""

    frame: pd.DataFrame
    kind: str
    unmapped: tuple[Unmapped, ...]


def fields_of(kind: str, profile: Profile) -> tuple[Field, ...]:
    return _LAYOUTS[kind](profile)


def read_in_profile(path: Path, profile: Profile) -> Translated:
    """Read one file in the profile's layout (CSV with its delimiter and encoding, XLSX or
    Parquet) and translate it."""
    layout = profile.layout
    frame = read_text_frame(Path(path), layout.delimiter, layout.encoding)
    return translate(frame, Path(path).name, profile)


def translate(frame: pd.DataFrame, file: str, profile: Profile) -> Translated:
    kind, frame = _kind(frame, file, profile)
    unmapped: list[Unmapped] = []
    out = frame.copy()
    renamed = {v: k for k, v in profile.layout.renames(kind).items()}
    for f in fields_of(kind, profile):
        if f.name not in out.columns:
            continue
        column = renamed.get(f.name, f.name)
        text = out[f.name].astype(TEXT).str.strip()
        if f.kind in ("code", "codes") and profile.list_of(f.name) is not None:
            out[f.name], found = _codes(text, f, profile)
            unmapped += [Unmapped(file, column, n, f"not in the code list {lst}", value)
                         for value, lst, n in found]  # fmt: skip
        elif f.kind == "nationalities":
            out[f.name] = _resplit(text, profile.layout.multi_separator)
        elif f.kind == "date":
            out[f.name], n = _dates(text, profile.layout.date_formats)
            if n:
                formats = " or ".join(profile.layout.date_formats)
                unmapped.append(Unmapped(file, column, n, f"not a date written {formats}"))
        elif f.kind == "bool":
            out[f.name], n = _yes_no(text, profile)
            if n:
                unmapped.append(Unmapped(file, column, n, "not one of the profile's yes/no values"))
    return Translated(out, kind, tuple(unmapped))


def _kind(frame: pd.DataFrame, file: str, profile: Profile) -> tuple[str, pd.DataFrame]:
    """The kind of file whose column names (under the profile's renames) the file has."""
    from thbmonitor.ingest import detect_kind

    for kind in KINDS:
        renamed = frame.rename(columns=dict(profile.layout.renames(kind)))
        try:
            if detect_kind(renamed, file) == kind:
                return kind, renamed
        except InputError:
            continue
    names = {k: ", ".join(profile.layout.column_of(k, c) for c in _KEYS[k]) for k in KINDS}
    raise InputError(
        f"{file}: not a file of profile {profile.name}: a registrations file has column(s) "
        f"{names['registrations']}, a police register {names['police']}, a population "
        f"register {names['population']}, population denominators "
        f"{names['population_denominators']}. If the file is in another layout, give its "
        "profile (--profile; 'thbmonitor profile list')"
    )


_KEYS = {
    "registrations": ("registration_id",),
    "police": ("event_id", "role"),
    "population": ("event_id", "event_type"),
    "population_denominators": ("year", "sex", "age_band", "population"),
}


def _codes(
    text: pd.Series, f: Field, profile: Profile
) -> tuple[pd.Series, list[tuple[str, str, int]]]:
    """Spellings mapped to codes; (value, list, rows) of each value that is not in the list."""
    codes = profile.list_of(f.name)
    assert codes is not None
    if f.kind == "code":
        counts = text[text != ""].value_counts()
        mapping = {v: codes.code_of(v) for v in counts.index}
        mapped = text.map(lambda v: mapping.get(v) or v).astype(TEXT)
        found = [(v, codes.name, int(counts[v])) for v, c in mapping.items() if c is None]
        return mapped, sorted(found, key=lambda t: (-t[2], t[0]))
    parts = text.str.split(profile.layout.multi_separator).map(
        lambda ps: [p.strip() for p in ps if p.strip()]
    )
    exploded = parts.explode().dropna()
    per_row = exploded.groupby(level=0).unique().explode()  # a value once per row
    counts = per_row.value_counts()
    mapping = {v: codes.code_of(v) for v in counts.index}
    mapped = parts.map(lambda ps: MULTI_SEPARATOR.join(mapping.get(p) or p for p in ps))
    found = [(v, codes.name, int(counts[v])) for v, c in mapping.items() if c is None]
    return mapped.astype(TEXT), sorted(found, key=lambda t: (-t[2], t[0]))


def _resplit(text: pd.Series, separator: str) -> pd.Series:
    if separator == MULTI_SEPARATOR:
        return text
    return (
        text.str.split(separator)
        .map(lambda ps: MULTI_SEPARATOR.join(p.strip() for p in ps if p.strip()))
        .astype(TEXT)
    )


def _dates(text: pd.Series, formats: Sequence[str]) -> tuple[pd.Series, int]:
    """Dates in any of the formats written YYYY-MM-DD; the rest left as they were."""
    present = text != ""
    if tuple(formats) == (ISO,):
        return text, 0  # the monitor's own format: validation checks it
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = present & parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    ok = parsed.notna()
    out = text.where(~ok, parsed.dt.strftime(ISO)).astype(TEXT)
    return out, int((present & ~ok).sum())


def _yes_no(text: pd.Series, profile: Profile) -> tuple[pd.Series, int]:
    low = text.str.lower()
    true = {v.lower() for v in profile.layout.true}
    false = {v.lower() for v in profile.layout.false}
    out = text.where(~low.isin(true), "1").where(~low.isin(false), "0").astype(TEXT)
    bad = (text != "") & ~low.isin(true | false)
    return out, int(bad.sum())
