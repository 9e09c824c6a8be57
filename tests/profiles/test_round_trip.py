"""A profile round trip: the same synthetic world written in the nl and in the htcds layout
(``synth --profile``) and ingested through its profile gives the same store, row for row.

The two profiles group alike but for what is a country's own rule: nl splits sexual exploitation
into domestic and cross-border by the victim's nationality and names the own nationality group
after the Netherlands; htcds groups by HTCDS form and names it neutrally, and so its residence
statuses of nationals and of the scheme for victims (nl's DutchNational and B8). So the store's
``monitor_group``, ``nationality_group`` and ``residence_status`` are compared through those
definitions (read off the profiles' ``[groups]``, ``[nationality]`` and codes.csv), every other
column as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from thbmonitor.pipeline import ingest_files
from thbmonitor.profiles import load_profile
from thbmonitor.profiles.translate import read_in_profile
from thbmonitor.profiles.write import WORLD_FILES, write_world
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store
from thbmonitor.synth import WorldParams, generate

TABLES = ("registrations", "police_events", "population_events", "population_denominators")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small world (a tenth of the Dutch size, 2,000 background events) in both layouts."""
    base = tmp_path_factory.mktemp("world")
    nl = base / "nl"
    generate(WorldParams(seed=11, scale=0.1, background_events=2_000), nl)
    htcds = base / "htcds"
    shutil.copytree(nl, htcds)
    written = write_world(htcds, load_profile("htcds"))
    assert sorted(p.name for p in written) == sorted(WORLD_FILES)
    # nl is the monitor's own layout but for the columns of the residence scheme for victims
    # (named after the Dutch B8 scheme)
    assert write_world(nl, load_profile("nl")) == [nl / "registrations.csv"]
    return {"nl": nl, "htcds": htcds}


def _store_rows(store_path: Path, table: str) -> pd.DataFrame:
    with open_store(store_path, read_only=True) as store:
        frame = store.df(f"SELECT * EXCLUDE (source_sha256) FROM {table}")
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, bytes | bytearray)).any():
            frame[col] = frame[col].map(lambda v: None if v is None else bytes(v).hex())
    keys = [c for c in ("registration_id", "event_id", "year", "sex", "age_band") if c in frame]
    return frame.sort_values(keys).reset_index(drop=True)


# nl's group -> htcds's group, and nl's nationality group -> htcds's (profile.toml of each)
GROUPS = {
    "domestic_sexual": "sexual",
    "cross_border_sexual": "sexual",
    "labour": "labour",
    "criminal": "criminal",
    "other_unknown": "other_unknown",
}
NATIONALITY_GROUPS = {"NL": "own_country", "other_EU": "other_EU", "non_EU": "non_EU",
                      "unknown": "unknown"}  # fmt: skip
# nl's residence statuses -> htcds's (the same but for the two that nl names after itself)
RESIDENCE = {"DutchNational": "National", "B8": "VictimPermit"}


def test_nl_and_htcds_give_the_same_store(worlds: dict[str, Path], tmp_path: Path) -> None:
    key = bytes(range(32))
    stores = {}
    for name, folder in worlds.items():
        stores[name] = tmp_path / f"{name}.duckdb"
        inputs = [folder / f for f in WORLD_FILES]
        with open_store(stores[name], create=True) as store:
            ingest_files(store, inputs, Encoder(key, 200, 5), profile=name)
    for table in TABLES:
        nl, htcds = _store_rows(stores["nl"], table), _store_rows(stores["htcds"], table)
        assert len(nl) > 0, table
        if table == "registrations":
            assert set(nl["monitor_group"]) == set(GROUPS)  # every group occurs
            assert set(nl["nationality_group"]) == set(NATIONALITY_GROUPS)
            nl["monitor_group"] = nl["monitor_group"].map(GROUPS)
            nl["nationality_group"] = nl["nationality_group"].map(NATIONALITY_GROUPS)
            assert set(RESIDENCE) <= set(nl["residence_status"])
            nl["residence_status"] = nl["residence_status"].replace(RESIDENCE)
        pd.testing.assert_frame_equal(nl, htcds, obj=table)


def test_the_htcds_files_use_htcds_names_and_values(worlds: dict[str, Path]) -> None:
    """HTCDS 2.0: prs_Gender Feminine/Masculine, org_Type LawEnforcement/NGO, checkboxes."""
    regs = pd.read_csv(worlds["htcds"] / "registrations.csv", dtype=str, keep_default_na=False)
    assert {"prs_Gender", "prs_Citizenship", "vic_TypeOfExploitation", "prs_Birthdate"} <= set(
        regs.columns
    )
    assert "sex" not in regs.columns
    assert set(regs["prs_Gender"]) <= {"Feminine", "Masculine", "NonSpecifiedUnknown"}
    assert {"LawEnforcement", "NGO"} <= set(regs["cas_ReferringOrganisation"])
    assert set(regs["ext_Shelter"]) <= {"Yes", "No", ""}
    # the Dutch world's own statuses are written in htcds's neutral spellings
    assert {"National", "VictimResidencePermit"} <= set(regs["ext_ResidenceStatus"])
    assert not {"DutchNational", "B8"} & set(regs["ext_ResidenceStatus"])
    translated = read_in_profile(worlds["htcds"] / "registrations.csv", load_profile("htcds"))
    assert translated.kind == "registrations" and not translated.unmapped
    # read with the nl profile, the htcds file is not a registrations file at all
    with pytest.raises(Exception, match="registration_id"):
        read_in_profile(worlds["htcds"] / "registrations.csv", load_profile("nl"))


def test_synth_and_check_on_the_command_line(tmp_path: Path) -> None:
    """``synth --profile htcds`` writes files that ``profile check --profile htcds`` passes
    and the nl profile cannot read."""
    from typer.testing import CliRunner

    from thbmonitor.cli import app

    out = tmp_path / "w"
    args = ["synth", "--out", str(out), "--scale", "0.05", "--background-events", "500"]
    made = CliRunner().invoke(app, [*args, "--profile", "htcds"])
    assert made.exit_code == 0, made.output
    files = [str(out / name) for name in WORLD_FILES]
    ok = CliRunner().invoke(app, ["profile", "check", *files, "--profile", "htcds"])
    assert ok.exit_code == 0, ok.output
    denominators = CliRunner().invoke(
        app, ["profile", "check", str(out / "population_denominators.csv"), "--profile", "nl"]
    )
    assert denominators.exit_code == 1  # sex written Feminine/Masculine
    assert "'Feminine' in " in denominators.stdout
