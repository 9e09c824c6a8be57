"""The HTML report: self-contained, every table with legend and source, numbers per language."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from thbmonitor.report import render_html
from thbmonitor.report.jsonsafe import lookup
from thbmonitor.report.model import Report, Text

from .htmlparse import Page

LOADING_ATTRIBUTES = ("src", "href", "srcset", "action", "poster", "data", "formaction")
LEGEND = {
    "en": [
        "1 to 9, suppressed",
        "suppressed to protect another cell",
        "true zero",
        "not available",
    ],
    "nl": [
        "1 tot en met 9, geheimgehouden",
        "geheimgehouden om een andere cel te beschermen",
        "nihil (werkelijk nul)",
        "gegevens ontbreken",
    ],
}


def _html(written: dict[str, dict[str, Path]], lang: str) -> str:
    return written[lang]["html"].read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_page_loads_nothing_from_outside(written: dict[str, dict[str, Path]], lang: str) -> None:
    html = _html(written, lang)
    page = Page(html)
    for tag, attrs in page.elements:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed", "base", "audio")
        for name in (*LOADING_ATTRIBUTES, "xlink:href"):
            if name in attrs:
                assert attrs[name].startswith("#"), f"<{tag} {name}> points outside the page"
    assert not re.search(r"https?://|//[a-z0-9]", html.split("</style>")[0].split("<style>")[1])
    assert "@import" not in html and "@font-face" not in html
    assert re.findall(r"url\(([^)]*)\)", html) == [
        u for u in re.findall(r"url\(([^)]*)\)", html) if u.startswith("#")
    ]
    policy = "Content-Security-Policy"
    csp = [a["content"] for _, a in page.elements if a.get("http-equiv") == policy]
    assert csp and "default-src 'none'" in csp[0]
    assert ("html", {"lang": lang}) in page.elements


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_table_has_title_legend_and_source(
    written: dict[str, dict[str, Path]], lang: str, report: Report
) -> None:
    html = _html(written, lang)
    page = Page(html)
    tables = [t for c in report.chapters for t in c.tables]
    assert len([t for t in page.tables if "data" in t.classes.split()]) == len(tables)
    for table in tables:
        parsed = page.table(table.title(lang))
        assert len(parsed.rows) == len(table.frame)
        block = html.split(f'id="table-{table.key}"')[1].split('class="table-block"')[0]
        assert f"{'Source' if lang == 'en' else 'Bron'}: {table.source(lang)}" in block
        for meaning in LEGEND[lang]:
            assert (meaning in block) is table.legend
        for marker in ("&lt;10", "<dt>x</dt>", "<dt>–</dt>", "<dt>.</dt>"):
            assert (marker in block) is table.legend


@pytest.mark.parametrize(
    ("lang", "row", "expected"),
    [
        ("en", 0, ["sexual exploitation", "1,334", "1,201", "90.0"]),
        ("nl", 0, ["sexual exploitation", "1.334", "1.201", "90,0"]),
        ("en", 2, ["criminal exploitation", "<10", "–", "."]),
        ("nl", 3, ["other", "x", "x", "."]),
    ],
)
def test_cells_are_formatted_per_language(
    written: dict[str, dict[str, Path]], lang: str, row: int, expected: list[str]
) -> None:
    """en: 1,334 and 90.0; nl: 1.334 and 90,0 (CLDR en_GB / nl_NL, see test_formatting)."""
    title = {"en": "Victims by form of exploitation", "nl": "Slachtoffers naar vorm"}[lang]
    table = Page(_html(written, lang)).table(title)
    assert table.rows[row] == expected
    assert table.header[0] == ("Form of exploitation" if lang == "en" else "Uitbuitingsvorm")
    assert table.header[3] == ("Women (%)" if lang == "en" else "Vrouwen (%)")


def test_float_columns_keep_their_decimals_and_years_no_separator(
    written: dict[str, dict[str, Path]],
) -> None:
    """Each float column shows the fewest decimals (max 3) that show all its values."""
    table = Page(_html(written, "nl")).table("Log-lineaire modellen")
    assert table.rows[0] == ["independence", "5.321,25", "4.700,5", "6.100,75", "12,346", "2023"]
    assert table.rows[1] == ["[AB][C]", "6.012,50", "5.100,0", "7.300,00", "10,100", "2023"]
    by_year = Page(_html(written, "en")).table("Victims by year")
    assert by_year.header == ["group", "2021", "2022", "2023"]
    assert by_year.rows[1] == ["of which minors under 12", "<10", "<10", "–"]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_headline_figures_carry_their_raw_value(
    written: dict[str, dict[str, Path]], lang: str, report: Report
) -> None:
    page = Page(_html(written, lang))
    keys = {h.key for c in report.chapters for h in c.headlines}
    assert {f.key for f in page.figures} == keys
    assert len(page.figures) == 2 * len(keys)  # once in key findings, once in the chapter
    results = json.loads(written[lang]["results"].read_text(encoding="utf-8"))
    for figure in page.figures:
        assert json.loads(figure.raw) == lookup(results, figure.key)
    shown = {f.key: f.text for f in page.figures}
    assert shown["registered_total"] == ("1,334" if lang == "en" else "1.334")
    assert shown["women_pct"] == ("90.0%" if lang == "en" else "90,0%")
    expected = "6,012.5 (5,100–7,300)" if lang == "en" else "6.012,5 (5.100–7.300)"
    assert shown["mse.estimate"] == expected
    sentence = "presumed victims were registered" if lang == "en" else "In 2023 werden"
    assert sentence in page.text


def test_layout_order_title_facts_contents_findings_chapters(
    written: dict[str, dict[str, Path]],
) -> None:
    html = _html(written, "en")
    positions = [
        html.index("<h1>Victims Monitor 2023</h1>"),
        html.index("Monitoring window"),
        html.index('id="contents"'),
        html.index('id="key-findings"'),
        html.index('id="ch-monitor"'),
        html.index('id="ch-hidden"'),
    ]
    assert positions == sorted(positions)
    assert "<dd>2019–2023</dd>" in html and "<dd>20240101</dd>" in html
    assert "Multiple systems estimation." in html and "Counts of unique persons" in html
    assert "<title>Victims Monitor 2023</title>" in html
    assert '<html lang="en">' in html


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_charts_are_accessible_svg_with_gaps_and_bands(
    written: dict[str, dict[str, Path]], lang: str
) -> None:
    html = _html(written, lang)
    svgs = {
        re.search(r'id="([^"]+)"', s).group(1): ET.fromstring(s)  # type: ignore[union-attr]
        for s in re.findall(r"<svg.*?</svg>", html, flags=re.S)
    }
    assert set(svgs) == {"chart-trend", "chart-by_sex", "chart-revictimisation"}
    for svg in svgs.values():
        assert svg.get("role") == "img"
        assert svg.find("title") is not None and svg.find("title").text  # type: ignore[union-attr]
        assert svg.find("desc") is not None and svg.find("desc").text  # type: ignore[union-attr]

    def series(chart: str, index: int) -> ET.Element:
        found = svgs[chart].find(f".//g[@class='series s{index}']")
        assert found is not None
        return found

    # trend: 'registered' is one unbroken line of 5 points; 'estimated' has NaN at 2020 and
    # 2022, so three lone points, each with a whisker and no line or band between them.
    registered, estimated = series("chart-trend", 0), series("chart-trend", 1)
    assert len(registered.findall("polyline")) == 1
    assert len(registered.find("polyline").get("points").split()) == 5  # type: ignore[union-attr]
    assert estimated.findall("polyline") == [] and estimated.findall("polygon[@class='band']") == []
    assert len(estimated.findall("line[@class='whisker']")) == 3
    # revictimisation: NaN at t=2 splits line and band into two pieces (3 + 3 points).
    curve = series("chart-revictimisation", 0)
    lines = curve.findall("polyline")
    assert [len(p.get("points", "").split()) for p in lines] == [3, 3]
    assert len(curve.findall("polygon[@class='band']")) == 2
    # bars: two NaN of six are not drawn.
    bars = svgs["chart-by_sex"].findall(".//rect[@class='bar']")
    assert len(bars) == 4
    gap = "not shown" if lang == "en" else "niet getoond"
    assert html.count(f'<td class="marker">{gap}</td>') == 2 + 2 + 1
    axis = "Years since registration" if lang == "en" else "Jaren sinds registratie"
    assert axis in html


def test_text_is_escaped(report: Report) -> None:
    report.title = Text("<script>alert(1)</script> & co", "<b>x</b>")
    html = render_html(report, "en")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_print_css_hides_navigation_and_keeps_tables_whole(
    written: dict[str, dict[str, Path]],
) -> None:
    css = _html(written, "en").split("@media print")[1]
    assert re.search(r"nav\.toc[^{]*\{\s*display:\s*none", css)
    assert "break-inside: avoid" in css and "thead { display: table-header-group; }" in css


@pytest.mark.parametrize(
    ("lang", "caption", "header", "rows"),
    [
        (
            "en",
            "Registered and estimated",
            ["Year", "Registered", "Estimated (95% CI)"],
            {0: ["2019", "1,200", "5,000.0 (4,000–6,100)"], 1: ["2020", "958", "not shown"]},
        ),
        (
            "nl",
            "Geregistreerde en geschatte",
            ["Jaar", "Geregistreerd", "Geschat (95%-BI)"],
            {4: ["2023", "1.334", "6.012,5 (5.100–7.300)"]},
        ),
        (
            "nl",
            "Cumulatieve incidentie",
            ["Jaren sinds registratie", "Procent"],
            {1: ["0,5", "2,50 (1,5–3,5)"], 3: ["2,0", "niet getoond"]},
        ),
        (
            "en",
            "by form and sex",
            ["x", "women", "men"],
            {2: ["criminal", "not shown", "not shown"]},
        ),
    ],
)
def test_chart_figures_table_is_wide_with_intervals(
    written: dict[str, dict[str, Path]],
    lang: str,
    caption: str,
    header: list[str],
    rows: dict[int, list[str]],
) -> None:
    """Each chart has a table: one row per x, one column per series, interval in brackets."""
    html = _html(written, lang)
    figure = [
        block for block in html.split("<figure")[1:] if caption in block.split("</figcaption>")[0]
    ]
    assert len(figure) == 1
    table = next(t for t in Page("<figure" + figure[0]).tables if "chart-data" in t.classes)
    assert table.header == header
    for index, expected in rows.items():
        assert table.rows[index][: len(expected)] == expected


def test_table_decimals_override_and_empty_facts(tmp_path: Path) -> None:
    """Table.decimals fixes a column's decimals in HTML and XLSX; a None fact is left out."""
    import openpyxl
    import pandas as pd

    from thbmonitor.report import write_report
    from thbmonitor.report.model import Chapter, Table

    frame = pd.DataFrame({"estimate": [5321.25, 6012.5], "ratio": [1.23456, 0.5]})
    table = Table(
        "est", Text("Estimates", "Schattingen"), frame, Text("s", "s"), decimals={"estimate": 0}
    )
    report = Report(
        Text("r", "r"), [Chapter("c", Text("c", "c"), tables=(table,))], {}, {"data_end": None}
    )
    paths = write_report(report, tmp_path, "nl")
    html = paths["html"].read_text(encoding="utf-8")
    assert Page(html).table("Schattingen").rows == [["5.321", "1,235"], ["6.013", "0,500"]]
    assert "Gegevens tot en met" not in html
    workbook = openpyxl.load_workbook(paths["xlsx"])
    assert workbook["est"]["A3"].number_format == "#,##0"
    assert workbook["est"]["B3"].number_format == "#,##0.000"
    assert workbook["est"]["A3"].value == 5321.25  # the cell keeps the full value


