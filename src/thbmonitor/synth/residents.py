"""The population register (as the Dutch BRP): residents, deaths and emigrations.

Every linkable victim (see ``WorldParams.linkable``) and every background person has one
``resident`` record, from birth for Dutch nationals and from an arrival date otherwise;
registered victims whose latent death or emigration falls before the data end also have that
event. Non-linkable victims are absent, so the follow-up stage can measure coverage. The
register is authoritative: its identifiers carry no noise. Columns follow
``schema.POPULATION_FIELDS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from thbmonitor.schema import POPULATION_FIELDS
from thbmonitor.synth.identity import keep_where
from thbmonitor.synth.params import WorldParams
from thbmonitor.synth.register import arrow_ids

MAX_YEARS_BEFORE_ARRIVAL = 6  # assumed: immigrants arrive up to 6 years before exploitation

SCHEMA = pa.schema(
    [
        ("person", pa.string()),
        *[
            (f.name, pa.date32() if f.kind == "date" else pa.string())
            for f in POPULATION_FIELDS
            if f.name != "event_id"
        ],
    ]
)


def _arrival(
    birth: np.ndarray, before: np.ndarray, dutch: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Resident-from dates: birth for Dutch nationals, else an arrival before ``before``."""
    birth = birth.astype("datetime64[D]")
    back = np.floor(rng.random(len(birth)) * MAX_YEARS_BEFORE_ARRIVAL * 365.25).astype(np.int64)
    arrival = np.maximum(before.astype("datetime64[D]") - back.astype("timedelta64[D]"), birth)
    return np.where(dutch, birth, arrival)


def _table(frame: pd.DataFrame) -> pa.Table:
    cols = {}
    for f in SCHEMA:
        values = frame[f.name].to_numpy()
        if f.type == pa.date32():
            cols[f.name] = pa.array(values.astype("datetime64[D]"), type=pa.date32())
        else:
            cols[f.name] = pa.array(values, type=pa.string(), from_pandas=True)
    return pa.table(cols, schema=SCHEMA)


def victim_records(
    persons: pd.DataFrame,
    ident: pd.DataFrame,
    person_id: np.ndarray,
    params: WorldParams,
    rng: np.random.Generator,
) -> pa.Table:
    """Records of the linkable victims. ``persons`` and ``ident`` are indexed by person number;
    ``person_id`` holds the ids (V...) in the order of ``persons``."""
    keep = persons["linkable"].to_numpy(dtype=bool)
    p = persons[keep]
    ids = ident.loc[p.index]
    first_year = p["victim_years"].astype(str).str[:4].astype(int).to_numpy()
    before = pd.to_datetime(pd.Series(first_year).astype(str) + "-01-01").to_numpy()
    dutch = p["nationality"].astype(str).str.startswith("NL").to_numpy()
    ng = p["nationality_group"].to_numpy()
    has_id = rng.random(len(p)) < np.where(ng == "NL", 1.0, params.police_id_other)
    base = pd.DataFrame(
        {
            "person": person_id[keep],
            "first_names": ids["first_names"].to_numpy(),
            "last_name": ids["last_name"].to_numpy(),
            "date_of_birth": p["birth_date"].to_numpy().astype("datetime64[D]"),
            "identity_number": keep_where(has_id, ids["identity_number"].to_numpy()),
            "sex": p["sex"].to_numpy(),
        }
    )
    resident = base.assign(
        event_date=_arrival(p["birth_date"].to_numpy(), before, dutch, rng),
        event_type="resident",
    )
    exit_date = p["exit_date"].to_numpy().astype("datetime64[D]")
    censor = np.datetime64(params.censor_date, "D")
    ended = ~np.isnat(exit_date) & (exit_date <= censor)
    exits = base[ended].assign(
        event_date=exit_date[ended], event_type=p["exit_reason"].to_numpy()[ended]
    )
    return _table(pd.concat([resident, exits], ignore_index=True))


def background_records(
    people: pd.DataFrame, params: WorldParams, rng: np.random.Generator
) -> pa.Table:
    """One resident record per background person (``people`` from register.background)."""
    if len(people) == 0:
        return SCHEMA.empty_table()
    dutch = (people["country"] == "NL").to_numpy()
    before = np.full(len(people), np.datetime64(params.police_start, "D"))
    has_id = rng.random(len(people)) < np.where(dutch, 1.0, params.police_id_other)
    frame = pd.DataFrame(
        {
            "person": people["person"].to_numpy(),
            "first_names": people["first_names"].to_numpy(),
            "last_name": people["last_name"].to_numpy(),
            "date_of_birth": people["date_of_birth"].to_numpy(),
            "identity_number": keep_where(has_id, people["identity_number"].to_numpy()),
            "sex": people["sex"].to_numpy(),
            "event_date": _arrival(people["date_of_birth"].to_numpy(), before, dutch, rng),
            "event_type": "resident",
        }
    )
    return _table(frame)


def assemble(tables: list[pa.Table], rng: np.random.Generator) -> pa.Table:
    """One register sorted by date (random order within a day), with event ids first."""
    table = pa.concat_tables([t for t in tables if t.num_rows])
    date = pc.cast(table["event_date"], pa.int32()).to_numpy()
    order = np.lexsort((rng.random(table.num_rows), date))
    table = table.take(pa.array(order))
    return table.add_column(0, "event_id", arrow_ids("P", np.arange(1, table.num_rows + 1), 8))
