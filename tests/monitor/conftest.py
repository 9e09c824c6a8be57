"""A small monitoring store with known registrations, built in the test (seeded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.profiles import load_profile
from thbmonitor.store import begin_linkage, end_linkage, open_store

NATIONALITIES = ["NL"] * 6 + ["PL"] * 3 + ["RO", "BG", "NG", "UA", "VN", "ER", "XX", "HU"]
NL = load_profile("nl")
MUNICIPALITIES = ["Amsterdam", "rotterdam ", "Den Haag", "Eindhoven", "Nowhere", None, "Venlo"]


def make_registrations(seed: int = 7, n_persons: int = 900) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Registrations (store columns) and the registration -> person mapping."""
    rng = np.random.default_rng(seed)
    rows = []
    mapping = []
    k = 0
    for p in range(n_persons):
        n_reg = int(rng.choice([1, 1, 1, 2, 2, 3]))
        first_year = int(rng.integers(2014, 2022))
        for _ in range(n_reg):
            year = min(2022, first_year + int(rng.choice([0, 0, 1, 2])))
            day = pd.Timestamp(year=year, month=int(rng.integers(1, 13)), day=1) + pd.Timedelta(
                days=int(rng.integers(0, 28))
            )
            nat = str(rng.choice(NATIONALITIES))
            form_group = str(rng.choice(list(NL.groups), p=[0.2, 0.25, 0.3, 0.15, 0.1]))
            if form_group in ("domestic_sexual", "cross_border_sexual"):
                form_group = "domestic_sexual" if nat == "NL" else "cross_border_sexual"
            age = None if rng.random() < 0.05 else int(rng.integers(12, 60))
            k += 1
            rid = f"R{k:05d}"
            rows.append(
                {
                    "registration_id": rid,
                    "reporting_organisation": str(
                        rng.choice(list(NL.field_codes("reporting_organisation")))
                    ),
                    "registration_date": day.date(),
                    "registration_year": year,
                    "sex": str(rng.choice(["F", "F", "M", "U"])),
                    "nationality": nat,
                    "nationality_primary": nat,
                    "nationality_group": NL.nationality.group_of(nat),
                    "residence_status": str(rng.choice(list(NL.field_codes("residence_status")))),
                    "municipality": rng.choice(np.array(MUNICIPALITIES, dtype=object)),
                    "monitor_group": form_group,
                    "sector": None
                    if rng.random() < 0.1
                    else str(rng.choice(list(NL.field_codes("sector")))),
                    "shelter": None if rng.random() < 0.1 else bool(rng.random() < 0.4),
                    "victim_scheme_applied": None
                    if rng.random() < 0.1
                    else bool(rng.random() < 0.3),
                    "victim_scheme_granted": None
                    if rng.random() < 0.1
                    else bool(rng.random() < 0.2),
                    "care_referral": bool(rng.random() < 0.5),
                    "age_band": NL.age_band(age),
                }
            )
            if rng.random() > 0.03:  # a few registrations were never linked
                mapping.append({"registration_id": rid, "person_id": f"P{p:04d}"})
    return pd.DataFrame(rows), pd.DataFrame(mapping)


def write_store(path: Path, regs: pd.DataFrame, mapping: pd.DataFrame) -> Store:
    store = open_store(str(path), create=True)
    store.register("regs_in", regs)
    cols = ", ".join(regs.columns)
    store.execute(f"INSERT INTO registrations ({cols}) SELECT {cols} FROM regs_in")
    store.unregister("regs_in")
    store.register("map_in", mapping)
    store.execute("INSERT INTO registration_person SELECT registration_id, person_id FROM map_in")
    store.unregister("map_in")
    begin_linkage(store)  # the mapping stands for a finished linkage of this data
    end_linkage(store, police=True)
    return store


@pytest.fixture(scope="session")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Store, pd.DataFrame, pd.DataFrame]]:
    regs, mapping = make_registrations()
    store = write_store(tmp_path_factory.mktemp("monitor") / "store.duckdb", regs, mapping)
    yield store, regs, mapping
    store.close()


WINDOW = (2016, 2020)
HELP = ("shelter", "victim_scheme_applied", "victim_scheme_granted", "care_referral")
REGION = {
    "amsterdam": "Noord-Holland",
    "rotterdam": "Zuid-Holland",
    "den haag": "Zuid-Holland",
    "eindhoven": "Noord-Brabant",
    "venlo": "Limburg",
}  # the test world's municipalities; 'Nowhere' and missing are unknown


def _attributes(regs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "year": regs["registration_year"].astype(str),
            "group": regs["monitor_group"].fillna("other_unknown"),
            "sex": regs["sex"].fillna("U"),
            "age_band": regs["age_band"].fillna("unknown"),
            "nationality_group": regs["nationality_group"].fillna("unknown"),
            "nationality": regs["nationality_primary"].fillna("XX"),
            "residence_status": regs["residence_status"].fillna("Unknown"),
            "reporting_organisation": regs["reporting_organisation"].fillna("Other"),
            "sector": regs["sector"].fillna("Unknown"),
            "region": regs["municipality"].map(
                lambda m: (
                    REGION.get(m.strip().lower(), "unknown") if isinstance(m, str) else "unknown"
                )
            ),
        },
        index=regs.index,
    )
    return out


def _answer(any_yes: pd.Series, any_no: pd.Series) -> pd.Series:
    """'yes' if any registration says yes, else 'no' if any says no, else 'unknown'."""
    out = pd.Series("unknown", index=any_yes.index)
    out[any_no.astype(bool)] = "no"
    out[any_yes.astype(bool)] = "yes"
    return out


def units(regs: pd.DataFrame, mapping: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three counting units, computed with pandas only."""
    r = regs[regs["registration_year"].between(*WINDOW)].copy()
    r = r.merge(mapping, on="registration_id", how="left")
    r["person_id"] = r["person_id"].fillna("unlinked:" + r["registration_id"])
    r = r.sort_values(["registration_date", "registration_id"]).reset_index(drop=True)
    for m in HELP:
        r[f"{m}_yes"] = r[m].eq(True)
        r[f"{m}_no"] = r[m].eq(False)
    out = {}
    for unit, keys in (
        ("registrations", ["registration_id"]),
        ("victims", ["person_id", "registration_year"]),
        ("persons", ["person_id"]),
    ):
        first = r.groupby(keys, sort=False).head(1).reset_index(drop=True)
        attrs = _attributes(first)
        grouped = r.groupby(keys)
        flags = grouped[[f"{m}_{a}" for m in HELP for a in ("yes", "no")]].any()
        n_years = grouped["registration_year"].nunique()
        idx = pd.MultiIndex.from_frame(first[keys]) if len(keys) > 1 else pd.Index(first[keys[0]])
        for m in HELP:
            attrs[m] = _answer(
                flags[f"{m}_yes"].reindex(idx).set_axis(attrs.index),
                flags[f"{m}_no"].reindex(idx).set_axis(attrs.index),
            )
        n = n_years.reindex(idx).set_axis(attrs.index)
        attrs["years_registered"] = n.map(lambda v: "2+" if v >= 2 else str(v))
        out[unit] = attrs
    return out


@pytest.fixture(scope="session")
def expected(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The counting units computed with pandas only (independent of the SQL)."""
    _, regs, mapping = world
    return units(regs, mapping)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(window_first=2016, window_last=2020)
