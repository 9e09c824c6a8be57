"""The files the world writes: schema columns, code lists, and consistent truth."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from thbmonitor.profiles import load_profile
from thbmonitor.schema import POLICE_FIELDS, REGISTRATION_FIELDS

from .conftest import BACKGROUND, World

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NATIONALITY = re.compile(r"^[A-Z]{2}(;[A-Z]{2})*$")
LISTS = ["Police", "KMar", "LabourInspectorate", "NGOCare", "Other"]


def _codes(field: str) -> set[str]:
    """The codes of a field in the nl profile (the synthetic world is Dutch)."""
    return set(load_profile("nl").field_codes(field))


def test_registrations_have_exactly_the_schema_columns_and_valid_codes(world: World) -> None:
    """Columns in the order of schema.REGISTRATION_FIELDS; every code in its code list."""
    r = world.csv("registrations.csv", dtype=str, keep_default_na=False)
    assert list(r.columns) == [f.name for f in REGISTRATION_FIELDS]
    assert r["registration_id"].is_unique
    assert set(r["reporting_organisation"]) <= _codes("reporting_organisation")
    assert set(r["sex"]) <= _codes("sex")
    assert set(r["residence_status"]) <= _codes("residence_status")
    assert set(r["sector"]) - {""} <= _codes("sector")
    forms = set(r["forms_of_exploitation"].str.split(";").explode())
    assert forms <= _codes("forms_of_exploitation")
    assert r["nationality"].str.match(NATIONALITY).all()
    assert r["registration_date"].str.match(DATE).all()
    dob = r["date_of_birth"]
    assert dob[dob != ""].str.match(DATE).all()
    pd.to_datetime(dob[dob != ""], format="%Y-%m-%d")  # real calendar dates
    for f in REGISTRATION_FIELDS:
        if f.kind == "bool":
            assert set(r[f.name]) <= {"0", "1", ""}, f.name
        if f.required:
            assert (r[f.name] != "").all(), f.name
    assert r["age_at_exploitation"].str.fullmatch(r"\d+").all()
    years = r["registration_date"].str[:4].astype(int)
    assert years.between(2012, 2021).all()


def test_registrations_pass_ingest_validation(world: World) -> None:
    """The ingest stage's own validator finds no problem in registrations.csv."""
    from thbmonitor.ingest.readers import read_text_frame
    from thbmonitor.ingest.validate import validate

    frame = read_text_frame(world.path / "registrations.csv")
    assert validate("registrations.csv", frame, REGISTRATION_FIELDS) == []


def test_police_register_passes_ingest_validation(world: World) -> None:
    """The ingest stage's own validator finds no problem in police_register.parquet."""
    from thbmonitor.ingest.readers import read_text_frame
    from thbmonitor.ingest.validate import validate

    frame = read_text_frame(world.path / "police_register.parquet")
    assert validate("police_register.parquet", frame, POLICE_FIELDS) == []


def test_police_register_schema_and_codes(world: World) -> None:
    """Columns exactly POLICE_FIELDS, dates as date32, codes in their lists, 2005-2023."""
    table = pq.read_table(world.path / "police_register.parquet")
    assert table.column_names == [f.name for f in POLICE_FIELDS]
    assert str(table.schema.field("event_date").type) == "date32[day]"
    assert str(table.schema.field("date_of_birth").type) == "date32[day]"
    ev = table.to_pandas()
    assert ev["event_id"].is_unique
    assert set(ev["role"]) <= _codes("role")
    assert set(ev["crime_type"]) <= _codes("crime_type")
    assert set(ev["sex"].dropna()) <= _codes("sex")
    dates = pd.to_datetime(ev["event_date"])
    assert dates.min() >= pd.Timestamp("2005-01-01")
    assert dates.max() <= pd.Timestamp("2023-12-31")


def test_every_event_and_registration_has_its_true_owner(world: World) -> None:
    """Background events are exactly the configured number; victims' events belong to victims."""
    ev = pq.read_table(world.path / "police_register.parquet", columns=["event_id"]).to_pandas()
    owner = world.csv("truth/police_event_person.csv")
    assert list(owner.columns) == ["event_id", "person_id"]
    assert owner["event_id"].tolist() == ev["event_id"].tolist()
    background = owner["person_id"].str.startswith("B")
    assert background.sum() == BACKGROUND
    persons = world.csv("truth/persons.csv")
    assert set(owner.loc[~background, "person_id"]) <= set(persons["person_id"])
    rp = world.csv("truth/registration_person.csv")
    assert list(rp.columns) == ["registration_id", "person_id"]
    registered = set(persons.loc[persons["registered"] == 1, "person_id"])
    assert set(rp["person_id"]) == registered


