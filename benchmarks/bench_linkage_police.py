"""Benchmark: link a cohort of persons to a large police register.

    python benchmarks/bench_linkage_police.py --world /tmp/w --events 10000000
    python benchmarks/bench_linkage_police.py --world /tmp/w --events 10000000 --engine spark

With ``--engine spark`` (issue 14) the police model runs on Spark (``--spark-master``,
default local[2]); the register's prefilter and identities still run in DuckDB, so the figure
is DuckDB's prefilter plus Splink on Spark. Not yet measured at 10M or 50M events.

Uses the world's registrations and police register (ingested once into
``<world>/bench_police.duckdb`` with a fixed key and linked into persons), optionally padded
to ``--events`` rows with background events recombined from the register's own pseudonymised
columns (first-name tokens of one event, last-name tokens of another, birth-date tokens of a
third: strangers drawn from the same name and birth-date pools, so blocking meets realistic
collisions). Prints the time and peak memory of ``link_police`` and event-level precision and
recall against the world's truth (events of the cohort's persons). Goal (issue): 100,000
persons against 10 million events in under 60 s.

The padded register is built once (``<world>/bench_police_<events>.duckdb``, in a child
process, so the peak RSS printed is that of the linkage alone).

Measured 2026-11-28 02:25 UTC (old name pools) on the shared 2-core box (other jobs running),
after the cohort prior, the hashed prefilter and linking distinct event identities
(``--world`` a copy of the synth scale-10 world, ``--events 10000000``):

| run | persons | events | prefiltered (identities) | link_police | RSS | P | R* | cov. |
|---|---|---|---|---|---|---|---|---|
| before | 113,016 | 10M | 3,583,154 | 232 s (104+34+94) | 12.3** | .979 | .717 | 72.8 |
| after | 113,016 | 10M | 3,583,154 (3,233,989) | 75.2 s (23+11+41) | 3.27 | .976 | .718 | 73.2 |
| after | 281,364 | 10M | 5,429,726 (4,933,161) | 278 s (88+51+140)*** | 3.33 | .971 | .676 | 71.8 |
| rerun | 113,016 | 10M | 3,583,154 (3,233,956) | 75.5 s (23+11+42) | 3.28 | .976 | .718 | 73.2 |
| -3 rules | 113,016 | 10M | 3,288,184 (2,942,854) | 62.8 s (20+11+32) | 3.39 | .979 | .717 | 72.8 |

*** scale-25 world (``/tmp/lk/w25`` copy), while the linkage tests ran alongside; with
Splink's prior the same run gave precision 0.992, recall 0.303 and coverage 38 % in 364 s
and 12.1 GB.

Seconds split as prepare + train + score; RSS in GB; P, R: event-level precision and
recall*; cov.: coverage in %. "before" already used the cohort prior (coverage 72.8 %,
against 38 % with Splink's prior at scale 25); ** includes padding in the same process.
"rerun": 02:40 UTC, unchanged code. "-3 rules": 02:44 UTC (a rerun at 02:47 gave 64.7 s,
the same links); the police model leaves out the registration model's rules on phonetic
names with birth year, with day and month, and with names swapped
(``police.DROPPED_RULES``). Pairs per rule before (raw / new after earlier rules; links at
0.99, right ones): sdx names + year 5.50M / 1.73M, 19 links, 3 right; sdx names + day-month
0.90M / 0.22M, 0 links; swapped sdx + year 0.15M / 0.09M, 24 links, 2 right; of 11.38M pairs.
The largest remaining are exact names + year (3.71M, 190k links) and exact names when one side
has no birth date (2.83M, 6.9k links, all right; also requiring the same sex there changed
no link and no time: 66.5 s). The goal of 60 s is still not met:
scoring (Splink predict over the blocked registration-identity pairs) is the largest part.
Deduplicating the cohort side by identity columns would save little: 129,150 registrations
hold 123,081 distinct identifier combinations (5 %).
Identities collapse the padded register little (its background events are unique
recombinations); a real register repeats each person's identifiers on many events.

After the new name pools and model changes (2026-11-28 03:40 UTC, idle box; ``--world`` a
fresh ``thbmonitor synth --scale 10`` world, ``--events 10000000``; see bench_linkage.py):

| persons | events | prefiltered (identities) | link_police | RSS | P | R* | cov. |
|---|---|---|---|---|---|---|---|
| 112,676 | 10M | 1,129,024 (1,026,088) | **20.0 s** (12.0+3.8+4.2) | 3.12 | .997 | .794 | 74.6 |
| 281,336 | 10M | 2,675,899 (2,434,346) | 63.6 s (25.5+12.3+25.8) | 3.22 | .997 | .784 | 74.3 |

The second row is the scale-25 world of bench_linkage.py (04:20 UTC; 278 s before). Goal met:
20 s against 60 s for 100,000 persons. The old name pools (8-40 names per country and kind)
let three times as many register events share a name key with some registration; the padded
register's strangers now collide about as often as in a population with realistic names
(still less varied than a real register, whose persons draw from far more names).

Earlier figures (linkage engineer, Splink's own prior, per-event linking):

| cohort (persons) | register events | after prefilter | link_police | precision | recall* |
|---|---|---|---|---|---|
| 11,282 (scale 1) | 138,443 | 60,061 | 7.6 s | 0.998 | 0.727 |
| 11,282 (scale 1) | 2,000,000 | 190,688 | 18.7 s (peak 3.0 GB) | 0.995 | 0.716 |
| 11,282 (scale 1) | 10,000,000 | 750,521 | 42.6 s | - | - |
| 281,364 (scale 25) | 10,000,000 | 5,429,726 | 364 s idle (901 s loaded), 12.1 GB | 0.992 | 0.303 |

*recall over all police events of registered persons, including those the world makes
unlinkable (non-residents without papers are about 40 % linkable). At scale 25 the prior
match probability of the link model falls with the register's size, so at the fixed
threshold of 0.99 recall (and coverage: 38 % against 72 % at scale 1) drops: coverage
figures depend on register size and must be read with the threshold.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.ingest import ingest_file
from thbmonitor.linkage import link_police, link_registrations
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store

KEY = b"benchmark-key-0123456789abcdef01"
FIRST = ("tok_first", "tok_first1", "tok_first_sdx", "tok_first_nysiis", "bf_first")
LAST = ("tok_last", "tok_last_sdx", "tok_last_nysiis", "bf_last")
DOB = ("tok_dob", "tok_birth_year", "tok_birth_md",
       "birth_year", "dob_uncertain", "dob_missing")  # fmt: skip


def pad(store, target: int, seed: int = 1) -> int:  # type: ignore[no-untyped-def]
    """Append recombined background events until the register holds ``target`` rows."""
    n = int(store.scalar("SELECT count(*) FROM police_events"))
    rounds = 0
    while n < target:
        rounds += 1
        take = min(n, target - n)
        parts = []
        for i, cols in enumerate((FIRST, LAST, DOB)):
            sel = ", ".join(cols)
            salt = seed + 7 * rounds + i
            parts.append(
                f"(SELECT {sel}, row_number() OVER (ORDER BY hash(event_id, {salt}))"
                f" AS k FROM police_events) p{i}"
            )
        store.execute(
            f"""
            INSERT INTO police_events BY NAME
            SELECT 'BG' || {rounds} || '-' || p0.k AS event_id, e.event_date, e.event_year,
                   e.role, e.crime_type, e.sex, {", ".join(f"p0.{c}" for c in FIRST)},
                   {", ".join(f"p1.{c}" for c in LAST)}, {", ".join(f"p2.{c}" for c in DOB)}
            FROM {parts[0]} JOIN {parts[1]} USING (k) JOIN {parts[2]} USING (k)
            JOIN (SELECT *, row_number() OVER () AS k FROM police_events) e USING (k)
            WHERE p0.k <= {take}
            """
        )
        n = int(store.scalar("SELECT count(*) FROM police_events"))
    return n


def _pad_copy(base: str, target: str, events: int) -> int:
    shutil.copy(base, target + ".tmp")
    with open_store(target + ".tmp", create=True) as store:
        n = pad(store, events)
    shutil.move(target + ".tmp", target)
    return n


def prepare_store(world: Path, events: int = 0) -> Path:
    """The world ingested with a fixed key and its registrations linked
    (``<world>/bench_police.duckdb``), padded to ``events`` rows when given (in a child
    process, so that the peak RSS printed is that of the linkage alone); built once."""
    base = world / "bench_police.duckdb"
    if not base.exists():
        t = time.perf_counter()
        with open_store(str(base), create=True) as store:
            ingest_file(store, world / "registrations.csv", Encoder(KEY))
            ingest_file(store, world / "police_register.parquet", Encoder(KEY))
            link_registrations(store, Settings())
        print(f"ingest and link registrations: {time.perf_counter() - t:.1f} s")
    if not events:
        return base
    source = world / f"bench_police_{events}.duckdb"
    if not source.exists():
        t = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            n = pool.apply(_pad_copy, (str(base), str(source), events))
        print(f"padded register to {n:,} events in {time.perf_counter() - t:.1f} s")
    return source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--events", type=int, default=0, help="pad the register to this many rows")
    ap.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb", help="where the models run"
    )
    ap.add_argument("--spark-master", default="local[2]", help="Spark master (--engine spark)")
    args = ap.parse_args()
    source = prepare_store(args.world, args.events)
    run = args.world / "bench_police_run.duckdb"
    shutil.copy(source, run)
    settings = Settings(engine=args.engine, spark_master=args.spark_master)
    with open_store(str(run), create=True) as store, ExitStack() as stack:
        spark = None
        if args.engine == "spark":
            from thbmonitor.engine.spark import spark_engine

            spark = stack.enter_context(spark_engine(settings))  # the JVM's start is not timed
        n_events = int(store.scalar("SELECT count(*) FROM police_events"))
        t = time.perf_counter()
        summary = link_police(
            store,
            settings,
            progress=lambda m: print(f"  {time.perf_counter() - t:6.1f} s {m}"),
            spark=spark,
        )
        seconds = time.perf_counter() - t
        links = store.df("SELECT person_id, event_id FROM person_police")
        pred = store.df("SELECT registration_id, person_id FROM registration_person")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    # the Spark driver's JVM is a child process, counted once it has ended (session stopped)
    peak_jvm = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    truth_r = pd.read_csv(args.world / "truth" / "registration_person.csv")
    truth_e = pd.read_csv(args.world / "truth" / "police_event_person.csv")
    owner = (
        pred.merge(truth_r, on="registration_id", suffixes=("", "_true"))
        .groupby("person_id")["person_id_true"]
        .agg(lambda s: s.mode().iloc[0])
    )
    checked = links.merge(truth_e, on="event_id", how="left", suffixes=("", "_true"))
    correct = int((checked["person_id"].map(owner) == checked["person_id_true"]).sum())
    cohort_events = truth_e[truth_e["person_id"].isin(set(truth_r["person_id"]))]
    print(
        f"persons: {summary.n_persons:,}; register events: {n_events:,}; "
        f"considered after prefilter: {summary.n_events_considered:,}"
    )
    print(
        f"link_police ({args.engine}): {seconds:.1f} s; peak RSS {peak:.2f} GB "
        f"(largest child process, e.g. Spark's JVM: {peak_jvm:.2f} GB); "
        f"seconds {summary.seconds}"
    )
    print(
        f"events linked: {len(links):,}; precision {correct / max(len(links), 1):.4f}; "
        f"recall {correct / max(len(cohort_events), 1):.4f} "
        f"(of {len(cohort_events):,} events of registered persons)"
    )
    print(summary.coverage.to_string(index=False))


if __name__ == "__main__":
    main()
