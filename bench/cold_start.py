"""Cold start: from a new process to the end of its first training step, neuralab beside PyTorch.

    python -m bench cold [--workloads W2 W5] [--repeats 5] [--threads 1]

Each measurement is one fresh interpreter that imports the framework, builds the workload of
:mod:`bench.training_models`, and takes one training step, timed by the parent from the spawn to
the child's exit (the child leaves with ``os._exit`` right after the step, so no teardown is
counted). Runs alternate between the frameworks; one untimed run of each comes first, so disk
caches (numba's compiled kernels, the OS's file cache) are warm, as on a user's second start.
The table gives the median seconds and torch's median over ours (above 1: neuralab starts
faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = (
    "import os, importlib; from bench.training_models import BY_KEY, setup; "
    "lib = importlib.import_module({framework!r}); lib.set_num_threads({threads}); "
    "setup(BY_KEY[{workload!r}], lib).step(); os._exit(0)"
)


def first_step_seconds(workload: str, framework: str, threads: int) -> float:
    """Seconds from spawning a fresh interpreter to its exit after one training step."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    code = CHILD.format(framework=framework, threads=threads, workload=workload)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{framework} {workload}: the child failed:\n{done.stderr.decode()}")
    return elapsed


def measure(workloads: Sequence[str], repeats: int, threads: int) -> list[tuple[str, float, float]]:
    """(workload, our median, torch's median) after one warm-up run of each framework."""
    rows = []
    for w in workloads:
        times: dict[str, list[float]] = {"neuralab": [], "torch": []}
        for framework in times:
            first_step_seconds(w, framework, threads)  # warm the caches
        for _ in range(repeats):
            for framework, seen in times.items():
                seen.append(first_step_seconds(w, framework, threads))
        rows.append((w, statistics.median(times["neuralab"]), statistics.median(times["torch"])))
    return rows


def table(rows: list[tuple[str, float, float]], threads: int) -> str:
    """The Markdown table of medians and ratios."""
    lines = [
        f"| workload ({threads} thread{'s' if threads > 1 else ''}) | neuralab s | torch s "
        "| torch / ours |",
        "|---|---:|---:|---:|",
    ]
    for w, ours, theirs in rows:
        lines.append(f"| {w} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cold", description=__doc__)
    parser.add_argument("--workloads", nargs="+", default=["W2", "W5"])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per framework")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(table(measure(args.workloads, args.repeats, args.threads), args.threads))