def test_index_case_and_events_before_entry(world: World) -> None:
    """Many registered victims have a trafficking victim event within 60 days before entry."""
    ev = pq.read_table(world.path / "police_register.parquet").to_pandas()
    owner = world.csv("truth/police_event_person.csv")
    ev = ev.merge(owner, on="event_id")
    p = world.persons()
    reg = p[(p["registered"] == 1) & (p["linkable"] == 1)][["person_id", "first_registration_date"]]
    ev = ev.merge(reg, on="person_id")
    lag = (ev["first_registration_date"] - pd.to_datetime(ev["event_date"])).dt.days
    index = (ev["crime_type"] == "trafficking") & (ev["role"] == "victim") & lag.between(0, 60)
    share = ev.loc[index, "person_id"].nunique() / len(reg)
    assert 0.5 < share < 0.95
    assert (lag > 60).any()  # older events before entry


def test_non_linkable_victims_events_are_absent_or_unrecognisable(world: World) -> None:
    """Non-linkable victims: some without any event, the rest under other names."""
    owner = world.csv("truth/police_event_person.csv")
    p = world.csv("truth/persons.csv")
    reg = p[p["registered"] == 1]
    with_events = set(owner["person_id"])
    has = reg["person_id"].isin(with_events).to_numpy()
    nl = reg["linkable"].to_numpy() == 0
    assert has[~nl].mean() > 2 * has[nl].mean() * 0.5
    assert has[nl].mean() < has[~nl].mean()


def test_capture_histories_match_the_registrations(world: World) -> None:
    """Truth capture histories: the MSE format, no all-zero row, counts = NRM persons."""
    ch = world.csv("truth/capture_histories.csv")
    assert list(ch.columns) == [*LISTS, "year", "count"]
    assert (ch[LISTS].sum(axis=1) > 0).all()
    assert ch.groupby("year")["count"].sum().to_dict() == world.summary.registered_by_year
    r = world.registrations()
    seen = r.groupby(["year", "person_id"])["reporting_organisation"].agg(set)
    per_list = {lst: seen.apply(lambda s, lst=lst: lst in s).groupby("year").sum() for lst in LISTS}
    for lst in LISTS:
        truth = ch[ch[lst] == 1].groupby("year")["count"].sum()
        assert truth.to_dict() == per_list[lst].to_dict(), lst
    chs = world.csv("truth/capture_histories_by_stratum.csv")
    assert chs["count"].sum() == ch["count"].sum()


def test_params_json_has_every_assumption(world: World) -> None:
    """params.json round-trips the parameters used (years as string keys)."""
    data = json.loads((world.path / "truth" / "params.json").read_text())
    assert data["seed"] == world.params.seed
    assert data["background_events"] == BACKGROUND
    assert data["nrm_registered"]["2018"] == 668
    assert data["censor_date"] == "2023-12-31"


def test_repeat_registrations_carry_identifier_noise(world: World) -> None:
    """Registrations of one person differ in names and birth dates at the configured rates."""
    r = world.registrations().sort_values(["person_id", "registration_date", "registration_id"])
    first = r.groupby("person_id")[["first_names", "last_name", "date_of_birth"]].transform("first")
    rep = r["person_id"].duplicated().to_numpy()
    changed_first = (r["first_names"] != first["first_names"]).to_numpy()[rep].mean()
    missing_dob = (r["date_of_birth"] == "").to_numpy()[rep].mean()
    # typo 20% + alias 2% + swap 5% (some typos leave the name unchanged or coincide)
    assert 0.15 < changed_first < 0.35
    assert 0.05 < missing_dob < 0.12
    est = r["date_of_birth_estimated"] == "1"
    assert est.any()
    assert (r.loc[est, "date_of_birth"].str[5:] == "01-01").mean() > 0.9


