"""The report's wording of a country's own things comes from its profile ([wording]): under nl
the texts are those the monitor always printed (B8, Dutch nationals, the provinces, the Dutch
group rule), under htcds they name no country's scheme, nationality or rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from thbmonitor.errors import ConfigError
from thbmonitor.monitor import texts
from thbmonitor.monitor.chapters import _intro
from thbmonitor.profiles import load_profile
from thbmonitor.report.model import Text

NL = load_profile("nl")
HTCDS = load_profile("htcds")


def _all_texts(profile) -> list[Text]:
    """Every fixed text of the monitor's chapters that a profile's wording enters."""
    out = [texts.title(k, profile) for k in texts.TITLES]
    out += [texts.definitions(profile), texts.fill(texts.HELP_METHOD, profile)]
    out += [texts.help_model_method(profile), texts.fill(texts.REGION_NOTE, profile)]
    out += [t for k in ("victims", "people", "help") if (t := _intro(k, "2016-2020", profile))]
    note = texts.wording("nationality_group_note", profile)
    return out + ([note] if note else [])


def test_nl_prints_what_the_monitor_always_printed() -> None:
    """The texts as they read before the wording moved into the profile (main at 47478d7)."""
    assert texts.title("help", NL) == Text("Help: shelter, B8 and care", "Hulp: opvang, B8 en zorg")
    method = texts.help_model_method(NL)
    assert (
        "residence status (against Dutch national), big city (Amsterdam, Rotterdam, The "
        "Hague, Utrecht, against another or no municipality)" in method.en
    )
    assert (
        "the other characteristics being equal. For B8, Dutch nationals and status B8 are "
        "left out (their answer follows from the status); B8 granted is among applicants. "
        "Levels or reference groups with fewer than {threshold} persons" in method.en
    )
    assert (
        "verblijfsstatus (tegenover Nederlander), grote stad (Amsterdam, Rotterdam, Den "
        "Haag, Utrecht, tegenover" in method.nl
    )
    assert "kenmerken. Voor B8 zijn Nederlanders en status B8 weggelaten" in method.nl
    assert texts.definitions(NL).en.endswith(
        "The monitor's groups: sexual exploitation of a victim with Dutch nationality is "
        "domestic, otherwise cross-border; then labour, criminal, and other or unknown forms "
        "(the main, first listed, form decides). A registration that was not linked counts as "
        "its own person."
    )
    assert (
        "De groepen van de monitor: seksuele uitbuiting van een slachtoffer met de "
        "Nederlandse nationaliteit is binnenlands, anders" in texts.definitions(NL).nl
    )
    assert texts.fill(texts.HELP_METHOD, NL).en.startswith(
        "Help per person over the window: shelter, B8 applied, B8 granted or care referral is 'yes'"
    )
    assert texts.fill(texts.REGION_NOTE, NL).nl.startswith("Regio is de provincie van de ")
    people = _intro("people", "2016-2020", NL)
    assert (
        people is not None
        and "not by group: domestic sexual exploitation is Dutch by definition; the largest foreign"
        in people.en
    )
    help_ = _intro("help", "2016-2020", NL)
    assert help_ is not None and "Opvang, de B8-verblijfsregeling en verwijzing" in help_.nl
    assert texts.fill(texts.NATGROUP_NOTE, NL).en == (
        "Domestic sexual exploitation is left out: its victims are Dutch by definition."
    )


def test_htcds_names_no_dutch_scheme_nationality_or_rule() -> None:
    dutch = re.compile(r"\bB8\b|Dutch|Nederland|provinc|domestic|binnenlands", re.IGNORECASE)
    for text in _all_texts(HTCDS):
        for lang in ("en", "nl"):
            assert not dutch.search(text(lang)), text(lang)
            assert "{" not in text(lang).replace("{threshold}", ""), text(lang)
    assert texts.title("help", HTCDS).en == "Help: shelter, residence scheme and care"
    # the groups are read off the profile's own [groups]
    assert (
        "The monitor's groups: sexual exploitation, labour exploitation, criminal "
        "exploitation and other or unknown (the main" in texts.definitions(HTCDS).en
    )
    # no group of htcds is defined by nationality: no note under group by nationality group
    assert texts.wording("nationality_group_note", HTCDS) is None
    method = texts.help_model_method(HTCDS)
    assert "(against 'National of the reporting country')" in method.en
    assert (
        "the residence statuses 'National of the reporting country' and 'Residence permit "
        "for victims' are left out" in method.en
    )


def test_an_unknown_wording_key_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    shutil.copytree(HTCDS.path, folder)
    with open(folder / "profile.toml", "a", encoding="utf-8") as fh:
        fh.write('scheem = ["T visa", "T-visum"]\n')  # a misspelt key under [wording]
    with pytest.raises(ConfigError, match=r"\[wording\] scheem: no such key"):
        load_profile(folder)


def test_a_copy_names_its_own_scheme(tmp_path: Path) -> None:
    """A country's copy of htcds with its own scheme's name: the report says it."""
    folder = tmp_path / "us"
    shutil.copytree(HTCDS.path, folder)
    with open(folder / "profile.toml", "a", encoding="utf-8") as fh:
        fh.write('scheme = ["T visa", "T-visum"]\n')
    mine = load_profile(folder)
    assert mine.fingerprint() == HTCDS.fingerprint()  # wording is not what a store holds
    assert texts.title("help", mine) == Text("Help: shelter, T visa and care",
                                             "Hulp: opvang, T-visum en zorg")  # fmt: skip
