"""End to end through two country profiles: ``thbmonitor synth --profile P`` for nl and for
htcds with the same seed, each ingested and linked through its profile, give the same victims
per year (issue 12, section 1), and the same victims per year in each group once nl's two
sexual groups (domestic, cross-border by nationality: nl's own rule) are added up into htcds's
one. The world is small (a twentieth of the Dutch size, 2,000 background police events), so
that both rounds take well under a minute."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from thbmonitor.cli import app
from thbmonitor.config import Settings
from thbmonitor.monitor.tables import build_tables
from thbmonitor.pipeline import demo_key, ingest_files, link
from thbmonitor.profiles.write import WORLD_FILES
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("profile-victims")]

SEED = 11
WINDOW = (2016, 2020)
# nl's group -> htcds's (the two profiles' [groups])
GROUPS = {
    "domestic_sexual": "sexual",
    "cross_border_sexual": "sexual",
    "labour": "labour",
    "criminal": "criminal",
    "other_unknown": "other_unknown",
}


def _victims(tmp_path: Path, profile: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Victims per year, and per year and group, of the world written and read in ``profile``."""
    folder = tmp_path / profile
    made = CliRunner().invoke(
        app,
        ["synth", "--out", str(folder), "--seed", str(SEED), "--scale", "0.05",
         "--background-events", "2000", "--profile", profile],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    settings = Settings(seed=SEED, profile=profile, window_first=WINDOW[0], window_last=WINDOW[1])
    encoder = Encoder(demo_key(SEED), settings.bloom_bits, settings.bloom_hashes)
    with open_store(tmp_path / f"{profile}.duckdb", create=True) as store:
        ingest_files(store, [folder / name for name in WORLD_FILES], encoder, profile=profile)
        link(store, settings)
        table = next(t for t in build_tables(store, settings) if t.key == "vic_year_group")
    frame = table.table.frame
    cells = frame[(frame["year"] != "Total") & (frame["group"] != "Total")]
    by_group = {(str(r.year), str(r.group)): int(r.count) for r in cells.itertuples()}
    per_year: dict[str, int] = {}
    for (year, _), n in by_group.items():
        per_year[year] = per_year.get(year, 0) + n
    return per_year, by_group


def test_htcds_and_nl_give_the_same_victims_per_year(tmp_path: Path) -> None:
    nl_years, nl_groups = _victims(tmp_path, "nl")
    htcds_years, htcds_groups = _victims(tmp_path, "htcds")
    assert sorted(nl_years) == [str(y) for y in range(WINDOW[0], WINDOW[1] + 1)]
    assert all(n > 0 for n in nl_years.values())
    assert htcds_years == nl_years
    # the groups: htcds's are nl's with the two sexual groups added up
    merged: dict[tuple[str, str], int] = {}
    for (year, group), n in nl_groups.items():
        key = (year, GROUPS[group])
        merged[key] = merged.get(key, 0) + n
    assert htcds_groups == merged
    assert all(nl_groups[(y, "domestic_sexual")] > 0 for y in nl_years)  # nl's rule applied
