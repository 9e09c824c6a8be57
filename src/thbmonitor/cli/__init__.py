"""The command line: parse, load settings, call the pipeline, print.

This is the one place where errors become user messages (see :mod:`thbmonitor.errors`).
One module per command group registers its commands on the shared Typer ``app``; each
command imports its stage lazily so that ``thbmonitor --help`` stays fast.

- :mod:`.common`: the app, the console, settings and progress bars
- :mod:`.round`: settings, synth, ingest, link, report, demo, monitor
- :mod:`.analysis`: survival, mse, compare-counts on one's own files
- :mod:`.publication`: protect, check-report
- :mod:`.export`: export (the yearly deliveries to Eurostat and UNODC)
- :mod:`.profile`: country profiles (profile list, show, copy, check)
- :mod:`.intake`: the registry (intake migrate, add-org, add-user, extract, purge,
  verify-audit) and serve
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from thbmonitor.cli import (  # noqa: F401  (register commands)
    analysis,
    export,
    intake,
    profile,
    publication,
    round,
)
from thbmonitor.cli.common import app, console
from thbmonitor.errors import ThbMonitorError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``thbmonitor`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except (ThbMonitorError, OSError) as exc:
        _fail(exc)


def _fail(exc: ThbMonitorError | OSError) -> NoReturn:
    from rich.markup import escape

    if isinstance(exc, ThbMonitorError):
        console.print(
            "[bold red]error:[/bold red]", escape(str(exc)), highlight=False, soft_wrap=True
        )
        sys.exit(2)
    # a file or folder the system refused (full disk, permissions, ...)
    where = f": {exc.filename}" if exc.filename else ""
    message = escape(f"{exc.strerror or exc}{where}")
    console.print("[bold red]error:[/bold red]", message, highlight=False, soft_wrap=True)
    sys.exit(2)


if __name__ == "__main__":
    main()
