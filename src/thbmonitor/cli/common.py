"""What every command shares: the Typer app, the console, settings and progress bars."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:  # a command that shows no bar and reads no settings does not import these
    from rich.console import Console
    from rich.progress import Progress

    from thbmonitor.config import Settings

app = typer.Typer(
    name="thbmonitor",
    help="A yearly monitor of presumed victims of trafficking in human beings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


_STDERR: list[Console] = []


def stderr_console() -> Console:
    """Rich's console on stderr, made at its first use: a run that prints only JSON, or
    nothing, does not import it. Pass this (not ``console``) where rich wants a Console."""
    if not _STDERR:
        from rich.console import Console

        _STDERR.append(Console(stderr=True))
    return _STDERR[0]


class _StderrConsole:
    """``console.print(...)`` and the other methods of :func:`stderr_console`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(stderr_console(), name)


console = cast("Console", _StderrConsole())

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Settings file (TOML).", exists=True)
]


def settings_from(config: Path | None, **overrides: object) -> Settings:
    """The settings of a run: the TOML file (if any), then the options given on the command line."""
    from thbmonitor.config import load_settings

    return load_settings(config, {k: v for k, v in overrides.items() if v is not None})


def progress() -> Progress:
    """A progress bar on stderr (stdout stays free for JSON)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
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
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where the linkage runs: duckdb (this machine) or spark (settings spark_master, "
        "spark_config; pip install 'thbmonitor\\[spark]'). Setting engine.",
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
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write into an output folder that holds files thbmonitor did not write (files of "
        "the names it writes are replaced; no other file is touched).",
    ),
]


def check_input_files(files: list[Path]) -> None:
    """Refuse input files that are missing, folders or unreadable, before any work starts."""
    from thbmonitor.errors import InputError

    if not files:
        raise InputError("no input files given")
    for path in files:
        if path.is_dir():
            raise InputError(f"{path} is a folder; give the input files themselves")
        if not path.is_file():
            raise InputError(f"no input file {path}; nothing was imported")
        if not os.access(path, os.R_OK):
            raise InputError(f"cannot read the input file {path}; nothing was imported")


def check_output_file(path: Path, option: str) -> None:
    """Refuse an output file whose folder is missing or that is a folder, before any work."""
    from thbmonitor.errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{option}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{option}: cannot write into the folder {folder}")


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
    "EngineOption",
    "ForceOption",
    "LangOption",
    "ProfileOption",
    "ReleaseOption",
    "Steps",
    "app",
    "check_input_files",
    "check_output_file",
    "console",
    "print_outputs",
    "progress",
    "settings_from",
    "stderr_console",
]
