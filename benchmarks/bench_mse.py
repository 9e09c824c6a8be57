"""Timing of the MSE module against R on this machine.

Run:  [R_LIBS=...] .venv/bin/python benchmarks/bench_mse.py [--reference /work/shared/reference/mse]
      [--no-r]

R anchors, whole processes, R 4.2.2 with SparseMSE 2.0.2 and MultipleSystemsEstimation 1.2.0,
best of three, measured on this machine on 2026-12-06 (issue 13): SparseMSE
``estimatepopulation.0`` stepwise on UKdat_5 0.25 s (a run that only refuses its input 0.15 s);
MultipleSystemsEstimation exhaustive BIC at maximum order 3 on UKdat_5 8.6 s; SparseMSE's
1000-replicate stepwise BCa bootstrap on Western 28 s. These are printed with their date. Where
``Rscript`` finds SparseMSE, its refusal, its stepwise run and its bootstrap are also run here,
side by side (``R_SCRIPTS``); MultipleSystemsEstimation is quoted only (its source is not
available on this machine).

First the start-up goals of issue 13 as whole ``thbmonitor`` processes, best of three: ``--help``,
a run that refuses its input, stepwise on UKdat_5 and BIC at order 3 (goals 0.3, 0.3, 0.25 and
0.9 s); then the 1000-replicate stepwise BCa on Western (goal: 20 times R's speed).

2026-12-07 09:45, the machine shared (load average 8 on 2 cores, so wall times were about 3
times CPU times), R 4.2.2 from Debian with SparseMSE 2.0.1 and Rcapture 1.4-4 built from
cran/SparseMSE and cran/Rcapture (R_LIBS), after this session's start-up and fitting work:

    whole process          ours wall / CPU     R now wall / CPU    goal
    --help                 0.64 / 0.20 s                           0.3 s
    refused input          0.67 / 0.22 s       0.48 / 0.15 s       0.3 s
    stepwise UKdat_5       0.68 / 0.22 s       0.74 / 0.25 s       0.25 s
    BIC order 3 UKdat_5    2.10 / 0.69 s       (8.6 s, 2026-12-06) 0.9 s
    Western BCa, 1000      2.49 / 0.92 s (1 worker), 2.27 / 1.00 s (2)
                                               98.7 / 37.4 s       20x R
    i.e. 40 times R in wall time and 41 times in CPU time, side by side.

CPU times meet every goal; wall times on a loaded machine do not say much (R's were as slow).
Before this work (same day, best CPU of five, load 5-6): --help 0.19, refused input 0.22,
stepwise 0.26, BIC order 3 0.94 s; the Western bootstrap 1.20 s CPU in one process. What is
left on the plain-table path is the interpreter, numpy (0.09-0.10 s) and typer (0.05 s).

2026-12-07 10:45, the machine quiet (load average 4.4 left by the registry benchmark just
before, nothing else running), main at 3707e45, R_LIBS as above, wall / CPU:

    whole process          ours wall / CPU     R now wall / CPU    goal
    --help                 0.17 / 0.17 s                           0.3 s
    refused input          0.17 / 0.25 s       0.13 / 0.13 s       0.3 s
    stepwise UKdat_5       0.18 / 0.26 s       0.24 / 0.24 s       0.25 s
    BIC order 3 UKdat_5    0.62 / 0.72 s       (8.6 s, 2026-12-06) 0.9 s
    Western BCa, 1000      0.82 / 0.82 s (1 worker), 0.48 / 0.90 s (2)
                                               31.7 / 31.7 s       20x R
    i.e. 39 times R in wall time with one worker, 67 times with two: every goal met in wall
    time. (CPU above wall: numpy's threads at start-up.)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from thbmonitor.mse import MultipleSystemsEstimator, read_capture_histories
from thbmonitor.mse.intervals import profile_interval
from thbmonitor.mse.selection import select_exhaustive

R_STEPWISE_UK_SECONDS = 0.25  # SparseMSE estimatepopulation.0, whole process, 2026-12-06
R_REFUSE_SECONDS = 0.15
R_BIC_UK_SECONDS = 8.6  # MultipleSystemsEstimation, maxorder 3, whole process, 2026-12-06
R_BOOT_WESTERN_SECONDS = 28.0  # SparseMSE estimatepopulation(nboot=1000), 2026-12-06


#: SparseMSE's side of the comparison, run as whole ``Rscript`` processes with the table's path
#: as argument (the refused table has a count that is not a number)
R_SCRIPTS = {
    "refuse": """suppressPackageStartupMessages(library(SparseMSE))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
