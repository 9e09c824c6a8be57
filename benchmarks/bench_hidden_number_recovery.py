"""Coverage of the synthetic world's yearly truth by the hidden-number chapter's estimator.

For each seed a world is generated, and its TRUE capture histories (truth/
capture_histories_by_stratum.csv) are fitted by the chapter's yearly model
(thbmonitor.mse.series.estimate_series: all years, list x year and list x covariate
interactions) and, for comparison, by one uncovariated model per year (the former chapter).
Printed per seed: years of 10 whose 95% interval covers truth/population_by_year.csv, the mean
estimate / truth, and the fit's wall time.

Run: python benchmarks/bench_hidden_number_recovery.py [--scale 0.5] [--seeds 1,2,3,4,5,6,7,8]
     [--selection aic]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from thbmonitor.linkage.capture import LISTS
from thbmonitor.mse import CaptureTable, estimate_by_stratum
from thbmonitor.mse.series import YEARLY_COVARIATES, YEARLY_SELECTION, estimate_series
from thbmonitor.synth import WorldParams, generate


def coverage(rows: pd.DataFrame, true: pd.Series) -> tuple[int, float]:
    rows = rows.set_index("year")
    hit = (rows["lower"] <= true) & (true <= rows["upper"])
    return int(hit.sum()), float((rows["estimate"] / true).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--selection", default=YEARLY_SELECTION)
    args = parser.parse_args()
    print(f"scale {args.scale}, yearly model selection {args.selection}")
    print("seed  covariate model (covered, est/true, s)   per-year model (covered, est/true)")
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            generate(WorldParams(seed=seed, scale=args.scale, background_events=0), out)
            true = (
                pd.read_csv(out / "truth" / "population_by_year.csv")
                .groupby("year")["n_total"]
                .sum()
            )
            histories = pd.read_csv(out / "truth" / "capture_histories_by_stratum.csv")
        table = CaptureTable.from_frame(
            histories, lists=list(LISTS), covariates=["year", *YEARLY_COVARIATES]
        )
        start = time.perf_counter()
        series = estimate_series(table, selection=args.selection)
        seconds = time.perf_counter() - start
        new, new_ratio = coverage(series.by_year, true)
        old, old_ratio = coverage(estimate_by_stratum(table, "year"), true)
        print(
            f"{seed:4d}  {new:2d}/10  {new_ratio:5.2f}  {seconds:5.1f}"
            f"                       {old:2d}/10  {old_ratio:5.2f}"
        )


if __name__ == "__main__":
    main()
