"""Benchmark: disclosure control of the monitor's count tables on demo releases (issue 10).

For each demo store (``thbmonitor demo --out DIR [--seed N]`` writes ``DIR/monitor.duckdb``)
it builds the monitor's tables, protects them as the report does, and prints:

- count cells, primary (and group) cells, complementary cells, the share hidden and the
  complementary cells per primary cell (goals: at most 12% hidden, at most 2 per primary);
- the category merges made (a small ``unknown`` into its neighbour) and the small counts shown
  because the headline figures give them away (unknown sex per year);
- whether every yearly total of registrations and victims, and female and male victims in
  every year, are published;
- the time of protection and of the joint audit (goal: under 30 s);
- the same with the heuristic alone (with the units' ties only with ``--heuristic``: on
  their joint system it takes minutes) and with unknown categories not primary;
- the cell-key method (``disclosure_method = "cell_key"``): registrations per year within D of
  the true count, every table complete, the same cell equal across tables (the cell-key
  audit), the mean absolute deviation and the time. A store made before record keys existed
  gets keys drawn here from a seeded generator (as ingest would assign them) in a copy;
- with ``--tauargus-python PY`` (an interpreter that has ``pytauargus`` installed; it is not
  a dependency of thbmonitor): every table protected on its own by tau-Argus (OPT, FREQ(10,30))
  from its unit records, the cells it hides, and whether its patterns pass our joint audit.

    .venv/bin/python benchmarks/bench_disclosure.py out/demo/monitor.duckdb [more stores]
        [--tauargus-python /tmp/tau/bin/python]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.disclosure import CellStatus, ProtectedTable, Relations, audit_release
from thbmonitor.disclosure.cellkey import audit_cell_key
from thbmonitor.monitor.chapters import merges_made
from thbmonitor.monitor.published import (
    default_protect,
    perturb_monitor,
    protect_by_universe,
    rules_from_settings,
    trial_protect,
)
from thbmonitor.monitor.tables import MonitorTable, build_release, build_tables
from thbmonitor.store import open_store, resolve_window

HIDDEN = ("primary", "group", "secondary")
WINDOW = (2016, 2020)

TAU_SCRIPT = r"""
import json, sys
import numpy as np
import pandas as pd
import pytauargus
job = json.load(open(sys.argv[1]))
out = {}
for name, spec in job.items():
    micro = pd.read_parquet(spec["file"])
    micro["one"] = 1
    res = pytauargus.protect(micro, [spec["dims"]], "one", safety_rules="FREQ(10,30)",
                             suppress=spec["method"])
    frame = res.tables[0].dataframe()
    out[name] = [[*(str(r[d]).strip() for d in spec["dims"]), r["status"]]
                 for _, r in frame.iterrows()]  # codes come back padded to a fixed width
