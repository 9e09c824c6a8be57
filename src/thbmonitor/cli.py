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


# ---- commands are added below this line, one function each --------------------------------


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

    curves = curves_from_csv(file, duration=duration, event=event, group=group, competing=competing)
    if as_json:
        typer.echo(json.dumps(curves_to_json(curves)))
        return
    at = [float(t) for t in times.split(",") if t.strip()]
    for name, curve in curves.items():
        typer.echo(f"{name}: {curve.method}")
        typer.echo(curve.at(at).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


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
