"""Writing files of the monitor's own layout in a profile's layout (the inverse of
:mod:`thbmonitor.profiles.translate`): ``thbmonitor synth --profile P`` writes the same world
as a registry using that profile would export it.

Each code is written as the profile's first spelling of it, dates in its first date format,
yes/no in its first true and false values, multi-valued fields with its separator and columns
under its names; CSV files with its delimiter and encoding. Parquet files keep their types.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from thbmonitor.ingest.readers import read_text_frame
from thbmonitor.profiles import CodeList, Profile
from thbmonitor.profiles.translate import ISO, fields_of
from thbmonitor.schema import MULTI_SEPARATOR

__all__ = ["WORLD_FILES", "is_own_layout", "write_world"]

# the input files of the synthetic world, by kind
WORLD_FILES: dict[str, str] = {
    "registrations.csv": "registrations",
    "police_register.parquet": "police",
    "population_register.parquet": "population",
    "population_denominators.csv": "population_denominators",
}


def is_own_layout(profile: Profile, kind: str | None = None) -> bool:
    """Whether files of the profile (of one kind, or of every kind) are byte for byte the
    monitor's own layout."""
    lay = profile.layout
    kinds = WORLD_FILES.values() if kind is None else (kind,)
    plain = (
        lay.delimiter == ","
        and lay.encoding.replace("_", "-").lower() in ("utf-8", "utf8")
        and lay.date_formats[0] == ISO
        and lay.multi_separator == MULTI_SEPARATOR
        and (lay.true[0], lay.false[0]) == ("1", "0")
        and not any(lay.renames(k) for k in kinds)
    )
    spelled = all(c.spelling(code) == code for c in profile.code_lists.values() for code in c.codes)
    return plain and spelled


def write_world(folder: Path, profile: Profile) -> list[Path]:
    """Rewrite the world's input files in ``folder`` in the profile's layout (in place)."""
    written = []
    for name, kind in WORLD_FILES.items():
        path = folder / name
        if not path.exists() or is_own_layout(profile, kind):
            continue
        if path.suffix == ".csv":
            frame = _spelled(read_text_frame(path), kind, profile)
            frame.to_csv(
                path,
                index=False,
                sep=profile.layout.delimiter,
                encoding=profile.layout.encoding,
                lineterminator="\n",
            )
        else:
            table = pq.read_table(path)
            frame = table.to_pandas()
            for column in frame.columns:
                if pa.types.is_string(table.schema.field(column).type):
                    frame[column] = frame[column].astype(object)
            frame = _spelled(frame, kind, profile, text=False)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        written.append(path)
    return written


def _spell(codes: CodeList, value: str) -> str:
    """A world's value as the profile writes it: the code it stands for in the profile (the
    code itself or one of its spellings: htcds reads the Dutch world's ``DutchNational`` as its
    own ``National``), written in the profile's first spelling; a value it cannot map as is."""
    code = codes.code_of(value)
    return value if code is None else codes.spelling(code)


def _spelled(frame: pd.DataFrame, kind: str, profile: Profile, text: bool = True) -> pd.DataFrame:
    """A frame of the monitor's layout in the profile's spellings and column names."""
    lay = profile.layout
    out = frame.copy()
    for f in fields_of(kind, profile):
        if f.name not in out.columns:
            continue
        col = out[f.name]
        codes = profile.list_of(f.name)
        if f.kind == "code" and codes is not None:
            out[f.name] = col.map(lambda v, c=codes: _spell(c, v) if isinstance(v, str) else v)
        elif f.kind == "codes" and codes is not None:
            out[f.name] = col.map(
                lambda v, c=codes: lay.multi_separator.join(
                    _spell(c, p) for p in v.split(MULTI_SEPARATOR) if p
                )
            )
        elif f.kind == "nationalities":
            out[f.name] = col.map(lambda v: lay.multi_separator.join(v.split(MULTI_SEPARATOR)))
        elif f.kind == "date" and text and lay.date_formats[0] != ISO:
            dates = pd.to_datetime(col.where(col != ""), format=ISO)
            out[f.name] = dates.dt.strftime(lay.date_formats[0]).fillna("")
        elif f.kind == "bool" and text:
            out[f.name] = col.map({"1": lay.true[0], "0": lay.false[0]}).fillna(col)
    columns = {field: column for column, field in lay.renames(kind).items()}
    return out.rename(columns=columns)
