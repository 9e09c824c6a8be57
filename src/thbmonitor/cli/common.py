"""What every command shares: the Typer app, the console, settings and progress bars."""

from __future__ import annotations

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


def settings_from(config: Path | None, **overrides: object) -> Settings:
    """The settings of a run: the TOML file (if any), then the options given on the command line."""
    from thbmonitor.config import load_settings

    return load_settings(config, {k: v for k, v in overrides.items() if v is not None})


def progress() -> Progress:
    """A progress bar on stderr (stdout stays free for JSON)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


LangOption = Annotated[str | None, typer.Option("--lang", help="Language of the report: nl or en.")]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="Country profile: a shipped one (nl, htcds) or a profile folder (setting profile).",
    ),
]
ReleaseOption = Annotated[
    str | None,
    typer.Option(
        "--release",
        help="Add this release to the disclosure ledger once the audit passes "
        "(setting disclosure_release; needs disclosure_ledger).",
    ),
]


class Steps:
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


def print_outputs(files: dict[str, Path]) -> None:
    """List the files a run wrote."""
    for name, path in files.items():
        console.print(f"  {name}: {path}", highlight=False)


__all__ = [
    "ConfigOption",
    "LangOption",
    "ProfileOption",
    "ReleaseOption",
    "Steps",
    "TaskID",
    "app",
    "console",
    "print_outputs",
    "progress",
    "settings_from",
]
