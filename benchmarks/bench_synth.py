"""Wall time and peak memory of ``thbmonitor synth`` at the default scale and at --scale 10.

Each run is a fresh child process (so peak RSS is its own). Usage::

    .venv/bin/python benchmarks/bench_synth.py [--scales 1 10] [--out /tmp/bench_synth]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, sys, time
from pathlib import Path
from thbmonitor.synth import WorldParams, generate
t = time.perf_counter()
s = generate(WorldParams(scale=float(sys.argv[1])), Path(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t, "registrations": s.n_registrations,
                  "registered_persons": s.n_registered_persons, "victims": s.n_victims,
                  "police_events": s.n_police_events}))
"""


def run(scale: float, out: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(scale), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds_incl_startup"] = wall
    # ru_maxrss of children is the max over all children so far: report it only if it grew
    result["peak_rss_mb"] = max(peak_kb, before) / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result["output_mb"] = size / 1e6
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_synth"))
    args = ap.parse_args()
    print(
        f"{'scale':>6} {'wall s':>8} {'generate s':>10} {'peak MB':>8} {'out MB':>7} "
        f"{'regs':>9} {'persons':>9} {'victims':>9} {'events':>10}"
    )
    for scale in sorted(args.scales):  # ascending, so each peak belongs to its own run
        r = run(scale, args.out / f"scale_{scale:g}")
        print(
            f"{scale:>6g} {r['wall_seconds_incl_startup']:>8.1f} {r['seconds']:>10.1f} "
            f"{r['peak_rss_mb']:>8.0f} {r['output_mb']:>7.1f} {r['registrations']:>9,} "
            f"{r['registered_persons']:>9,} {r['victims']:>9,} {r['police_events']:>10,}"
        )


if __name__ == "__main__":
    main()
