"""Registrations (reports) of the registered victims, in the ingest schema.

One registration per list that captured a victim in a year (sometimes two: a list reporting the
same person twice). A person's first registration carries the true identifiers; every later one
is a noisy copy. Columns and codes follow ``schema.REGISTRATION_FIELDS`` exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thbmonitor.pseudonymise import ages_at
from thbmonitor.schema import CONSENT_NOT_REQUIRED, REGISTRATION_FIELDS
from thbmonitor.synth import identity
from thbmonitor.synth.params import LISTS, WorldParams

ESTIMATED_STATUSES = ("NoLegalStatus", "AsylumSeeker", "Unknown")


def persons_identity(py: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per person (from its first victim-year): true identifiers and fixed traits."""
    first = py.sort_values(["person", "year"], kind="stable").drop_duplicates("person")
    first = first.set_index("person")
    fn, ln = identity.draw_names(first["name_country"].to_numpy(), first["sex"].to_numpy(), rng)
    ident = pd.DataFrame(index=first.index)
    ident["first_names"] = fn
    ident["last_name"] = ln
    ident["identity_number"] = identity.identity_numbers(first["nationality_group"].to_numpy(), rng)
    ident["dob_estimated"] = (
        (first["age_band"] == "minor")
        & (first["nationality_group"] == "non_EU")
        & first["residence_status"].isin(ESTIMATED_STATUSES)
    ).to_numpy()
    return ident


def _bool_col(values: np.ndarray, rng: np.random.Generator, missing: float) -> pd.Series:
    out = pd.Series(values.astype("int8"), dtype="Int8")
    out[rng.random(len(values)) < missing] = pd.NA
    return out


def build(
    py: pd.DataFrame, ident: pd.DataFrame, params: WorldParams, rng: np.random.Generator
) -> pd.DataFrame:
    """All registrations, with a hidden ``person`` and ``victim_year`` column for the truth."""
    reg = py[py["registered"]]
    hist = reg[list(LISTS)].to_numpy()
    rows, lst = np.nonzero(hist)
    dup = rng.random(len(rows)) < params.duplicate_report
    rows = np.concatenate([rows, rows[dup]])
    lst = np.concatenate([lst, lst[dup]])
    src = reg.iloc[rows].reset_index(drop=True)
    n = len(src)
    year = src["year"].to_numpy()
    jitter = np.rint(rng.normal(0.0, 30.0, n)).astype("timedelta64[D]")
    lo = pd.to_datetime(pd.Series(year).astype(str) + "-01-01").to_numpy().astype("datetime64[D]")
    hi = pd.to_datetime(pd.Series(year).astype(str) + "-12-31").to_numpy().astype("datetime64[D]")
    base = src["base_date"].to_numpy().astype("datetime64[D]")
    date = base + jitter
    date = np.where((date < lo) | (date > hi), base, date)  # stay within the victim-year
    out = pd.DataFrame(
        {
            "person": src["person"].to_numpy(),
            "victim_year": year,
            "reporting_organisation": np.array(LISTS)[lst],
            "registration_date": date,
        }
    )
    out["_key"] = rng.random(n)
    out = out.join(src.drop(columns=["person"]).add_prefix("py_"))
    out = out.sort_values(["registration_date", "_key"], kind="stable").reset_index(drop=True)
    n = len(out)
    out["registration_id"] = [f"R{i:07d}" for i in range(1, n + 1)]
    person = out["person"].to_numpy()
    # the first registration of each person is clean; later ones are noisy copies
    first_copy = ~pd.Series(person).duplicated().to_numpy()
    idn = ident.loc[person]
    fn = idn["first_names"].to_numpy().copy()
    ln = idn["last_name"].to_numpy().copy()
    dob = out["py_birth_date"].to_numpy().astype("datetime64[D]")
    rep = ~first_copy
    nf, nl, nd = identity.noisy_copies(
        fn[rep],
        ln[rep],
        dob[rep],
        out["py_name_country"].to_numpy()[rep],
        out["py_sex"].to_numpy()[rep],
        params,
        rng,
    )
    fn[rep], ln[rep], dob[rep] = nf, nl, nd
    est = idn["dob_estimated"].to_numpy()
    if est.any():
        years = dob[est].astype("datetime64[Y]").astype(np.int64) + 1970
        years = years + rng.choice([-1, 0, 0, 1], est.sum())
        guess = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        dob[est] = np.where(np.isnat(dob[est]), dob[est], guess)
    ng = out["py_nationality_group"].to_numpy()
    p_id = np.array([params.id_number.get(g, 0.3) for g in ng])
    id_num = identity.keep_where(rng.random(n) < p_id, idn["identity_number"].to_numpy())
    nat = out["py_nationality"].to_numpy().astype(object)
    nat[rep & (ng != "NL") & (rng.random(n) < params.unknown_nationality)] = "XX"
    mun = out["py_municipality"].to_numpy().astype(object)
    mun[rng.random(n) < params.missing_municipality] = None
    sector = out["py_sector"].to_numpy().astype(object)
    sector[rng.random(n) < params.missing_sector] = None
    consent = np.where(rng.random(n) < params.consent, 1, 0)
    res = pd.DataFrame(
        {
            "registration_id": out["registration_id"],
            "reporting_organisation": out["reporting_organisation"],
            "registration_date": pd.to_datetime(out["registration_date"]).dt.strftime("%Y-%m-%d"),
            "first_names": fn,
            "last_name": ln,
            "date_of_birth": pd.Series(dob).dt.strftime("%Y-%m-%d"),
            "date_of_birth_estimated": _bool_col(est, rng, 0.0),
            "identity_number": id_num,
            "sex": out["py_sex"],
            "nationality": nat,
            "residence_status": out["py_residence_status"],
            "municipality": mun,
            "forms_of_exploitation": out["py_forms_of_exploitation"],
            "sector": sector,
            "age_at_exploitation": out["py_age"].astype("Int64"),
            "shelter": _bool_col(out["py_shelter"].to_numpy(), rng, params.missing_help),
            "victim_scheme_applied": _bool_col(
                out["py_victim_scheme_applied"].to_numpy(), rng, params.missing_help
            ),
            "victim_scheme_granted": _bool_col(
                out["py_victim_scheme_granted"].to_numpy(), rng, params.missing_help
            ),
            "care_referral": _bool_col(
                out["py_care_referral"].to_numpy(), rng, params.missing_help
            ),
            "consent": _bool_col(consent, rng, params.missing_consent),
        }
    )
    # a reporter that needs the victim's consent registers only with it (the registry refuses
    # the rest); the random draws above are unchanged, so is every other column
    needs = ~res["reporting_organisation"].isin(CONSENT_NOT_REQUIRED).to_numpy()
    res.loc[needs, "consent"] = 1
    # exploitation starts before the registration: the age given for it is at most the age at
    # registration that the registered birth date gives (ingest refuses it otherwise)
    registered_age = ages_at(res["date_of_birth"].fillna(""), res["registration_date"])
    res["age_at_exploitation"] = res["age_at_exploitation"].where(
        ~(res["age_at_exploitation"] > registered_age).fillna(False), registered_age
    )
    assert list(res.columns) == [f.name for f in REGISTRATION_FIELDS]
    res["_person"] = person
    res["_victim_year"] = out["victim_year"].to_numpy()
    res["_date"] = out["registration_date"].to_numpy()
    return res
