"""Readers: CSV, XLSX and Parquet into a frame of text cells (validation parses them)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


def read_text_frame(path: Path) -> pd.DataFrame:
    """Every cell as text ('' for empty), columns as in the file, rows in file order."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path.name}: unknown file type; use .csv, .xlsx or .parquet")
    if not path.exists():
        raise InputError(f"{path.name}: no such file")
    try:
        if kind == "csv":
            frame = pd.read_csv(
                path, dtype=TEXT, keep_default_na=False, na_filter=False, encoding="utf-8-sig"
            )
        elif kind == "xlsx":
            frame = _read_xlsx(path)
        else:
            frame = _read_parquet(path)
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name}: not UTF-8 text; save the file as UTF-8 CSV") from exc
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise InputError(f"{path.name}: cannot be read as {kind} ({type(exc).__name__})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(TEXT).reset_index(drop=True)


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
