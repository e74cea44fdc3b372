"""Settings A/B: neuralab's training steps under several settings, interleaved in one process.

    python -m bench settings --config OPENBLAS_THREAD_TIMEOUT=28 \
        --config OPENBLAS_THREAD_TIMEOUT=18 [--workloads W5 W8 V19] [--threads 2] \
        [--rounds 4] [--steps 5]

A setting is ``OPENBLAS_THREAD_TIMEOUT=n`` (applied by restarting OpenBLAS's workers),
``threads=n`` (``neuralab.set_num_threads(n)``: a thread count's own gain, measured
interleaved) or ``module.attribute=value`` (a Python literal, e.g.
``neuralab.ops.matmul.GEMM_SPLIT_FACTOR=2``); one ``--config`` joins several with commas.
Separate runs cannot tell a 10% change from the drift of a shared machine's speed, which here
reaches 2x over minutes; so the configurations take turns, ``rounds`` times, each timing
``steps`` steps after one untimed step, and the table gives each one's median step time and
the first configuration's time over it (above 1: faster than the first). Workloads are W1–W8
and ``V<i>``, the i-th variant of ``python -m bench variants`` (seed 0, 5 per family).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import neuralab as nl
from bench.harness import markdown_table
from bench.training_models import BY_KEY, setup
from bench.variants import draw, workload
from neuralab import parallel

Assignment = tuple[str, Any]


def parse_config(text: str) -> list[Assignment]:
    """``"A=1,B.c=2"`` as ``[("A", 1), ("B.c", 2)]``; clear errors for anything else."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise ValueError(f"--config {text!r}: expected NAME=VALUE, got {part!r}")
        if name not in ("OPENBLAS_THREAD_TIMEOUT", "threads") and "." not in name:
            raise ValueError(
                f"--config {text!r}: {name!r} is neither OPENBLAS_THREAD_TIMEOUT, threads nor "
                "module.attribute"
            )
        try:
            out.append((name, ast.literal_eval(value)))
        except (ValueError, SyntaxError) as e:
            raise ValueError(f"--config {text!r}: {value!r} is not a Python literal") from e
    return out


def apply(config: Sequence[Assignment]) -> None:
    """Put ``config``'s settings in place."""
    for name, value in config:
        if name == "OPENBLAS_THREAD_TIMEOUT":
            os.environ[name] = str(value)
            parallel.restart_openblas_workers()
            continue
        if name == "threads":
            nl.set_num_threads(value)
            continue
        module, _, attribute = name.rpartition(".")
        target = importlib.import_module(module)
        if not hasattr(target, attribute):
            raise ValueError(f"{module} has no attribute {attribute!r}")
        setattr(target, attribute, value)


def step_of(key: str) -> Callable[[], None]:
    """The training step of workload ``key`` (W1–W8 or V<i>) in neuralab."""
    if key.upper().startswith("V"):
        variants = draw(5, 0)
        index = int(key[1:])
        if not 0 <= index < len(variants):
            raise ValueError(f"no variant {key}: V0 to V{len(variants) - 1}")
        return setup(workload(variants[index], index), nl).step
    if key not in BY_KEY:
        raise ValueError(f"unknown workload {key!r}: W1-W8 or V<i>")
    return setup(BY_KEY[key], nl).step


def compare(
    step: Callable[[], None], configs: Sequence[Sequence[Assignment]], rounds: int, steps: int
) -> list[float]:
    """Median seconds per step under each config, the configs taking turns ``rounds`` times."""
    times: list[list[float]] = [[] for _ in configs]
    for _ in range(rounds):
        for config, out in zip(configs, times):
            apply(config)
            step()  # untimed: the setting settles
            for _ in range(steps):
                start = time.perf_counter()
                step()
                out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench settings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", action="append", required=True, help="NAME=VALUE[,...]")
    parser.add_argument("--workloads", nargs="+", default=["W5", "W8"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    configs = [parse_config(c) for c in args.config]
    nl.set_num_threads(args.threads)
    rows = []
    for key in args.workloads:
        step = step_of(key)
        step()
        medians = compare(step, configs, args.rounds, args.steps)
        rows.append([key, *(f"{1e3 * m:.2f}" for m in medians),
                     *(f"{medians[0] / m:.2f}" for m in medians[1:])])  # fmt: skip
        print(f"# {key} done", file=sys.stderr, flush=True)
    header = ["workload", *(f"ms: {c}" for c in args.config),
              *(f"speed-up: {c}" for c in args.config[1:])]  # fmt: skip
    command = " ".join(["python -m bench settings", *(argv if argv is not None else sys.argv[1:])])
    print(f"`{command}` ({args.threads} thread(s), {args.rounds} rounds of {args.steps} steps)\n")
    print(markdown_table(header, rows))
