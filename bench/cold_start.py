"""Cold start: from a new process to the end of its first training step, neuralab beside PyTorch.

    python -m bench cold [--workloads W2 W5 W8] [--repeats 5] [--threads 1 2] [--numpy-only]

Each measurement is one fresh interpreter that imports the framework, builds the workload of
:mod:`bench.training_models`, and takes one training step, timed by the parent from the spawn to
the child's exit (the child leaves with ``os._exit`` right after the step, so no teardown is
counted). Runs alternate between the frameworks; one untimed run of each comes first, so disk
caches (numba's compiled kernels, the OS's file cache) are warm, as on a user's second start.
The table gives the median seconds and torch's median over ours (above 1: neuralab starts
faster; target ≥ 3), and, separately, our first-ever start: one run with an empty numba cache
(a fresh ``NUMBA_CACHE_DIR``), which compiles every kernel the step needs. ``--numpy-only``
adds ours with the compiled kernels off (``NEURALAB_NUMBA=0``) to the alternation.

Whether neuralab's Python bytecode is cached changes our start by ~0.19 s (torch's and numba's
were compiled by pip): the command prints how many of our modules have it. Python writes it on
the first import unless ``PYTHONDONTWRITEBYTECODE`` is set; the README's install compiles it.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.harness import markdown_table

ROOT = Path(__file__).resolve().parent.parent
TARGET = 3.0
CHILD = (
    "import os, importlib; from bench.training_models import BY_KEY, setup; "
    "lib = importlib.import_module({framework!r}); lib.set_num_threads({threads}); "
    "setup(BY_KEY[{workload!r}], lib).step(); os._exit(0)"
)


def first_step_seconds(workload: str, framework: str, threads: int, **env: str) -> float:
    """Seconds from spawning a fresh interpreter to its exit after one training step."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT), **env}
    code = CHILD.format(framework=framework, threads=threads, workload=workload)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{framework} {workload}: the child failed:\n{done.stderr.decode()}")
    return elapsed


def first_ever_seconds(workload: str, threads: int) -> float:
    """Our first step in a new process whose numba cache is empty: everything compiles."""
    with tempfile.TemporaryDirectory(prefix="neuralab-numba-") as cache:
        return first_step_seconds(workload, "neuralab", threads, NUMBA_CACHE_DIR=cache)


@dataclasses.dataclass(frozen=True)
class Cold:
    """Median cold starts of one workload at a thread count, and our first-ever start."""

    workload: str
    threads: int
    ours: float
    torch: float
    first_ever: float | None
    numpy_only: float | None = None  # ours with NEURALAB_NUMBA=0, when measured


def measure(
    workloads: Sequence[str],
    repeats: int,
    threads: int,
    first_ever: bool = True,
    numpy_only: bool = False,
) -> list[Cold]:
    """Medians of ``repeats`` alternating runs after one warm-up run of each framework.

    ``numpy_only`` adds ours with the compiled kernels off (``NEURALAB_NUMBA=0``) to the
    alternation: the fallback's start, and so what numba costs a start.
    """
    runs = {"neuralab": ("neuralab", {}), "torch": ("torch", {})}
    if numpy_only:
        runs["numpy-only"] = ("neuralab", {"NEURALAB_NUMBA": "0"})
    rows = []
    for w in workloads:
        times: dict[str, list[float]] = {name: [] for name in runs}
        for framework, env in runs.values():
            first_step_seconds(w, framework, threads, **env)  # warm the caches
        for _ in range(repeats):
            for name, (framework, env) in runs.items():
                times[name].append(first_step_seconds(w, framework, threads, **env))
        cold = first_ever_seconds(w, threads) if first_ever else None
        medians = {name: statistics.median(seen) for name, seen in times.items()}
        rows.append(
            Cold(w, threads, medians["neuralab"], medians["torch"], cold, medians.get("numpy-only"))
        )
    return rows


def bytecode_cached(package: Path = ROOT / "neuralab") -> tuple[int, int]:
    """(modules of ``package`` whose cached bytecode is at least as new as the source, modules)."""
    sources = list(package.rglob("*.py"))
    fresh = 0
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        fresh += cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime
    return fresh, len(sources)


def table(rows: Sequence[Cold]) -> str:
    """The Markdown table of medians, ratios against the target, and first-ever starts."""
    header = ["workload", "threads", "neuralab s", "torch s", "torch ÷ ours", "target", "met"]
    header.append("neuralab first-ever s (empty numba cache)")
    split = any(r.numpy_only is not None for r in rows)
    header += ["NumPy-only s", "torch ÷ NumPy-only"] if split else []
    body = []
    for r in rows:
        ratio = r.torch / r.ours
        body.append([
            r.workload, str(r.threads), f"{r.ours:.2f}", f"{r.torch:.2f}", f"{ratio:.1f}",
            f"≥ {TARGET:g}", "yes" if ratio >= TARGET else "**no**",
            "–" if r.first_ever is None else f"{r.first_ever:.2f}",
        ])  # fmt: skip
        if split:
            alone = r.numpy_only
            body[-1] += ["–", "–"] if alone is None else [f"{alone:.2f}", f"{r.torch / alone:.1f}"]
    return markdown_table(header, body)


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench cold [--workloads ...] [--repeats N] [--threads N]``."""
    parser = argparse.ArgumentParser(prog="python -m bench cold", description=__doc__)
    parser.add_argument("--workloads", nargs="+", default=["W2", "W5", "W8"])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per framework")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-first-ever", action="store_true", help="skip the empty-cache runs")
    parser.add_argument(
        "--numpy-only", action="store_true", help="also time ours with NEURALAB_NUMBA=0"
    )
    args = parser.parse_args(argv)
    fresh, total = bytecode_cached()
    print(f"neuralab's bytecode is cached for {fresh} of its {total} modules")
    rows = []
    for n in args.threads:
        rows += measure(args.workloads, args.repeats, n, not args.no_first_ever, args.numpy_only)
        print(f"# {n} thread(s) done", file=sys.stderr, flush=True)
    print(table(rows))
