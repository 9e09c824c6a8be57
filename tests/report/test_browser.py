"""The report in headless Chromium: it renders, requests nothing, and shows results.json's figures.

Chromium is driven over the DevTools protocol (``thbmonitor.report.browser``); every request the
page sends is recorded from ``Network.requestWillBeSent``. Two control pages show that the
recorder does see an outside request, and that a request blocked by the page's
Content-Security-Policy is reported as an error, so a pass is not a deaf recorder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from thbmonitor.report.browser import Browser, PageLoad, find_chromium
from thbmonitor.report.formatting import format_value
from thbmonitor.report.jsonsafe import lookup
from thbmonitor.report.verify import verify_report

from .htmlparse import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("report-browser"),  # one worker, one Chromium for all of them
    pytest.mark.skipif(
        find_chromium() is None and os.environ.get("CI") != "true",  # in CI: fail, never skip
        reason="chromium is not installed (Debian: apt-get install chromium); CI installs it",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as running:
        yield running


@pytest.fixture(scope="module")
def loads(browser: Browser, written: dict[str, dict[str, Path]]) -> dict[str, PageLoad]:
    return {lang: browser.load(paths["html"]) for lang, paths in written.items()}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_report_renders_and_requests_nothing(loads: dict[str, PageLoad], lang: str) -> None:
    load = loads[lang]
    assert load.requests == (load.url,)  # the file:// document itself, nothing else
    assert load.external_requests() == []
    assert load.errors == ()
    page = Page(load.dom)
    assert len([t for t in page.tables if "data" in t.classes.split()]) == 3
    assert load.dom.count("<svg") == 3


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_headline_numbers_equal_results_json(
    loads: dict[str, PageLoad], written: dict[str, dict[str, Path]], lang: str
) -> None:
    """Every data-key figure in the rendered DOM equals results.json, raw and as displayed."""
    results = json.loads(written[lang]["results"].read_text(encoding="utf-8"))
    figures = Page(loads[lang].dom).figures
    assert {f.key for f in figures} == {"registered_total", "women_pct", "mse.estimate"}
    for figure in figures:
        expected = lookup(results, figure.key)
        assert json.loads(figure.raw) == expected
        assert figure.text == format_value(expected, lang, figure.key)


def test_recorder_sees_an_outside_request(browser: Browser, tmp_path: Path) -> None:
    """Control: a page with an outside stylesheet and image; both requests must be recorded."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><head><title>t</title><link rel="stylesheet" '
        'href="http://127.0.0.1:9/a.css"></head><body><img src="http://127.0.0.1:9/x.png" '
        'alt=""></body></html>',
        encoding="utf-8",
    )
    load = browser.load(page)
    assert load.external_requests() == ["http://127.0.0.1:9/a.css", "http://127.0.0.1:9/x.png"]


def test_recorder_reports_a_request_blocked_by_the_policy(browser: Browser, tmp_path: Path) -> None:
    """Control: with the report's CSP an outside image is blocked and shows up as an error."""
    page = tmp_path / "blocked.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'\"><title>t</title></head>"
        '<body><img src="http://127.0.0.1:9/x.png" alt=""></body></html>',
        encoding="utf-8",
    )
    load = browser.load(page)
    assert any("Content Security Policy" in e for e in load.errors)


def test_verify_report_passes_a_good_report_and_catches_a_changed_figure(
    browser: Browser, written: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    good = verify_report(written["nl"]["html"].parent, browser=browser)
    assert good.ok and good.figures == 6 and good.load_seconds > 0

    bad = tmp_path / "bad"
    shutil.copytree(written["en"]["html"].parent, bad)
    document = json.loads((bad / "results.json").read_text(encoding="utf-8"))
    document["registered_total"] = 1335
    del document["women_pct"]
    (bad / "results.json").write_text(json.dumps(document), encoding="utf-8")
    check = verify_report(bad, browser=browser)
    assert not check.ok
    assert check.unmatched == ("registered_total",)
    assert check.missing == ("women_pct",)
    assert check.external_requests == () and check.errors == ()


def test_check_report_command(written: dict[str, dict[str, Path]]) -> None:
    from typer.testing import CliRunner

    from thbmonitor.cli import app

    result = CliRunner().invoke(app, ["check-report", str(written["en"]["html"].parent)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "report OK" in output and "6 headline figures" in output


PRINT_STYLE = """(() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  return {
    nav: style('nav.toc').display,
    chapter: style('#ch-hidden-title').breakBefore,
    thead: style('table.data thead').display,
    block: style('.table-block').breakInside,
  };
})()"""


def test_print_media_hides_navigation_and_keeps_tables_whole(
    browser: Browser, written: dict[str, dict[str, Path]]
) -> None:
    """The computed styles Chromium applies when the page is printed (and on screen)."""
    html = written["nl"]["html"]
    printed = browser.load(html, settle=0.0, media="print", script=PRINT_STYLE).evaluated
    assert printed == {
        "nav": "none",
        "chapter": "page",
        "thead": "table-header-group",
        "block": "avoid",
    }
    screen = browser.load(html, settle=0.0, media="screen", script=PRINT_STYLE).evaluated
    assert screen["nav"] == "block" and screen["chapter"] == "auto"
