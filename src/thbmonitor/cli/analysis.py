"""The analysis commands on one's own files: survival, mse, compare-counts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from thbmonitor.cli.common import app, console, progress


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

    bar = progress()
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
            help="Model selection: stepwise, bic, aic or main; or a Bayesian model: lcmcr "
            "(latent classes, as R's LCMCR) or dga (averaging over decomposable graphs, as "
            "R's dga::bma.cr). With --covariates the model is "
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
    classes: Annotated[
        int, typer.Option("--classes", help="lcmcr: truncation K (most latent classes).")
    ] = 10,
    samples: Annotated[
        int, typer.Option("--samples", help="lcmcr: posterior draws kept after the burn-in.")
    ] = 1000,
    burnin: Annotated[int, typer.Option("--burnin", help="lcmcr: burn-in iterations.")] = 10000,
    thin: Annotated[int, typer.Option("--thin", help="lcmcr: keep one draw every T.")] = 10,
    delta: Annotated[
        float | None,
        typer.Option("--delta", help="dga: hyper-Dirichlet prior parameter (default 1/2^k)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Multiple systems estimation of the hidden number (log-linear capture-recapture, or
    Bayesian: latent classes or model averaging)."""
    import json

    from thbmonitor.mse.report import BAYES_METHODS

    if method in BAYES_METHODS:
        _bayes(file, method, classes, samples, burnin, thin, seed, delta, covariates, as_json)
        return

    from thbmonitor.mse.report import mse_json, mse_rich_tables, run_mse_file

    step: Callable[[int, int], None] | None = None
    with contextlib.ExitStack() as stack:
        if bootstrap > 0:  # the bar goes to stderr: with --json stdout stays pure JSON
            bar = stack.enter_context(progress())
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
    from rich.console import Console

    out = Console(emoji=False)
    for table in mse_rich_tables(result):
        out.print(table)


def _bayes(
    file: Path,
    method: str,
    classes: int,
    samples: int,
    burnin: int,
    thin: int,
    seed: int | None,
    delta: float | None,
    covariates: list[str] | None,
    as_json: bool,
) -> None:
    import json

    from thbmonitor.errors import EstimationError
    from thbmonitor.mse.report import bayes_rich_tables, run_bayes_file

    if covariates:
        raise EstimationError(
            f"--covariates works with the log-linear methods, not with --method {method}."
        )
    bar = progress()
    bar.disable = method != "lcmcr"
    with bar:
        task = bar.add_task("Gibbs sampler (burn-in, then draws)", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_bayes_file(
            file,
            method,
            classes=classes,
            samples=samples,
            burnin=burnin,
            thin=thin,
            seed=seed,
            delta=delta,
            progress=step,
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        from rich.console import Console

        out = Console(emoji=False)
        for table in bayes_rich_tables(result):
            out.print(table)
    warning = result.to_dict().get("convergence", {}).get("warning")
    if warning:
        console.print(f"[bold yellow]warning:[/bold yellow] {warning}")


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