if (!is.numeric(d$count)) stop("count is not a number")
""",
    "stepwise": """suppressPackageStartupMessages(library(SparseMSE))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
print(estimatepopulation.0(d, method = "stepwise", quantiles = c(0.025, 0.975))$estimate)
""",
    "boot": """suppressPackageStartupMessages(library(SparseMSE))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
e <- estimatepopulation(d, nboot = 1000, pthresh = 0.02, iseed = 1234, alpha = c(0.025, 0.975))
print(e$BCaquantiles)
""",
}


def _have_sparsemse() -> bool:
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        return False
    test = ["Rscript", "-e", "suppressPackageStartupMessages(library(SparseMSE))"]
    return subprocess.run(test, capture_output=True).returncode == 0


def _r_process(script: str, table: str, repeats: int = 3) -> tuple[float, float]:
    """Best wall and best CPU seconds of a whole ``Rscript`` process running ``R_SCRIPTS``."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPTS[script])
    try:
        return _process([f.name, table], repeats, exe="Rscript")
    finally:
        Path(f.name).unlink()


def _process(args: list[str], repeats: int = 3, exe: str | None = None) -> tuple[float, float]:
    """Best wall-clock and best CPU (user + system) seconds of a whole ``thbmonitor`` process
    (or of ``exe``) over ``repeats`` runs (CPU time is the steadier figure on a shared, loaded
    machine)."""
    import resource
    import subprocess
    import sys

    exe = exe or str(Path(sys.executable).with_name("thbmonitor"))
    best = cpu_best = float("inf")
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([exe, *args], capture_output=True)
        best = min(best, time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpu_best = min(cpu_best, cpu)
    return best, cpu_best


def _startup(ref: Path, with_r: bool) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as bad:
        bad.write("A,B,count\n1,0,x\n")
    uk = str(ref / "UKdat_5.csv")
    for label, args, goal, r, r_run in (
        ("--help", ["--help"], 0.3, None, None),
        ("refused input", ["mse", bad.name], 0.3, R_REFUSE_SECONDS, ("refuse", bad.name)),
        ("stepwise UKdat_5", ["mse", uk, "--json"], 0.25, R_STEPWISE_UK_SECONDS, ("stepwise", uk)),
        (
            "BIC order 3 UKdat_5",
            ["mse", uk, "--method", "bic", "--maxorder", "3", "--json"],
            0.9,
            R_BIC_UK_SECONDS,
            None,  # MultipleSystemsEstimation: quoted
        ),
    ):
        secs, cpu = _process(args)
        vs_r = f", R {r:.2f} s on 2026-12-06" if r is not None else ""
        if with_r and r_run is not None:
            r_wall, r_cpu = _r_process(*r_run)
            vs_r = f"; R now {r_wall:.2f} s wall, {r_cpu:.2f} s CPU{vs_r}"
        print(
            f"whole process, {label}: {secs:.2f} s wall, {cpu:.2f} s CPU (goal {goal:.2f} s{vs_r})",
            flush=True,
        )
    Path(bad.name).unlink()


def _cpu_with_children() -> float:
    """CPU seconds (user + system) of this process and of its finished worker processes."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _best_of(fn, repeats: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best wall-clock and best CPU seconds of this process over ``repeats`` runs."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", default="/work/shared/reference/mse", type=Path)
    parser.add_argument("--boot", default=1000, type=int)
    parser.add_argument(
        "--exhaustive",
        action="store_true",
        help="Also run the exhaustive BIC bootstraps of Silverman, Chan & Vincent (2024), "
        "Table 6 (several minutes).",
    )
    parser.add_argument("--no-r", action="store_true", help="Do not run R even if installed.")
    args = parser.parse_args()
    ref: Path = args.reference
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    with_r = not args.no_r and _have_sparsemse()
    print(
        "R: SparseMSE measured side by side"
        if with_r
        else "R: SparseMSE not installed (or --no-r): R's figures of 2026-12-06 are quoted"
    )
    _startup(ref, with_r)

    uk = read_capture_histories(ref / "UKdat_5.csv")
    full = uk.full_counts()
    sel = select_exhaustive(full, 5, "bic", maxorder=3)
    secs, cpu = _best_of(lambda: select_exhaustive(full, 5, "bic", maxorder=3))
    names = [":".join(uk.lists[i] for i in t) for t in sel.fit.terms]
    print(
        f"UKdat_5 exhaustive BIC, maxorder 3: {len(sel.candidates)} models, {secs:.2f} s wall, "
        f"{cpu:.2f} s CPU (R {R_BIC_UK_SECONDS:.0f} s: {R_BIC_UK_SECONDS / secs:.1f}x wall, "
        f"{R_BIC_UK_SECONDS / cpu:.1f}x CPU); "
        f"N = {sel.fit.estimate:.2f}, model {names}"
    )

    step = MultipleSystemsEstimator().fit(uk)
    secs, _cpu = _best_of(lambda: MultipleSystemsEstimator().fit(uk), 5)
    print(f"UKdat_5 stepwise + profile interval: {secs * 1000:.1f} ms; model {step.model_}")
    secs, _cpu = _best_of(lambda: profile_interval(step.fit_), 5)
    print(f"UKdat_5 profile-likelihood interval alone: {secs * 1000:.1f} ms")

    western = read_capture_histories(ref / "Western.csv")
    r_boot, r_when = R_BOOT_WESTERN_SECONDS, "on 2026-12-06"
    if with_r and args.boot == 1000:
        r_wall, r_cpu = _r_process("boot", str(ref / "Western.csv"), repeats=1)
        print(
            f"R SparseMSE estimatepopulation(nboot = 1000) on Western, one run: {r_wall:.1f} s "
            f"wall, {r_cpu:.1f} s CPU (R {R_BOOT_WESTERN_SECONDS:.0f} s on 2026-12-06)"
        )
        r_boot, r_when = r_wall, "now"
    for jobs in (1, 2):
        best = cpu_best = float("inf")
        for _ in range(3):
            t0, c0 = time.perf_counter(), _cpu_with_children()
            est = MultipleSystemsEstimator(bootstrap=args.boot, seed=1234, n_jobs=jobs)
            est.fit(western)
            best = min(best, time.perf_counter() - t0)
            cpu_best = min(cpu_best, _cpu_with_children() - c0)
        iv = est.interval_
        print(
            f"Western stepwise BCa, {args.boot} replicates, {jobs} worker(s), best of three: "
            f"{best:.2f} s wall, {cpu_best:.2f} s CPU of all processes (R {r_boot:.0f} s "
            f"{r_when}: {r_boot / best:.0f}x wall; goal 20x); model {est.model_}, "
            f"N = {est.estimate_:.2f}, BCa ({iv.lower:.0f}, {iv.upper:.0f})"
        )

    neworl = read_capture_histories(ref / "NewOrl_SparseMSE.csv")
    t0 = time.perf_counter()
    est = MultipleSystemsEstimator(bootstrap=args.boot, seed=1234, n_jobs=2).fit(neworl)
    iv = est.interval_
    print(
        f"New Orleans (8 lists) stepwise BCa, {args.boot} replicates, 2 workers: "
        f"{time.perf_counter() - t0:.2f} s; model {est.model_}, "
        f"BCa ({iv.lower:.0f}, {iv.upper:.0f})"
    )

    kosovo = read_capture_histories(ref / "Kosovo.csv")
    t0 = time.perf_counter()
    est = MultipleSystemsEstimator(
        method="bic", maxorder=3, bootstrap=args.boot, seed=1234, n_jobs=2
    ).fit(kosovo)
    iv = est.interval_
    print(
        f"Kosovo BIC maxorder 3 (top 20 models) BCa, {args.boot} replicates, 2 workers: "
        f"{time.perf_counter() - t0:.2f} s; model {est.model_}, "
        f"BCa ({iv.lower:.0f}, {iv.upper:.0f})"
    )

    if args.exhaustive:
        # Published 95% BCa with every model reselected in each of 1000 replicates:
        # UK maxorder 2 [11456, 43894]; New Orleans (5 lists) maxorder 2 upper limit 1544.
        for name, published in (("UKdat_5", "[11456, 43894]"), ("NewOrl_5", "[?, 1544]")):
            tab = read_capture_histories(ref / f"{name}.csv")
            t0 = time.perf_counter()
            est = MultipleSystemsEstimator(
                method="bic", maxorder=2, bootstrap=args.boot, seed=1234, ntop=None, n_jobs=2
            ).fit(tab)
            iv = est.interval_
            print(
                f"{name} exhaustive BIC (maxorder 2, all models) BCa: ({iv.lower:.0f}, "
                f"{iv.upper:.0f}), published {published}; {time.perf_counter() - t0:.0f} s"
            )


if __name__ == "__main__":
    main()
