"""Loading profiles: the shipped nl profile holds the Dutch monitor's code lists and rules, a
user's copy is any folder, and a broken profile is a clear error naming the file and key."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from thbmonitor.errors import ConfigError
from thbmonitor.profiles import FILES, load_profile, profile_names


def test_nl_code_lists() -> None:
    """The Dutch monitor's lists (Nationaal Rapporteur, Slachtoffermonitor mensenhandel
    2016-2020: groups of exploitation, age bands minor/18-22/23+; CoMensha's reporters)."""
    nl = load_profile("nl")
    assert "nl" in profile_names()
    assert nl.path == Path(__file__).parents[2] / "src" / "thbmonitor" / "profiles" / "nl"
    assert nl.codes("sex") == ("F", "M", "U")
    assert nl.codes("reporting_organisation") == (
        "Police",
        "KMar",
        "LabourInspectorate",
        "NGOCare",
        "Other",
    )
    assert "B8" in nl.codes("residence_status")
    assert "CriminalExploitation" in nl.codes("exploitation")
    # Directive (EU) 2024/1712 art. 2(3): forced marriage, illegal adoption and surrogacy
    forms = nl.code_lists["exploitation"]
    assert {f: forms.htcds[f] for f in ("ForcedMarriage", "IllegalAdoption", "Surrogacy")} == {
        "ForcedMarriage": "ForcedMarriage",
        "IllegalAdoption": "ForcedAdoption",
        "Surrogacy": "Surrogacy",
    }
    assert nl.groups == (
        "domestic_sexual",
        "cross_border_sexual",
        "labour",
        "criminal",
        "other_unknown",
    )
    assert nl.age_bands.codes == ("minor", "18-22", "23+", "unknown")
    assert nl.nationality.groups == ("NL", "other_EU", "non_EU", "unknown")
    assert nl.consent_not_required == {"Police", "KMar", "LabourInspectorate"}
    assert len(nl.region_order) == 12  # the twelve provinces


def test_nl_rules() -> None:
    """Hand-checked cases of the Dutch monitor's definitions."""
    nl = load_profile("nl")
    assert nl.age_band(None) == "unknown"
    assert [nl.age_band(a) for a in (0, 17, 18, 22, 23, 90)] == [
        "minor",
        "minor",
        "18-22",
        "18-22",
        "23+",
        "23+",
    ]
    # domestic sexual exploitation: a Dutch victim, also a dual national
    assert nl.monitor_group(["SexualExploitation"], ["PL", "NL"]) == "domestic_sexual"
    assert nl.monitor_group(["SexualExploitation"], ["PL"]) == "cross_border_sexual"
    # the first listed form is the main one
    assert nl.monitor_group(["ForcedLabour", "SexualExploitation"], ["NL"]) == "labour"
    assert nl.monitor_group(["CriminalExploitation"], []) == "criminal"
    assert nl.monitor_group(["OrganRemoval"], ["NL"]) == "other_unknown"
    assert nl.monitor_group([], []) == "other_unknown"
    nat = nl.nationality
    assert nat.group_of_all(["RO", "NL"]) == "NL"
    assert nat.group_of("XX") == nat.group_of(None) == "unknown"
    assert nat.group_of("RO") == "other_EU" and nat.group_of("NG") == "non_EU"
    # EU membership by date: Croatia joined on 1 July 2013, the United Kingdom left on
    # 31 January 2020 (Official Journal L 112, 24.4.2012; L 29, 31.1.2020)
    assert nat.group_of("HR", date(2013, 6, 30)) == "non_EU"
    assert nat.group_of("HR", date(2013, 7, 1)) == "other_EU"
    assert nat.group_of("GB", date(2020, 1, 31)) == "other_EU"
    assert nat.group_of("GB", date(2020, 2, 1)) == "non_EU"
    assert nat.group_of("GB") == "non_EU"
    assert nl.region_of("  's-Hertogenbosch ") == "Noord-Brabant"
    assert nl.region_of("Nowhere") == nl.region_of(None) == "unknown"


def test_spellings_map_to_codes() -> None:
    nl = load_profile("nl")
    forms = nl.code_lists["exploitation"]
    assert forms.code_of("SexualExploitation") == "SexualExploitation"
    assert forms.code_of("seksuele  UITBUITING") == "SexualExploitation"
    assert forms.code_of("Seksuele uitbuitng") is None
    assert forms.spelling("SexualExploitation") == "SexualExploitation"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    shutil.copytree(load_profile("nl").path, folder)
    return folder


def test_a_copied_folder_loads_as_a_profile(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    toml = folder / "profile.toml"
    toml.write_text(toml.read_text().replace('delimiter = ","', 'delimiter = ";"'))
    mine = load_profile(folder)
    assert mine.path == folder.resolve()
    assert mine.layout.delimiter == ";"
    assert load_profile(toml).path == folder.resolve()
    assert sorted(p.name for p in folder.iterdir() if p.name in FILES) == sorted(FILES)


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (("profile.toml", 'country = "NL"', ""), "missing key 'country'"),
        (("profile.toml", 'own_nationality = true, group = "domestic_sexual"', 'group = "x"'),
         "unknown form or group"),
        (("profile.toml", "{ code = \"minor\", below = 18 },", "{ code = \"minor\", below = 16 },"),
         "minors"),
        (("profile.toml", 'encoding = "utf-8"', 'encoding = "no-such"'), "unknown text encoding"),
        (("codes.csv", "sex,U,", "sex,F,"), "code 'F' twice in list sex"),
        (("profile.toml", 'role = "police_role"', 'role = "roles"'), "code list 'roles'"),
    ],
)  # fmt: skip
def test_a_broken_profile_is_a_clear_error(
    tmp_path: Path, edit: tuple[str, str, str], said: str
) -> None:
    folder = _copy(tmp_path)
    name, old, new = edit
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=said) as err:
        load_profile(folder)
    assert "mine" in str(err.value)


def test_the_register_codes_the_follow_up_relies_on_are_kept(tmp_path: Path) -> None:
    """A profile may spell 'death' as it likes, but not drop the code."""
    from thbmonitor.config import load_settings

    folder = _copy(tmp_path)
    codes = folder / "codes.csv"
    text = codes.read_text(encoding="utf-8")
    codes.write_text(text.replace("population_event,death,", "population_event,died,"))
    with pytest.raises(ConfigError, match="event_type must hold the codes resident, death"):
        load_settings(None, {"profile": str(folder)})


def test_an_unknown_profile_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nl"):
        load_profile("xx")
    with pytest.raises(ConfigError, match=r"profile\.toml"):
        load_profile(tmp_path)
