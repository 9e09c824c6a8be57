"""Wall time and peak memory of `thbmonitor demo` (default scale) and `thbmonitor synth --scale 10`.

Goal (issue 2): demo under 2 minutes on the 2-core machine. Run: python benchmarks/bench_demo.py
[--skip-synth10]. Each command runs in its own process; peak memory is its own ru_maxrss.

Measured 2026-11-28 on this 2-core, 24 GiB machine (load average about 2 from other jobs):
    demo (scale 1, 1M background police events): 36.6 s, peak 3.35 GiB
    synth --scale 10 (129,150 registrations, 2.19M police events): 23.3 s, peak 1.86 GiB
Steps of the demo (one run, quiet machine): synth 4 s, ingest 16 s (police register 12 s),
linkage 13 s (persons 3 s, police and population registers 9 s), analysis 4 s, report 0.1 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The child runs the CLI and writes its own peak resident memory (KiB) to a file.
CHILD = """
import resource, sys
from thbmonitor.cli import main
peak_file = sys.argv.pop(1)
try:
    main()
finally:
    with open(peak_file, "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def run(args: list[str], workdir: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GiB) of one `thbmonitor` command."""
    peak_file = workdir / "peak.txt"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", CHILD, str(peak_file), *args], check=True, stdout=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    return seconds, int(peak_file.read_text()) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-synth10", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seconds, gib = run(["demo", "--out", str(work / "demo")], work)
        print(f"demo (scale 1, 1M background police events): {seconds:.1f} s, peak {gib:.2f} GiB")
        if not options.skip_synth10:
            seconds, gib = run(["synth", "--out", str(work / "w10"), "--scale", "10"], work)
            print(f"synth --scale 10: {seconds:.1f} s, peak {gib:.2f} GiB")


if __name__ == "__main__":
    main()
