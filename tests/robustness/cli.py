"""Run the ``thbmonitor`` entry point in this process, as a user would from a shell."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from thbmonitor.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    """``thbmonitor ARGS...`` through :func:`thbmonitor.cli.main`: exit status and stderr."""
    argv = sys.argv
    sys.argv = ["thbmonitor", *args]
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return Ran(code, capsys.readouterr().err)


def one_clean_line(err: str) -> str:
    """The one error line of ``err``; fails on a traceback or several lines."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]
