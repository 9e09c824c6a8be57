"""Any protected frame and any chart data render: random cells, gaps, negatives, odd labels."""

from __future__ import annotations

import csv
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thbmonitor.report import write_report
from thbmonitor.report.charts import render_chart
from thbmonitor.report.model import Chapter, Chart, Report, Table, Text
from thbmonitor.report.page import locale

from .htmlparse import Page

cells = st.one_of(
    st.integers(min_value=0, max_value=10**7),
    st.sampled_from(["<10", "x", "–", "."]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 2)),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(min_value=0, max_value=6))
    names = draw(
        st.lists(
            st.sampled_from(["form", "victims", "women_pct", "year", "Share (%)", "<b>&", "ü"]),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    return pd.DataFrame(
        {name: draw(st.lists(cells, min_size=n_rows, max_size=n_rows)) for name in names},
        dtype=object,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), lang=st.sampled_from(["en", "nl"]))
def test_any_table_gives_the_same_cells_in_html_csv_and_xlsx(
    frame: pd.DataFrame, lang: str
) -> None:
    table = Table("t", Text("T", "T"), frame, Text("S", "S"))
    report = Report(Text("R", "R"), [Chapter("c", Text("C", "C"), tables=(table,))], {})
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_report(report, Path(tmp), lang)
        with paths["csv:t"].open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        workbook = openpyxl.load_workbook(paths["xlsx"], read_only=True)
        xlsx = [list(r) for r in workbook["t"].iter_rows(values_only=True)]
        workbook.close()
        html = Page(paths["html"].read_text(encoding="utf-8"))
    assert rows[0] == [str(c) for c in frame.columns]
    assert len(rows) == len(frame) + 1
    body = [r[: frame.shape[1]] for r in xlsx[2 : 2 + len(frame)]]
    for csv_row, xlsx_row, values in zip(
        rows[1:], body, frame.itertuples(index=False), strict=True
    ):
        for text, cell, value in zip(csv_row, xlsx_row, values, strict=True):
            if isinstance(value, str):
                assert text == value and (cell or "") == value
            else:
                assert float(text) == float(value) == float(cell)  # type: ignore[arg-type]
    (parsed,) = [t for t in html.tables if "data" in t.classes.split()]
    assert len(parsed.rows) == len(frame)
    assert all(len(r) == frame.shape[1] for r in parsed.rows)


values = st.one_of(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False), st.just(math.nan))


@st.composite
def chart_data(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=12))
    xs = draw(
        st.one_of(
            st.lists(st.integers(min_value=1990, max_value=2030), min_size=n, max_size=n),
            st.lists(st.sampled_from(["a", "b", "<c>", "long label " * 3]), min_size=n, max_size=n),
        )
    )
    y = draw(st.lists(values, min_size=n, max_size=n))
    spread = draw(st.lists(st.floats(min_value=0, max_value=100), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "x": xs,
            "series": draw(st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=n, max_size=n)),
            "y": y,
            "lower": np.array(y, dtype=float) - np.array(spread, dtype=float),
            "upper": np.array(y, dtype=float) + np.array(spread, dtype=float),
        }
    )


@settings(max_examples=60, deadline=None)
@given(data=chart_data(), kind=st.sampled_from(["line", "bar"]), lang=st.sampled_from(["en", "nl"]))
def test_any_chart_is_well_formed_svg_without_nan(data: pd.DataFrame, kind: str, lang: str) -> None:
    chart = Chart("k", Text("<T>", "<T>"), data, kind=kind, x_label=Text("x", "x"))
    svg = render_chart(chart, lang, locale(lang))
    root = ET.fromstring(svg)  # well-formed, text escaped
    assert root.find("title").text == "<T>"  # type: ignore[union-attr]
    assert "nan" not in svg.lower().replace("nl", "") and "inf" not in re.sub(r"[a-z]+inf", "", svg)
    finite = int(np.isfinite(data["y"].to_numpy(float)).sum())
    if kind == "bar":
        assert len(root.findall(".//rect[@class='bar']")) == finite
    else:
        markers = [
            e
            for g in root.findall(".//g")
            if (g.get("class") or "").startswith("series")
            for e in g
            if e.tag in ("circle", "rect", "polygon") and e.get("class") != "band"
        ]
        assert len(markers) == finite


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    """Steps of 1, 2, 2.5 or 5 times a power of ten (the classic Heckbert 'nice numbers')."""
    from thbmonitor.report.charts import nice_ticks

    assert nice_ticks(0, 1334) == [0, 500, 1000, 1500]
    assert nice_ticks(-3.2, 12.5) == [-5, 0, 5, 10, 15]
    assert nice_ticks(0, 0.07) == [0, 0.02, 0.04, 0.06, 0.08]
    tiny = nice_ticks(0, 1e-300)
    assert tiny[0] == 0 and tiny[-1] >= 1e-300 and len(set(tiny)) == len(tiny)
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_nice_ticks_survive_extreme_ranges() -> None:
    """Subnormal and overflowing spans fall back to a plain two-tick axis instead of failing."""
    from thbmonitor.report.charts import nice_ticks

    assert nice_ticks(0, 5e-324) == [0, 1]
    assert nice_ticks(-1e308, 1e308) == [0, 1]


def test_long_curves_have_no_point_markers_and_a_folded_figure_table(tmp_path: Path) -> None:
    """A 200-point curve is a plain line (a lone point after a gap keeps its marker); its
    figure table folds into <details> so the page stays readable."""
    x = np.linspace(0, 7, 200)
    y = np.sqrt(x)
    y[150] = y[152] = math.nan  # point 151 stands alone
    data = pd.DataFrame({"x": x, "y": y})
    chart = Chart("curve", Text("Curve", "Curve"), data)
    root = ET.fromstring(render_chart(chart, "en", locale("en")))
    group = root.find(".//g[@class='series s0']")
    assert group is not None
    assert len(group.findall("polyline")) == 2 and len(group.findall("circle")) == 1
    report = Report(Text("r", "r"), [Chapter("c", Text("c", "c"), charts=(chart,))], {})
    html = write_report(report, tmp_path, "en")["html"].read_text(encoding="utf-8")
    assert '<details class="chart-data"><summary>Figures of the chart</summary>' in html
