"""The help model: modified Poisson regression (Zou 2004) recovers the synthetic world's truth.

Truth (src/thbmonitor/synth/population.py ``_help``): shelter probability = base(status) x 1.4
if minor x (1.2 in a big city, else 0.9), capped at 0.95; B8 applied = base x 0.8 if minor x
(1.0 big city, else 0.9), 1.0 for status B8. So where no cap binds, the relative risks are
exactly log-linear: minor 1.4 and big city 1.2/0.9 for shelter, minor 0.8 and big city
1.0/0.9 for B8 applied, and 1 for sex and group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.monitor.help_model import HelpModel, help_persons, publishable
from thbmonitor.profiles import load_profile
from thbmonitor.synth import WorldParams, population

from .conftest import WINDOW

SHELTER_CAP, SHELTER_MAX_FACTOR = 0.95, 1.4 * 1.2


@pytest.fixture(scope="module")
def victims() -> tuple[WorldParams, pd.DataFrame]:
    """Every victim-year of a scale-1 world (about 64,000; 0.6 s) as a persons frame.

    The world's help is drawn per victim-year, without missing answers; 10% of the answers are
    made unknown here (at random, as the registrations' empty fields) to exercise that path.
    """
    params = WorldParams(seed=3, scale=1.0)
    rng = np.random.default_rng(3)
    py, _ = population.build(params, rng)
    mun = py["municipality"].str.strip().str.lower()
    frame = pd.DataFrame(
        {
            "minor": np.where(py["age_band"] == "minor", "yes", "no"),
            "residence_status": py["residence_status"].astype(str),
            "big_city": np.where(mun.isin(load_profile("nl").big_cities), "yes", "no"),
            "sex": py["sex"].astype(str),
            "group": py["monitor_group"].astype(str),
        }
    )
    for m in ("shelter", "victim_scheme_applied", "victim_scheme_granted", "care_referral"):
        answer = np.where(py[m].to_numpy(), "yes", "no").astype(object)
        answer[rng.random(len(py)) < 0.10] = "unknown"
        frame[m] = answer
    return params, frame


def _row(summary: pd.DataFrame, measure: str, term: str, level: str) -> pd.Series:
    hit = summary[(summary["measure"] == measure) & (summary["term"] == term)
                  & (summary["level"] == level)]  # fmt: skip
    assert len(hit) == 1
    return hit.iloc[0]


def _covers(row: pd.Series, truth: float) -> None:
    assert row["lower"] < truth < row["upper"], (row["lower"], truth, row["upper"])
    # the interval is tight enough for the check to mean something
    assert row["upper"] / row["lower"] < 1.2


def test_shelter_recovers_minor_and_big_city(victims: tuple[WorldParams, pd.DataFrame]) -> None:
    """Shelter, fitted on the statuses whose probabilities never reach the 0.95 cap
    (base x 1.4 x 1.2 <= 0.95; status B8 with base 0.60 is capped when minor in a big city):
    there the model is exactly log-linear. Truth (population._help): minor RR 1.4, big city
    RR 1.2 / 0.9 = 1.333, sex and group RR 1."""
    params, frame = victims
    uncapped = [s for s, v in params.help_by_status.items()
                if v["shelter"] * SHELTER_MAX_FACTOR <= SHELTER_CAP]  # fmt: skip
    assert "B8" not in uncapped and "DutchNational" in uncapped
    model = HelpModel(measures=["shelter"]).fit(frame[frame["residence_status"].isin(uncapped)])
    s = model.summary
    _covers(_row(s, "shelter", "minor", "yes"), 1.4)
    _covers(_row(s, "shelter", "big_city", "yes"), 1.2 / 0.9)
    _covers(_row(s, "shelter", "sex", "M"), 1.0)
    # the status effect against Dutch nationals is the ratio of the bases
    base = params.help_by_status
    ratio = base["AsylumSeeker"]["shelter"] / base["DutchNational"]["shelter"]
    _covers(_row(s, "shelter", "residence_status", "AsylumSeeker"), ratio)


def test_victim_scheme_applied_recovers_minor_and_big_city(
    victims: tuple[WorldParams, pd.DataFrame],
) -> None:
    """B8 applied: Dutch nationals (base 0) and status B8 (always 1) are left out by the model
    itself. Truth (population._help): minor RR 0.8, big city RR 1.0 / 0.9 = 1.111."""
    _, frame = victims
    model = HelpModel(measures=["victim_scheme_applied"]).fit(frame)
    s = model.summary
    assert not s["level"].isin(["B8", "DutchNational"]).any()
    assert set(s["reference"][s["term"] == "residence_status"]) == {"EUCitizen"}  # the largest
    _covers(_row(s, "victim_scheme_applied", "minor", "yes"), 0.8)
    _covers(_row(s, "victim_scheme_applied", "big_city", "yes"), 1.0 / 0.9)
    unknown = int((frame["victim_scheme_applied"] == "unknown").sum())
    assert model.n_unknown_["victim_scheme_applied"] == unknown
    kept = frame[(frame["victim_scheme_applied"] != "unknown")
                 & ~frame["residence_status"].isin(["B8", "DutchNational"])]  # fmt: skip
    assert model.n_fit_["victim_scheme_applied"] == len(kept)


def test_robust_se_equals_gee_and_hand_sandwich(
    victims: tuple[WorldParams, pd.DataFrame],
) -> None:
    """Zou (2004) robust variance: with one person per cluster, GEE with an independence
    working correlation (Liang & Zeger 1986; statsmodels ``GEE(..., Independence())``, robust
    covariance) gives the same point estimates and sandwich as the GLM's HC0; and by hand,
    V = (X'WX)^-1 X' diag((y - mu)^2) X (X'WX)^-1 with W = diag(mu) for the log-link Poisson."""
    _, frame = victims
    sample = frame.iloc[:8000]
    model = HelpModel(measures=["care_referral"]).fit(sample)
    fit = model.fits_["care_referral"]
    d = sample[sample["care_referral"] != "unknown"]
    x, _ = model._design(d)
    assert list(x.columns) == list(fit.params.index)
    y = (d["care_referral"] == "yes").to_numpy(dtype=float)
    gee = sm.GEE(y, x, groups=np.arange(len(y)), family=sm.families.Poisson(),
                 cov_struct=sm.cov_struct.Independence()).fit()  # fmt: skip
    np.testing.assert_allclose(gee.params.to_numpy(), fit.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(gee.cov_robust, fit.cov.to_numpy(), rtol=1e-5, atol=1e-12)
    xm = x.to_numpy()
    mu = np.exp(xm @ fit.params.to_numpy())
    bread = np.linalg.inv(xm.T @ (xm * mu[:, None]))
    meat = xm.T @ (xm * ((y - mu) ** 2)[:, None])
    np.testing.assert_allclose(bread @ meat @ bread, fit.cov.to_numpy(), rtol=1e-6, atol=1e-12)
    row = _row(model.summary, "care_referral", "minor", "yes")
    j = list(x.columns).index("minor=yes")
    b, se = fit.params.iloc[j], np.sqrt(fit.cov.iloc[j, j])
    assert row["rr"] == pytest.approx(np.exp(b))
    assert row["lower"] == pytest.approx(np.exp(b - 1.959963984540054 * se))
    assert row["n"] == int((d["minor"] == "yes").sum())


def test_levels_without_outcome_are_left_out() -> None:
    """A level in which the outcome never occurs has no finite RR: it is left out, listed."""
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            "minor": rng.choice(["yes", "no"], n),
            "residence_status": rng.choice(["DutchNational", "EUCitizen", "AsylumSeeker"], n),
            "big_city": rng.choice(["yes", "no", "unknown"], n),
            "sex": rng.choice(["F", "M"], n),
            "group": rng.choice(["labour", "criminal"], n),
        }
    )
    frame["shelter"] = np.where(rng.random(n) < 0.4, "yes", "no")
    frame.loc[frame["residence_status"] == "AsylumSeeker", "shelter"] = "no"
    model = HelpModel(measures=["shelter"]).fit(frame)
    assert ("shelter", "residence_status", "AsylumSeeker") in model.dropped_
    assert model.n_fit_["shelter"] == int((frame["residence_status"] != "AsylumSeeker").sum())
    assert "AsylumSeeker" not in set(model.summary["level"])
    small = publishable(model.summary.assign(n=np.arange(len(model.summary)) + 5))
    assert (small["n"] >= 10).all() and len(small) == len(model.summary) - 5
    tiny_reference = model.summary.assign(n_reference=9)
    assert publishable(tiny_reference).empty


def test_help_persons_is_the_persons_unit(
    world: tuple[Store, pd.DataFrame, pd.DataFrame],
    expected: dict[str, pd.DataFrame],
) -> None:
    """One row per person of the monitor's persons unit (pandas recomputation in conftest),
    with the minor flag from the age band and big city from the first registration's
    municipality ('Amsterdam', 'rotterdam ', 'Den Haag' are big; missing is unknown)."""
    store, regs, mapping = world
    persons = help_persons(store, WINDOW)
    want = expected["persons"]
    assert len(persons) == len(want)
    for m in ("shelter", "victim_scheme_applied", "victim_scheme_granted", "care_referral"):
        assert persons[m].value_counts().to_dict() == want[m].value_counts().to_dict()
    minors = int((want["age_band"] == "minor").sum())
    assert int((persons["minor"] == "yes").sum()) == minors
    r = regs[regs["registration_year"].between(*WINDOW)].merge(mapping, on="registration_id",
                                                                 how="left")  # fmt: skip
    r["person_id"] = r["person_id"].fillna("unlinked:" + r["registration_id"])
    first = r.sort_values(["registration_date", "registration_id"]).groupby("person_id").head(1)
    mun = first["municipality"].str.strip().str.lower()
    assert int((persons["big_city"] == "yes").sum()) == int(
        mun.isin(["amsterdam", "rotterdam", "den haag"]).sum()
    )
    assert int((persons["big_city"] == "unknown").sum()) == int(first["municipality"].isna().sum())


def test_published_rows_and_table(world: tuple[Store, pd.DataFrame, pd.DataFrame]) -> None:
    """The chapter's table and results.json rows: only levels and references of at least the
    threshold's persons, the interval around the RR, and no person counts."""
    from thbmonitor.monitor.chapters import _help_model_rows, _help_model_table
    from thbmonitor.monitor.results import help_model_results

    store, _, _ = world
    settings = Settings(window_first=WINDOW[0], window_last=WINDOW[1])
    full = HelpModel().fit(help_persons(store, WINDOW)).summary
    rows = _help_model_rows(store, settings, 10)
    assert 0 < len(rows) <= len(full)
    assert (rows["n"] >= 10).all() and (rows["n_reference"] >= 10).all()
    entries = help_model_results(rows, "m")
    assert len(entries) == len(rows)
    for e in entries:
        assert set(e) == {"measure", "term", "level", "reference", "rr", "lower", "upper", "p",
                          "method"}  # fmt: skip
        assert e["lower"] < e["rr"] < e["upper"] and 0 <= e["p"] <= 1
    table = _help_model_table(rows, "nl", 10, load_profile("nl"))
    assert table.key == "help_model" and not table.legend and len(table.frame) == len(rows)
    assert "10 personen" in (table.note.nl if table.note else "")


def test_the_fit_does_not_follow_the_databases_order(
    world: tuple[Store, pd.DataFrame, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database returns the persons' cells in any order (a parallel GROUP BY), and the
    fit's floating point sums follow the row order: two runs of the report on one store gave
    relative risks differing in the 14th digit (9.108044005855447 and 9.108044005855508 in
    help_model.csv of a demo at scale 0.05), so ``export --report`` found the report changed.
    Cells in reverse or shuffled order now give the same summary to the last digit."""
    from thbmonitor.monitor import help_model as hm

    store, _, _ = world
    original = hm.count_cells
    summaries = []
    for order in ("as_returned", "reversed", "shuffled"):

        def reordered(*args: object, _order: str = order, **kwargs: object) -> pd.DataFrame:
            cells = original(*args, **kwargs)  # type: ignore[arg-type]
            if _order == "reversed":
                return cells.iloc[::-1].reset_index(drop=True)
            if _order == "shuffled":
                return cells.sample(frac=1.0, random_state=5).reset_index(drop=True)
            return cells

        monkeypatch.setattr(hm, "count_cells", reordered)
        summaries.append(HelpModel().fit(help_persons(store, WINDOW)).summary)
    assert len(summaries[0]) > 10
    for other in summaries[1:]:
        pd.testing.assert_frame_equal(summaries[0], other, check_exact=True)
