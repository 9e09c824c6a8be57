"""Published tables as plain cells: the CSV files, and the checks on table keys and sheet names.

A CSV holds the frame as it was protected: counts as integers, disclosure markers as strings,
percentages only in the columns whose name says so. The header is the frame's column names
(machine names, so ``*_pct`` stays visible). A named index becomes leading columns. A missing
value (None, NaN), which a protected frame should not hold, is written as ``.`` (not available)
so that it is never read as zero. Files are UTF-8 without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from thbmonitor.errors import ReportError
from thbmonitor.report.formatting import NOT_AVAILABLE, is_interval, is_missing, is_number
from thbmonitor.report.model import Table

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
SHEET_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

Cell = str | int | float


def check_table_keys(tables: Iterable[Table]) -> None:
    """Raise :class:`ReportError` if a table key is unsafe as a file name or used twice."""
    seen: set[str] = set()
    for table in tables:
        if not KEY_PATTERN.match(table.key):
            raise ReportError(
                f"Table key {table.key!r} cannot be a file name: use 1 to 100 letters, digits, "
                "'_', '-' or '.', starting with a letter or digit."
            )
        if table.key.lower() in seen:
            raise ReportError(
                f"Table key {table.key!r} is used twice; give each table its own key."
            )
        seen.add(table.key.lower())


def has_default_index(frame: pd.DataFrame) -> bool:
    """True if the index is the unnamed 0..n-1 range (and so carries no information)."""
    index = frame.index
    return bool(
        index.nlevels == 1
        and index.name is None
        and index.dtype.kind in "iu"
        and np.array_equal(index.to_numpy(), np.arange(len(index)))
    )


def column_name(column: object) -> str:
    """A column label as text; MultiIndex labels are joined with `` / ``."""
    if isinstance(column, tuple):
        return " / ".join(str(part) for part in column)
    return str(column)


def flat_frame(table: Table) -> pd.DataFrame:
    """The table's frame with a meaningful index moved into leading columns."""
    frame = table.frame
    if has_default_index(frame):
        return frame
    names = [
        str(name) if name is not None else ("index" if frame.index.nlevels == 1 else f"level_{i}")
        for i, name in enumerate(frame.index.names)
    ]
    flat = frame.copy()
    flat.index = flat.index.set_names(names)
    return flat.reset_index()


def cell_value(value: object, column: object) -> Cell:
    """One cell as written to CSV/XLSX: int, float, marker or text; missing becomes ``.``.

    An interval ``(lower, upper)`` becomes the text ``lower–upper`` (``.`` decimal point).
    """
    if is_interval(value):
        lower, upper = (cell_value(v, column) for v in value)
        if NOT_AVAILABLE in (lower, upper):
            return NOT_AVAILABLE
        return f"{lower}–{upper}"
    if isinstance(value, str):
        return value
    if is_missing(value):
        return NOT_AVAILABLE
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            return NOT_AVAILABLE
        if isinstance(value, int | np.integer):
            return int(value)
        percent = column_name(column).lower().endswith(("_pct", "(%)"))
        return int(number) if number.is_integer() and not percent else number
    return str(value)


def table_cells(table: Table) -> tuple[list[str], list[list[Cell]]]:
    """The header (machine column names) and the rows of cells of a table."""
    frame = flat_frame(table)
    header = [column_name(c) for c in frame.columns]
    columns = list(frame.columns)
    rows = [
        [cell_value(value, column) for value, column in zip(row, columns, strict=True)]
        for row in frame.itertuples(index=False, name=None)
    ]
    return header, rows


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """CSV text (comma-separated, ``\\n`` line ends, floats in shortest round-trip form)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(c) if isinstance(c, float) else c for c in row])
    return buffer.getvalue()


def sheet_names(keys: Sequence[str]) -> list[str]:
    """Valid, unique Excel sheet names (<= 31 characters, case-insensitively distinct)."""
    names: list[str] = []
    taken: set[str] = set()
    for key in keys:
        base = _SHEET_FORBIDDEN.sub("_", key).strip("'") or "table"
        name = base[:SHEET_MAX]
        number = 2
        while name.lower() in taken:
            suffix = f"~{number}"
            name = base[: SHEET_MAX - len(suffix)] + suffix
            number += 1
        taken.add(name.lower())
        names.append(name)
    return names
