"""Peak memory and wall time of `thbmonitor ingest` on files of about 1,000,000 rows.

Issue 11 item 10: ingesting a 1,000,000-row file peaked at 4.2 GB. Run:
    python benchmarks/bench_ingest_memory.py [--rows 1000000] [--keep DIR]
The synthetic world at scale 1 (seed 11) gives the police register (1M background events plus
the victims' events, Parquet); its registrations (about 12,900 rows) are repeated with new
registration ids until the CSV has --rows rows (the names repeat, as they do in a country's
registrations; each repeat's dates stay those of its original). Each ingest runs in its own
process into a new store; peak memory is that process's ru_maxrss.

Measured (2-core machine under heavy load; --rows 200000 with a scale-0.3 world in --keep):
main 8137796 peak 0.94 GiB; with chunks appended unregistered and DuckDB capped at 512MB
(commit 967beb6) 0.67 GiB. 1,000,000 rows: 2.65 GiB at 8137796 (last session); after 967beb6
(--rows 1000000, under the team's heavy-run lock, 2026-12-07 07:53 UTC) 1.18 GiB in 96.9 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import resource, sys
from thbmonitor.cli import main
peak_file = sys.argv.pop(1)
try:
    main()
finally:
    with open(peak_file, "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def ingest(files: list[Path], work: Path, key: str) -> tuple[float, float, int]:
    """Wall seconds, peak resident memory (GiB) and exit status of one ingest."""
    peak_file = work / "peak.txt"
    store = work / f"store-{time.monotonic_ns()}.duckdb"
    start = time.perf_counter()
    args = ["ingest", *map(str, files), "--store", str(store)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(peak_file), *args],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "THBMONITOR_KEY": key},
        check=False,
    )
    seconds = time.perf_counter() - start
    store.unlink(missing_ok=True)
    return seconds, int(peak_file.read_text()) / 1024**2, done.returncode


def repeat_registrations(source: Path, target: Path, rows: int) -> int:
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        originals = list(reader)
    rid = header.index("registration_id")
    written = 0
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        copy = 0
        while written < rows:
            for row in originals[: rows - written]:
                out = list(row)
                out[rid] = f"{row[rid]}-{copy}"
                writer.writerow(out)
            written += min(len(originals), rows - written)
            copy += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Use and keep this folder (the world).")
    options = parser.parse_args()
    from thbmonitor.synth import WorldParams, generate

    with tempfile.TemporaryDirectory() as tmp:
        work = options.keep or Path(tmp)
        world = work / "world"
        if not (world / "police_register.parquet").exists():
            generate(WorldParams(scale=1.0, seed=11), world)
        big = work / f"registrations_{options.rows}.csv"
        if not big.exists():
            repeat_registrations(world / "registrations.csv", big, options.rows)
        import pyarrow.parquet as pq

        n_police = pq.ParquetFile(world / "police_register.parquet").metadata.num_rows
        key = secrets.token_hex(32)
        for label, path in (
            (f"registrations CSV, {options.rows:,} rows", big),
            (f"police register Parquet, {n_police:,} rows", world / "police_register.parquet"),
        ):
            seconds, gib, code = ingest([path], work, key)
            status = "" if code == 0 else f" (exit status {code})"
            print(f"ingest {label}: {seconds:.1f} s, peak {gib:.2f} GiB{status}", flush=True)


if __name__ == "__main__":
    main()
