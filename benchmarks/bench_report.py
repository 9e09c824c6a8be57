"""Benchmark of the report renderers: writing time, file sizes and browser render time.

Builds a publication-sized report (default: 6 chapters, 36 tables including one of 350
municipalities, 18 charts; invented, seeded figures with markers and gaps), writes it in English
and Dutch, and opens report.html in headless Chromium several times. Goal: render (navigation
start to the end of the load event) under 1 s.

    .venv/bin/python benchmarks/bench_report.py [--chapters 6] [--loads 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.report import write_report
from thbmonitor.report.browser import Browser, find_chromium
from thbmonitor.report.model import Chapter, Chart, Headline, Report, Table, Text

FORMS = ["sexual", "labour", "criminal", "other", "unknown"]
YEARS = list(range(2016, 2024))


def _protect(values: np.ndarray, rng: np.random.Generator) -> list[object]:
    out: list[object] = []
    for v in values:
        if v == 0:
            out.append("–")
        elif v < 10:
            out.append("<10")
        elif rng.random() < 0.05:
            out.append("x")
        else:
            out.append(int(v))
    return out


def build_report(chapters: int, rng: np.random.Generator) -> Report:
    """A report shaped like a yearly monitor; figures are random, not real."""
    built: list[Chapter] = []
    results: dict[str, object] = {}
    for c in range(chapters):
        tables: list[Table] = []
        for t in range(6):
            rows = 350 if (c == 0 and t == 0) else 12
            frame = pd.DataFrame(
                {"group": [f"group {i}" for i in range(rows)]}
                | {
                    str(y): _protect(rng.poisson(rng.uniform(0, 400), rows), rng)
                    for y in YEARS[-6:]
                }
                | {"women_pct": np.round(rng.uniform(0, 100, rows), 1)}
            )
            tables.append(
                Table(
                    key=f"c{c}_table_{t}",
                    title=Text(f"Table {t} of chapter {c}", f"Tabel {t} van hoofdstuk {c}"),
                    frame=frame,
                    source=Text("Registrations", "Registraties"),
                    columns={"women_pct": Text("Women (%)", "Vrouwen (%)")},
                )
            )
        charts: list[Chart] = []
        for k in range(3):
            y = rng.poisson(800, len(YEARS) * len(FORMS)).astype(float)
            y[rng.random(y.size) < 0.1] = np.nan
            data = pd.DataFrame(
                {
                    "x": YEARS * len(FORMS) if k < 2 else np.repeat(FORMS, len(YEARS)),
                    "series": np.repeat(FORMS, len(YEARS)) if k < 2 else YEARS * len(FORMS),
                    "y": y,
                    "lower": y * 0.8,
                    "upper": y * 1.25,
                }
            )
            charts.append(
                Chart(
                    key=f"c{c}_chart_{k}",
                    title=Text(f"Chart {k}", f"Figuur {k}"),
                    data=data,
                    kind="line" if k < 2 else "bar",
                    x_label=Text("Year", "Jaar"),
                    y_label=Text("Victims", "Slachtoffers"),
                )
            )
        headlines = []
        for h in range(4):
            key = f"c{c}.h{h}"
            value = int(rng.integers(100, 5000))
            results.setdefault(f"c{c}", {})[f"h{h}"] = value  # type: ignore[index]
            headlines.append(Headline(key, Text("Figure {value}.", "Cijfer {value}."), value))
        built.append(
            Chapter(
                key=f"chapter{c}",
                title=Text(f"Chapter {c}", f"Hoofdstuk {c}"),
                intro=Text("Introduction. " * 20, "Inleiding. " * 20),
                method=Text("Method. " * 20, "Methode. " * 20),
                headlines=tuple(headlines),
                tables=tuple(tables),
                charts=tuple(charts),
            )
        )
    return Report(
        Text("Benchmark monitor", "Benchmarkmonitor"),
        built,
        results,
        {"window": [YEARS[0], YEARS[-1]], "version": "bench", "seed": 1},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", type=int, default=6)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report = build_report(args.chapters, np.random.default_rng(args.seed))
    n_tables = sum(len(c.tables) for c in report.chapters)
    n_charts = sum(len(c.charts) for c in report.chapters)
    n_cells = sum(t.frame.size for c in report.chapters for t in c.tables)
    print(
        f"report: {len(report.chapters)} chapters, {n_tables} tables ({n_cells} cells), "
        f"{n_charts} charts"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("en", "nl"):
            out = Path(tmp) / lang
            started = time.perf_counter()
            paths = write_report(report, out, lang)
            seconds = time.perf_counter() - started
            sizes = {k: paths[k].stat().st_size / 1024 for k in ("html", "xlsx", "results")}
            print(
                f"write_report[{lang}]: {seconds:.2f} s; report.html {sizes['html']:.0f} KiB, "
                f"tables.xlsx {sizes['xlsx']:.0f} KiB, results.json {sizes['results']:.1f} KiB"
            )
        if find_chromium() is None:
            print("browser render: skipped (no chromium installed)")
            return
        html = Path(tmp) / "en" / "report.html"
        with Browser() as browser:
            loads = [browser.load(html, settle=0.0) for _ in range(args.loads)]
        render = [load.load_seconds for load in loads]
        wall = [load.wall_seconds for load in loads]
        external = {u for load in loads for u in load.external_requests()}
        print(
            f"browser render (navigation start -> load event end), {args.loads} loads: "
            f"median {statistics.median(render):.3f} s, max {max(render):.3f} s "
            f"(goal < 1 s: {'met' if max(render) < 1 else 'NOT met'}); "
            f"wall clock navigate -> load event median {statistics.median(wall):.3f} s"
        )
        print(f"requests outside the page: {len(external)}")


if __name__ == "__main__":
    main()
