"""The command line: parse, load settings, call the pipeline, print.

This is the one place where errors become user messages (see :mod:`thbmonitor.errors`).
Each command imports its stage lazily so that ``thbmonitor --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from thbmonitor.config import Settings
from thbmonitor.errors import ThbMonitorError

app = typer.Typer(
    name="thbmonitor",
    help="A yearly monitor of presumed victims of trafficking in human beings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Settings file (TOML).", exists=True)
]


def _settings(config: Path | None, **overrides: object) -> Settings:
    from thbmonitor.config import load_settings

    return load_settings(config, {k: v for k, v in overrides.items() if v is not None})


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command("settings")
def settings_command(config: ConfigOption = None) -> None:
    """Print every setting with its current value and help (as TOML)."""
    from thbmonitor.config import settings_to_toml

    typer.echo(settings_to_toml(_settings(config)), nl=False)


@app.command("ingest")
def ingest_command(
    files: Annotated[list[Path], typer.Argument(help="Registrations or police-register files.")],
    store: Annotated[Path, typer.Option("--store", help="The monitoring store (DuckDB file).")],
    config: ConfigOption = None,
) -> None:
    """Validate, pseudonymise and import CSV, XLSX or Parquet files into the store."""
    from thbmonitor.ingest import ingest_file
    from thbmonitor.pseudonymise import Encoder, load_key
    from thbmonitor.store import open_store

    settings = _settings(config)
    key = load_key(settings.key_file, settings.key_env)
    encoder = Encoder(key, settings.bloom_bits, settings.bloom_hashes)
    with open_store(str(store)) as db, _progress() as bar:
        for path in files:
            task = bar.add_task(path.name, total=None)

            def say(message: str, task: TaskID = task) -> None:
                bar.update(task, description=message)

            result = ingest_file(db, path, encoder, say)
            bar.update(task, total=1, completed=1, description=path.name)
            if result.already_ingested:
                console.print(f"{path.name}: ingested before; nothing added")
            else:
                console.print(f"{path.name}: {result.rows_added:,} {result.kind} rows added")


LangOption = Annotated[str | None, typer.Option("--lang", help="Language of the report: nl or en.")]
ReleaseOption = Annotated[
    str | None,
    typer.Option(
        "--release",
        help="Add this release to the disclosure ledger once the audit passes "
        "(setting disclosure_release; needs disclosure_ledger).",
    ),
]


class _Steps:
    """A progress bar over the named steps of a pipeline run."""

    def __init__(self, bar: Progress, total: int) -> None:
        self.bar = bar
        self.task = bar.add_task("starting", total=total)
        self.started = False

    def __call__(self, name: str) -> None:
        if self.started:
            self.bar.advance(self.task)
        self.started = True
        self.bar.update(self.task, description=name)

    def finish(self) -> None:
        task = self.bar.tasks[0]
        self.bar.update(self.task, completed=task.total, description="done")


def _print_outputs(files: dict[str, Path]) -> None:
    for name, path in files.items():
        console.print(f"  {name}: {path}", highlight=False)


@app.command("report")
def report_command(
    store: Annotated[Path, typer.Option("--store", help="The linked monitoring store.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the publication.")],
    lang: LangOption = None,
    release: ReleaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Compute every table, protect and audit the release, and write the report."""
    from thbmonitor.pipeline import REPORT_STEPS, run_report

    settings = _settings(config, language=lang, disclosure_release=release)
    with _progress() as bar:
        steps = _Steps(bar, REPORT_STEPS)
        result = run_report(store, settings, out, steps)
        steps.finish()
    _print_outputs(result.files)


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for input, store and report.")],
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the world.")] = None,
    scale: Annotated[float, typer.Option("--scale", help="Multiplies the population.")] = 1.0,
    lang: LangOption = None,
    release: ReleaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Synthetic world -> ingest -> link -> monitor -> report, with a throwaway key."""
    from thbmonitor.pipeline import DEMO_STEPS, run_demo

    settings = _settings(config, language=lang, seed=seed, disclosure_release=release)
    with _progress() as bar:
        steps = _Steps(bar, DEMO_STEPS)
        result = run_demo(out, settings, scale=scale, step=steps)
        steps.finish()
    _print_outputs(result.files)
    console.print(f"Open {out / 'report.html'} in a browser.", highlight=False)


# ---- commands are added below this line, one function each --------------------------------


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the world to.")],
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed (same seed, same world).")
    ] = None,
    scale: Annotated[float, typer.Option("--scale", help="Multiplies the population.")] = 1.0,
    background_events: Annotated[
        int | None,
        typer.Option("--background-events", help="Police events of non-victims (default 1M)."),
    ] = None,
) -> None:
    """Generate the synthetic Netherlands: registrations, police register and ground truth."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from thbmonitor.synth import WorldParams, generate

    params = WorldParams(scale=scale)
    if seed is not None:
        params = params.replace(seed=seed)
    if background_events is not None:
        params = params.replace(background_events=background_events)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("synthetic world", total=1.0)

        def progress(label: str, fraction: float) -> None:
            bar.update(task, description=label, completed=fraction)

        summary = generate(params, out, progress)
    table = Table(title=f"Synthetic world in {summary.out} (seed {summary.seed})")
    table.add_column("year", justify="right")
    table.add_column("registered persons", justify="right")
    table.add_column("all victims", justify="right")
    for year, n in summary.registered_by_year.items():
        table.add_row(str(year), f"{n:,}", f"{summary.total_by_year[year]:,}")
    console.print(table)
    console.print(
        f"{summary.n_registrations:,} registrations of {summary.n_registered_persons:,} persons; "
        f"{summary.n_victims:,} victims in all; {summary.n_police_events:,} police events "
        f"({summary.n_background_events:,} of {summary.n_background_persons:,} background "
        f"persons); {summary.seconds:.1f} s",
        highlight=False,
    )


