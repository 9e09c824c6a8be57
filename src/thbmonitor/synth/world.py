"""Generate the synthetic Netherlands and write it, with its ground truth, to a folder.

Layout written by :func:`generate`::

    DIR/registrations.csv                 the ingest schema (REGISTRATION_FIELDS)
    DIR/police_register.parquet           the police register (POLICE_FIELDS), dates as date32
    DIR/population_register.parquet       residents, deaths, emigrations (POPULATION_FIELDS)
    DIR/population_denominators.csv       residents by year, sex and age band (assumed; see
                                          :mod:`thbmonitor.synth.denominators`)
    DIR/truth/registration_person.csv     registration_id, person_id
    DIR/truth/police_event_person.csv     event_id, person_id (background persons: B...)
    DIR/truth/population_event_person.csv event_id, person_id of the population register
    DIR/truth/persons.csv                 one row per victim, registered or hidden
    DIR/truth/population_by_year.csv      true victims per year and stratum, with n_registered
    DIR/truth/capture_histories.csv       observed list histories per year (MSE format)
    DIR/truth/capture_histories_by_stratum.csv   the same by stratum
    DIR/truth/victim_events.csv           every victim's true police events (event_id empty
                                          when absent from the register: not linkable)
    DIR/truth/calibration.json            derived constants (capture offsets, hazards)
    DIR/truth/params.json                 the parameters used

``persons.csv`` (traits are those of the person's first victim-year):
person_id (V + number); sex; birth_date; nationality (';'-separated); nationality_group;
monitor_group; age_band; n_registrations; registered (0/1); first_registration_date (entry);
victim_years and registered_years (';'-separated); residence_status (at entry, else first
victim-year); police_at_entry (0/1); minor_at_entry (0/1); linkable (0/1: the person's police
events carry linkable identifiers); exit_reason (death / emigration) and exit_date; the latent
first police event after entry per crime type (first_property_date, ..., first_other_date), of
any type (first_victim_date) and as suspect (first_suspect_date). Latent dates ignore the data
end (they may lie after censor_date) but not exit: a first event after exit is empty. Follow-up
fields are empty for hidden victims.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from thbmonitor.schema import POPULATION_FIELDS
from thbmonitor.synth import (
    capture,
    denominators,
    followup,
    population,
    register,
    registrations,
    residents,
)
from thbmonitor.synth.params import CRIME_TYPES, LISTS, WorldParams

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float], None]
STRATUM = ["monitor_group", "sex", "age_band", "nationality_group"]
AGE_12 = np.timedelta64(4383, "D")  # 12 years: no police events before that age


@dataclass(frozen=True)
class WorldSummary:
    """What :func:`generate` wrote, in figures."""

    out: Path
    seed: int
    scale: float
    n_victims: int  # persons in the population, registered or hidden
    n_registered_persons: int
    n_registrations: int
    n_police_events: int
    n_background_persons: int
    n_background_events: int
    registered_by_year: dict[int, int]  # distinct registered persons per year
    total_by_year: dict[int, int]  # true victims per year, registered and hidden
    seconds: float


def _dates(values: np.ndarray) -> pd.Series:
    return pd.Series(values.astype("datetime64[D]")).dt.strftime("%Y-%m-%d")


def person_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids such as V000123 for person numbers (as an object array)."""
    digits = np.asarray(numbers).astype(np.int64).astype(str)
    if len(digits) == 0:
        return np.empty(0, dtype=object)
    return np.char.add(prefix, np.char.zfill(digits, width)).astype(object)


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def generate(
    params: WorldParams, out: Path, progress: ProgressCallback | None = None
) -> WorldSummary:
    """Generate the world described by ``params`` and write it under ``out``."""
    t0 = time.perf_counter()
    params.check()

    def step(label: str, frac: float) -> None:
        log.info("synth: %s", label)
        if progress is not None:
            progress(label, frac)

    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)

    step("population and lists", 0.0)
    py, offsets = population.build(params, rng)
    step("identifiers and registrations", 0.2)
    ident = registrations.persons_identity(py, rng)
    regs = registrations.build(py, ident, params, rng)

    step("persons", 0.35)
    persons = _persons(py, regs, params, rng)

    step("police events of victims", 0.45)
    victim_ev, firsts, exit_years, hazards = _victim_events(persons, ident, params, rng)
    _attach_followup(persons, firsts, exit_years)

    step("background of the police register", 0.6)
    bg, bg_people = register.background(params, rng)
    n_bg_persons = len(bg_people)
    victim_ev["person"] = person_ids(
        "V", persons.index.to_numpy()[victim_ev["person"].to_numpy()] + 1, 6
    )
    step("police register", 0.75)
    victim_ev["_row"] = np.arange(len(victim_ev))
    present = register.events_table(victim_ev[victim_ev["in_register"].to_numpy()])
    table = register.assemble([present, bg], rng)
    del bg, present
    register.write_parquet(table, str(out / "police_register.parquet"))
    rows = table["_row"].to_numpy()
    event_of_row = np.full(len(victim_ev), None, dtype=object)
    event_of_row[rows[rows >= 0]] = (
        table["event_id"].filter(pa.array(rows >= 0)).to_numpy(zero_copy_only=False)
    )
    _write_victim_events(victim_ev, event_of_row, out / "truth" / "victim_events.csv")
    _write_owners(table, out / "truth" / "police_event_person.csv")
    n_events = table.num_rows
    del table

    step("population register", 0.85)
    vid = person_ids("V", persons.index.to_numpy() + 1, 6)
    pop_table = residents.assemble(
        [
            residents.victim_records(persons, ident, vid, params, rng),
            residents.background_records(bg_people, params, rng),
        ],
        rng,
    )
    del bg_people
    register.write_table(pop_table, POPULATION_FIELDS, out / "population_register.parquet")
    _write_owners(pop_table, out / "truth" / "population_event_person.csv")
    del pop_table

    step("registrations and truth", 0.9)
    pid = person_ids("V", regs["_person"].to_numpy() + 1, 6)
    _csv(regs.drop(columns=["_person", "_victim_year", "_date"]), out / "registrations.csv")
    _csv(
        pd.DataFrame({"registration_id": regs["registration_id"], "person_id": pid}),
        out / "truth" / "registration_person.csv",
    )
    _write_truth(py, persons, params, out / "truth")
    _write_calibration(offsets, hazards, out / "truth" / "calibration.json")
    years = [y for y in params.years if y in denominators.POPULATION_TOTALS]
    _csv(
        denominators.population_denominators(years, params.scale),
        out / "population_denominators.csv",
    )
    step("done", 1.0)

    reg_years = py[py["registered"]].groupby("year")["person"].nunique()
    tot_years = py.groupby("year").size()
    return WorldSummary(
        out=out,
        seed=params.seed,
        scale=params.scale,
        n_victims=len(persons),
        n_registered_persons=int(persons["registered"].sum()),
        n_registrations=len(regs),
        n_police_events=n_events,
        n_background_persons=n_bg_persons,
        n_background_events=params.background_events,
        registered_by_year=_int_dict(reg_years),
        total_by_year=_int_dict(tot_years),
        seconds=time.perf_counter() - t0,
    )


