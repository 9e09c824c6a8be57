"""Checking a written report as a reader's browser shows it.

:func:`verify_report` opens ``report.html`` in headless Chromium and checks that it loads
without errors, sends no request beyond the file itself (and ``data:`` URIs), and that every
headline figure on the page (``data-key``/``data-value``) equals its value in ``results.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from thbmonitor.errors import ReportError
from thbmonitor.report.browser import Browser, load_page
from thbmonitor.report.jsonsafe import lookup
from thbmonitor.report.publish import HTML_NAME, RESULTS_NAME, same_value


@dataclass(frozen=True)
class ReportCheck:
    """The outcome of :func:`verify_report`."""

    html: Path
    external_requests: tuple[str, ...]
    errors: tuple[str, ...]  # console and log errors while loading
    figures: int  # headline figures found on the page
    unmatched: tuple[str, ...]  # headline keys whose value differs from results.json
    missing: tuple[str, ...]  # headline keys absent from results.json
    load_seconds: float  # navigation start to the end of the load event

    @property
    def ok(self) -> bool:
        return not (self.external_requests or self.errors or self.unmatched or self.missing)


def verify_report(
    out_dir: Path, chromium: str | None = None, browser: Browser | None = None
) -> ReportCheck:
    """Open ``out_dir/report.html`` in headless Chromium and compare it with results.json.

    ``browser`` reuses a running :class:`Browser`; otherwise one is started for this check.
    """
    html, results_path = Path(out_dir) / HTML_NAME, Path(out_dir) / RESULTS_NAME
    for path in (html, results_path):
        if not path.is_file():
            raise ReportError(f"{path} does not exist; write the report first.")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (ValueError, KeyError) as exc:
        raise ReportError(f"{results_path} is not a thbmonitor results.json: {exc}") from exc
    load = browser.load(html) if browser is not None else load_page(html, chromium)
    unmatched: list[str] = []
    missing: list[str] = []
    for key, raw, _shown in load.figures:
        try:
            expected = lookup(results, key)
        except KeyError:
            missing.append(key)
            continue
        if not same_value(json.loads(raw), expected):
            unmatched.append(key)
    return ReportCheck(
        html=html,
        external_requests=tuple(load.external_requests()),
        errors=load.errors,
        figures=len(load.figures),
        unmatched=tuple(dict.fromkeys(unmatched)),
        missing=tuple(dict.fromkeys(missing)),
        load_seconds=load.load_seconds,
    )
