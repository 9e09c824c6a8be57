"""A hand-made report for the renderer tests: markers, NaN gaps, bands, both languages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thbmonitor.report.model import Chapter, Chart, Headline, Report, Table, Text


def make_report() -> Report:
    """Two chapters, three tables, three charts; figures invented for the test."""
    by_form = pd.DataFrame(
        {
            "form": [
                "sexual exploitation",
                "labour exploitation",
                "criminal exploitation",
                "other",
            ],
            "victims": [1334, 512, "<10", "x"],
            "women": [1201, 87, "–", "x"],
            "women_pct": [90.0, 17.0, ".", "."],
        }
    )
    by_year = pd.DataFrame(
        {"2021": [1012, "<10"], "2022": [np.int64(1187), "<10"], "2023": [1334, "–"]},
        index=pd.Index(["registered", "of which minors under 12"], name="group"),
    )
    estimates = pd.DataFrame(
        {
            "model": ["independence", "[AB][C]", "[AB][AC]"],
            "estimate": [5321.25, 6012.5, 7100.0],
            "lower": [4700.5, 5100.0, 5600.0],
            "upper": [6100.75, 7300.0, 9800.0],
            "aic": [12.3456, 10.1, 9.87],
            "year": [2023, 2023, 2023],
        }
    )
    trend = pd.DataFrame(
        {
            "x": [2019, 2020, 2021, 2022, 2023] * 2,
            "series": ["registered"] * 5 + ["estimated"] * 5,
            "y": [
                1200.0,
                958.0,
                1012.0,
                1187.0,
                1334.0,
                5000.0,
                math.nan,
                5500.0,
                math.nan,
                6012.5,
            ],
            "lower": [math.nan] * 5 + [4000.0, math.nan, 4600.0, math.nan, 5100.0],
            "upper": [math.nan] * 5 + [6100.0, math.nan, 6500.0, math.nan, 7300.0],
        }
    )
    bars = pd.DataFrame(
        {
            "x": ["sexual", "labour", "criminal", "sexual", "labour", "criminal"],
            "series": ["women", "women", "women", "men", "men", "men"],
            "y": [1201.0, 87.0, math.nan, 133.0, 425.0, math.nan],
        }
    )
    incidence = pd.DataFrame(
        {
            "x": [0.0, 0.5, 1.0, 2.0, 3.5, 5.0, 7.0],
            "y": [0.0, 2.5, 4.0, math.nan, 8.25, 10.0, 12.5],
            "lower": [0.0, 1.5, 3.0, math.nan, 6.5, 8.0, 10.0],
            "upper": [0.0, 3.5, 5.0, math.nan, 10.0, 12.0, 15.0],
        }
    )
    monitor = Chapter(
        key="monitor",
        title=Text("Registered victims", "Geregistreerde slachtoffers"),
        intro=Text(
            "Registrations of presumed victims by form of exploitation.",
            "Registraties van mogelijke slachtoffers naar uitbuitingsvorm.",
        ),
        method=Text("Counts of unique persons per year.", "Aantallen unieke personen per jaar."),
        headlines=(
            Headline(
                "registered_total",
                Text(
                    "{value} presumed victims were registered in 2023.",
                    "In 2023 werden {value} mogelijke slachtoffers geregistreerd.",
                ),
                1334,
            ),
            Headline(
                "women_pct",
                Text("Share of women among the sexually exploited:", "Aandeel vrouwen:"),
                90.0,
            ),
        ),
        tables=(
            Table(
                key="victims_by_form",
                title=Text("Victims by form of exploitation, 2023", "Slachtoffers naar vorm, 2023"),
                frame=by_form,
                source=Text("CoMensha registrations", "Registraties CoMensha"),
                note=Text("Persons counted once.", "Personen één keer geteld."),
                columns={
                    "form": Text("Form of exploitation", "Uitbuitingsvorm"),
                    "victims": Text("Victims", "Slachtoffers"),
                    "women_pct": Text("Women (%)", "Vrouwen (%)"),
                },
            ),
            Table(
                key="victims_by_year",
                title=Text("Victims by year", "Slachtoffers per jaar"),
                frame=by_year,
                source=Text("CoMensha registrations", "Registraties CoMensha"),
            ),
        ),
        charts=(
            Chart(
                key="trend",
                title=Text("Registered and estimated victims", "Geregistreerde en geschatte"),
                data=trend,
                x_label=Text("Year", "Jaar"),
                y_label=Text("Victims", "Slachtoffers"),
                series_labels={
                    "registered": Text("Registered", "Geregistreerd"),
                    "estimated": Text("Estimated (95% CI)", "Geschat (95%-BI)"),
                },
            ),
            Chart(
                key="by_sex",
                title=Text("Victims by form and sex", "Slachtoffers naar vorm en geslacht"),
                data=bars,
                kind="bar",
            ),
        ),
    )
    hidden = Chapter(
        key="hidden",
        title=Text("Hidden numbers", "Verborgen aantallen"),
        intro=Text("Multiple systems estimation.", "Meervoudige systeemschatting."),
        headlines=(
            Headline(
                "mse.estimate",
                Text("Estimated number of victims:", "Geschat aantal slachtoffers:"),
                {"value": 6012.5, "lower": 5100.0, "upper": 7300.0},
            ),
        ),
        tables=(
            Table(
                key="mse_models",
                title=Text("Log-linear models", "Log-lineaire modellen"),
                frame=estimates,
                source=Text("Own calculation", "Eigen berekening"),
                legend=False,
            ),
        ),
        charts=(
            Chart(
                key="revictimisation",
                title=Text("Cumulative incidence", "Cumulatieve incidentie"),
                data=incidence,
                x_label=Text("Years since registration", "Jaren sinds registratie"),
                y_label=Text("Per cent", "Procent"),
            ),
        ),
    )
    return Report(
        title=Text("Victims Monitor 2023", "Slachtoffermonitor 2023"),
        chapters=[monitor, hidden],
        results={
            "registered_total": np.int64(1334),
            "women_pct": np.float64(90.0),
            "mse": {"estimate": {"value": 6012.5, "lower": 5100.0, "upper": 7300.0}},
            "followup": {"ci_7y": 12.5, "ci_3y": math.nan},
            "years": np.array([2019, 2020]),
        },
        facts={
            "window": [2019, 2023],
            "data_end": "2023-12-31",
            "version": "0.1.0",
            "seed": 20240101,
        },
    )


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The report written once per language (session-scoped: shared by all report tests)."""
    from thbmonitor.report import write_report

    out: dict[str, dict[str, Path]] = {}
    for lang in ("en", "nl"):
        out[lang] = write_report(make_report(), tmp_path_factory.mktemp(f"report_{lang}"), lang)
    return out