json.dump(out, open(sys.argv[2], "w"))
"""


def protect_monitor(
    tables: list[MonitorTable], settings: Settings, relations: Relations | None
) -> dict[str, ProtectedTable]:
    trial = trial_protect(settings, relations is not None)
    protected, withheld, _ = protect_by_universe(
        tables, default_protect(settings), trial, relations=relations
    )
    if withheld:
        print(f"  withheld: {withheld}")
    return protected


def figures(protected: dict[str, ProtectedTable]) -> dict[str, float]:
    c: collections.Counter[str] = collections.Counter()
    for pt in protected.values():
        c.update(pt.frame["status"])
    cells = sum(c.values())
    hidden = sum(c[s] for s in HIDDEN)
    primary = c["primary"] + c["group"]
    return {
        "cells": cells,
        "primary": primary,
        "secondary": c["secondary"],
        "hidden_share": hidden / cells,
        "secondary_per_primary": c["secondary"] / max(primary, 1),
    }


def status_of(pt: ProtectedTable, **coords: str) -> str:
    f = pt.frame
    mask = pd.Series(True, index=f.index)
    for d in pt.dims:
        mask &= f[d].astype(str) == coords.get(d, "Total")
    return str(f.loc[mask, "status"].iloc[0])


def status_count(tables: list[MonitorTable], year: int) -> int:
    """The true number of registrations in a year (reg_year_group)."""
    return next(t for t in tables if t.key == "reg_year_group").count(year=str(year))


def goals(protected: dict[str, ProtectedTable]) -> dict[str, bool]:
    years = [str(y) for y in range(WINDOW[0], WINDOW[1] + 1)]
    out = {}
    for unit in ("reg", "vic"):
        out[f"{unit}_yearly_totals"] = all(
            status_of(protected[f"{unit}_year_group"], year=y) == CellStatus.PUBLISHED
            for y in years
        )
        for sex in ("F", "M"):
            out[f"{unit}_{sex}_every_year"] = all(
                status_of(protected[f"{unit}_year_sex"], year=y, sex=sex) == CellStatus.PUBLISHED
                for y in years
            )
    return out


def run(
    tables: list[MonitorTable],
    settings: Settings,
    label: str,
    relations: Relations | None,
    ties: Relations | None = None,
) -> dict[str, ProtectedTable]:
    """Protect as the report does (all units as one release with the ``relations`` between
    them) and audit jointly, with ``ties`` (default: the same relations)."""
    t0 = time.perf_counter()
    protected = protect_monitor(tables, settings, relations)
    t1 = time.perf_counter()
    audit = audit_release(
        list(protected.values()), rules=rules_from_settings(settings), relations=ties or relations
    )
    t2 = time.perf_counter()
    f = figures(protected)
    g = goals(protected)
    print(
        f"  {label:<34} hidden {f['primary'] + f['secondary']:>4}/{f['cells']} "
        f"= {100 * f['hidden_share']:5.1f}%  primary {f['primary']:>3}  complementary "
        f"{f['secondary']:>3} ({f['secondary_per_primary']:.2f} per primary)  "
        f"protect {t1 - t0:5.1f} s, audit {t2 - t1:4.1f} s, audit passed {audit.passed}"
    )
    print(f"  {'':<34} " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in g.items()))
    return protected


def cell_key(store_path: Path, settings: Settings, true: dict[str, int]) -> None:
    """The cell-key goals on one store (record keys drawn here if the store has none)."""
    ckm = settings.replace(disclosure_method="cell_key")
    with tempfile.TemporaryDirectory() as tmp:
        path = store_path
        with open_store(str(store_path), read_only=True) as store:
            has = store.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'record_keys'"
            ) and store.scalar("SELECT count(*) FROM record_keys")
        if not has:
            path = Path(tmp) / "store.duckdb"
            shutil.copy(store_path, path)
            with open_store(str(path)) as store:
                ids = store.df("SELECT registration_id FROM registrations ORDER BY 1")
                ids["record_key"] = np.random.default_rng(settings.seed).random(len(ids))
                store.register("k_in", ids)
                store.execute("INSERT INTO record_keys SELECT * FROM k_in")
                store.unregister("k_in")
        with open_store(str(path), read_only=True) as store:
            t0 = time.perf_counter()
            tables = build_tables(store, ckm)
            protected, ptable = perturb_monitor(tables, ckm)
            seconds = time.perf_counter() - t0
    d = ptable.max_deviation
    reg = protected["reg_year_group"].frame
    years = [str(y) for y in range(WINDOW[0], WINDOW[1] + 1)]
    dev = {
        y: int(reg[(reg["year"].astype(str) == y) & (reg["group"] == "Total")]["count"].iloc[0])
        - true[y]
        for y in years
    }
    hidden = sum(int(pt.frame["status"].isin(HIDDEN).sum()) for pt in protected.values())
    problems = audit_cell_key([(p.table, p.frame) for p in protected.values()], ptable)
    frames = [p.frame for p in protected.values()]
    cells = sum(len(f) for f in frames)
    mad = float(np.mean(np.concatenate([
        np.abs(f["count"].to_numpy(float) - f["true_count"].to_numpy(float)) for f in frames
    ])))  # fmt: skip
    print(
        f"  cell-key (D={d}, V={ptable.variance:g}){' keys drawn here' if not has else ''}: "
        f"registrations per year minus true {dev} (goal: within {d}: "
        f"{'yes' if all(abs(v) <= d for v in dev.values()) else 'NO'}); hidden cells {hidden} "
        f"of {cells}; same cell equal across tables and within D: "
        f"{'yes' if not problems else 'NO ' + problems[0]}; mean |deviation| {mad:.3f}; "
        f"{seconds:.1f} s"
    )


def tau_argus(
    tables: list[MonitorTable], python: str, ours: dict[str, ProtectedTable], verbose: bool
) -> None:
    """Each table on its own by tau-Argus (OPT), from unit records expanded from its cells."""
    with tempfile.TemporaryDirectory() as tmp:
        job = {}
        for t in tables:
            f = t.table.frame
            dims = list(t.table.dims)
            inner = f[~(f[dims].astype(str) == "Total").any(axis=1)]
            rows = inner.loc[inner.index.repeat(inner["count"].fillna(0).astype(int)), dims]
            path = Path(tmp) / f"{t.key}.parquet"
            rows.astype(str).reset_index(drop=True).to_parquet(path)
            job[t.key] = {"file": str(path), "dims": dims, "method": "OPT(1)"}
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        (Path(tmp) / "tau.py").write_text(TAU_SCRIPT)
        t0 = time.perf_counter()
        subprocess.run(
            [python, str(Path(tmp) / "tau.py"), str(Path(tmp) / "job.json"),
             str(Path(tmp) / "out.json")],
            check=True, capture_output=True, cwd=tmp,  # tau-Argus writes its logs to cwd
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        result = json.loads((Path(tmp) / "out.json").read_text())
    hidden_tau = 0
    theirs = {}
    per_table = []
    for t in tables:
        status = {tuple(r[:-1]): r[-1] for r in result[t.key]}
        pt = ours[t.key]
        dims = list(t.table.dims)
        mapped = []
        for _, row in pt.frame.iterrows():
            s = status.get(tuple(str(row[d]) for d in dims), "S")
            hidden_tau += s in ("U", "M")
            mapped.append(
                {"U": "primary", "M": "secondary", "E": "zero"}.get(s, row["status"])
                if s in ("U", "M")
                else ("zero" if row["count"] == 0 else "published")
            )
        frame = pt.frame.assign(status=mapped)
        theirs[t.key] = dataclasses.replace(pt, frame=frame)
        per_table.append(
            (
                t.key,
                int(pt.frame["status"].isin(HIDDEN).sum()),
                int(frame["status"].isin(HIDDEN).sum()),
            )
        )
    if verbose:
        for key, a, b in per_table:
            print(f"    {key:<28} ours {a:>3}  tau-Argus {b:>3}")
    ours_hidden = sum(int(pt.frame["status"].isin(HIDDEN).sum()) for pt in ours.values())
    audit = audit_release(list(theirs.values()))
    print(
        f"  tau-Argus OPT, table by table: {hidden_tau} cells hidden in {seconds:.1f} s; ours "
        f"jointly {ours_hidden} = {ours_hidden / max(hidden_tau, 1):.2f} x theirs (goal <= 1.3);"
        f" their patterns pass our joint audit: {audit.passed} "
        f"({len(audit.failures)} cells too narrow, {len(audit.exact_disclosures)} exact)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stores", nargs="+", type=Path, help="monitor.duckdb of demo runs")
    ap.add_argument("--tauargus-python", help="a python with pytauargus installed")
    ap.add_argument("--verbose", action="store_true", help="per-table figures")
    ap.add_argument(
        "--unit-ties", action="store_true", help="also protect the units as one release"
    )
    ap.add_argument("--no-cell-key", action="store_true", help="skip the cell-key method")
    ap.add_argument(
        "--heuristic",
        action="store_true",
        help="also the heuristic alone with the units' ties (minutes on their joint system)",
    )
    args = ap.parse_args()
    for store_path in args.stores:
        with open_store(str(store_path)) as store:
            settings = resolve_window(
                store, Settings(window_first=WINDOW[0], window_last=WINDOW[1])
            )
            tables, relations = build_release(store, settings)
        print(
            f"{store_path}: {len(tables)} tables, {len(relations.equations)} ties between the units"
        )
        made = merges_made(tables, settings.disclosure_threshold)
        for m in made["merges"]:
            print(f"  merged {m['dimension']}: {' + '.join(m['categories'])} -> {m['into']} "
                  f"({len(m['tables'])} tables)")  # fmt: skip
        shown = [f"{c['table']} {c.get('year', '')}" for c in made["shown_small"]]
        print(f"  small counts shown (given away by the headline): {', '.join(shown) or 'none'}")
        # as the report protects (the units' ties only with disclosure_unit_ties), audited
        # with the ties between the units either way
        tied = relations if settings.disclosure_unit_ties else None
        ours = run(tables, settings, "optimal (default settings)", tied, relations)
        if tied is None or args.heuristic:  # on the tied units' joint system: minutes
            run(tables, settings.replace(disclosure_time_limit=0.0), "heuristic only", tied,
                relations)  # fmt: skip
        if args.unit_ties:
            run(tables, settings, "units as one release, with ties", relations)
        plain_settings = settings.replace(disclosure_unknown_primary=False)
        with open_store(str(store_path)) as store:
            plain, plain_rel = build_release(store, plain_settings)
        run(plain, plain_settings, "unknown categories shown", tied and plain_rel, plain_rel)
        true = {y: status_count(tables, y) for y in range(WINDOW[0], WINDOW[1] + 1)}
        if not args.no_cell_key:
            cell_key(store_path, settings, {str(y): n for y, n in true.items()})
        if args.tauargus_python:
            tau_argus(tables, args.tauargus_python, ours, args.verbose)


if __name__ == "__main__":
    main()
