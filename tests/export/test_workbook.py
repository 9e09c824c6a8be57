"""The delivery workbook: one sheet per delivered table, labelled in the chosen language,
with the figures of the delivery file (read back with openpyxl)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl

from thbmonitor.export.codes import delivery_codes
from thbmonitor.export.eurostat import eurostat_rows
from thbmonitor.export.unodc import unodc_rows
from thbmonitor.export.workbook import write_delivery_workbook

from .conftest import CODES, NL, UNODC, YEAR, World


def _sheets(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_eurostat_workbook_in_dutch(world: World, tmp_path: Path) -> None:
    """Sheets in delivery order (by sex first), titles and category labels in Dutch, each
    figure the file's: a number, x where the file flags C, . where it is not known."""
    rows = eurostat_rows(world.delivered, NL, CODES)
    if not any(r.flag for r in rows):  # a withheld figure, so that its marker is checked too
        rows[5] = dataclasses.replace(rows[5], value="", flag="C")
    path = tmp_path / "e.xlsx"
    write_delivery_workbook(path, rows, NL, delivery_codes(NL), YEAR, "eurostat", "nl")
    sheets = _sheets(path)
    assert len(sheets) == len({(r.indicator, r.table) for r in rows})
    first = sheets["eurostat_1"]
    assert first[0][0] == f"Geregistreerde slachtoffers naar geslacht, {YEAR}"
    assert first[1][:3] == ("Categorie", "Code van de ontvanger", "Cijfer")
    body = {row[1]: row for row in first[2:5]}
    assert body["VICT"][0] == "Totaal" and body["F"][0] == "Vrouw" and body["M"][0] == "Man"
    groups: dict[tuple[str, str], list[object]] = {}
    for r in rows:
        figure = "x" if r.flag == "C" else (int(r.value) if r.value else ".")
        groups.setdefault((r.indicator, r.table), []).append(figure)
    for sheet, expected in zip(sheets.values(), groups.values(), strict=True):
        assert [row[2] for row in sheet[2 : 2 + len(expected)]] == expected
        assert sheet[2 + len(expected)] == (None, None, None)  # then a blank row, the legend
    assert "x" in [f for figures in groups.values() for f in figures]
    assert "." in groups[("VICT_IDNT", "")]


def test_unodc_workbook_in_english(world: World, tmp_path: Path) -> None:
    rows = unodc_rows(world.delivered, NL, UNODC, {"registered_per_100k": 1.5})
    path = tmp_path / "u.xlsx"
    write_delivery_workbook(path, rows, NL, delivery_codes(NL), YEAR, "unodc", "en")
    sheets = _sheets(path)
    titles = [sheet[0][0] for sheet in sheets.values()]
    assert titles[0] == f"Registered victims by sex, {YEAR}"
    assert f"SDG 16.2.2: victims per 100,000 population, {YEAR}" in titles
    sdg = next(s for s in sheets.values() if str(s[0][0]).startswith("SDG"))
    assert sdg[2][2] == 1.5 and sdg[3][2] == "."
