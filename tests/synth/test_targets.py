"""Every target of shared/reference/synthetic-world.md, checked from the files the world wrote.

Published values are quoted from shared/reference/nl_published_figures.yaml with their source.
Shares are of distinct registered persons in a year. Tolerances: 2 percentage points for the
published shares (the brief), and three binomial standard errors for the follow-up rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thbmonitor.profiles import load_profile

from .conftest import World

# NRM monitor series of registered presumed victims (persons); 2013 and 2015 recalled.
# Sources: NRM news 2014-12-01 (2012), NRM news 2019-10-18 (2014, 2018), DutchNews 2017-10
# (2016), NRM news 2018-10-18 (2017), NLTimes 2021-12-07 (2019), NRM news 2022-01-06 (2020),
# NRM 2022-10-18 (2021).
NRM = {
    2012: 1711,
    2013: 1437,
    2014: 1255,
    2015: 1321,
    2016: 952,
    2017: 958,
    2018: 668,
    2019: 1334,
    2020: 984,
    2021: 791,
}
PP = 0.02
YEAR = 365.25


@pytest.fixture(scope="module")
def person_years(world: World) -> pd.DataFrame:
    """One row per registered person and year, with the attributes of its first registration
    in that year, all derived from registrations.csv (the truth only supplies person_id)."""
    r = world.registrations().sort_values(["person_id", "year", "registration_date"])
    py = r.drop_duplicates(["person_id", "year"]).copy()
    forms = py["forms_of_exploitation"].str.split(";")
    nats = py["nationality"].str.split(";")
    nl = load_profile("nl")
    py["group"] = [nl.monitor_group(f, n) for f, n in zip(forms, nats, strict=True)]
    age = py["age_at_exploitation"].astype(int)
    py["band"] = np.where(age < 18, "minor", np.where(age <= 22, "18-22", "23+"))
    return py


def _share(py: pd.DataFrame, years: list[int], column: str, values: list[str]) -> float:
    sel = py[py["year"].isin(years)]
    return float(sel[column].isin(values).mean())


def test_registered_persons_per_year_equal_the_nrm_series_exactly(world: World) -> None:
    """Distinct persons with a registration in the year = NRM series (sources above)."""
    r = world.registrations()
    assert r["person_id"].notna().all()
    got = r.groupby("year")["person_id"].nunique().to_dict()
    assert got == NRM
    pop = world.csv("truth/population_by_year.csv")
    assert pop.groupby("year")["n_registered"].sum().to_dict() == NRM
    assert world.summary.registered_by_year == NRM


@pytest.mark.parametrize(
    ("years", "groups", "published", "source"),
    [
        ([2017], ["domestic_sexual", "cross_border_sexual"], 0.58, "EC NL page: 58% sexual"),
        ([2017], ["labour", "criminal"], 0.217, "EC NL page: 21.7% outside the sex industry"),
        ([2017], ["domestic_sexual"], 263 / 958, "NRM 2018-10-18: 263 Dutch sexual victims"),
        ([2018], ["domestic_sexual"], 132 / 668, "nu.nl 2019-10: 132 domestic sexual"),
        ([2019], ["labour"], 0.17, "nieuws.nl 2021-12-07 (recalled): labour 17%"),
        ([2019], ["cross_border_sexual", "criminal"], 668 / 1334, "NLTimes 2021-12-07: 668"),
        ([2020], ["labour"], 0.43, "nieuws.nl 2021-12-07 (recalled): labour 43%"),
        ([2020], ["domestic_sexual"], 0.11, "NLTimes 2021-12-07: domestic sexual 11%"),
        ([2020], ["cross_border_sexual", "criminal"], 289 / 984, "NLTimes 2021-12-07: 289"),
    ],
)
def test_forms_of_exploitation_match_published_shares(
    person_years: pd.DataFrame, years: list[int], groups: list[str], published: float, source: str
) -> None:
    """Monitor groups derived from registrations.csv with the nl profile's groups (see params)."""
    assert _share(person_years, years, "group", groups) == pytest.approx(published, abs=PP), source


def test_domestic_sexual_minors_2018(person_years: pd.DataFrame) -> None:
    """nu.nl 2019-10 on Victims Monitor 2014-2018: 132 domestic sexual victims, 29 minors."""
    sel = person_years[
        (person_years["year"] == 2018) & (person_years["group"] == "domestic_sexual")
    ]
    assert len(sel) == 132
    assert (sel["band"] == "minor").sum() == pytest.approx(29, abs=2)


@pytest.mark.parametrize(
    ("years", "column", "values", "published", "source"),
    [
        ([2017], "sex", ["F"], 0.72, "EC NL page citing Victims Monitor 2013-2017: 72% female"),
        (list(range(2016, 2021)), "sex", ["F"], 0.76, "newsendip on Monitor 2016-2020: 76%"),
        ([2016], "band", ["minor"], 227 / 952, "NJI: 227 minors (24%) in 2016"),
        ([2020], "band", ["minor"], 152 / 984, "NJI: 152 minors in 2020"),
        ([2017], "band", ["minor", "18-22"], 0.459, "EC NL page: 45.9% under 23 in 2017"),
        (list(range(2016, 2021)), "band", ["minor", "18-22"], 0.34, "NJI: 34% under 23"),
    ],
)
def test_people_match_published_shares(
    person_years: pd.DataFrame,
    years: list[int],
    column: str,
    values: list[str],
    published: float,
    source: str,
) -> None:
    """Sex and age bands of registered persons (age bands from age_at_exploitation)."""
    assert _share(person_years, years, column, values) == pytest.approx(published, abs=PP), source


