"""Benchmark: protect and audit a whole default-sized release (goal: under 30 s).

Builds a seeded synthetic release of 60 linked tables (5 years x 12 tables such as
form x municipality(40), form x nationality(15), form x sex x age) from unit records,
protects it with ``protect_release`` (primary, group, secondary suppression and the joint LP
audit) and re-audits it with ``audit_release``. Prints sizes, suppression counts, wall times
and peak memory.

    .venv/bin/python benchmarks/bench_disclosure.py [--seed 1] [--years 5] [--quality 100]

``--quality N`` also compares the secondary suppression of N random 3 x 3 tables (with
margins) with the cheapest pattern found by brute force over all subsets of hideable cells
(each subset checked with the same joint audit): the information loss the heuristic adds.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from thbmonitor.disclosure import CountTable, DisclosureRules, audit_release, protect_release

TABLES = [
    ("form", "sex"),
    ("form", "age"),
    ("form", "nationality"),
    ("form", "municipality"),
    ("form", "organisation"),
    ("form", "residence"),
    ("sex", "age"),
    ("municipality", "sex"),
    ("nationality", "sex"),
    ("form", "sex", "age"),
    ("organisation", "sex"),
    ("residence", "age"),
]


def categories(rng: np.random.Generator) -> dict[str, tuple[list[str], np.ndarray]]:
    def skewed(prefix: str, n: int, power: float) -> tuple[list[str], np.ndarray]:
        w = 1.0 / np.arange(1, n + 1) ** power
        return [f"{prefix}{i:02d}" for i in range(n)], w / w.sum()

    return {
        "form": (["sexual", "labour", "criminal", "other"], np.array([0.5, 0.3, 0.17, 0.03])),
        "sex": (["F", "M", "X"], np.array([0.62, 0.37, 0.01])),
        "age": (
            ["<12", "12-17", "18-23", "24-29", "30-49", "50+"],
            np.array([3, 12, 25, 20, 32, 8]) / 100,
        ),
        "nationality": skewed("nat", 15, 1.1),
        "municipality": skewed("mun", 40, 1.0),
        "organisation": skewed("org", 8, 0.8),
        "residence": skewed("res", 6, 1.2),
    }


def records(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cats = categories(rng)
    return pd.DataFrame({d: rng.choice(c, size=n, p=p) for d, (c, p) in cats.items()})


def build_release(seed: int, years: int) -> list[CountTable]:
    rng = np.random.default_rng(seed)
    cats = categories(rng)
    tables = []
    for year in range(2026 - years, 2026):
        rec = records(rng, int(rng.integers(900, 1400))).assign(year=str(year))
        for dims in TABLES:
            tables.append(
                CountTable.from_records(
                    f"{year}_{'_x_'.join(dims)}",
                    rec,
                    ["year", *dims],
                    margins=list(dims),
                    categories={d: cats[d][0] for d in dims},
                    universe="registered_victims",
                )
            )
    return tables


def quality(n: int, seed: int) -> None:
    """Heuristic vs brute-force optimal secondary suppression on small 2-way tables."""
    import itertools

    from thbmonitor.disclosure.auditor import Auditor as _Auditor
    from thbmonitor.disclosure.primary import primary_statuses
    from thbmonitor.disclosure.rules import CellStatus

    rng = np.random.default_rng(seed)
    rules = DisclosureRules(dominance=None)
    ratios, optimal, t_heur, t_brute = [], 0, 0.0, 0.0
    for _ in range(n):
        inner = rng.choice([0, 2, 5, 8, 11, 14, 20, 30, 45, 70], size=(3, 3))
        cells = pd.DataFrame(
            [(f"r{i}", f"c{j}", int(inner[i, j])) for i in range(3) for j in range(3)],
            columns=["r", "c", "count"],
        )
        table = CountTable.from_cells("t", cells, ["r", "c"])
        grid = table.grid()
        t0 = time.perf_counter()
        rel = protect_release([table], rules)
        t_heur += time.perf_counter() - t0
        f = rel["t"].frame
        heur = float(f.loc[f["status"] == "secondary", "count"].sum())
        t0 = time.perf_counter()
        status, _ = primary_statuses([grid], rules)
        auditor = _Auditor([grid], None, rules)
        cand = [k for k, s in status.items() if s == CellStatus.PUBLISHED]
        best = np.inf
        for size in range(len(cand) + 1):
            for subset in itertools.combinations(cand, size):
                cost = sum(auditor.values[k] for k in subset)
                if cost >= best:
                    continue
                trial = dict(status)
                for k in subset:
                    trial[k] = CellStatus.SECONDARY
                if auditor.audit(trial, [], exact=False).passed:
                    best = cost
        t_brute += time.perf_counter() - t0
        if best > 0:
            ratios.append(heur / best)
        optimal += heur <= best
    r = np.array(ratios)
    print(f"quality: {n} random 3x3 tables; heuristic optimal in {optimal} ({optimal / n:.0%})")
    if len(r):
        print(
            f"  suppressed value / optimum (tables needing secondary cells): mean {r.mean():.2f}"
            f", median {np.median(r):.2f}, max {r.max():.2f}"
        )
    print(f"  time: heuristic {t_heur:.1f} s, brute force {t_brute:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--quality", type=int, default=0, help="also compare N small tables")
    args = ap.parse_args()
    if args.quality:
        quality(args.quality, args.seed)

    t0 = time.perf_counter()
    tables = build_release(args.seed, args.years)
    for t in tables:
        t.grid()
    t1, c1 = time.perf_counter(), time.process_time()
    release = protect_release(tables, DisclosureRules())
    t2, c2 = time.perf_counter(), time.process_time()
    audit = audit_release(release.tables)
    t3, c3 = time.perf_counter(), time.process_time()
    audit.raise_if_disclosive()

    frames = pd.concat([t.frame for t in release.tables])
    status = frames["status"].value_counts()
    n_cells = len(frames)
    n_keys = len({k for t in release.tables for k in t.keys})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tables                 {len(tables)}")
    print(f"cells (rows)           {n_cells}  (distinct cells across tables: {n_keys})")
    for s in ("published", "primary", "group", "secondary", "zero", "not_available"):
        print(f"  {s:<20} {int(status.get(s, 0))}")
    print(
        f"hidden cells audited   {len(release.audit.intervals)}; group checks "
        f"{len(release.audit.groups)}; passed {release.audit.passed}"
    )
    print(f"build tables           {t1 - t0:6.2f} s")
    print(f"protect + audit        {t2 - t1:6.2f} s wall, {c2 - c1:6.2f} s CPU  (goal < 30 s)")
    print(f"re-audit release       {t3 - t2:6.2f} s wall, {c3 - c2:6.2f} s CPU")
    print(f"peak memory (RSS)      {peak_mb:6.0f} MB")


if __name__ == "__main__":
    main()
