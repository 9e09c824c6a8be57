"""The police register: events of victims (with identifier noise) and of a large background.

Background persons are people who were never victims of trafficking; their events are drawn
uniformly over 2005-2023 (from age 12). The register's columns follow ``schema.POLICE_FIELDS``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from thbmonitor.schema import POLICE_FIELDS, Field
from thbmonitor.synth import followup, identity
from thbmonitor.synth.params import WorldParams

EU = {"PL", "RO", "BG", "HU", "LT", "SK"}


EVENT_SCHEMA = pa.schema(
    [
        ("person", pa.string()),
        ("_row", pa.int64()),  # row of a victim event in the truth list; -1 for background
        *[
            (f.name, pa.date32() if f.kind == "date" else pa.string())
            for f in POLICE_FIELDS
            if f.name != "event_id"
        ],
    ]
)


def arrow_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids such as B0000123 (Arrow strings), computed without Python objects."""
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def _pick(values: list[str], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, type=pa.string()), pa.array(codes))


def background(params: WorldParams, rng: np.random.Generator) -> tuple[pa.Table, pd.DataFrame]:
    """Events of the background population (an EVENT_SCHEMA table) and its persons (person,
    first_names, last_name, date_of_birth, identity_number, sex, country)."""
    n_events = params.background_events
    people_columns = [
        "person",
        "first_names",
        "last_name",
        "date_of_birth",
        "identity_number",
        "sex",
        "country",
    ]
    if n_events == 0:
        return EVENT_SCHEMA.empty_table(), pd.DataFrame(columns=people_columns)
    n_p = max(1, round(n_events / params.background_events_per_person))
    n_p = min(n_p, n_events)
    counts = 1 + rng.multinomial(n_events - n_p, np.full(n_p, 1 / n_p))
    keys = np.array(list(params.background_nationality))
    w = np.array(list(params.background_nationality.values()))
    country = keys[rng.choice(len(keys), n_p, p=w / w.sum())]
    sex = np.where(rng.random(n_p) < params.background_male, "M", "F")
    first, last = identity.draw_names(country, sex, rng)
    lo, hi = np.datetime64("1940-01-01"), np.datetime64("2008-12-31")
    dob = lo + rng.integers(0, int((hi - lo).astype(np.int64)), n_p).astype("timedelta64[D]")
    ng = np.where(country == "NL", "NL", np.where(np.isin(country, list(EU)), "other_EU", "x"))
    idnum = identity.identity_numbers(ng, rng)
    person = np.repeat(np.arange(n_p), counts)
    start = np.maximum(np.datetime64(params.police_start, "D"), dob + np.timedelta64(4383, "D"))
    end = np.datetime64(params.censor_date, "D")
    span = (end - start).astype(np.int64)[person]
    date = start[person] + np.floor(rng.random(n_events) * span).astype("timedelta64[D]")
    suspect = rng.random(n_events) < params.background_suspect_share
    crime = np.where(
        suspect,
        followup.mix_codes(params.suspect_crime_mix, n_events, rng),
        followup.mix_codes(params.victim_crime_mix, n_events, rng),
    )
    has_id = rng.random(n_events) < np.where(
        ng[person] == "NL", params.police_id_nl, params.police_id_other
    )
    take = pa.array(person)
    ids = pc.take(pa.array(idnum, type=pa.string()), take)
    table = pa.table(
        {
            "person": arrow_ids("B", person + 1, 7),
            "_row": pa.array(np.full(n_events, -1, dtype=np.int64)),
            "first_names": pc.take(pa.array(first, type=pa.string()), take),
            "last_name": pc.take(pa.array(last, type=pa.string()), take),
            "date_of_birth": pa.array(dob[person], type=pa.date32()),
            "identity_number": pc.if_else(pa.array(has_id), ids, pa.scalar(None, pa.string())),
            "sex": pc.take(pa.array(sex, type=pa.string()), take),
            "event_date": pa.array(date.astype("datetime64[D]"), type=pa.date32()),
            "role": _pick(["victim", "suspect"], suspect.astype(np.int8)),
            "crime_type": _pick(list(followup.CRIME_ORDER), crime),
        },
        schema=EVENT_SCHEMA,
    )
    people = pd.DataFrame(
        {
            "person": arrow_ids("B", np.arange(1, n_p + 1), 7).to_numpy(zero_copy_only=False),
            "first_names": first,
            "last_name": last,
            "date_of_birth": dob,
            "identity_number": idnum,
            "sex": sex,
            "country": country,
        }
    )
    return table, people