@app.command()
def survival(
    file: Annotated[Path, typer.Argument(help="Cohort extract (CSV), one row per person.")],
    duration: Annotated[str, typer.Option("--duration", help="Column: time to event/censoring.")],
    event: Annotated[str, typer.Option("--event", help="Column: 0 censored, else event code.")],
    group: Annotated[str | None, typer.Option("--group", help="Column to split by.")] = None,
    competing: Annotated[
        str | None,
        typer.Option("--competing", help="Event code of the competing event (Aalen-Johansen)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full curves as JSON.")] = False,
    times: Annotated[
        str, typer.Option("--times", help="Times for the table (without --json).")
    ] = "1,2,3,4,5,6,7",
) -> None:
    """Cumulative incidence with 95% intervals: Kaplan-Meier 1 - S(t), or Aalen-Johansen."""
    import json

    from thbmonitor.followup.extract import curves_from_csv, curves_to_json

    bar = _progress()
    bar.disable = as_json  # with --json only the JSON is printed (stdout), no bar on stderr
    with bar:
        task = bar.add_task("cumulative incidence", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        curves = curves_from_csv(
            file, duration=duration, event=event, group=group, competing=competing, progress=step
        )
    if as_json:
        typer.echo(json.dumps(curves_to_json(curves)))
        return
    at = [float(t) for t in times.split(",") if t.strip()]
    for name, curve in curves.items():
        typer.echo(f"{name}: {curve.method}")
        typer.echo(curve.at(at).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


@app.command("mse")
def mse_command(
    file: Annotated[Path, typer.Argument(help="Capture-history counts (CSV): 0/1 lists, count.")],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Model selection: stepwise, bic, aic or main. With --covariates the model is "
            "searched with the covariates in it (Cruyff's model_search: R step() over all "
            "two-way terms): bic = BIC steps; aic = BIC steps continued by AIC; stepwise = "
            "that BIC-then-AIC path, lowest BIC taken; main = main effects only.",
        ),
    ] = "stepwise",
    maxorder: Annotated[
        int, typer.Option("--maxorder", help="Highest interaction order (bic/aic).")
    ] = 2,
    pthresh: Annotated[
        float, typer.Option("--pthresh", help="P-value threshold of stepwise selection.")
    ] = 0.02,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap replicates for a BCa interval (0: none).")
    ] = 0,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed of the bootstrap.")
    ] = None,
    covariates: Annotated[
        list[str] | None,
        typer.Option("--covariates", help="Covariate column (repeatable): estimates per level."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Multiple systems estimation of the hidden number (log-linear capture-recapture)."""
    import json

    from thbmonitor.mse.report import mse_json, mse_rich_tables, run_mse_file

    bar = _progress()
    bar.disable = bootstrap <= 0  # the bar goes to stderr: with --json stdout stays pure JSON
    with bar:
        task = bar.add_task(f"bootstrap ({bootstrap:,} replicates + jackknife)", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_mse_file(
            file,
            method=method,
            maxorder=maxorder,
            pthresh=pthresh,
            bootstrap=bootstrap,
            seed=seed,
            covariates=covariates or [],
            progress=step,
        )
    if as_json:
        typer.echo(json.dumps(mse_json(result)))
        return
    out = Console()
    for table in mse_rich_tables(result):
        out.print(table)


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


@app.command("monitor")
def monitor_command(
    store: Annotated[Path, typer.Argument(help="The monitoring store (DuckDB file).")],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json's figures.")] = False,
) -> None:
    """Registrations and victims per year by group (protected), and the change from last year."""
    import json

    from rich.table import Table

    from thbmonitor.config import load_settings
    from thbmonitor.monitor import chapters
    from thbmonitor.report.jsonsafe import to_jsonable
    from thbmonitor.store import open_store, resolve_window

    settings = load_settings(config)
    with open_store(str(store), read_only=True) as st:
        settings = resolve_window(st, settings)
        found, results = chapters(st, settings)
    if as_json:
        typer.echo(json.dumps(to_jsonable(results), ensure_ascii=False))
        return
    lang = settings.language
    shown = {t.key: t for ch in found for t in ch.tables}
    out = Console()
    for key in ("reg_year_group", "vic_year_group", "change_over_time"):
        frame = shown[key].frame
        table = Table(title=shown[key].title(lang))
        table.add_column("")
        for c in frame.columns:
            label = shown[key].columns.get(str(c))
            table.add_column(label(lang) if label else str(c), justify="right")
        for name, row in frame.iterrows():
            table.add_row(str(name), *(str(v) for v in row))
        out.print(table)


@app.command("compare-counts")
def compare_counts_command(
    earlier: Annotated[int, typer.Argument(help="Count of the earlier year.")],
    later: Annotated[int, typer.Argument(help="Count of the later year.")],
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level.")] = 0.95,
) -> None:
    """Change of a yearly count: exact rate-ratio interval and test (as R's poisson.test)."""
    from thbmonitor.monitor import compare_counts

    c = compare_counts(earlier, later, confidence)
    pct = f"{100 * confidence:g}%"
    typer.echo(
        f"difference {c.difference:+d} ({pct} {c.difference_lower:.1f} to "
        f"{c.difference_upper:.1f}, Wald)"
    )
    typer.echo(f"rate ratio {c.ratio:.4f} ({pct} {c.ratio_lower:.4f} to {c.ratio_upper:.4f})")
    typer.echo(f"p-value {c.p_value:.4g} ({c.method})")


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
    typer.echo(legend(rules, "en"))
    typer.echo(legend(rules, "nl"))


@app.command("link")
def link_command(
    store: Annotated[Path, typer.Option("--store", help="The monitoring store (DuckDB file).")],
    export_persons: Annotated[
        Path | None,
        typer.Option("--export-persons", help="Write registration_id,person_id to this CSV."),
    ] = None,
    skip_police: Annotated[
        bool, typer.Option("--skip-police", help="Link registrations into persons only.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Link registrations into persons (stable ids), then persons to the police register."""
    from thbmonitor.linkage import export_persons as write_persons
    from thbmonitor.linkage import link_police, link_registrations
    from thbmonitor.store import open_store

    settings = _settings(config)
    with open_store(str(store)) as db, _progress() as bar:
        task = bar.add_task("linking registrations", total=None)
        say = lambda m: bar.update(task, description=m)  # noqa: E731
        persons = link_registrations(db, settings, say)
        police = None if skip_police else link_police(db, settings, say)
        bar.update(task, total=1, completed=1, description="linked")
        n_rows = write_persons(db, str(export_persons)) if export_persons else 0
    console.print(
        f"{persons.n_registrations:,} registrations -> {persons.n_persons:,} persons "
        f"({persons.n_persons_kept:,} ids kept, {persons.n_persons_new:,} new, "
        f"{persons.n_persons_merged:,} merged, {persons.n_persons_split:,} split); "
        f"run {persons.run_id}",
        highlight=False,
    )
    if police is not None:
        console.print(
            f"police register: {police.n_events_linked:,} events linked to "
            f"{police.n_persons_linked:,} persons ({police.coverage_pct:.1f}% coverage)",
            highlight=False,
        )
    if export_persons:
        console.print(f"{n_rows:,} rows written to {export_persons}", highlight=False)


def main() -> None:
    """Entry point of the ``thbmonitor`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ThbMonitorError as exc:
        console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
