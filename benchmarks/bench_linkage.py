"""Benchmark: deduplicate a large synthetic world and measure time, memory and quality.

    python benchmarks/bench_linkage.py --scale 25 --work /tmp/bench_linkage
    python benchmarks/bench_linkage.py --work /tmp/bench_linkage --plaintext   # PPRL loss
    python benchmarks/bench_linkage.py --scale 25 --seed 7 --work /tmp/bench_linkage
    python benchmarks/bench_linkage.py --scale 20 --review 500 --rounds 2   # clerical review

Generates the world (once; reused when ``--work`` already holds it), ingests it with a fixed
key (``--plaintext``: Bloom filters of 4096 bits with one hash, i.e. the bigram sets without
collisions, as the plaintext reference), links the registrations and prints wall time per
step, peak memory (RSS) and quality against the world's truth: pair (cluster) F1, B-cubed F1,
and persons on a single list, linked versus true. With ``--review N --rounds K`` it then runs K
rounds of clerical review as ``link --review-sample N`` / ``link --labels`` do, the judgements
simulated from the world's truth, and prints the quality after each round and the precision
and recall measured on the judged pairs. Goals (issue): cluster F1 >= 0.97,
single-list persons within 3 %, total linkage under 200 s, peak memory under 5 GB.

Measured 2026-11-28 on the 2-core box (``--work /tmp/bl``). "Pair F1" is the cluster F1 of the
issue and of the Splink baseline in shared/reference/notes/linkage-notes.md (pairs implied by
the clusters); "exact-cluster F1" counts persons reproduced exactly.

Scale 25: 323,151 registrations; scale 1: 12,912.

| run | pair F1 (P / R) | exact F1 | B-cubed F1 | single-list | time | RSS |
|---|---|---|---|---|---|---|
| 25, old name pools | 0.915 (0.931 / 0.900) | 0.968 | 0.990 | +1.18 % | 50.8 s | 3.2 GB |
| 25, new name pools | 0.958 (0.979 / 0.938) | 0.984 | 0.995 | +0.86 % | 48.8 s | 3.9 GB |
| 25, + model changes* | **0.971 (0.982 / 0.960)** | 0.989 | 0.997 | **+0.52 %** | 86.1 s | 3.3 GB |
| 25, seed 7 (323,421) | **0.972 (0.987 / 0.957)** | 0.989 | 0.997 | **+0.61 %** | 85.4 s | 3.9 GB |
| 1 | 0.982 (0.998 / 0.966) | 0.992 | 0.998 | +0.60 % | 3.7 s | 1.8 GB |
| 1, plaintext | 0.982 (0.998 / 0.965) | 0.992 | 0.998 | +0.63 % | 8.7 s | 2.7 GB |

Goals met on two worlds (default seed 20240601 and seed 7): pair F1 0.971 and 0.972 (>= 0.97),
single-list +0.52 and +0.61 % (within 3 %), 86 s (< 200 s), 3.3-3.9 GB (< 5 GB); PPRL loses
nothing against plaintext-like filters at scale 1 (0.9816 both).

The first worlds drew 280,224 persons from 5,720 full names (8-40 names per country and kind);
the pools now hold 30-300 per country and kind (``tools/build_names.py``). * Model changes: a
term-frequency adjustment on the full name, "alike" name levels with one name exact, ages
(from the age at exploitation) when a birth date is missing, and five dedupe-only blocking
rules; the split was prepare 9.2 s, train 2.7 s, predict 66.7 s, cluster 0.4 s on an idle box
(the new blocking rules cost about 20 s of it). The remaining missed pairs are mostly aliases
(a registration under another name: 680 of 1,887 missed pairs) and noise in two fields at
once; the false pairs are same-name strangers of the small Vietnamese,
Nigerian and Eritrean pools and namesakes with the same birth date.

Clerical review, measured 2026-12-07 on the loaded 2-core box (judgements simulated from the
truth; ``--scale 1 --background 2000 --review 200 --rounds 2``, 12,912 registrations): pair F1
0.9819 (P 0.9984 / R 0.9659) before review; round 1 judged 200 pairs (153 matches; the linkage
had 3 false and 17 missed links among them, precision 0.978, recall 0.889 on the judged pairs)
and the re-link gave F1 0.9873 (P 1.0000 / R 0.9748); round 2 found one error in 200 and gave
0.9875. Scale 20 (``--scale 20 --review 1000 --rounds 1``, 258,436 registrations, 51,759
scored pairs kept): pair F1 0.9721 (P 0.9835 / R 0.9609), B-cubed 0.9967, single-list +0.54 %,
460 s on the loaded box (predict 385 s; 3.3 GB); 1,000 judged pairs (359 matches) held 196
false and 127 missed links (precision 0.542, recall 0.646 on them); after the re-link with
them F1 0.9778 (P 0.9912 / R 0.9648), single-list +0.53 %. The issue's goal (0.985) is not
reached. Returns fall fast: the remaining misses are pairs blocking never scored. On the scale-3
world (38,710 registrations) 96 of 174 missed true pairs were never scored (46 another name,
36 of them with the same birth date; 33 both names noisy; 17 swapped names with more noise),
and a blocking rule on the same certain birth date, nationality and sex raised pair recall
0.969 -> 0.974 (F1 0.9806 -> 0.9832, precision unchanged); at scale 20 that link ran out of
DuckDB's 3 GB in Splink's blocked-pair step, so the rule is not in the model. Term-frequency
adjustments on one-name-exact levels raised precision (0.9925 -> 0.9957) but lowered recall
more (F1 0.9763), and the decision threshold is flat there (F1 0.978-0.980 from 0.8 to 0.95).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.engine import Store
from thbmonitor.ingest import ingest_file
from thbmonitor.linkage import (
    capture_cell_errors,
    link_registrations,
    quality,
    single_list_error,
)
from thbmonitor.linkage.review import (
    evaluate,
    read_labels,
    record_labels,
    review_sample,
    write_sample,
)
from thbmonitor.pseudonymise import Encoder
from thbmonitor.store import open_store
from thbmonitor.synth import WorldParams, generate

KEY = b"benchmark-key-0123456789abcdef01"


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=25.0)
    ap.add_argument("--background", type=int, default=20_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_linkage"))
    ap.add_argument("--plaintext", action="store_true")
    ap.add_argument("--seed", type=int, default=WorldParams().seed, help="seed of the world")
    ap.add_argument("--review", type=int, default=0, help="registration pairs judged per round")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of clerical review")
    args = ap.parse_args()
    tag = f"{args.scale:g}" if args.seed == WorldParams().seed else f"{args.scale:g}_s{args.seed}"
    world = args.work / f"world_{tag}"
    if not (world / "registrations.csv").exists():
        t = time.perf_counter()
        params = WorldParams(scale=args.scale, background_events=args.background, seed=args.seed)
        generate(params, world)
        print(f"generate world: {time.perf_counter() - t:.1f} s")
    name = "plaintext" if args.plaintext else "pprl"
    store_path = args.work / f"{name}_{tag}.duckdb"
    encoder = Encoder(KEY, 4096, 1) if args.plaintext else Encoder(KEY)
    if not store_path.exists():
        t = time.perf_counter()
        with open_store(str(store_path), create=True) as store:
            ingest_file(store, world / "registrations.csv", encoder)
        print(f"ingest registrations: {time.perf_counter() - t:.1f} s")
    scratch = args.work / f"{name}_{tag}_run.duckdb"
    scratch.write_bytes(store_path.read_bytes())
    truth = pd.read_csv(world / "truth" / "registration_person.csv")
    with open_store(str(scratch), create=True) as store:
        t = time.perf_counter()
        summary = link_registrations(store, Settings())
        total = time.perf_counter() - t
        regs = store.df(
            "SELECT registration_id, reporting_organisation, registration_year FROM registrations"
        )
        report(store, truth, regs, summary, total)
        for r in range(args.review and args.rounds):
            review_round(store, truth, regs, args.review, r + 1, scratch)


def report(store: Store, truth: pd.DataFrame, regs: pd.DataFrame, summary, total: float) -> None:
    pred = store.df("SELECT registration_id, person_id FROM registration_person")
    q = quality(pred, truth)
    single = single_list_error(capture_cell_errors(pred, truth, regs))
    print(
        f"registrations: {summary.n_registrations:,}; persons linked {summary.n_persons:,}, "
        f"true {int(q['n_persons_true']):,}; scored pairs kept: "
        f"{store.scalar('SELECT count(*) FROM registration_pairs'):,}"
    )
    print("seconds per step:", json.dumps({k: round(v, 1) for k, v in summary.seconds.items()}))
    print(f"total linkage time: {total:.1f} s; peak RSS: {peak_gb():.2f} GB")
    print(
        f"pair (cluster) P/R/F1: {q['pair_precision']:.4f} / {q['pair_recall']:.4f} / "
        f"{q['pair_f1']:.4f}"
    )
    print(
        f"B-cubed P/R/F1: {q['bcubed_precision']:.4f} / {q['bcubed_recall']:.4f} / "
        f"{q['bcubed_f1']:.4f}"
    )
    print(f"exact-cluster F1: {q['cluster_f1']:.4f}")
    print(
        f"single-list persons: linked {single['linked']:,.0f}, true {single['true']:,.0f}, "
        f"error {100 * single['relative_error']:+.2f} %"
    )


def review_round(
    store: Store, truth: pd.DataFrame, regs: pd.DataFrame, n: int, number: int, scratch: Path
) -> None:
    """One round: sample, judge from the truth, evaluate, keep the judgements, link again."""
    sample = review_sample(store, n, Settings())
    sample = sample[sample["pair_kind"] == "registration"]
    person = truth.set_index("registration_id")["person_id"]
    same = person.loc[sample["left_id"]].to_numpy() == person.loc[sample["right_id"]].to_numpy()
    path = scratch.with_name(f"{scratch.stem}_review{number}.csv")
    write_sample(sample.assign(label=np.where(same, "match", "non-match")), path)
    labels = read_labels(path)
    (found,) = evaluate(store, labels)
    print(
        f"review round {number}: {found.n} pairs judged, {int(same.sum())} matches; linkage on "
        f"them: precision {found.precision.value if found.precision else float('nan'):.3f}, "
        f"recall {found.recall.value if found.recall else float('nan'):.3f} "
        f"(FP {found.false_positive}, FN {found.false_negative})"
    )
    with store.transaction():
        record_labels(store, labels, path)
    t = time.perf_counter()
    summary = link_registrations(store, Settings())
    report(store, truth, regs, summary, time.perf_counter() - t)


if __name__ == "__main__":
    main()
