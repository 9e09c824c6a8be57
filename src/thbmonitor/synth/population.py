"""The population of victims, registered and hidden: one row per victim-year.

Per year: the registered count of every stratum is fixed (composition), the stratum's population
is that count divided by its capture probability (so hidden:registered hits its target), the lists
are drawn with the exact registered count per stratum, and then the person-level attributes are
added. Finally a minority of victim-years is linked to a victim of an earlier year (the same
person exploited again).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd

from thbmonitor.synth import capture, composition
from thbmonitor.synth.params import LISTS, WorldParams

MINOR_AGES = np.array([12, 13, 14, 15, 16, 17])
MINOR_WEIGHTS = np.array([0.04, 0.07, 0.14, 0.22, 0.26, 0.27])
BIG_CITIES = ("Amsterdam", "Rotterdam", "'s-Gravenhage", "Utrecht")
MAIN_FORM = {
    "domestic_sexual": "SexualExploitation",
    "cross_border_sexual": "SexualExploitation",
    "labour": "ForcedLabour",
    "criminal": "CriminalExploitation",
}


def municipalities() -> pd.DataFrame:
    """The municipality list (name, province, population) shipped in ``synth/data``."""
    with resources.files("thbmonitor.synth.data").joinpath("municipalities.csv").open() as f:
        return pd.read_csv(f)


def _choice(rng: np.random.Generator, table: Mapping[str, float], n: int) -> np.ndarray:
    keys = np.array(list(table))
    w = np.array(list(table.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=w / w.sum())]


def _year_block(
    params: WorldParams,
    year: int,
    cells: pd.DataFrame,
    logits: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    shares = composition.year_shares(params, year)
    total = round(params.nrm_registered[year] * params.scale)
    reg = composition.largest_remainder(shares, total)
    off = capture.calibrate(params, year, logits, shares)
    pi, _ = capture.cell_probabilities(logits, off, dict(params.dependence))
    n = np.maximum(reg, np.rint(total * shares / pi).astype(np.int64))
    cell = np.repeat(np.arange(len(cells)), n)
    dep = dict(params.dependence)
    h = capture.draw_exact(logits[cell], cell, reg, off, dep, rng)
    dup = 1 + params.duplicate_report
    h = capture.nudge(
        h,
        logits[cell],
        off,
        dep,
        params.police_share[year],
        params.non_investigating[year] * params.scale / dup,
        rng,
    )
    block = cells.iloc[cell].reset_index(drop=True)
    block.insert(0, "year", year)
    block["cell"] = cell
    block.attrs["offsets"] = off
    hl = h[:, capture.TO_LISTS]
    for j, name in enumerate(LISTS):
        block[name] = hl[:, j]
    registered = np.asarray(hl.any(axis=1), dtype=bool)
    block["registered"] = registered
    _add_countries(params, year, block, rng)
    return block


def _add_countries(
    params: WorldParams, year: int, block: pd.DataFrame, rng: np.random.Generator
) -> None:
    country = np.full(len(block), "NL", dtype=object)
    for ng in ("other_EU", "non_EU"):
        sel = (block["nationality_group"] == ng).to_numpy()
        reg = sel & block["registered"].to_numpy()
        counts = block.loc[reg, "monitor_group"].value_counts().to_dict()
        if not counts:
            counts = block.loc[sel, "monitor_group"].value_counts().to_dict()
        table = composition.country_table(params, year, counts, ng)
        for g in block.loc[sel, "monitor_group"].unique():
            probs = table.loc[g] if g in table.index else table.mean(axis=0)
            cols = np.array(table.columns)
            in_g = sel & (block["monitor_group"] == g).to_numpy()
            idx_reg = np.flatnonzero(in_g & reg)
            alloc = composition.largest_remainder(probs.to_numpy(), len(idx_reg))
            country[rng.permutation(idx_reg)] = np.repeat(cols, alloc)
            idx_hid = np.flatnonzero(in_g & ~reg)
            country[idx_hid] = cols[rng.choice(len(cols), len(idx_hid), p=probs.to_numpy())]
    block["country"] = country


def _ages(band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(band)
    minor = MINOR_AGES[rng.choice(len(MINOR_AGES), n, p=MINOR_WEIGHTS)]
    young = rng.integers(18, 23, n)
    adult = np.minimum(23 + np.floor(rng.exponential(10.0, n)), 65).astype(np.int64)
    return np.where(band == "minor", minor, np.where(band == "18-22", young, adult))


def _attributes(params: WorldParams, df: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(df)
    ng = df["nationality_group"].to_numpy()
    group = df["monitor_group"].to_numpy()
    df["age"] = _ages(df["age_band"].to_numpy(), rng)
    # birth date such that the age on 1 July of the victim-year is `age`
    start = pd.to_datetime((df["year"] - df["age"] - 1).astype(str) + "-07-02").to_numpy()
    df["birth_date"] = (start + rng.integers(0, 365, n).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    status = np.where(ng == "NL", "DutchNational", "EUCitizen").astype(object)
    non_eu = ng == "non_EU"
    status[non_eu] = _choice(rng, params.residence_non_eu, int(non_eu.sum()))
    unknown = (ng != "NL") & (rng.random(n) < params.unknown_status)
    status[unknown] = "Unknown"
    df["residence_status"] = status
    second = _choice(rng, params.second_nationality, n)
    dual = (ng == "NL") & (rng.random(n) < params.dual_nationality)
    df["nationality"] = np.where(dual, "NL;" + second, df["country"].to_numpy())
    df["name_country"] = np.where(dual, second, df["country"].to_numpy())
    mun = municipalities()
    w = mun["population"].to_numpy(float)
    w[mun["municipality"].isin(BIG_CITIES).to_numpy()] *= params.big_city_factor
    df["municipality"] = mun["municipality"].to_numpy()[rng.choice(len(mun), n, p=w / w.sum())]
    sector = np.empty(n, dtype=object)
    forms = np.empty(n, dtype=object)
    for g in np.unique(group):
        sel = group == g
        kind = "sexual" if g.endswith("sexual") else g
        sector[sel] = _choice(rng, params.sector_mix[kind], int(sel.sum()))
        main = MAIN_FORM.get(g)
        forms[sel] = main if main else _choice(rng, params.other_forms, int(sel.sum()))
    second_form = rng.random(n) < params.secondary_form
    extra = np.where(forms == "CriminalExploitation", "SexualExploitation", "CriminalExploitation")
    forms = np.where(second_form & (forms != "Unknown"), forms + ";" + extra, forms)
    df["sector"] = sector
    df["forms_of_exploitation"] = forms


def _help(params: WorldParams, df: pd.DataFrame, rng: np.random.Generator) -> None:
    """Shelter, B8 and care: by residence status, age and municipality (assumed)."""
    n = len(df)
    keys = ("shelter", "victim_scheme_applied", "care_referral")
    table = {s: [params.help_by_status[s][k] for k in keys] for s in params.help_by_status}
    base = np.array([table[s] for s in df["residence_status"]])
    minor = (df["age_band"] == "minor").to_numpy()
    big = df["municipality"].isin(BIG_CITIES).to_numpy()
    shelter = np.minimum(base[:, 0] * np.where(minor, 1.4, 1.0) * np.where(big, 1.2, 0.9), 0.95)
    b8 = base[:, 1] * np.where(minor, 0.8, 1.0) * np.where(big, 1.0, 0.9)
    b8 = np.where(df["residence_status"] == "B8", 1.0, b8)
    care = np.minimum(base[:, 2] + 0.25 * minor + 0.05 * big, 0.95)
    df["shelter"] = rng.random(n) < shelter
    df["victim_scheme_applied"] = rng.random(n) < b8
    granted = (df["residence_status"] == "B8").to_numpy() | (
        rng.random(n) < params.victim_scheme_granted
    )
    df["victim_scheme_granted"] = df["victim_scheme_applied"].to_numpy() & granted
    df["care_referral"] = rng.random(n) < care


def _link_repeats(params: WorldParams, df: pd.DataFrame, rng: np.random.Generator) -> None:
    """Give a share of victim-years the person of an earlier victim-year (same group, sex,
    nationality, and an age that still falls in the victim-year's band)."""
    person = np.arange(len(df))
    years = df["year"].to_numpy()
    keys = ["monitor_group", "sex", "nationality", "name_country"]
    for y in params.years[1:]:
        cur = np.flatnonzero((years == y) & (rng.random(len(df)) < params.repeat_victim_share))
        if len(cur) == 0:
            continue
        earlier = np.flatnonzero((years < y) & (years >= y - params.repeat_max_gap))
        cand = df.iloc[earlier][keys].copy()
        cand["pos"] = earlier
        cand["person"] = person[earlier]
        cand["age_y"] = df["age"].to_numpy()[earlier] + (y - years[earlier])
        cand["band"] = np.where(
            cand["age_y"] < 18, "minor", np.where(cand["age_y"] <= 22, "18-22", "23+")
        )
        cand = cand.iloc[rng.permutation(len(cand))].drop_duplicates("person")
        taken = set(person[years == y])
        cand = cand[~cand["person"].isin(taken)]
        tgt = df.iloc[cur][keys].copy()
        tgt["band"] = df["age_band"].to_numpy()[cur]
        tgt["tpos"] = cur
        on = [*keys, "band"]
        cand["k"] = cand.groupby(on, sort=False).cumcount()
        tgt = tgt.iloc[rng.permutation(len(tgt))]
        tgt["k"] = tgt.groupby(on, sort=False).cumcount()
        m = tgt.merge(cand, on=[*on, "k"], how="inner")
        tpos, src = m["tpos"].to_numpy(), m["pos"].to_numpy()
        person[tpos] = person[src]
        df.loc[df.index[tpos], "age"] = m["age_y"].to_numpy()
        df.loc[df.index[tpos], "birth_date"] = df["birth_date"].to_numpy()[src]
        df.loc[df.index[tpos], "residence_status"] = df["residence_status"].to_numpy()[src]
    df["person"] = person


def build(
    params: WorldParams, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[int, capture.Offsets]]:
    """All victim-years of all years, with lists, attributes and person numbers, and the
    calibrated capture offsets of each year."""
    cells = composition.cells()
    logits = capture.cell_logits(params, cells)
    blocks = [_year_block(params, y, cells, logits, rng) for y in params.years]
    offsets = {y: b.attrs["offsets"] for y, b in zip(params.years, blocks, strict=True)}
    for b in blocks:
        b.attrs.clear()
    df = pd.concat(blocks, ignore_index=True)
    _attributes(params, df, rng)
    _link_repeats(params, df, rng)
    # after linking: a linked victim-year takes its person's residence status
    _help(params, df, rng)
    # registration base date: a day within the victim-year
    start = pd.to_datetime(df["year"].astype(str) + "-01-01").to_numpy().astype("datetime64[D]")
    days = np.where(pd.to_datetime(df["year"].astype(str) + "-12-31").dt.is_leap_year, 366, 365)
    df["base_date"] = start + np.floor(rng.random(len(df)) * days).astype("timedelta64[D]")
    return df, offsets
