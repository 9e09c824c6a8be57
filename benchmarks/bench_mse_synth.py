"""Is the hidden-number estimate biased on the synthetic world, and which model choice drives it?

For each seed a world is generated at scale 1 and its yearly totals are estimated

(a) from the TRUE capture histories (``truth/capture_histories_by_stratum.csv``) with the
    chapter's estimator and settings (:func:`thbmonitor.mse.series.estimate_series`, as
    :func:`thbmonitor.mse.chapter.report_chapter` calls it), and
(b) by the demo pipeline on the linked store (``run_demo(out, Settings(seed=s))``, read from
    results.json ``hidden_number.by_year``; skip with ``--no-linked``).

Then, on the true histories, the alternatives the package already has:

* ``covariates, main``: the chapter's model without list-list interactions (independence given
  year and covariates; ``estimate_yearly(method="main")``);
* ``covariates, true terms``: the chapter's model with the world's own three interactions fixed
  (KMar:Police, Police:NGOCare, NGOCare:Other; no selection);
* ``per year, stepwise`` / ``per year, main``: one model per year on the histories pooled over
  strata (``estimate_by_stratum(table, "year")``), the former chapter;
* ``expected counts``: the chapter's model with the true terms fitted to the world's EXPECTED
  histories (every stratum's true size times its history probabilities under
  synth/capture.py, times 100 and rounded), i.e. the model's bias with no sampling noise.

Printed: a table per seed and year for (a) and (b) (truth, estimate, 95% interval, relative
error, covered), and for every model the mean relative error and the coverage over all
seed-years.

Run: .venv/bin/python benchmarks/bench_mse_synth.py [--seeds 20211207,1,2] [--no-linked]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.linkage.capture import LISTS
from thbmonitor.mse import CaptureTable, estimate_by_stratum
from thbmonitor.mse.loglinear import parse_terms
from thbmonitor.mse.series import MIN_LEVEL, YEARLY_COVARIATES, estimate_series
from thbmonitor.mse.yearly import estimate_yearly
from thbmonitor.pipeline import run_demo
from thbmonitor.synth import WorldParams, generate
from thbmonitor.synth import capture as world_capture

#: the world's list dependence (synth/params.py ``_dependence``) as log-linear terms
TRUE_TERMS = ("KMar:Police", "Police:NGOCare", "NGOCare:Other")
#: expected counts are multiplied by this and rounded (the fit needs whole counts)
EXPECTED_FACTOR = 100
COVS = ["year", *YEARLY_COVARIATES]


def _truth(world: Path) -> pd.Series:
    pop = pd.read_csv(world / "truth" / "population_by_year.csv")
    return pop.groupby("year")["n_total"].sum()


def _table(world: Path) -> CaptureTable:
    histories = pd.read_csv(world / "truth" / "capture_histories_by_stratum.csv")
    return CaptureTable.from_frame(histories, lists=list(LISTS), covariates=COVS)


def _expected_table(world: Path, seed: int) -> CaptureTable:
    """The world's expected captured histories per stratum (x EXPECTED_FACTOR, rounded)."""
    params = WorldParams(seed=seed)
    pop = pd.read_csv(world / "truth" / "population_by_year.csv")
    strata = (
        pop.groupby(COVS, as_index=False)["n_total"].sum().reset_index(drop=True)
    )  # sex does not enter capture
    logits = world_capture.cell_logits(params, strata)
    calib = json.loads((world / "truth" / "calibration.json").read_text())["capture_offsets"]
    dep = dict(params.dependence)
    k, p, li, n, oth = range(5)
    rows = []
    histories = np.array(list(product([0, 1], repeat=5)))[1:]  # draw order, none excluded
    for year in sorted(strata["year"].unique()):
        at = (strata["year"] == year).to_numpy()
        o = calib[str(year)]
        off = world_capture.Offsets(o["alpha"], o["police"], o["non_investigating"])
        x = logits[at] + off.alpha
        x[:, p] += off.police
        x[:, n] += off.non_investigating
        x[:, oth] += off.non_investigating
        size = strata.loc[at, "n_total"].to_numpy(dtype=float)
        for h in histories:
            logit = np.column_stack(
                [
                    x[:, k],
                    x[:, p] + dep.get("KMar->Police", 0.0) * h[k],
                    x[:, li],
                    x[:, n] + dep.get("Police->NGOCare", 0.0) * h[p],
                    x[:, oth] + dep.get("NGOCare->Other", 0.0) * h[n],
                ]
            )
            prob = 1.0 / (1.0 + np.exp(-logit))
            like = np.prod(np.where(h == 1, prob, 1 - prob), axis=1)
            frame = strata.loc[at, COVS].copy()
            for j, name in enumerate(world_capture.DRAW_ORDER):
                frame[name] = int(h[j])
            frame["count"] = np.rint(size * like * EXPECTED_FACTOR).astype(np.int64)
            rows.append(frame)
    expected = pd.concat(rows, ignore_index=True)
    expected = expected[expected["count"] > 0]
    return CaptureTable.from_frame(expected, lists=list(LISTS), covariates=COVS)