def events_table(ev: pd.DataFrame) -> pa.Table:
    """Victims' events (pandas, with person ids and _row) as an EVENT_SCHEMA table."""
    cols = {}
    for field in EVENT_SCHEMA:
        values = ev[field.name].to_numpy()
        if field.type == pa.date32():
            values = values.astype("datetime64[D]")
            cols[field.name] = pa.array(values, type=pa.date32(), from_pandas=True)
        elif field.type == pa.int64():
            cols[field.name] = pa.array(values.astype(np.int64))
        else:
            cols[field.name] = pa.array(values, type=pa.string(), from_pandas=True)
    return pa.table(cols, schema=EVENT_SCHEMA)


def victim_identifiers(
    ev: pd.DataFrame,
    ident: pd.DataFrame,
    traits: pd.DataFrame,
    linkable: pd.Series,
    params: WorldParams,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Identifier copies on victims' events: noisy when linkable, unrecognisable otherwise.

    ``ev`` has a ``person`` column; ``ident`` and ``traits`` are indexed by person. Events of
    non-linkable persons are absent from the register for a share of them
    (``unlinkable_events_absent``): those rows get ``in_register`` False.
    """
    person = ev["person"].to_numpy()
    link = linkable.loc[person].to_numpy()
    nc = traits.loc[person, "name_country"].to_numpy()
    sex = traits.loc[person, "sex"].to_numpy()
    first, last, dob = identity.noisy_copies(
        ident.loc[person, "first_names"].to_numpy(),
        ident.loc[person, "last_name"].to_numpy(),
        traits.loc[person, "birth_date"].to_numpy().astype("datetime64[D]"),
        nc,
        sex,
        params,
        rng,
    )
    # non-linkable: another name and no usable birth date
    bad = ~link
    if bad.any():
        af, al = identity.draw_names(nc[bad], sex[bad], rng)
        first[bad], last[bad] = af, al
        dob[bad] = np.where(
            rng.random(bad.sum()) < 0.5,
            np.datetime64("NaT"),
            dob[bad] + rng.integers(-3000, 3000, bad.sum()).astype("timedelta64[D]"),
        )
    ng = traits.loc[person, "nationality_group"].to_numpy()
    p_id = np.where(ng == "NL", params.police_id_nl, params.police_id_other) * link
    idnum = identity.keep_where(
        rng.random(len(ev)) < p_id, ident.loc[person, "identity_number"].to_numpy()
    )
    out = ev.assign(
        first_names=first, last_name=last, date_of_birth=dob, identity_number=idnum, sex=sex
    )
    absent_person = pd.Series(
        rng.random(len(linkable)) < params.unlinkable_events_absent, index=linkable.index
    )
    out["in_register"] = ~(bad & absent_person.loc[person].to_numpy())
    return out


def assemble(tables: list[pa.Table], rng: np.random.Generator) -> pa.Table:
    """One register: sorted by date (random order within a day), with event ids first."""
    table = pa.concat_tables([t for t in tables if t.num_rows])
    date = pc.cast(table["event_date"], pa.int32()).to_numpy()
    order = np.lexsort((rng.random(table.num_rows), date))
    table = table.take(pa.array(order))
    ids = arrow_ids("E", np.arange(1, table.num_rows + 1), 8)
    return table.add_column(0, "event_id", ids)


def write_table(table: pa.Table, fields: tuple[Field, ...], path: str | Path) -> None:
    """Write a register with exactly the columns of ``fields``; dates as date32."""
    pq.write_table(table.select([f.name for f in fields]), str(path), compression="zstd")


def write_parquet(table: pa.Table, path: str) -> None:
    """Write the police register with exactly the POLICE_FIELDS columns."""
    write_table(table, POLICE_FIELDS, path)
