"""Linkage error in the hidden number: does the linkage-propagated interval cover the truth at
least as often as the interval given the linkage? (issue 13)

For each seed a synthetic world (scale 0.5, no police register) is ingested and linked; for
each year of the window the year is fitted alone as in the chapter's last-year estimate
(settings' method, profile-likelihood interval given the linkage) and again by
:func:`thbmonitor.mse.linkage_propagation.propagate_linkage` (20 linkages drawn from the scored
pairs' match probabilities, Rubin's rules). Both are compared with the world's true total of the
year (``truth/population_by_year.csv``).

Run: flock /work/team/heavy.lock .venv/bin/python benchmarks/bench_mse_linkage.py [--seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from thbmonitor.config import Settings
from thbmonitor.errors import EstimationError
from thbmonitor.linkage import link_registrations
from thbmonitor.linkage.capture import LISTS, history_table
from thbmonitor.mse.estimator import MultipleSystemsEstimator
from thbmonitor.mse.linkage_propagation import propagate_linkage
from thbmonitor.mse.table import CaptureTable
from thbmonitor.pipeline import ingest_files
from thbmonitor.pseudonymise import Encoder, new_key
from thbmonitor.store import open_store
from thbmonitor.synth import generate
from thbmonitor.synth.params import WorldParams


def _conditional(store, settings: Settings, year: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    frame = store.df(
        "SELECT p.person_id, r.reporting_organisation, r.registration_year FROM registrations r "
        "JOIN registration_person p USING (registration_id) WHERE r.registration_year = ?",
        [year],
    )
    counts = history_table(frame, LISTS, ("year",))
    table = CaptureTable.from_frame(counts, lists=list(LISTS), covariates=["year"]).collapse()
    est = MultipleSystemsEstimator(
        method=settings.mse_method, maxorder=settings.mse_maxorder, pthresh=settings.mse_pthresh
    ).fit(table)
    iv = est.conditional_interval_
    return est.estimate_, iv.lower, iv.upper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--first", default=2016, type=int)
    parser.add_argument("--last", default=2020, type=int)
    args = parser.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        t0 = time.perf_counter()
        settings = Settings(seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            world = Path(tmp) / "input"
            generate(WorldParams(seed=seed, scale=0.5, background_events=0), world)
            truth = pd.read_csv(world / "truth" / "population_by_year.csv")
            true = truth.groupby("year")["n_total"].sum()
            encoder = Encoder(new_key(), settings.bloom_bits, settings.bloom_hashes)
            with open_store(str(Path(tmp) / "monitor.duckdb"), create=True) as store:
                ingest_files(store, [world / "registrations.csv"], encoder)
                link_registrations(store, settings)
                for year in range(args.first, args.last + 1):
                    try:
                        est, lo, hi = _conditional(store, settings, year)
                    except EstimationError:
                        continue
                    prop = propagate_linkage(store, settings, year)
                    if prop is None:
                        continue
                    n = float(true[year])
                    rows.append(
                        {
                            "seed": seed,
                            "year": year,
                            "truth": n,
                            "conditional": est,
                            "cond_covers": lo <= n <= hi,
                            "cond_width": hi / lo,
                            "propagated": prop.estimate,
                            "prop_covers": prop.lower <= n <= prop.upper,
                            "prop_width": prop.upper / prop.lower,
                            "draw_persons_range": max(prop.persons) - min(prop.persons),
                        }
                    )
        print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    out = pd.DataFrame(rows)
    pd.set_option("display.width", 140)
    print(out.round(3).to_string(index=False))
    print(
        f"\n{len(out)} seed-years: the interval given the linkage covers the truth in "
        f"{int(out['cond_covers'].sum())}, the linkage-propagated one in "
        f"{int(out['prop_covers'].sum())}; mean width ratio (upper/lower) "
        f"{out['cond_width'].mean():.3f} against {out['prop_width'].mean():.3f}; persons per "
        f"draw vary by up to {int(out['draw_persons_range'].max())}"
    )


if __name__ == "__main__":
    main()
