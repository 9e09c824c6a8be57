"""Publication commands: protect one's own tables, check a written report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thbmonitor.cli.common import app, console


@app.command("protect")
def protect_command(
    file: Annotated[Path, typer.Argument(help="CSV: a 'table' column, dimensions, 'count'.")],
    out: Annotated[Path, typer.Option("--out", help="Protected tables (CSV, markers).")],
    add_margins: Annotated[
        bool, typer.Option("--add-margins", help="Rows are inner cells; add every Total.")
    ] = False,
    threshold: Annotated[int, typer.Option("--threshold", help="Counts 1..T-1 hidden.")] = 10,
    zeros_disclosive: Annotated[
        bool, typer.Option("--zeros-disclosive", help="Hide zeros like small counts.")
    ] = False,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Ledger of earlier releases (JSON).")
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Name to add this release to the ledger.")
    ] = None,
) -> None:
    """Protect and jointly audit all tables of a release; write only if the audit passes."""
    import pandas as pd

    from thbmonitor.disclosure import (
        DisclosureRules,
        Ledger,
        information_loss,
        legend,
        protect_release,
        tables_from_frame,
    )

    rules = DisclosureRules(threshold=threshold, zeros_disclosive=zeros_disclosive)
    tables = tables_from_frame(pd.read_csv(file), add_margins=add_margins)
    old = Ledger.load(ledger) if ledger is not None and ledger.exists() else Ledger()
    if ledger is not None and release is not None:
        old.check_new(release)  # before anything is protected or written
    result = protect_release(tables, rules, ledger=old)
    result.audit.raise_if_disclosive()
    record = ledger is not None and release is not None
    new = old.with_release(release, result.tables) if record and release else None
    result.display_frame().to_csv(out, index=False)
    if ledger is not None and new is not None:
        new.save(ledger)
    hidden = len(result.audit.intervals)
    typer.echo(f"{len(tables)} table(s) protected; {hidden} hidden cell(s); audit passed")
    loss = information_loss(result.tables)
    for name, f in loss["tables"].items():
        units = "." if f["units_in_hidden_cells"] is None else f["units_in_hidden_cells"]
        typer.echo(
            f"  {name}: {f['primary']} small, {f['complementary']} complementary of "
            f"{f['cells']} cells ({100 * f['hidden_share']:.1f}%); units in hidden cells {units}"
        )
    r = loss["release"]
    typer.echo(
        f"information loss: {r['primary']} small and {r['complementary']} complementary cells "
        f"of {r['cells']} ({100 * r['hidden_share']:.1f}%), "
        f"{r['complementary_per_primary']:.2f} complementary per small cell"
    )
    typer.echo(legend(rules, "en"))
    typer.echo(legend(rules, "nl"))


@app.command("check-report")
def check_report_command(
    folder: Annotated[Path, typer.Argument(help="Folder with report.html and results.json.")],
) -> None:
    """Open report.html in headless Chromium: no requests, no errors, figures = results.json."""
    from thbmonitor.report.verify import verify_report

    check = verify_report(folder)
    console.print(
        f"{check.html}: {check.figures} headline figures, load {check.load_seconds:.3f} s",
        highlight=False,
    )
    for label, items in (
        ("request outside the page", check.external_requests),
        ("browser error", check.errors),
        ("figure differs from results.json", check.unmatched),
        ("figure missing from results.json", check.missing),
    ):
        for item in items:
            console.print(f"  {label}: {item}", highlight=False)
    if not check.ok:
        raise typer.Exit(1)
    console.print("report OK", highlight=False)
