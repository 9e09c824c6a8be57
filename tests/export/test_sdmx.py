"""The SDMX-CSV delivery, written with pysdmx and read back with it."""

from __future__ import annotations

import dataclasses

from thbmonitor.export.eurostat import eurostat_rows
from thbmonitor.export.sdmx import read_sdmx_csv, sdmx_csv

from .conftest import CODES, NL, YEAR, World


def test_sdmx_csv_parses_back_to_the_eurostat_figures(world: World) -> None:
    """pysdmx reads the file back: dataflow ESTAT:CRIM_THB(1.0), one observation per Eurostat
    row with the same dimension codes, value and confidentiality flag; figures that are not
    known (identified, presumed) have SDMX's missing value NaN and OBS_STATUS m."""
    rows = eurostat_rows(world.delivered, NL, CODES)
    if not any(r.flag for r in rows):  # a withheld figure, so that its flag is read back too
        rows[3] = dataclasses.replace(rows[3], value="", flag="C")
    text = sdmx_csv(rows, CODES)
    assert text.splitlines()[0].startswith("DATAFLOW,FREQ,LEG_STAT,SEX,AGE,CITIZEN")
    urn, back = read_sdmx_csv(text)
    assert urn == "Dataflow=ESTAT:CRIM_THB(1.0)"
    assert len(back) == len(rows)
    ids = CODES.sdmx.components
    for r, (_, b) in zip(rows, back.iterrows(), strict=True):
        assert b["FREQ"] == "A" and b["UNIT"] == "NR" and b["GEO"] == "NL"
        assert b["TIME_PERIOD"] == str(YEAR)
        for column, cid in ids.items():
            assert b[cid] == getattr(r, column)
        assert b["OBS_VALUE"] == (r.value or "NaN")  # SDMX's intentionally missing value
        assert b["CONF_STATUS"] == r.flag
        assert b["OBS_STATUS"] == ("m" if not r.value and not r.flag else "")
    assert (back["CONF_STATUS"] == "C").any() and (back["OBS_VALUE"] != "NaN").sum() >= 10
    not_known = back[back["LEG_STAT"].isin(["VICT_IDNT", "VICT_PRSM"])]
    assert list(not_known["OBS_STATUS"]) == ["m", "m"]