@pytest.mark.parametrize(
    ("year", "code", "published", "source"),
    [
        (2017, "NL", 0.36, "EC NL page: 36% Dutch nationality in 2017"),
        (2020, "NL", 155 / 984, "CoMensha Jaarbeeld 2020: Dutch 155"),
        (2020, "PL", 190 / 984, "CoMensha Jaarbeeld 2020: Polish 190"),
        (2020, "NG", 185 / 984, "CoMensha Jaarbeeld 2020: Nigerian 185"),
    ],
)
def test_nationalities_match_published_shares(
    person_years: pd.DataFrame, year: int, code: str, published: float, source: str
) -> None:
    """A person counts for a nationality listed on its first registration of the year."""
    sel = person_years[person_years["year"] == year]
    got = sel["nationality"].str.split(";").apply(lambda n: code in n).mean()
    assert got == pytest.approx(published, abs=PP), source


@pytest.mark.parametrize(
    ("year", "published", "source"),
    [
        (2013, 0.75, "NRM news 2018-10-18: police made 75% of reports in 2013"),
        (2017, 0.34, "NRM news 2018-10-18: police made 34% of reports in 2017"),
    ],
)
def test_police_share_of_reports(world: World, year: int, published: float, source: str) -> None:
    """Share of registrations (reports) of the year made by the police."""
    r = world.registrations()
    got = (r.loc[r["year"] == year, "reporting_organisation"] == "Police").mean()
    assert got == pytest.approx(published, abs=PP), source


def test_reports_by_ngos_and_care(world: World) -> None:
    """NRM news 2019-10-18: non-investigating bodies reported about 550 a year in 2014-2017
    and about 150 in 2018 ('about': within 10%)."""
    r = world.registrations()
    nonin = r[r["reporting_organisation"].isin(["NGOCare", "Other"])].groupby("year").size()
    for year in (2014, 2015, 2016, 2017):
        assert nonin[year] == pytest.approx(550, rel=0.10)
    assert nonin[2018] == pytest.approx(150, rel=0.10)
    assert len(r) > sum(NRM.values())  # reports outnumber persons


@pytest.mark.parametrize(
    ("years", "published", "source"),
    [
        ([2012, 2013, 2014, 2015], 5.0, "NRM/UNODC 2017: ~6,250 a year, about 5x registered"),
        ([2018, 2019], 4.0, "WODC 2021-11-29: ~5,000 a year with ~1,300 registered"),
    ],
)
def test_hidden_to_registered_ratio(
    world: World, years: list[int], published: float, source: str
) -> None:
    """Hidden victims (never registered that year) per registered victim, from the truth."""
    pop = world.csv("truth/population_by_year.csv")
    per_year = pop.groupby("year")[["n_total", "n_registered"]].sum()
    for y in years:
        hidden = per_year.loc[y, "n_total"] - per_year.loc[y, "n_registered"]
        assert hidden / per_year.loc[y, "n_registered"] == pytest.approx(published, rel=0.02)
    # WODC 2021-11-29: about 5,000 victims a year in 2018-2019
    assert per_year.loc[[2018, 2019], "n_total"].mean() == pytest.approx(5000, rel=0.05)


def _within(p: pd.DataFrame, column: str, years: float) -> np.ndarray:
    gap = (p[column] - p["first_registration_date"]).dt.days
    return (gap.notna() & (gap <= years * YEAR)).to_numpy()


def _assert_binomial(hits: np.ndarray, target: float, label: str) -> None:
    se = np.sqrt(target * (1 - target) / len(hits))
    assert abs(hits.mean() - target) < 3 * se, (label, hits.mean(), target, se)


@pytest.mark.parametrize(
    ("column", "years", "published", "source"),
    [
        ("first_victim_date", 5, 0.45, "NRM news 2022-01-06: 45% within 5 years"),
        ("first_victim_date", 7, 0.50, "NRM news 2022-01-06: 50% within 7 years"),
        ("first_property_date", 5, 0.33, "newsendip (Monitor 2016-2020): property 33%"),
        ("first_violence_date", 5, 0.25, "newsendip: assault 25%"),
        ("first_trafficking_date", 5, 0.08, "newsendip: human trafficking again 8%"),
        ("first_sexual_date", 5, 0.08, "newsendip: sexual offence 8%"),
        ("first_suspect_date", 5, 0.20, "synthetic-world.md: assumed about 20% as suspect"),
    ],
)
def test_true_revictimisation(
    world: World, column: str, years: int, published: float, source: str
) -> None:
    """True (latent, before censoring) share of registered persons with a first police event
    within the horizon of their first registration, death and emigration competing."""
    p = world.persons()
    reg = p[p["registered"] == 1]
    _assert_binomial(_within(reg, column, years), published, source)