def _rows(frame: pd.DataFrame, truth: pd.Series, seed: int, model: str) -> pd.DataFrame:
    out = frame[["year", "estimate", "lower", "upper"]].copy()
    out["year"] = out["year"].astype(int)
    out["truth"] = out["year"].map(truth).astype(float)
    out["rel_error"] = out["estimate"] / out["truth"] - 1
    out["covered"] = (out["lower"] <= out["truth"]) & (out["truth"] <= out["upper"])
    return out.assign(seed=seed, model=model)


def _linked(seed: int, folder: Path) -> tuple[pd.DataFrame, Path]:
    run_demo(folder, Settings(seed=seed))
    by_year = json.loads((folder / "results.json").read_text())["hidden_number"]["by_year"]
    frame = pd.DataFrame(
        [
            {"year": int(y), **{k: v[k] for k in ("estimate", "lower", "upper")}}
            for y, v in by_year.items()
        ]
    ).astype(float)
    return frame, folder / "input"


def _models(seed: int) -> dict[str, Callable[[CaptureTable], pd.DataFrame]]:
    s = Settings(seed=seed)
    fit = {"method": s.mse_method, "maxorder": s.mse_maxorder, "pthresh": s.mse_pthresh}
    terms = parse_terms(TRUE_TERMS, list(LISTS))
    cov = list(YEARLY_COVARIATES)
    return {
        "(a) chapter (covariates, aic)": lambda t: estimate_series(t, seed=seed, **fit).by_year,
        "covariates, main": lambda t: (
            estimate_yearly(t, "year", cov, method="main", min_level=MIN_LEVEL).by_year
        ),
        "covariates, true terms": lambda t: (
            estimate_yearly(t, "year", cov, terms=terms, min_level=MIN_LEVEL).by_year
        ),
        "per year, stepwise": lambda t: estimate_by_stratum(t, "year", seed=seed, **fit),
        "per year, main": lambda t: estimate_by_stratum(
            t, "year", method="main", maxorder=s.mse_maxorder, seed=seed
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="20211207,1,2")
    parser.add_argument("--no-linked", action="store_true", help="skip (b), the demo pipeline")
    args = parser.parse_args()
    results = []
    for seed in (int(x) for x in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            if args.no_linked:
                world = Path(tmp) / "world"
                generate(WorldParams(seed=seed), world)
            else:
                linked, world = _linked(seed, Path(tmp) / "demo")
            built = time.perf_counter() - start
            truth = _truth(world)
            if not args.no_linked:
                results.append(_rows(linked, truth, seed, "(b) demo, linked store"))
            table = _table(world)
            for name, model in _models(seed).items():
                results.append(_rows(model(table), truth, seed, name))
            expected = _expected_table(world, seed)
            fitted = estimate_yearly(
                expected,
                "year",
                list(YEARLY_COVARIATES),
                terms=parse_terms(TRUE_TERMS, list(LISTS)),
                min_level=MIN_LEVEL * EXPECTED_FACTOR,
            ).by_year
            fitted[["estimate", "lower", "upper"]] /= EXPECTED_FACTOR
            results.append(_rows(fitted, truth, seed, "expected counts, true terms"))
        print(
            f"seed {seed}: world{'' if args.no_linked else ' + demo'} {built:.1f} s, "
            f"models {time.perf_counter() - start - built:.1f} s",
            flush=True,
        )
    allrows = pd.concat(results, ignore_index=True)
    pd.set_option("display.width", 120)
    for model in ("(a) chapter (covariates, aic)", "(b) demo, linked store"):
        part = allrows[allrows["model"] == model]
        if part.empty:
            continue
        print(f"\n{model}")
        shown = part[
            ["seed", "year", "truth", "estimate", "lower", "upper", "rel_error", "covered"]
        ]
        print(
            shown.round({"estimate": 0, "lower": 0, "upper": 0, "rel_error": 3}).to_string(
                index=False
            )
        )
    summary = allrows.groupby("model", sort=False).agg(
        seed_years=("year", "size"),
        mean_rel_error=("rel_error", "mean"),
        min_rel_error=("rel_error", "min"),
        max_rel_error=("rel_error", "max"),
        coverage=("covered", "mean"),
    )
    per_seed = allrows.pivot_table(index="seed", columns="model", values="rel_error", sort=False)
    summary["seed_sd"] = per_seed.std(ddof=1)  # spread of the seeds' mean relative errors
    print("\nmean relative error per seed (years averaged)")
    print(per_seed.round(3).T.to_string())
    print("\nall seed-years")
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
