"""How long the offline plan takes, as a newcomer runs it: a fresh interpreter per run.

    python -m offline.bench [--runs 5] [--target 3.0]

Prints the fastest and the median wall time per stack against the target (3 s once the
environment exists). It measures; it does not fail a build, because a loaded CI machine is not a
regression.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from offline.harness import REPO, stack_names


def time_plan(stack: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "offline.plan", "--stack", stack],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per stack (default 5)")
    parser.add_argument("--target", type=float, default=3.0, help="seconds (default 3.0)")
    args = parser.parse_args(argv)
    print(f"offline plan, {args.runs} fresh runs per stack (target {args.target:g} s):")
    for stack in stack_names():
        times = sorted(time_plan(stack) for _ in range(args.runs))
        median = statistics.median(times)
        verdict = "within target" if median <= args.target else "OVER TARGET"
        print(f"  {stack:<6} fastest {times[0]:.2f} s, median {median:.2f} s  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
