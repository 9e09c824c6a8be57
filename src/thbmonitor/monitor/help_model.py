"""Does help follow need, residence status, place and age? Adjusted relative risks.

For each help measure, a modified Poisson regression (Zou 2004, Am J Epidemiol 159:702-706):
a Poisson GLM with log link of the person's 0/1 outcome, with robust sandwich (HC0) standard
errors, so that exp(coefficient) is an adjusted relative risk with a valid Wald interval. The
covariates are minor (age band ``minor`` against the other known bands), residence status
(reference: the profile's ``help.reference_residence_status``; nl: Dutch national), big city
(the municipality is one of the profile's ``help.big_cities``, against another or no
municipality, the latter as its own level ``unknown``), sex and the monitor group (reference:
the largest level of each).

One row per person: the monitor's ``persons`` unit (attributes of the first registration in the
window; a help answer is 'yes' if any registration in the window records it), taken from
:func:`thbmonitor.monitor.units.count_cells` as counts per covariate pattern. Persons whose
answer is unknown, or whose age band is unknown, are left out and counted. For the measures of
the residence scheme for victims the profile's ``help.scheme_fixed_statuses`` are left out
(nl: Dutch nationals, who need no permit, and status B8, which is the permit): their answer is
fixed by the status. Any other level whose outcome never occurs is left out too
(its relative risk has no finite estimate) and listed in ``dropped``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from thbmonitor.engine import Store
from thbmonitor.errors import EstimationError
from thbmonitor.monitor.units import count_cells
from thbmonitor.profiles import Profile, default_profile

log = logging.getLogger(__name__)

__all__ = [
    "HELP_MODEL_MEASURES",
    "HelpModel",
    "help_model",
    "help_persons",
    "publishable",
]

HELP_MODEL_MEASURES: tuple[str, ...] = (
    "shelter",
    "victim_scheme_applied",
    "victim_scheme_granted",
    "care_referral",
)
TERMS: tuple[str, ...] = ("minor", "residence_status", "big_city", "sex", "group")
# reference levels (the residence status's is the profile's help.reference_residence_status)
REFERENCE: dict[str, str] = {"minor": "no", "big_city": "no"}
METHOD = "modified Poisson (log-link GLM, HC0 sandwich SE; Zou 2004)"
_COLUMNS = [
    "measure",
    "term",
    "level",
    "reference",
    "rr",
    "lower",
    "upper",
    "p",
    "n",
    "n_reference",
]


def help_persons(
    store: Store,
    window: tuple[int, int],
    source: str | None = None,
    profile: Profile | None = None,
) -> pd.DataFrame:
    """One row per person in the window: model covariates and the help answers.

    Columns: ``minor`` (yes/no/unknown), ``residence_status``, ``big_city`` (yes/no/unknown:
    the profile's ``help.big_cities``), ``sex``, ``group`` and one column per help measure
    (yes/no/unknown).
    """
    profile = profile or default_profile()
    bands = profile.age_bands
    dims = ["age_band", "residence_status", "municipality_key", "sex", "group",
            *HELP_MODEL_MEASURES]  # fmt: skip
    cells = count_cells(store, "persons", dims, window, source=source)
    # in a fixed order: the database returns groups in any order, and the fit's floating
    # point sums follow it (relative risks differed in the 14th digit between two runs on
    # one store, so the report's help_model.csv did, and export --report refused it)
    cells = cells.sort_values(dims, na_position="last", kind="stable", ignore_index=True)
    rows = cells.loc[cells.index.repeat(cells["count"].to_numpy())].reset_index(drop=True)
    band = rows["age_band"].astype(str)
    mun = rows["municipality_key"]
    out = pd.DataFrame(
        {
            "minor": np.where(
                band == bands.minor,
                "yes",
                np.where(band == bands.unknown, "unknown", "no"),
            ),
            "residence_status": rows["residence_status"].astype(str),
            "big_city": np.where(
                mun.isna(), "unknown", np.where(mun.isin(profile.big_cities), "yes", "no")
            ),
            "sex": rows["sex"].astype(str),
            "group": rows["group"].astype(str),
        }
    )
    for m in HELP_MODEL_MEASURES:
        out[m] = rows[m].astype(str)
    return out


@dataclass(frozen=True)
class _Fit:
    params: pd.Series
    cov: pd.DataFrame
    n: int


def _poisson_hc0(y: np.ndarray, x: pd.DataFrame) -> _Fit:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            res = sm.GLM(y, x, family=sm.families.Poisson()).fit(cov_type="HC0")
        except ConvergenceWarning as exc:
            raise EstimationError(
                "the modified Poisson model did not converge; merge small levels."
            ) from exc
    return _Fit(res.params, res.cov_params(), len(y))


@dataclass
class HelpModel:
    """Adjusted relative risks of each help measure (modified Poisson regression).

    ``fit(persons)`` takes the frame of :func:`help_persons`; ``summary`` is tidy: one row per
    measure, term and non-reference level with ``rr``, 95% ``lower``/``upper``, Wald ``p``
    and ``n`` / ``n_reference`` (persons of that level / of the reference level in the fit).
    ``n_fit_``/``n_unknown_`` give per measure the persons fitted and those left out for an
    unknown answer or age band; ``dropped_`` lists (measure, term, level) left out because the
    outcome never occurs there.
    """

    measures: Sequence[str] = HELP_MODEL_MEASURES
    terms: Sequence[str] = TERMS
    alpha: float = 0.05
    # the reference residence status, and the statuses whose answer on the residence scheme
    # for victims is fixed, left out of that scheme's models (the profile's help settings; see
    # tables._structural)
    reference_status: str | None = field(
        default_factory=lambda: default_profile().help_reference_status
    )
    scheme_fixed: Sequence[str] = field(
        default_factory=lambda: default_profile().scheme_fixed_statuses
    )
    summary: pd.DataFrame = field(init=False, repr=False)
    n_fit_: dict[str, int] = field(init=False, default_factory=dict)
    n_unknown_: dict[str, int] = field(init=False, default_factory=dict)
    dropped_: list[tuple[str, str, str]] = field(init=False, default_factory=list)
    fits_: dict[str, _Fit] = field(init=False, default_factory=dict, repr=False)

    def fit(self, persons: pd.DataFrame) -> HelpModel:
        from scipy import stats

        missing = [c for c in (*self.terms, *self.measures) if c not in persons.columns]
        if missing:
            raise EstimationError(f"the persons frame lacks column(s) {', '.join(missing)}.")
        z = float(stats.norm.ppf(1 - self.alpha / 2))
        rows: list[dict[str, object]] = []
        for m in self.measures:
            d = persons[persons[m].isin(["yes", "no"])]
            if "minor" in self.terms:
                d = d[d["minor"] != "unknown"]
            self.n_unknown_[m] = int(len(persons) - len(d))
            if m == "victim_scheme_granted" and "victim_scheme_applied" in persons.columns:
                d = d[d["victim_scheme_applied"] == "yes"]  # granted among applicants
            if m.startswith("victim_scheme") and "residence_status" in self.terms:
                d = d[~d["residence_status"].isin(list(self.scheme_fixed))]
            y = (d[m] == "yes").to_numpy(dtype=float)
            d = self._drop_empty_levels(m, d, y)
            y = (d[m] == "yes").to_numpy(dtype=float)
            if len(d) == 0 or y.sum() == 0:
                log.info("help model: no outcome for %s; not fitted", m)
                continue
            x, refs = self._design(d)
            fit = _poisson_hc0(y, x)
            self.fits_[m] = fit
            self.n_fit_[m] = fit.n
            se = np.sqrt(np.diag(fit.cov.to_numpy()))
            for j, name in enumerate(x.columns):
                if name == "const":
                    continue
                term, level = name.split("=", 1)
                b = float(fit.params.iloc[j])
                rows.append(
                    {
                        "measure": m,
                        "term": term,
                        "level": level,
                        "reference": refs[term],
                        "rr": float(np.exp(b)),
                        "lower": float(np.exp(b - z * se[j])),
                        "upper": float(np.exp(b + z * se[j])),
                        "p": float(2 * stats.norm.sf(abs(b) / se[j])),
                        "n": int((d[term] == level).sum()),
                        "n_reference": int((d[term] == refs[term]).sum()),
                    }
                )
        self.summary = pd.DataFrame(rows, columns=_COLUMNS)
        return self

    def _drop_empty_levels(self, m: str, d: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
        keep = np.ones(len(d), dtype=bool)
        for term in self.terms:
            hits = pd.Series(y).groupby(d[term].to_numpy()).sum()
            for level in hits.index[hits.to_numpy() == 0]:
                self.dropped_.append((m, term, str(level)))
                keep &= d[term].to_numpy() != level
        if not keep.all():
            log.info("help model %s: %d person(s) in levels without outcome", m, (~keep).sum())
        return d[keep]

    def _design(self, d: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
        cols: dict[str, np.ndarray] = {"const": np.ones(len(d))}
        refs: dict[str, str] = {}
        for term in self.terms:
            values = d[term].astype(str)
            counts = values.value_counts()
            ref = self.reference_status if term == "residence_status" else REFERENCE.get(term)
            if ref is None or ref not in counts.index:
                ref = str(sorted(counts.index, key=lambda v: (-counts[v], v))[0])
            refs[term] = ref
            for level in sorted(counts.index):
                if level != ref:
                    cols[f"{term}={level}"] = (values == level).to_numpy(dtype=float)
        return pd.DataFrame(cols, index=d.index), refs


def help_model(
    store: Store,
    window: tuple[int, int],
    measures: Sequence[str] = HELP_MODEL_MEASURES,
    source: str | None = None,
    profile: Profile | None = None,
) -> HelpModel:
    """Fit the help model on the store's persons in ``window`` (the profile's reference
    levels; default: the default profile)."""
    profile = profile or default_profile()
    model = HelpModel(
        measures=measures,
        reference_status=profile.help_reference_status,
        scheme_fixed=profile.scheme_fixed_statuses,
    )
    return model.fit(help_persons(store, window, source, profile))


def publishable(summary: pd.DataFrame, min_n: int = 10) -> pd.DataFrame:
    """The rows that describe no group of fewer than ``min_n`` persons (level or reference)."""
    keep = (summary["n"] >= min_n) & (summary["n_reference"] >= min_n)
    return summary[keep].reset_index(drop=True)
