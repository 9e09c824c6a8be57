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