def test_any_crime_is_the_first_of_the_types(world: World) -> None:
    """first_victim_date is the earliest of the per-type first dates."""
    p = world.persons()
    types = [f"first_{k}_date" for k in ("property", "violence", "sexual", "trafficking", "other")]
    expected = p[types].min(axis=1)
    same = (expected == p["first_victim_date"]) | (expected.isna() & p["first_victim_date"].isna())
    assert same.all()


def test_minors_hazard_ratio(world: World) -> None:
    """Assumed hazard ratio about 1.5 for minors (synthetic-world.md), at the population
    level: lifelines CoxPHFitter on the true times to the first new victimisation (censored at
    exit and at 7 years) gives a ratio within 3 standard errors (of log HR) of 1.5."""
    from lifelines import CoxPHFitter

    p = world.persons()
    reg = p[p["registered"] == 1]
    t = (reg["first_victim_date"] - reg["first_registration_date"]).dt.days / YEAR
    stop = np.minimum((reg["exit_date"] - reg["first_registration_date"]).dt.days / YEAR, 7.0)
    event = t.notna() & (t <= stop)
    data = pd.DataFrame(
        {
            "T": np.where(event, t, stop),
            "E": event.astype(int),
            "minor": reg["minor_at_entry"].to_numpy(),
        }
    )
    cox = CoxPHFitter().fit(data, "T", "E")
    coef, se = cox.params_["minor"], cox.standard_errors_["minor"]
    assert abs(coef - np.log(1.5)) < 3 * se, (np.exp(coef), se)


def test_linkability(world: World) -> None:
    """Assumed linkability: 95% for residents (Dutch, EU), 40% for non-EU without legal status."""
    p = world.persons()
    reg = p[p["registered"] == 1]
    res = reg["residence_status"].isin(["DutchNational", "EUCitizen"]).to_numpy()
    _assert_binomial(reg["linkable"].to_numpy()[res] == 1, 0.95, "residents")
    nls = (reg["residence_status"] == "NoLegalStatus").to_numpy()
    _assert_binomial(reg["linkable"].to_numpy()[nls] == 1, 0.40, "no legal status")


def test_victims_in_several_years(world: World) -> None:
    """A minority of victims is exploited in more than one year; some are registered again."""
    p = world.persons()
    multi = p["victim_years"].astype(str).str.contains(";")
    assert 0.02 < multi.mean() < 0.2
    again = p["registered_years"].astype(str).str.contains(";")
    assert again.sum() > 50


def test_exits_are_competing_events(world: World) -> None:
    """Deaths and emigration (assumed small rates, emigration higher for non-EU)."""
    p = world.persons()
    reg = p[p["registered"] == 1]
    assert set(reg["exit_reason"].dropna()) <= {"death", "emigration"}
    gone5 = _within(reg, "exit_date", 5)
    non_eu = (reg["nationality_group"] == "non_EU").to_numpy()
    nl = (reg["nationality_group"] == "NL").to_numpy()
    assert gone5[non_eu].mean() > 2 * gone5[nl].mean()
    assert gone5.mean() < 0.25


def test_help_follows_residence_status_age_and_municipality(person_years: pd.DataFrame) -> None:
    """Assumed (synthetic-world.md: help depends on residence status, municipality and age):
    shelter more often without legal status than for Dutch nationals, care referral more often
    for minors, B8 never applied for by Dutch nationals, always granted under status B8."""
    py = person_years

    def rate(mask: pd.Series, column: str) -> float:
        values = py.loc[mask, column]
        return float((values[values != ""] == "1").mean())

    nls = py["residence_status"] == "NoLegalStatus"
    dutch = py["residence_status"] == "DutchNational"
    assert rate(nls, "shelter") > rate(dutch, "shelter") + 0.2
    minor = py["band"] == "minor"
    assert rate(minor, "care_referral") > rate(~minor, "care_referral") + 0.1
    big = py["municipality"].isin(["Amsterdam", "Rotterdam", "'s-Gravenhage", "Utrecht"])
    assert rate(big & dutch, "shelter") > rate(~big & dutch & (py["municipality"] != ""), "shelter")
    assert rate(dutch, "victim_scheme_applied") == 0
    b8 = (py["residence_status"] == "B8") & (py["victim_scheme_applied"] == "1")
    assert rate(b8, "victim_scheme_granted") == 1


def test_big_cities_are_over_represented(person_years: pd.DataFrame) -> None:
    """Assumed: the four big cities weigh twice their population share (synth/data list)."""
    from thbmonitor.synth.population import municipalities

    mun = municipalities()
    big4 = ["Amsterdam", "Rotterdam", "'s-Gravenhage", "Utrecht"]
    pop_share = (
        mun.loc[mun["municipality"].isin(big4), "population"].sum() / mun["population"].sum()
    )
    known = person_years[person_years["municipality"] != ""]
    assert known["municipality"].isin(big4).mean() > 1.5 * pop_share
    assert set(known["municipality"]) <= set(mun["municipality"])
