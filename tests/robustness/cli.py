"""Run the ``thbmonitor`` entry point as a user would from a shell: in this process
(:func:`run`), or in a process of its own (:func:`cli`, to be killed; :func:`finish`)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from thbmonitor.cli import main

from .conftest import KEY

MAIN = "from thbmonitor.cli import main; main()"
ENV = {**os.environ, "THBMONITOR_KEY": KEY}


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


MAIN = "from thbmonitor.cli import main; main()"
ENV = {**os.environ, "THBMONITOR_KEY": KEY}


def cli(*args: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """``thbmonitor ARGS...`` in its own process (to be killed; ``stderr=subprocess.PIPE`` to
    read its message)."""
    return subprocess.Popen(
        [sys.executable, "-c", MAIN, *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def finish(*args: str, timeout: float = 600) -> None:
    """``thbmonitor ARGS...`` to its end; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-c", MAIN, *args], env=ENV, capture_output=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
