"""CSV, XLSX and results.json hold the same cells and figures; writing is all or nothing."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from thbmonitor.errors import ReportError
from thbmonitor.output_folder import MARKER
from thbmonitor.report import publish, write_report
from thbmonitor.report.jsonsafe import to_jsonable
from thbmonitor.report.model import Chapter, Headline, Report, Table, Text
from thbmonitor.report.tables import sheet_names, table_cells

from .conftest import make_report


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _same_cell(xlsx: object, text: str) -> bool:
    """XLSX keeps one number type (90.0 reads back as 90): numbers compare by value."""
    if isinstance(xlsx, int | float) and not isinstance(xlsx, bool):
        return float(text) == float(xlsx)
    return xlsx == text


def test_files_are_written(written: dict[str, dict[str, Path]], report: Report) -> None:
    paths = written["en"]
    keys = [t.key for c in report.chapters for t in c.tables]
    assert set(paths) == {"html", "results", "xlsx"} | {f"csv:{k}" for k in keys}
    assert all(p.is_file() for p in paths.values())
    out = paths["html"].parent
    assert sorted(p.name for p in (out / "tables").iterdir()) == sorted(f"{k}.csv" for k in keys)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]


def test_csv_holds_counts_markers_and_percent_columns(
    written: dict[str, dict[str, Path]],
) -> None:
    rows = _read_csv(written["en"]["csv:victims_by_form"])
    assert rows == [
        ["form", "victims", "women", "women_pct"],
        ["sexual exploitation", "1334", "1201", "90.0"],
        ["labour exploitation", "512", "87", "17.0"],
        ["criminal exploitation", "<10", "–", "."],
        ["other", "x", "x", "."],
    ]
    by_year = _read_csv(written["en"]["csv:victims_by_year"])
    assert by_year[0] == ["group", "2021", "2022", "2023"]  # the named index leads
    assert by_year[2] == ["of which minors under 12", "<10", "<10", "–"]
    # machine-readable: the same file for either language
    for key in ("victims_by_form", "victims_by_year", "mse_models"):
        en, nl = written["en"][f"csv:{key}"], written["nl"][f"csv:{key}"]
        assert en.read_bytes() == nl.read_bytes()
        assert not en.read_bytes().startswith(b"\xef\xbb\xbf")


def test_csv_reads_back_into_the_frame(written: dict[str, dict[str, Path]]) -> None:
    """pandas reads the counts of an unsuppressed column back as integers, percents as floats."""
    frame = pd.read_csv(written["en"]["csv:mse_models"])
    assert frame["year"].dtype.kind == "i" and frame["aic"].tolist() == [12.3456, 10.1, 9.87]
    forms = pd.read_csv(written["en"]["csv:victims_by_form"], keep_default_na=False)
    assert forms["victims"].tolist() == ["1334", "512", "<10", "x"]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_xlsx_holds_the_same_cells_as_csv(
    written: dict[str, dict[str, Path]], lang: str, report: Report
) -> None:
    workbook = openpyxl.load_workbook(written[lang]["xlsx"], read_only=True)
    tables = [t for c in report.chapters for t in c.tables]
    assert workbook.sheetnames == [t.key for t in tables]
    for table in tables:
        sheet = [list(r) for r in workbook[table.key].iter_rows(values_only=True)]
        csv_rows = _read_csv(written[lang][f"csv:{table.key}"])
        width = len(csv_rows[0])
        assert sheet[0][0] == table.title(lang)
        header = [table.columns[h](lang) if h in table.columns else h for h in csv_rows[0]]
        assert sheet[1][:width] == header
        body = [row[:width] for row in sheet[2 : 2 + len(csv_rows) - 1]]
        assert len(body) == len(csv_rows) - 1
        for xlsx_row, csv_row in zip(body, csv_rows[1:], strict=True):
            assert all(_same_cell(v, t) for v, t in zip(xlsx_row, csv_row, strict=True))
        for row in body:  # counts are numbers, markers are text
            for value in row:
                assert (
                    isinstance(value, int | float)
                    or value in ("<10", "x", "–", ".")
                    or (isinstance(value, str) and not value.replace(".", "").isdigit())
                )
        tail = [row[:2] for row in sheet[2 + len(csv_rows) :] if any(row)]
        source = "Source" if lang == "en" else "Bron"
        assert tail[-1][0] == f"{source}: {table.source(lang)}"
        markers = [row[0] for row in tail if row[0] in ("<10", "x", "–", ".")]
        assert markers == (["<10", "x", "–", "."] if table.legend else [])
    workbook.close()


def test_xlsx_number_formats(written: dict[str, dict[str, Path]]) -> None:
    sheet = openpyxl.load_workbook(written["nl"]["xlsx"])["victims_by_form"]
    assert sheet["B3"].value == 1334 and sheet["B3"].number_format == "#,##0"
    assert sheet["D3"].value == 90.0 and sheet["D3"].number_format == "#,##0.0"
    assert sheet["B5"].value == "<10" and sheet["B5"].data_type == "s"


def test_results_json_round_trips(written: dict[str, dict[str, Path]], report: Report) -> None:
    text = written["en"]["results"].read_text(encoding="utf-8")
    document = json.loads(text)
    assert document == {**to_jsonable(report.results), "facts": to_jsonable(report.facts)}
    assert document["registered_total"] == 1334
    assert document["followup"] == {"ci_7y": 12.5, "ci_3y": None}  # NaN -> null
    assert document["years"] == [2019, 2020]
    assert "NaN" not in text and text.startswith("{\n  ")  # strict JSON, pretty-printed
    assert json.loads(json.dumps(document)) == document


def test_to_jsonable_converts_numpy_pandas_and_rejects_the_unknown() -> None:
    value = {
        1: np.float32(0.5),
        "b": (np.bool_(True), pd.Timestamp("2023-12-31"), math.inf, pd.NA),
        "c": pd.Series([1, 2]),
    }
    assert to_jsonable(value) == {
        "1": 0.5,
        "b": [True, "2023-12-31T00:00:00", None, None],
        "c": [1, 2],
    }
    with pytest.raises(ReportError, match=r"\$\.x"):
        to_jsonable({"x": object()})


def test_sheet_names_are_short_unique_and_valid() -> None:
    keys = ["a" * 40, "a" * 40 + "b", "A" * 31, "x[1]:y?", "plain"]
    names = sheet_names(keys)
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[0] == "a" * 31 and names[1] == "a" * 29 + "~2" and names[2] == "A" * 29 + "~3"
    assert names[3] == "x_1__y_" and names[4] == "plain"


def test_long_keys_get_unique_sheets_in_the_workbook(tmp_path: Path) -> None:
    frame = pd.DataFrame({"n": [10, 20]})
    tables = tuple(
        Table(f"victims_by_municipality_and_year_{i}", Text("t", "t"), frame, Text("s", "s"))
        for i in range(3)
    )
    report = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=tables)], {})
    paths = write_report(report, tmp_path, "en")
    workbook = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    names = workbook.sheetnames
    workbook.close()
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: None, "language"),
        (lambda r: r.chapters[0].tables[0].__dict__.update(key="../evil"), "file name"),
        (lambda r: r.results.update(registered_total=1335), "differs"),
    ],
)
def test_bad_reports_are_refused_before_writing(
    tmp_path: Path, mutate: object, message: str
) -> None:
    report = make_report()
    lang = "fr" if message == "language" else "en"
    mutate(report)  # type: ignore[operator]
    with pytest.raises(ReportError, match=message):
        write_report(report, tmp_path / "out", lang)
    assert list(tmp_path.iterdir()) in ([], [tmp_path / "out"])
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_duplicate_table_keys_are_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"n": [10]})
    tables = (
        Table("same", Text("a", "a"), frame, Text("s", "s")),
        Table("SAME", Text("b", "b"), frame, Text("s", "s")),
    )
    report = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=tables)], {})
    with pytest.raises(ReportError, match="used twice"):
        write_report(report, tmp_path, "en")


def test_a_failed_run_leaves_the_previous_report_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    write_report(make_report(), out, "en")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(report: Report, lang: str) -> str:
        raise RuntimeError("renderer crashed")

    changed = make_report()
    changed.title = Text("Another title", "Andere titel")
    changed.chapters = changed.chapters[:1]  # the mse_models table is gone in this run
    monkeypatch.setattr(publish, "render_html", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_report(changed, out, "en")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]  # no staging left

    monkeypatch.undo()
    write_report(changed, out, "en")  # a good run removes the tables the last one wrote
    assert sorted(p.name for p in (out / "tables").iterdir()) == [
        "victims_by_form.csv",
        "victims_by_year.csv",
    ]
    assert "Another title" in (out / "report.html").read_text(encoding="utf-8")


def test_headline_missing_from_results_is_refused(tmp_path: Path) -> None:
    """Every figure the report shows must be in results.json: nothing is written otherwise."""
    chapter = Chapter("c", Text("c", "c"), headlines=(Headline("lonely", Text("n", "n"), 3),))
    report = Report(Text("r", "r"), [chapter], {})
    with pytest.raises(ReportError, match="'lonely'"):
        write_report(report, tmp_path, "nl")
    assert not (tmp_path / "report.html").exists()


def test_table_cells_move_a_named_index_into_columns() -> None:
    frame = pd.DataFrame(
        {"n": [np.int64(12), 7.0]},
        index=pd.MultiIndex.from_tuples([("a", 2022), ("b", 2023)], names=["g", None]),
    )
    header, rows = table_cells(Table("t", Text("t", "t"), frame, Text("s", "s")))
    assert header == ["g", "level_1", "n"]
    assert rows == [["a", 2022, 12], ["b", 2023, 7]]


def test_interval_cells_are_localised_in_html_and_plain_in_csv(tmp_path: Path) -> None:
    """A (lower, upper) cell: 'lower–upper' in the column's format; halves away from zero."""
    from .htmlparse import Page

    frame = pd.DataFrame(
        {
            "years": [1, 7],
            "km_pct": [12.25, "<10"],
            "km_ci_pct": [(10.25, 14.5), (math.nan, math.nan)],
        }
    )
    table = Table("ci", Text("Intervals", "Intervallen"), frame, Text("s", "s"))
    report = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), tables=(table,))], {})
    for lang, first in (("en", ["1", "12.3", "10.3–14.5"]), ("nl", ["1", "12,3", "10,3–14,5"])):
        paths = write_report(report, tmp_path / lang, lang)
        page = Page(paths["html"].read_text(encoding="utf-8"))
        assert page.table("Interval").rows == [first, ["7", "<10", "."]]
        assert _read_csv(paths["csv:ci"])[1:] == [
            ["1", "12.25", "10.25–14.5"],
            ["7", "<10", "."],
        ]
        sheet = openpyxl.load_workbook(paths["xlsx"])["ci"]
        assert sheet["C3"].value == "10.25–14.5" and sheet["C4"].value == "."
