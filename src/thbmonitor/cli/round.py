"""The commands of a monitoring round: settings, synth, ingest, link, report, demo, monitor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from thbmonitor.cli.common import (
    ConfigOption,
    EngineOption,
    ForceOption,
    LangOption,
    ProfileOption,
    ReleaseOption,
    Steps,
    app,
    check_input_files,
    check_output_file,
    console,
    print_outputs,
    progress,
    settings_from,
    stderr_console,
)

if TYPE_CHECKING:
    from rich.progress import TaskID

    from thbmonitor.engine import Store
    from thbmonitor.linkage.review import Estimate, KindEvaluation, Rate
    from thbmonitor.profiles import Profile
    from thbmonitor.pseudonymise import Encoder


@app.command("settings")
def settings_command(config: ConfigOption = None) -> None:
    """Print every setting with its current value and help (as TOML)."""
    from thbmonitor.config import settings_to_toml

    typer.echo(settings_to_toml(settings_from(config)), nl=False)


@app.command("ingest")
def ingest_command(
    files: Annotated[list[Path], typer.Argument(help="Registrations or police-register files.")],
    store: Annotated[Path, typer.Option("--store", help="The monitoring store (DuckDB file).")],
    profile: ProfileOption = None,
    config: ConfigOption = None,
) -> None:
    """Validate, pseudonymise and import CSV, XLSX or Parquet files into the store.

    Files are read in the country profile's layout (--profile, or the setting 'profile'); a
    file with values the profile cannot map is refused whole, listing them by column."""
    from thbmonitor.profiles import load_profile
    from thbmonitor.pseudonymise import Encoder, load_key
    from thbmonitor.store import check_key, open_store

    settings = settings_from(config, profile=profile)
    check_input_files(files)
    country = load_profile(settings.profile)
    key = load_key(settings.key_file, settings.key_env)
    encoder = Encoder(key, settings.bloom_bits, settings.bloom_hashes)
    with open_store(store, create=True) as db:
        check_key(db, encoder.fingerprint)  # another key than the store's: before any work
        _ingest(db, files, encoder, country)


def _ingest(db: Store, files: list[Path], encoder: Encoder, country: Profile) -> None:
    from thbmonitor.ingest import ingest_file

    with progress() as bar:
        for path in files:
            task = bar.add_task(path.name, total=None)

            def say(message: str, task: TaskID = task) -> None:
                bar.update(task, description=message)

            result = ingest_file(db, path, encoder, say, profile=country)
            bar.update(task, total=1, completed=1, description=path.name)
            if result.already_ingested:
                console.print(f"{path.name}: ingested before; nothing added")
            else:
                console.print(f"{path.name}: {result.rows_added:,} {result.kind} rows added")


@app.command("report")
def report_command(
    store: Annotated[Path, typer.Option("--store", help="The linked monitoring store.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the publication.")],
    lang: LangOption = None,
    release: ReleaseOption = None,
    profile: ProfileOption = None,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """Compute every table, protect and audit the release, and write the report (with the
    groups, categories and labels of the country profile the store was ingested with)."""
    from thbmonitor.pipeline import REPORT_STEPS, prepare_report, run_report

    settings = settings_from(config, language=lang, disclosure_release=release, profile=profile)
    prepare_report(settings, out, force=force, store_path=store)
    with progress() as bar:
        steps = Steps(bar, REPORT_STEPS)
        result = run_report(store, settings, out, steps, force=force)
        steps.finish()
    print_outputs(result.files)


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for input, store and report.")],
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the world.")] = None,
    scale: Annotated[float, typer.Option("--scale", help="Multiplies the population.")] = 1.0,
    lang: LangOption = None,
    release: ReleaseOption = None,
    profile: ProfileOption = None,
    force: ForceOption = False,
    engine: EngineOption = None,
    config: ConfigOption = None,
) -> None:
    """Synthetic world -> ingest -> link -> monitor -> report, with a throwaway key.

    With --profile the world is written in that country profile's layout and read through it."""
    from thbmonitor.pipeline import DEMO_STEPS, prepare_demo, run_demo

    settings = settings_from(
        config,
        language=lang,
        seed=seed,
        disclosure_release=release,
        profile=profile,
        engine=engine,
    )
    prepare_demo(out, settings, scale, force=force)
    with progress() as bar:
        steps = Steps(bar, DEMO_STEPS)
        result = run_demo(out, settings, scale=scale, step=steps, force=force)
        steps.finish()
    print_outputs(result.files)
    console.print(f"Open {out / 'report.html'} in a browser.", highlight=False)


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
    profile: ProfileOption = None,
) -> None:
    """Generate the synthetic Netherlands: registrations, police register and ground truth.

    With --profile the input files are written in that country profile's layout (column
    names, code spellings, dates, CSV delimiter and encoding); the truth files are not."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from thbmonitor.synth import WorldParams, generate

    params = WorldParams(scale=scale)
    if seed is not None:
        params = params.replace(seed=seed)
    if background_events is not None:
        params = params.replace(background_events=background_events)
    params.check()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr_console()) as bar:
        task = bar.add_task("synthetic world", total=1.0)

        def progress(label: str, fraction: float) -> None:
            bar.update(task, description=label, completed=fraction)

        summary = generate(params, out, progress)
    if profile is not None:
        from thbmonitor.profiles import load_profile
        from thbmonitor.profiles.write import write_world

        country = load_profile(profile)
        for path in write_world(out, country):
            console.print(f"{path.name}: written in profile {country.name}", highlight=False)
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


@app.command("monitor")
def monitor_command(
    store: Annotated[Path, typer.Argument(help="The monitoring store (DuckDB file).")],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json's figures.")] = False,
) -> None:
    """Registrations and victims per year by group (protected), and the change from last year."""
    import json

    from rich.table import Table

    from thbmonitor.monitor import chapters
    from thbmonitor.report.jsonsafe import to_jsonable
    from thbmonitor.store import check_linkage, open_store, resolve_window

    settings = settings_from(config)
    with open_store(store, read_only=True) as st:
        check_linkage(st)
        settings = resolve_window(st, settings)
        found, results = chapters(st, settings)
    if as_json:
        typer.echo(json.dumps(to_jsonable(results), ensure_ascii=False))
        return
    lang = settings.language
    shown = {t.key: t for ch in found for t in ch.tables}
    from rich.console import Console

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
    review_sample: Annotated[
        int | None,
        typer.Option(
            "--review-sample",
            help="After linking, write the N most uncertain registration pairs and the N most "
            "uncertain person-event pairs (police and population register), and N more of each "
            "drawn at random by score band (ids and scores only), to --out, for clerical review.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The CSV file of the review sample.")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="A judged review file (pair_kind,left_id,right_id,label = match | non-match): "
            "evaluate the linkage on it, keep the judgements in the store, and link with them.",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Apply the linkage models of this file (written by --save-model, on either "
            "engine) instead of training them: the same model finds the same persons on DuckDB "
            "and on Spark.",
        ),
    ] = None,
    save_model: Annotated[
        Path | None,
        typer.Option(
            "--save-model",
            help="Write the linkage models of this run to this JSON file (for --model).",
        ),
    ] = None,
    engine: EngineOption = None,
    config: ConfigOption = None,
) -> None:
    """Link registrations into persons (stable ids), then persons to the police register."""
    from thbmonitor.linkage import export_persons as write_persons
    from thbmonitor.linkage import modelfile, review
    from thbmonitor.pipeline import check_engine, link
    from thbmonitor.store import open_store

    if (review_sample is None) != (out is None):
        raise typer.BadParameter("--review-sample N and --out FILE.csv go together")
    if out is not None and not out.parent.is_dir():
        raise typer.BadParameter(f"the folder of {out} does not exist", param_hint="--out")
    settings = settings_from(config, engine=engine)
    check_engine(settings)
    if export_persons:
        check_output_file(export_persons, "--export-persons")
    if save_model:
        check_output_file(save_model, "--save-model")
    models = modelfile.read_models(model) if model is not None else None
    with open_store(store) as db:
        before: list[KindEvaluation] = []
        if labels is not None:
            judged = review.read_labels(labels)
            review.check_labels(db, judged, labels.name)
            if db.scalar("SELECT count(*) FROM registration_person"):
                before = review.evaluate(db, judged)
            with db.transaction():
                review.record_labels(db, judged, labels)
            console.print(
                f"{len(judged):,} judged pairs of {labels.name} kept in the store", highlight=False
            )
        with progress() as bar:
            task = bar.add_task("linking registrations", total=None)
            say = lambda m: bar.update(task, description=m)  # noqa: E731
            found = link(db, settings, say, police=not skip_police, say=say, models=models)
            bar.update(task, total=1, completed=1, description="linked")
        persons, police = found["persons"], found["police"]
        n_rows = write_persons(db, str(export_persons)) if export_persons else 0
        if save_model:
            modelfile.write_models(modelfile.last_models(db), save_model)
        after = review.evaluate(db, judged) if labels is not None else []
        n_sample = 0
        if review_sample is not None and out is not None:
            n_sample = review.write_sample(review.review_sample(db, review_sample, settings), out)
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
    if save_model:
        console.print(f"linkage models written to {save_model}", highlight=False)
    if before:
        _print_review(before, "The linkage before this review, on the judged pairs")
    if after:
        wrong = sum(e.false_positive + e.false_negative for e in after)
        console.print(
            f"after linking with the judgements: {wrong:,} judged pairs disagree with the "
            "linkage" + (" (contradictory judgements)" if wrong else ""),
            highlight=False,
        )
    if n_sample:
        console.print(f"{n_sample:,} pairs for review written to {out}", highlight=False)


def _print_review(evaluation: list[KindEvaluation], title: str) -> None:
    """The evaluation on the judged pairs, with 95% Wilson intervals."""

    def show(r: Rate | Estimate | None) -> str:
        return "." if r is None else f"{r.value:.3f} ({r.low:.3f}-{r.high:.3f})"

    console.print(f"{title} (95% Wilson intervals):", highlight=False)
    for e in evaluation:
        mean = "." if e.mean_probability is None else f"{e.mean_probability:.3f}"
        console.print(
            f"  {e.kind} pairs: {e.n:,} judged (TP {e.true_positive}, FP {e.false_positive}, "
            f"FN {e.false_negative}, TN {e.true_negative}); precision {show(e.precision)}, "
            f"recall {show(e.recall)}; the model's mean match probability {mean}, judged a "
            f"match {show(e.share_match)}",
            highlight=False,
        )
        if e.precision_all is not None or e.recall_all is not None:
            console.print(
                f"    all scored pairs (from the {_judged_random(e)} pairs drawn at random by "
                f"score band): precision {show(e.precision_all)}, recall {show(e.recall_all)}",
                highlight=False,
            )
    console.print(
        "  The judged pairs are mostly the most uncertain: their figures describe the hard "
        "cases and bound the linkage's quality from below.",
        highlight=False,
    )


def _judged_random(e: KindEvaluation) -> str:
    found = e.precision_all or e.recall_all
    return f"{found.judged:,}" if found is not None else "0"