def test_label_columns_and_index_are_row_headers(written: dict[str, dict[str, Path]]) -> None:
    """Screen readers announce each cell with its row label: labels are <th scope="row">."""
    html = _html(written, "en")
    assert '<th scope="row">sexual exploitation</th>' in html  # leading label column
    assert '<th scope="row">of which minors under 12</th>' in html  # named index
    assert '<th scope="row">independence</th>' in html


def test_a_chapter_of_headlines_only_appears_once_in_the_key_findings() -> None:
    """A 'key findings' chapter without text, tables or charts is not repeated as a chapter."""
    from thbmonitor.report.model import Chapter, Headline

    summary = Chapter(
        "key_findings",
        Text("Key findings", "Belangrijkste bevindingen"),
        headlines=(Headline("n", Text("{value} victims.", "{value} slachtoffers."), 1334),),
    )
    body = Chapter("body", Text("Body", "Hoofdtekst"), intro=Text("i", "i"))
    report = Report(Text("r", "r"), [summary, body], {"n": 1334})
    page = Page(render_html(report, "nl"))
    assert [a.get("href") for t, a in page.elements if t == "a"][1:] == [
        "#key-findings",
        "#ch-body",
    ]
    assert page.text.count("Belangrijkste bevindingen") == 2  # TOC entry and section heading
    assert [f.text for f in page.figures] == ["1.334"]
