"""Readers: CSV, XLSX and Parquet into a frame of text cells (validation parses them)."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from thbmonitor.errors import InputError

TEXT = pd.StringDtype("pyarrow")  # vectorised string kernels: millions of rows in seconds
SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text_frame(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """Every cell as text ('' for empty), columns as in the file, rows in file order.

    ``delimiter`` and ``encoding`` apply to CSV files (a country profile's layout, e.g. a
    Dutch Excel export: ``;`` and ``cp1252``)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path.name}: unknown file type; use .csv, .xlsx or .parquet")
    if not path.exists():
        raise InputError(f"{path.name}: no such file")
    try:
        if kind == "csv":
            frame = _read_csv(path, delimiter, encoding)
        elif kind == "xlsx":
            frame = _read_xlsx(path)
        else:
            frame = _read_parquet(path)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(_not_text(path, encoding)) from exc
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise InputError(f"{path.name}: cannot be read as {kind} ({type(exc).__name__})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(TEXT).reset_index(drop=True)


_COLUMN_COUNT = re.compile(r"Expected \d+ columns, got \d+")
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _not_text(path: Path, encoding: str) -> str:
    if _sig(encoding) == "utf-8-sig":
        return f"{path.name}: not UTF-8 text; save the file as UTF-8 CSV"
    return (
        f"{path.name}: not {encoding.upper()} text; set the profile's input.encoding to the "
        "file's encoding"
    )


def _read_csv(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """A delimited text file (by default comma-separated UTF-8), every cell as text, NUL and
    all (the C reader of pandas cut values at a NUL). Rows with more or fewer fields than the
    header and a quote that is never closed are refused, saying where (never what)."""
    names = _header(path, delimiter, encoding)
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding=encoding),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:  # its message quotes the row: it is not passed on
        if _COLUMN_COUNT.search(str(exc)):
            row, got = _ragged_row(path, len(names), delimiter, encoding)
            raise InputError(
                f"{path.name}: row {row} has {got} fields where the header has {len(names)} "
                "(a separator too many or too few, or a value with a comma that is not in "
                "quotes); nothing was imported"
            ) from None
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise InputError(_not_text(path, encoding)) from None
        raise InputError(f"{path.name}: cannot be read as CSV; nothing was imported") from None
    frame = table.to_pandas(types_mapper={pa.string(): TEXT}.get)
    _check_quotes(path, frame)
    return frame


def _ragged_row(
    path: Path, expected: int, delimiter: str = ",", encoding: str = "utf-8"
) -> tuple[int, int]:
    """(data row, number of fields) of the first row whose field count is not ``expected``."""
    with open(path, encoding=_sig(encoding), newline="") as fh:
        for number, fields in enumerate(csv.reader(fh, delimiter=delimiter)):
            if number and fields and len(fields) != expected:
                return number, len(fields)
    return 0, expected  # not found again: the row number is unknown


def _sig(encoding: str) -> str:
    """UTF-8 is read with its byte-order mark removed (Excel writes one)."""
    return "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding


def _header(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> list[str]:
    """The column names of the first line; a file separated by something else is refused."""
    with open(path, encoding=_sig(encoding), newline="") as fh:
        line = fh.readline()
    try:
        names = next(csv.reader([line], delimiter=delimiter))
    except (StopIteration, csv.Error):
        names = []
    if not names or not "".join(names).strip():
        raise InputError(f"{path.name}: the file is empty or its first line holds no column names")
    if len(names) == 1 and delimiter == ",":
        for sep, what in SEPARATORS.items():
            if sep in names[0]:
                raise InputError(
                    f"{path.name}: the header has one column, separated by {what} instead of "
                    "commas; save the file as comma-separated CSV (in Excel: CSV UTF-8, "
                    "comma delimited)"
                )
    return names


def _check_quotes(path: Path, frame: pd.DataFrame) -> None:
    """A quote that opens a value and never closes swallows the rest of the file into the last
    row's value: an odd number of quotes in the file and a line break in that value."""
    if not len(frame):
        return
    last = frame.iloc[-1]
    fields = [str(c) for c in frame.columns if "\n" in str(last[c])]
    if not fields:
        return
    quotes = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            quotes += block.count(b'"')
    if quotes % 2:
        raise InputError(
            f'{path.name}: a quote (") opens the value of row {len(frame)}, field '
            f"'{fields[0]}', and is never closed, so the rest of the file was read into it; "
            "close the quote or remove it. Nothing was imported"
        )


def _read_xlsx(path: Path) -> pd.DataFrame:
    frame = pd.read_excel(path, dtype=object, engine="openpyxl", keep_default_na=False)
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        out[col] = frame[col].map(_cell_text)
    return out


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if "T" in text or len(text) > 10 else text
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_parquet(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(column.type):
            column = pc.cast(pc.cast(column, pa.date32()), pa.string())  # YYYY-MM-DD
        elif pa.types.is_date(column.type):
            column = pc.cast(column, pa.string())  # YYYY-MM-DD
        elif pa.types.is_boolean(column.type):
            column = pc.cast(pc.cast(column, pa.int8()), pa.string())
        elif not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())
        columns[name] = pc.fill_null(column, "")
    return pa.table(columns).to_pandas(types_mapper={pa.string(): TEXT}.get)
