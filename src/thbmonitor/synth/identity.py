"""Identifiers of synthetic persons and the noise of their repeat registrations.

Names come from lists per nationality in ``synth/data/names.csv`` (30-300 common names per
country and kind, rebuilt by ``tools/build_names.py``) with transliteration variants in
``variants.csv``. Noise follows synthetic-world.md:
typos in first or last name, swapped names, missing or wrong birth dates, known spelling
variants and occasional aliases. Everything draws from the Generator it is given.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from thbmonitor.synth.params import WorldParams

LETTERS = np.array(list(string.ascii_lowercase))


@dataclass(frozen=True)
class NameLists:
    """Names per (country, kind) with kind F, M or last, and spelling variants per name."""

    names: dict[tuple[str, str], np.ndarray]
    variants: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def name_lists() -> NameLists:
    """The shipped name lists (cached)."""
    data = resources.files("thbmonitor.synth.data")
    with data.joinpath("names.csv").open(encoding="utf-8") as f:
        names = pd.read_csv(f, keep_default_na=False)
    with data.joinpath("variants.csv").open(encoding="utf-8") as f:
        var = pd.read_csv(f, keep_default_na=False)
    table = {
        (str(c), str(k)): g["name"].to_numpy(dtype=object)
        for (c, k), g in names.groupby(["country", "kind"], sort=True)
    }
    variants = {str(n): tuple(g["variant"]) for n, g in var.groupby("name", sort=True)}
    return NameLists(table, variants)


def draw_names(
    country: np.ndarray, sex: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """First and last names for persons of the given name country and sex (U: either)."""
    lists = name_lists()
    n = len(country)
    kind = np.where(sex == "U", np.where(rng.random(n) < 0.5, "F", "M"), sex)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    u_first, u_last = rng.random(n), rng.random(n)
    for c in np.unique(country):
        in_c = country == c
        key = c if (c, "last") in lists.names else "NL"
        pool = lists.names[(key, "last")]
        idx = np.flatnonzero(in_c)
        # a mild Zipf-like skew: common names are more common
        last[idx] = pool[(len(pool) * u_last[idx] ** 1.6).astype(np.int64)]
        for k in ("F", "M"):
            sel = np.flatnonzero(in_c & (kind == k))
            pool = lists.names[(key, k)]
            first[sel] = pool[(len(pool) * u_first[sel] ** 1.6).astype(np.int64)]
    return first, last


def identity_numbers(nat_group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A document number per person: 9 digits for Dutch nationals, else 2 letters + 7 digits."""
    n = len(nat_group)
    digits = rng.integers(100_000_000, 999_999_999, n)
    letters = LETTERS[rng.integers(0, 26, (n, 2))]
    prefix = np.char.upper(np.char.add(letters[:, 0], letters[:, 1]))
    doc = np.char.add(prefix, (digits % 10_000_000).astype(str).astype("U7"))
    return np.where(nat_group == "NL", digits.astype(str), doc).astype(object)


def keep_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (as objects) where ``mask`` holds, None elsewhere."""
    out = np.asarray(values, dtype=object).copy()
    out[~np.asarray(mask, dtype=bool)] = None
    return out


def _typo(name: str, op: int, where: float, letter: str) -> str:
    if len(name) < 2:
        return name + letter
    i = min(int(where * len(name)), len(name) - 1)
    if op == 0:  # substitution
        return name[:i] + letter + name[i + 1 :]
    if op == 1:  # deletion
        return name[:i] + name[i + 1 :]
    if op == 2 and i + 1 < len(name):  # transposition
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + letter + name[i:]  # insertion


def _misspell(names: np.ndarray, p: float, p_variant: float, rng: np.random.Generator) -> None:
    """In place: a typo (or, where one exists, a known variant) with probability ``p``."""
    variants = name_lists().variants
    hit = np.flatnonzero(rng.random(len(names)) < p)
    ops = rng.integers(0, 4, len(hit))
    where = rng.random(len(hit))
    letters = LETTERS[rng.integers(0, 26, len(hit))]
    use_var = rng.random(len(hit)) < p_variant
    pick = rng.random(len(hit))
    for j, i in enumerate(hit):
        name = names[i]
        if not isinstance(name, str):
            continue
        alt = variants.get(name)
        if alt and use_var[j]:
            names[i] = alt[int(pick[j] * len(alt))]
        else:
            names[i] = _typo(name, int(ops[j]), float(where[j]), str(letters[j]))


def noisy_dates(dob: np.ndarray, params: WorldParams, rng: np.random.Generator) -> np.ndarray:
    """Birth dates (datetime64[D]) with missing values and day/month, 1 January or year errors."""
    out = dob.astype("datetime64[D]").copy()
    n = len(out)
    ok = ~np.isnat(out)
    err = ok & (rng.random(n) < params.dob_error)
    if err.any():
        s = pd.DatetimeIndex(out[err])
        y, m, d = s.year.to_numpy(), s.month.to_numpy(), s.day.to_numpy()
        kind = rng.integers(0, 3, len(y))
        swap = (kind == 0) & (d <= 12) & (d != m)
        jan = (kind == 1) | ((kind == 0) & ~swap)
        shift = np.where(rng.random(len(y)) < 0.5, -1, 1)
        ny = np.where(kind == 2, y + shift, y)
        nm = np.where(swap, d, np.where(jan, 1, m))
        nd = np.where(swap, m, np.where(jan, 1, d))
        nd = np.where((nm == 2) & (nd == 29), 28, nd)  # year shift off a leap day
        frame = pd.DataFrame({"year": ny, "month": nm, "day": nd})
        out[err] = pd.to_datetime(frame).to_numpy().astype("datetime64[D]")
    out[rng.random(n) < params.dob_missing] = np.datetime64("NaT")
    return out


def noisy_copies(
    first: np.ndarray,
    last: np.ndarray,
    dob: np.ndarray,
    name_country: np.ndarray,
    sex: np.ndarray,
    params: WorldParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy copies of identifiers (all rows are treated as repeat copies)."""
    first = first.copy()
    last = last.copy()
    n = len(first)
    alias = rng.random(n) < params.alias
    if alias.any():
        af, al = draw_names(name_country[alias], sex[alias], rng)
        first[alias], last[alias] = af, al
    _misspell(first, params.typo_first, params.variant_spelling, rng)
    _misspell(last, params.typo_last, params.variant_spelling, rng)
    swap = rng.random(n) < params.swap_names
    first[swap], last[swap] = last[swap], first[swap].copy()
    return first, last, noisy_dates(dob, params, rng)
