"""End to end through the registry: the synthetic world's registrations submitted through the
JSON API by five organisations, extracted, linked and reported, against ``demo`` on the same
world.

Goal (issue 16): the same victims per year as ``demo``. Three runs on one world (seed and
scale as the demo's):
  registry  synth -> POST /api/registrations (5 organisations, 20 clients) -> intake extract
            (every round into one store) -> ingest the police and population registers and
            the denominators -> link -> report
  direct    the same files through ``ingest`` with the same key -> link -> report
  demo      ``thbmonitor demo`` (its own throwaway key)
and prints registrations and victims per year of each (results.json).

Run: python benchmarks/bench_registry_e2e.py [--scale 1.0] [--clients 20]

Measured 2026-12-07 on the shared 2-core box (load average 6-11), scale 1, the demo's seed:
12,853 registrations submitted by five organisations, 12,853 stored, 0 refused (73/s with
20 clients), audit chain verified (12,873 entries). Victims per year 2016-2020, registry =
direct ingest = demo: 953, 963, 668, 1,335, 986 (registrations 1,086, 1,118, 751, 1,526,
1,105). Against the world's truth, registry and direct alike: every submitted registration id
kept, pair F1 0.9848, victims per year true 952, 958, 668, 1,334, 984 (the linkage splits a
few persons). Before the extract kept the submitted ids it differed from demo by one victim.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from registry_harness import KEY, Registry, cli, machine_load, sql

from thbmonitor.config import load_settings
from thbmonitor.schema import REGISTRATION_FIELDS

ORGS = {
    "Politie": "Police",
    "Koninklijke Marechaussee": "KMar",
    "Arbeidsinspectie": "LabourInspectorate",
    "Zorgcoordinatie": "NGOCare",
    "Overige melders": "Other",
}
KINDS = {f.name: f.kind for f in REGISTRATION_FIELDS}
WINDOW = "window_first = 2016\nwindow_last = 2020\n"


def body(row: dict[str, str]) -> dict[str, object]:
    """A registrations file's row as the API's JSON (empty cells left out)."""
    out: dict[str, object] = {}
    for name, text in row.items():
        if text == "" or name == "reporting_organisation":
            continue
        kind = KINDS[name]
        if kind == "bool":
            out[name] = text.strip().lower() in ("1", "true", "yes", "ja", "y", "j")
        elif kind == "int":
            out[name] = int(text)
        else:
            out[name] = text
    return out


def submit_all(reg: Registry, rows: list[dict[str, str]], clients: int) -> tuple[int, list[str]]:
    """POST every row with its organisation's token; the registration_id is the
    Idempotency-Key, so a retry after a dropped connection stores nothing twice."""
    by_type = {kind: reg.tokens[name] for name, kind in ORGS.items()}
    lock = threading.Lock()
    queue = list(reversed(rows))
    refused: list[str] = []
    done = [0]

    def work() -> None:
        con = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                row = queue.pop()
            payload = json.dumps(body(row)).encode()
            headers = {
                "Authorization": f"Bearer {by_type[row['reporting_organisation']]}",
                "Idempotency-Key": row["registration_id"],
                "Content-Type": "application/json",
            }
            for _attempt in range(5):
                try:
                    con.request("POST", "/api/registrations", payload, headers)
                    answer = con.getresponse()
                    text = answer.read()
                    break
                except (OSError, http.client.HTTPException):
                    con.close()
                    con = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=60)
            with lock:
                if answer.status == 201:
                    done[0] += 1
                else:
                    refused.append(f"{answer.status} {text[:200]!r}")
        con.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0], refused


def run(*args: str, cwd: Path | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from thbmonitor.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "THBMONITOR_KEY": KEY},
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed:\n{done.stderr[-3000:]}")


def figures(out: Path) -> tuple[dict[str, object], dict[str, object]]:
    results = json.loads((out / "results.json").read_text())
    return results["registrations_by_year"], results["victims_by_year"]


def against_truth(store: Path, world: Path) -> dict[str, object]:
    """The store's registrations and linked persons against the world's truth: the ids kept,
    registrations and distinct victims per year (linked and true), and the linkage's pair F1."""
    from thbmonitor.linkage import quality
    from thbmonitor.store import open_store

    with open_store(str(store)) as st:
        linked = st.df(
            "SELECT r.registration_id, r.registration_year, p.person_id FROM registrations r "
            "JOIN registration_person p USING (registration_id)"
        )
    truth = pd.read_csv(world / "truth" / "registration_person.csv", dtype=str)
    years = pd.read_csv(
        world / "registrations.csv", dtype=str, usecols=["registration_id", "registration_date"]
    )
    years["year"] = years.pop("registration_date").str[:4].astype(int)
    truth = truth.merge(years, on="registration_id")

    def per_year(frame: pd.DataFrame, year: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in frame.groupby(year)["person_id"].nunique().items()}

    q = quality(linked[["registration_id", "person_id"]], truth[["registration_id", "person_id"]])
    return {
        "ids kept": set(linked["registration_id"]) == set(truth["registration_id"]),
        "registrations": len(linked),
        "victims per year (linked)": per_year(linked, "registration_year"),
        "victims per year (true)": per_year(truth, "year"),
        "pair F1": round(q["pair_f1"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--work", type=Path, default=None, help="keep the runs' files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        world = work / "world"
        config = work / "window.toml"
        config.write_text(WINDOW)
        print(f"machine: {machine_load()}")
        t0 = time.monotonic()
        seed = str(load_settings(None, {}).seed)  # the demo's world: the settings' seed
        cli("synth", "--out", str(world), "--scale", str(args.scale), "--seed", seed)
        with (world / "registrations.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        reg = Registry(ORGS, work)
        try:
            reg.start(workers=2, threads=16)
            t1 = time.monotonic()
            stored, refused = submit_all(reg, rows, args.clients)
            seconds = time.monotonic() - t1
            print(
                f"submitted {len(rows):,} registrations through the API: {stored:,} stored, "
                f"{len(refused)} refused, in {seconds:.0f} s ({stored / seconds:.1f}/s)"
            )
            for r in refused[:5]:
                print("  refused:", r)
            in_db = sql(
                reg.db,
                "SELECT registration_year, count(*) FROM registry_registration "
                "GROUP BY 1 ORDER BY 1",
            )
            store = work / "registry.duckdb"
            for year, _ in in_db:
                cli(
                    "intake",
                    "extract",
                    "--database",
                    reg.owner,
                    "--round",
                    str(year),
                    "--store",
                    str(store),
                )
            audit = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from thbmonitor.cli import main; main()",
                    "intake",
                    "verify-audit",
                    "--database",
                    reg.owner,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"audit: {audit.stderr.strip()}")
        finally:
            reg.drop()
        registers = [
            str(world / f)
            for f in (
                "police_register.parquet",
                "population_register.parquet",
                "population_denominators.csv",
            )
        ]
        run("ingest", *registers, "--store", str(store))
        run("link", "--store", str(store), "--config", str(config))
        run(
            "report",
            "--store",
            str(store),
            "--out",
            str(work / "registry"),
            "--config",
            str(config),
        )
        direct = work / "direct.duckdb"
        run("ingest", str(world / "registrations.csv"), *registers, "--store", str(direct))
        run("link", "--store", str(direct), "--config", str(config))
        run(
            "report", "--store", str(direct), "--out", str(work / "direct"), "--config", str(config)
        )
        run("demo", "--out", str(work / "demo"), "--scale", str(args.scale), "--seed", seed)
        runs = {name: figures(work / name) for name in ("registry", "direct", "demo")}
        truths = {"registry": against_truth(store, world), "direct": against_truth(direct, world)}
        print(f"all three runs in {time.monotonic() - t0:.0f} s; machine: {machine_load()}")
    for i, what in enumerate(("registrations per year", "victims per year")):
        print(what)
        for name, figs in runs.items():
            print(f"  {name:9s}", json.dumps(figs[i], sort_keys=True))
    print("against the world's truth")
    for name, found in truths.items():
        for what, value in found.items():
            print(f"  {name:9s} {what}: {json.dumps(value, sort_keys=True)}")
    same = runs["registry"][1] == runs["demo"][1]
    print("victims per year, registry = demo:", "yes" if same else "NO")
    print(
        "victims per year, registry = direct ingest (same key):",
        "yes" if runs["registry"][1] == runs["direct"][1] else "NO",
    )
    print("GOAL MET" if same else "GOAL NOT MET")


if __name__ == "__main__":
    main()
