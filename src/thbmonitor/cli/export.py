"""The export command: one year's deliveries to Eurostat and UNODC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thbmonitor.cli.common import (
    ConfigOption,
    ForceOption,
    LangOption,
    ProfileOption,
    ReleaseOption,
    Steps,
    app,
    print_outputs,
    progress,
    settings_from,
)


@app.command("export")
def export_command(
    store: Annotated[Path, typer.Option("--store", help="The linked monitoring store.")],
    year: Annotated[int, typer.Option("--year", help="The year to deliver.")],
    fmt: Annotated[
        str, typer.Option("--format", help="eurostat (long CSV), sdmx (SDMX-CSV) or unodc.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the delivery files.")],
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="The store's published report folder: every table must come out the same.",
        ),
    ] = None,
    profile: ProfileOption = None,
    lang: LangOption = None,
    release: ReleaseOption = None,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """Write one year's delivery, protected in one release with the store's report and
    audited jointly with it (the report is computed again in memory, not written; with
    --report, checked against the published one)."""
    from thbmonitor.export import EXPORT_STEPS, prepare_export, run_export

    settings = settings_from(config, language=lang, disclosure_release=release, profile=profile)
    prepare_export(settings, fmt, year, out, force=force, report_dir=report, store_path=store)
    with progress() as bar:
        steps = Steps(bar, EXPORT_STEPS)
        files = run_export(store, settings, year, fmt, out, steps, force=force, report_dir=report)
        steps.finish()
    print_outputs(files)
