"""export --report DIR: the report computed again must show every table as the published one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from thbmonitor.export.run import differing_tables
from thbmonitor.report.model import Chapter, Report, Table, Text
from thbmonitor.report.tables import csv_text, table_cells


def _table(key: str, values: list[object]) -> Table:
    frame = pd.DataFrame(
        {"2019": values, "2020": [12, "x"]}, index=pd.Index(["F", "M"], name="sex")
    )
    return Table(key=key, title=Text(key, key), frame=frame, source=Text("s", "s"))


def test_differing_tables(tmp_path: Path) -> None:
    """The same tables read as published; a changed cell (a hidden figure now shown) and a
    table the published report lacks are named."""
    published = [_table("vic_year_sex", [40, "<10"]), _table("vic_year_age", [30, 11])]
    (tmp_path / "tables").mkdir()
    for t in published:
        (tmp_path / "tables" / f"{t.key}.csv").write_text(csv_text(*table_cells(t)))
    same = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=tuple(published))], {})
    assert differing_tables(same, tmp_path) == []
    now = [_table("vic_year_sex", [40, 7]), published[1], _table("vic_year_org", [1, 2])]
    other = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=tuple(now))], {})
    assert differing_tables(other, tmp_path) == ["vic_year_sex", "vic_year_org"]