def _attach_followup(
    persons: pd.DataFrame, firsts: dict[str, np.ndarray], exit_years: np.ndarray
) -> None:
    """Latent first dates per crime type, of any type, and the exit date, onto ``persons``."""
    for name, first in firsts.items():
        persons[f"first_{name}_date"] = first
    stacked = np.column_stack([firsts[k] for k in CRIME_TYPES])
    never = np.datetime64("2999-12-31")
    any_first = np.where(np.isnat(stacked), never, stacked).min(axis=1)
    persons["first_victim_date"] = np.where(any_first == never, np.datetime64("NaT"), any_first)
    entry = persons["first_registration_date"].to_numpy().astype("datetime64[D]")
    # entry is NaT for hidden victims, so their exit date is NaT too
    persons["exit_date"] = followup.to_date(entry, np.nan_to_num(exit_years, nan=0.0))


def _int_dict(s: pd.Series) -> dict[int, int]:
    return {int(k): int(v) for k, v in zip(s.index.to_numpy(), s.to_numpy(), strict=True)}


def _persons(
    py: pd.DataFrame, regs: pd.DataFrame, params: WorldParams, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per victim (index: person number) with traits and registration facts."""
    first = py.sort_values(["person", "year"], kind="stable").drop_duplicates("person")
    first = first.set_index("person").sort_index()
    p = first[["sex", "birth_date", "nationality", "nationality_group", "name_country"]].copy()
    p[STRATUM[0]] = first["monitor_group"]
    p["age_band"] = first["age_band"]
    p["birth_date"] = p["birth_date"].to_numpy().astype("datetime64[D]")
    g = regs.groupby("_person")
    p["n_registrations"] = g.size().reindex(p.index, fill_value=0)
    p["registered"] = p["n_registrations"] > 0
    p["first_registration_date"] = g["_date"].min().reindex(p.index).to_numpy()
    p["victim_years"] = _year_lists(py).reindex(p.index)
    p["registered_years"] = _year_lists(py[py["registered"]]).reindex(p.index)
    # residence status and police capture at the first registered victim-year (else first)
    firstreg = py[py["registered"]].sort_values(["person", "year"]).drop_duplicates("person")
    firstreg = firstreg.set_index("person")
    status = first["residence_status"].copy()
    status.loc[firstreg.index] = firstreg["residence_status"]
    p["residence_status"] = status
    p["police_at_entry"] = False
    p.loc[firstreg.index, "police_at_entry"] = firstreg["Police"]
    entry = p["first_registration_date"].to_numpy().astype("datetime64[D]")
    birth = p["birth_date"].to_numpy().astype("datetime64[D]")
    age_entry = (entry - birth).astype(np.float64) / followup.YEAR_DAYS
    p["minor_at_entry"] = p["registered"].to_numpy() & (age_entry < 18)
    prob = p["residence_status"].map(dict(params.linkable)).to_numpy(dtype=float)
    p["linkable"] = rng.random(len(p)) < prob
    return p


def _year_lists(py: pd.DataFrame) -> pd.Series:
    """'2013;2016' per person: the years of its victim-years (sorted)."""
    s = py[["person", "year"]].sort_values(["person", "year"], kind="stable")
    multi = s["person"].duplicated(keep=False).to_numpy()
    out = pd.Series(s["year"].astype(str).to_numpy(), index=s["person"].to_numpy())
    single = out[~multi]
    joined = s[multi].groupby("person")["year"].agg(lambda v: ";".join(map(str, v)))
    return pd.concat([single, joined]).sort_index()


def _victim_events(
    persons: pd.DataFrame,
    ident: pd.DataFrame,
    params: WorldParams,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray, followup.Hazards]:
    """Police events of all victims (``person`` = row position in ``persons``), the latent
    first dates, the latent years to exit and the calibrated hazards."""
    n = len(persons)
    reg = persons["registered"].to_numpy()
    ridx = np.flatnonzero(reg)
    entry = persons["first_registration_date"].to_numpy().astype("datetime64[D]")[ridx]
    ng = persons["nationality_group"].to_numpy()[ridx]
    minor = persons["minor_at_entry"].to_numpy()[ridx]
    exit_t, reason = followup.exit_times(ng, params, rng)
    mu = np.array([params.death_rate + params.emigration_rate[g] for g in ng])
    hz = followup.calibrate(params, minor, mu)
    hr = np.where(minor, hz.minor_multiplier, 1.0)
    log.info("follow-up hazards: theta=%.3f rho=%.3f", hz.theta, hz.rho)
    after, first_reg = followup.after_entry(entry, hr, exit_t, hz, params, rng)
    after["idx"] = ridx[after["idx"].to_numpy()]
    firsts = {}
    for name, val in first_reg.items():
        full = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        full[ridx] = val
        firsts[name] = full
    exit_years = np.full(n, np.nan)
    exit_years[ridx] = exit_t
    reasons = np.full(n, None, dtype=object)
    reasons[ridx] = reason
    persons["exit_reason"] = reasons
    start_all = np.maximum(
        np.datetime64(params.police_start, "D"),
        persons["birth_date"].to_numpy().astype("datetime64[D]") + AGE_12,
    )
    # before entry: ordinary events, and the index case (trafficking victim) near entry
    prior = followup.window_events(start_all[ridx], entry, params.prior_event_rate, params, rng)
    prior["idx"] = ridx[prior["idx"].to_numpy()]
    p_index = np.where(
        persons["police_at_entry"].to_numpy()[ridx],
        params.index_event_police,
        params.index_event_other,
    )
    has_index = rng.random(len(ridx)) < p_index
    lag = rng.integers(0, 61, has_index.sum()).astype("timedelta64[D]")
    index = pd.DataFrame(
        {
            "idx": ridx[has_index],
            "date": entry[has_index] - lag,
            "role": "victim",
            "crime_type": "trafficking",
        }
    )
    # hidden victims: ordinary events over the whole register period
    hidx = np.flatnonzero(~reg)
    end = np.full(len(hidx), np.datetime64(params.censor_date, "D"))
    hidden = followup.window_events(start_all[hidx], end, params.hidden_event_rate, params, rng)
    hidden["idx"] = hidx[hidden["idx"].to_numpy()]
    ev = pd.concat([prior, index, after, hidden], ignore_index=True)
    ev = ev.rename(columns={"idx": "person", "date": "event_date"})
    ids = ident.loc[persons.index].reset_index(drop=True)
    traits = persons.reset_index(drop=True)
    events = register.victim_identifiers(ev, ids, traits, traits["linkable"], params, rng)
    return events, firsts, exit_years, hz


def _write_owners(table: pa.Table, path: Path) -> None:
    """event_id,person_id of a register table (Arrow CSV writer, no quotes)."""
    owners = table.select(["event_id", "person"])
    with open(path, "wb") as f:
        f.write(b"event_id,person_id\n")
        pacsv.write_csv(owners, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))


def _write_victim_events(ev: pd.DataFrame, event_id: np.ndarray, path: Path) -> None:
    """Every victim's true police events, also those absent from the register."""
    t = pd.DataFrame(
        {
            "person_id": ev["person"].to_numpy(),
            "event_date": _dates(ev["event_date"].to_numpy()).to_numpy(),
            "role": ev["role"].to_numpy(),
            "crime_type": ev["crime_type"].to_numpy(),
            "event_id": event_id,
        }
    )
    order = np.lexsort((t["event_date"].to_numpy(), t["person_id"].to_numpy()))
    _csv(t.take(order), path)


def _write_calibration(
    offsets: dict[int, capture.Offsets], hz: followup.Hazards, path: Path
) -> None:
    """The calibrated (derived, not assumed) model constants, for reference."""
    data = {
        "capture_offsets": {
            str(y): {"alpha": o.alpha, "police": o.police, "non_investigating": o.non_investigating}
            for y, o in offsets.items()
        },
        "followup_hazards": {
            "theta": hz.theta,
            "rho": hz.rho,
            "scale": hz.scale,
            "suspect_scale": hz.suspect_scale,
            "minor_multiplier": hz.minor_multiplier,
            "model": "cumulative intensity Z * h * c_k * t**rho, Z ~ Gamma(mean 1, var theta), "
            "t in years since first registration, h = minor_multiplier for minors (victim "
            "events only), chosen so that the frailty-averaged hazard ratio of minors at 5 years "
            "is minor_hazard_ratio",
        },
    }
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_truth(
    py: pd.DataFrame, persons: pd.DataFrame, params: WorldParams, folder: Path
) -> None:
    p = persons.copy()
    p.insert(0, "person_id", person_ids("V", p.index.to_numpy() + 1, 6))
    date_cols = [c for c in p.columns if c.endswith("_date")]
    for c in date_cols:
        p[c] = _dates(p[c].to_numpy()).to_numpy()
    for c in ("registered", "linkable", "minor_at_entry", "police_at_entry"):
        p[c] = p[c].astype("int8")
    _csv(p.drop(columns=["name_country"]), folder / "persons.csv")
    pop = (
        py.groupby(["year", *STRATUM], sort=True)
        .agg(n_total=("registered", "size"), n_registered=("registered", "sum"))
        .reset_index()
    )
    _csv(pop, folder / "population_by_year.csv")
    reg = py[py["registered"]].copy()
    for c in LISTS:
        reg[c] = reg[c].astype("int8")
    ch = reg.groupby([*LISTS, "year"], sort=True).size().rename("count").reset_index()
    _csv(ch, folder / "capture_histories.csv")
    chs = reg.groupby([*LISTS, "year", *STRATUM], sort=True).size().rename("count").reset_index()
    _csv(chs, folder / "capture_histories_by_stratum.csv")
    (folder / "params.json").write_text(params.to_json() + "\n", encoding="utf-8")
