"""Wall time and peak memory of the monitor stage: tables (SQL), protection, chapters.

Builds a store of synthetic registrations (seeded; ~``--per-year`` registrations a year over
2012-2021, 1-3 registrations per person) and times ``build_tables`` and ``chapters`` (which
includes the disclosure control of the release). Run:

    .venv/bin/python benchmarks/bench_monitor.py [--per-year 1500 20000]

Each size runs in its own process so that peak resident memory is per size.

Measured 2026-11-28 on the 2-core machine while other test suites ran (load average ~9):

    per year registrations  tables    build (s)   chapters (s)   peak MiB
       1,500       15,000      41         0.69           2.87        301
      20,000      200,000      41         3.06           4.85        559

``chapters`` builds the tables again and protects them (one release per counting unit). When
a universe has no safe pattern for all its tables (small data, e.g. the quarter-scale demo),
the greedy fallback adds up to 30 s per universe.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

CHILD = r"""
import resource, sys, time, tempfile
from pathlib import Path
import numpy as np, pandas as pd
from thbmonitor.config import Settings
from thbmonitor.monitor import build_tables, chapters
from thbmonitor.profiles import load_profile
from thbmonitor.store import open_store

per_year, path = int(sys.argv[1]), sys.argv[2]
nl = load_profile("nl")
rng = np.random.default_rng(20211207)
n = per_year * 10
n_persons = int(n / 1.4)
person = rng.integers(0, n_persons, n)
year = rng.integers(2012, 2022, n)
nat = rng.choice(["NL"] * 5 + ["PL", "RO", "BG", "NG", "UA", "VN", "ER", "HU", "MA", "XX"], n)
groups = rng.choice(list(nl.groups), n, p=[.2, .3, .25, .15, .1])
groups = np.where(np.isin(groups, ["domestic_sexual", "cross_border_sexual"]),
                  np.where(nat == "NL", "domestic_sexual", "cross_border_sexual"), groups)
age = rng.integers(12, 60, n)
regs = pd.DataFrame({
    "registration_id": [f"R{i:08d}" for i in range(n)],
    "reporting_organisation": rng.choice(list(nl.field_codes("reporting_organisation")), n),
    "registration_date": pd.to_datetime(year.astype(str) + "-01-01")
        + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
    "registration_year": year,
    "sex": rng.choice(["F", "F", "F", "M", "U"], n),
    "nationality_primary": nat,
    "nationality_group": [nl.nationality.group_of(c) for c in nat],
    "residence_status": rng.choice(list(nl.field_codes("residence_status")), n),
    "municipality": rng.choice(["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Venlo",
                                "Eindhoven", "Groningen", "Zwolle", "Elders"], n),
    "monitor_group": groups,
    "sector": rng.choice(list(nl.field_codes("sector")), n),
    "shelter": rng.random(n) < 0.35, "victim_scheme_applied": rng.random(n) < 0.2,
    "victim_scheme_granted": rng.random(n) < 0.1, "care_referral": rng.random(n) < 0.5,
    "age_band": [nl.age_band(int(a)) for a in age],
})
store = open_store(path, create=True)
store.register("r", regs)
cols = ", ".join(regs.columns)
store.execute(f"INSERT INTO registrations ({cols}) SELECT {cols} FROM r")
store.register("m", pd.DataFrame({"registration_id": regs["registration_id"],
                                  "person_id": [f"P{p}" for p in person]}))
store.execute("INSERT INTO registration_person SELECT registration_id, person_id FROM m")
settings = Settings()
t0 = time.perf_counter()
tables = build_tables(store, settings)
t1 = time.perf_counter()
chs, results = chapters(store, settings)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{per_year:>9,} {n:>12,} {len(tables):>7} {t1 - t0:>12.2f} {t2 - t1:>14.2f} {peak:>10.0f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-year", type=int, nargs="+", default=[1500, 20000])
    args = parser.parse_args()
    print(f"{'per year':>9} {'registrations':>12} {'tables':>7} {'build (s)':>12} "
          f"{'chapters (s)':>14} {'peak MiB':>10}")  # fmt: skip
    for size in args.per_year:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-c", CHILD, str(size), f"{tmp}/store.duckdb"], check=True
            )


if __name__ == "__main__":
    main()
