"""A registry to benchmark: a fresh database, organisations and users, the real service.

Shared by bench_registry_load.py (load, kill -9) and bench_registry_e2e.py. PostgreSQL at
127.0.0.1:5432 (user postgres, trust auth), as in the tests; the database is dropped after.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

PG = os.environ.get("THBMONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
KEY = "registry-benchmark-key-" + "0123456789abcdef" * 2
CLI = [sys.executable, "-c", "from thbmonitor.cli import main; main()"]


def cli(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr}")
    return done.stdout


def sql(db: str, query: str, params: object = None) -> list[tuple[object, ...]]:
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as con:
        cur = con.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def machine_load() -> str:
    """What else was running: the load average and the busiest other processes."""
    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    top = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[1:6]
    return f"load average {load}; busiest: " + ", ".join(" ".join(t.split()) for t in top)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(match: object) -> float:
    """CPU seconds (user + system) of the live processes for which ``match(pid, stat,
    cmdline)`` is true."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if match(int(pid), fields, cmd):  # type: ignore[operator]
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


class Registry:
    def __init__(self, orgs: dict[str, str], work: Path) -> None:
        self.db = f"thb_bench_{uuid.uuid4().hex[:10]}"
        self.work = work
        sql("postgres", f'CREATE DATABASE "{self.db}"')
        self.owner = f"{PG}/{self.db}"
        self.service = PG.replace("postgres@", "thbmonitor_service@") + f"/{self.db}"
        cli("intake", "migrate", "--database", self.owner)
        self.tokens: dict[str, str] = {}
        for name, kind in orgs.items():
            cli("intake", "add-org", name, "--type", kind, "--database", self.owner)
            out = cli(
                "intake",
                "add-user",
                f"{kind.lower()}@bench.example",
                "--org",
                name,
                "--role",
                "submitter",
                "--json",
                "--database",
                self.owner,
            )
            self.tokens[name] = json.loads(out)["token"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int, threads: int, window_ms: float = 50) -> float:
        started = time.monotonic()
        with (self.work / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *CLI,
                    "serve",
                    "--database",
                    self.service,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "THBMONITOR_KEY": KEY},
            )
        while time.monotonic() - started < 90:
            try:
                if httpx.get(f"{self.base}/api/openapi.json", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the service did not start")

    def service_cpu(self) -> float:
        """CPU seconds of the service's processes (gunicorn master and workers)."""
        assert self.process is not None
        group = self.process.pid
        return cpu_seconds(lambda pid, f, cmd: int(f[2]) == group)

    def intake_cpu(self) -> float:
        """CPU seconds of the intake process (the master's first child: it is forked before
        gunicorn forks its workers)."""
        assert self.process is not None
        master = self.process.pid
        children: list[int] = []
        cpu_seconds(lambda pid, f, cmd: int(f[1]) == master and children.append(pid) is None)
        if not children:
            return 0.0
        first = min(children)
        return cpu_seconds(lambda pid, f, cmd: pid == first)

    def database_cpu(self) -> float:
        """CPU seconds of the PostgreSQL backends serving this database."""
        return cpu_seconds(lambda pid, f, cmd: cmd.startswith("postgres: ") and self.db in cmd)

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)

    def drop(self) -> None:
        self.stop()
        sql("postgres", f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