def test_transliteration_variants_appear(world: World) -> None:
    """Known spelling variants (e.g. Mohammed / Mohamed / Muhammad) replace some names."""
    from thbmonitor.synth.identity import name_lists

    lists = name_lists()
    base = {n for arr in lists.names.values() for n in arr}
    variants = {v for vs in lists.variants.values() for v in vs} - base
    ev = pq.read_table(world.path / "police_register.parquet").to_pandas()
    names = set(ev["first_names"].dropna()) | set(ev["last_name"].dropna())
    assert len(variants & names) >= 5


def test_police_copies_of_identifiers_are_noisy(world: World) -> None:
    """Linkable victims' police events mostly carry the registered birth date, with noise."""
    ev = pq.read_table(world.path / "police_register.parquet").to_pandas()
    owner = world.csv("truth/police_event_person.csv")
    ev = ev.merge(owner, on="event_id")
    p = world.persons()
    link = p[(p["registered"] == 1) & (p["linkable"] == 1)][["person_id", "birth_date"]]
    ev = ev.merge(link, on="person_id")
    same = (pd.to_datetime(ev["date_of_birth"]) == ev["birth_date"]).to_numpy()
    assert 0.80 < same.mean() < 0.95
    assert np.isin(ev["date_of_birth"].isna().mean(), [0]) == np.False_


def test_victim_events_hold_the_true_event_times(world: World) -> None:
    """truth/victim_events.csv: register events carry their event_id and true owner; each
    registered victim's first victim event after entry is its latent first_victim_date
    whenever that date falls before the data end (2023-12-31)."""
    ve = world.csv("truth/victim_events.csv", parse_dates=["event_date"])
    owner = world.csv("truth/police_event_person.csv")
    inreg = ve[ve["event_id"].notna()]
    merged = inreg.merge(owner, on="event_id", suffixes=("", "_owner"))
    assert len(merged) == len(inreg)
    assert (merged["person_id"] == merged["person_id_owner"]).all()
    assert (owner["person_id"].str.startswith("V")).sum() == len(inreg)
    assert ve["event_id"].isna().any()  # absent events of non-linkable victims
    p = world.persons()
    reg = p[p["registered"] == 1][["person_id", "first_registration_date", "first_victim_date"]]
    after = ve[ve["role"] == "victim"].merge(reg, on="person_id")
    after = after[after["event_date"] > after["first_registration_date"]]
    first = after.groupby("person_id")["event_date"].min()
    latent = reg.set_index("person_id")["first_victim_date"]
    observable = latent[latent <= pd.Timestamp("2023-12-31")]
    assert first.reindex(observable.index).equals(observable.rename("event_date"))
    calib = json.loads((world.path / "truth" / "calibration.json").read_text())
    assert set(calib) == {"capture_offsets", "followup_hazards"}


def test_population_register(world: World) -> None:
    """population_register.parquet: the columns of schema.POPULATION_FIELDS, passes
    ingest validation; one resident record per linkable victim and per background person, none
    for non-linkable victims; deaths and emigrations up to the data end on their true dates."""
    from thbmonitor.ingest.readers import read_text_frame
    from thbmonitor.ingest.validate import validate
    from thbmonitor.schema import POPULATION_FIELDS

    path = world.path / "population_register.parquet"
    table = pq.read_table(path)
    assert table.column_names == [f.name for f in POPULATION_FIELDS]
    assert validate(path.name, read_text_frame(path), POPULATION_FIELDS) == []
    ev = table.to_pandas().merge(world.csv("truth/population_event_person.csv"), on="event_id")
    assert len(ev) == table.num_rows
    p = world.persons()
    resident = ev[ev["event_type"] == "resident"]
    assert resident["person_id"].is_unique
    victims = set(resident.loc[resident["person_id"].str.startswith("V"), "person_id"])
    assert victims == set(p.loc[p["linkable"] == 1, "person_id"])
    n_background = resident["person_id"].str.startswith("B").sum()
    assert n_background == world.summary.n_background_persons
    ended = p[(p["linkable"] == 1) & (p["exit_date"] <= pd.Timestamp("2023-12-31"))]
    exits = ev[ev["event_type"] != "resident"].set_index("person_id")
    assert set(exits.index) == set(ended["person_id"])
    truth = ended.set_index("person_id")
    assert (pd.to_datetime(exits["event_date"]) == truth.loc[exits.index, "exit_date"]).all()
    assert (exits["event_type"] == truth.loc[exits.index, "exit_reason"]).all()
