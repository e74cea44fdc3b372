"""The data-parallel benchmark: what splitting a training step over processes gives here, and
what it would give on a cluster.

* **Here**: steps/s of W2 and W4 (one step = the workload's global batch) with 1 process × 2
  threads against 2 processes × 1 thread (DistributedDataParallel, each process half the
  batch, shared memory between them). The two run alternately, in fresh processes, repeat
  after repeat; the ratio per repeat and its median are reported (the machine is shared).
* **Bytes**: the gradient bytes each process all-reduces per step, for every workload W1–W8,
  and what a ring all-reduce sends per process, 2(N−1)/N of that.
* **Cost model**: ring all-reduce time ``2(N−1)/N · bytes / bandwidth + latency`` (latency:
  2(N−1) message hops of :data:`HOP_US` µs per bucket) against the measured compute time of one
  step (1 process, 1 thread, the workload's batch per machine; the fastest step timed, the
  least disturbed by other load), as a scaling efficiency
  ``compute / (compute + all-reduce)`` for 2–64 machines at 10, 25 and 100 Gb/s: no overlap
  of communication with backward is assumed, so it is a lower bound.

``python -m bench distributed [--workloads W2 W4] [--repeats 3] [--seconds 3]``; needs
``neuralab[distributed]`` (mpi4py + mpich). Results: docs/distributed.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.training_models import BY_KEY, WORKLOADS, setup

HOP_US = 25.0  # one message hop between machines on Ethernet (TCP), microseconds
BANDWIDTHS_GBPS = (10, 25, 100)
MACHINES = (2, 4, 8, 16, 32, 64)
BUCKET_MB = 25.0  # DistributedDataParallel's default bucket_cap_mb


def _timed(step: Any, seconds: float, calls: int | None = None) -> dict[str, float]:
    """Time ``step()`` one call at a time for about ``seconds`` (at least 3 calls, after 2
    warm-up calls), or for ``calls`` calls (at least 3): steps/s from the median call, and the
    fastest call (the least disturbed by other load on the machine), in seconds."""
    for _ in range(2):
        step()
    times: list[float] = []
    start = time.perf_counter()
    more = (lambda: len(times) < calls) if calls else lambda: time.perf_counter() - start < seconds
    while len(times) < 3 or more():
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return {"steps_per_s": 1.0 / statistics.median(times), "best_step_s": min(times)}


def single(key: str, seconds: float) -> dict[str, float]:
    """One process (threads from NEURALAB_NUM_THREADS): steps/s at the global batch."""
    import neuralab as nl

    trainer = setup(BY_KEY[key], nl)
    return _timed(trainer.step, seconds)


def parallel(key: str, seconds: float) -> dict[str, float] | None:
    """In each process under mpiexec: DDP on this process's half of the global batch; process
    0 returns the global steps/s and the time of one bare all-reduce of the gradients."""
    import neuralab as nl
    import neuralab.distributed as dist
    from neuralab import nn

    dist.init_process_group("mpi")
    w = BY_KEY[key]
    rank, world = dist.get_rank(), dist.get_world_size()
    trainer = setup(w, nl)
    share = slice(rank * w.batch // world, (rank + 1) * w.batch // world)
    trainer.x, trainer.y = trainer.x[share], trainer.y[share]
    trainer.model = nn.parallel.DistributedDataParallel(trainer.model)
    # every process must make the same number of steps (each ends in all-reduces): a clock
    # read in each process let one start a step the other did not, and both waited forever
    calls = nl.tensor([seconds / _timed(trainer.step, 0.0)["best_step_s"]], dtype=nl.float64)
    dist.broadcast(calls, src=0)
    dist.barrier()
    result = _timed(trainer.step, seconds, calls=max(3, int(calls.item())))
    grads = nl.zeros(trainer.model.reducer.bytes_per_step // 4)
    times = []
    for _ in range(20):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(grads)
        times.append(time.perf_counter() - start)
    dist.destroy_process_group()
    return None if rank else {**result, "allreduce_ms": 1e3 * statistics.median(times)}


def _child(args: list[str], env: dict[str, str], processes: int = 1) -> dict[str, float]:
    """Run this module's --child mode (under mpiexec for several processes); its JSON."""
    from neuralab.distributed import launch

    argv = ["-m", "bench.distributed", "--child", *args]
    cmd = launch.command(processes, argv) if processes > 1 else [sys.executable, *argv]
    full_env = {**launch.environment(processes), **env}
    done = subprocess.run(cmd, env=full_env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def here(keys: Sequence[str], repeats: int, seconds: float) -> list[dict[str, Any]]:
    """1 process × 2 threads against 2 processes × 1 thread, alternating, per workload."""
    rows = []
    for key in keys:
        one, two, allreduce = [], [], []
        for _ in range(repeats):
            one.append(_child(["single", key, str(seconds)], {"NEURALAB_NUM_THREADS": "2"}))
            two.append(_child(["parallel", key, str(seconds)], {"NEURALAB_NUM_THREADS": "1"}, 2))
            allreduce.append(two[-1]["allreduce_ms"])
        ratios = [b["steps_per_s"] / a["steps_per_s"] for a, b in zip(one, two)]
        rows.append({
            "workload": key,
            "one_process_2_threads": statistics.median(a["steps_per_s"] for a in one),
            "two_processes_1_thread": statistics.median(b["steps_per_s"] for b in two),
            "ratio": statistics.median(ratios), "ratios": ratios,
            "allreduce_ms": statistics.median(allreduce),
        })  # fmt: skip
    return rows


def gradient_bytes() -> dict[str, int]:
    """Bytes of trainable parameters (= gradient bytes all-reduced per step) per workload."""
    import neuralab as nl

    out = {}
    for w in WORKLOADS:
        model = w.build(nl)
        out[w.key] = sum(p.numpy().nbytes for p in model.parameters() if p.requires_grad)
    return out


def compute_seconds(seconds: float, given: dict[str, float]) -> dict[str, float]:
    """Seconds of one training step per workload (its fastest), 1 process, 1 thread; those
    in ``given`` (e.g. from a quiet run of ``python -m bench training``) are not measured."""
    out = dict(given)
    for w in WORKLOADS:
        if w.key in out:
            continue
        result = _child(["single", w.key, str(seconds)], {"NEURALAB_NUM_THREADS": "1"})
        out[w.key] = result["best_step_s"]
    return out


def allreduce_seconds(nbytes: int, machines: int, gbps: float) -> float:
    """Ring all-reduce time of ``nbytes`` over ``machines`` at ``gbps`` (see module doc)."""
    buckets = max(1, math.ceil(nbytes / (BUCKET_MB * 1024 * 1024)))
    volume = 2 * (machines - 1) / machines * nbytes
    return volume * 8 / (gbps * 1e9) + buckets * 2 * (machines - 1) * HOP_US * 1e-6


def efficiency_table(nbytes: dict[str, int], compute: dict[str, float]) -> list[str]:
    """Markdown rows: per workload and bandwidth, the efficiency at each machine count."""
    head = "| workload | grad MB | step ms | Gb/s | " + " | ".join(f"N={n}" for n in MACHINES)
    lines = [head + " |", "|" + "---|" * (4 + len(MACHINES))]
    for key in nbytes:
        for gbps in BANDWIDTHS_GBPS:
            cells = [
                compute[key] / (compute[key] + allreduce_seconds(nbytes[key], n, gbps))
                for n in MACHINES
            ]
            lines.append(
                f"| {key} | {nbytes[key] / 1e6:.2f} | {1e3 * compute[key]:.1f} | {gbps} | "
                + " | ".join(f"{100 * e:.0f}%" for e in cells)
                + " |"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:
        mode, key, seconds = argv[1], argv[2], float(argv[3])
        result = single(key, seconds) if mode == "single" else parallel(key, seconds)
        if result is not None:
            print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(prog="python -m bench distributed", description=__doc__)
    parser.add_argument("--workloads", nargs="+", default=["W2", "W4"], choices=sorted(BY_KEY))
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per side")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per run")
    parser.add_argument(
        "--step-ms", nargs="+", default=[], metavar="W=MS",
        help="compute per step for the cost model instead of measuring it (e.g. W2=0.9)",
    )  # fmt: skip
    parser.add_argument("--no-here", action="store_true", help="skip the 1×2 vs 2×1 runs")
    args = parser.parse_args(argv)
    given = {k: float(v) / 1e3 for k, v in (item.split("=") for item in args.step_ms)}
    if not args.no_here:
        print_here(here(args.workloads, args.repeats, args.seconds))
    nbytes = gradient_bytes()
    compute = compute_seconds(args.seconds, given)
    print("\n| workload | gradient bytes / step | ring: sent per process, N=2 | N=64 |")
    print("|---|---|---|---|")
    for key, b in nbytes.items():
        print(f"| {key} | {b:,} | {b:,} | {2 * 63 / 64 * b:,.0f} |")
    measured = ", ".join(k for k in compute if k not in given) or "none"
    print(f"\nScaling efficiency (no overlap; {HOP_US:.0f} µs per hop; step times measured "
          f"here: {measured}; given: {', '.join(given) or 'none'}):\n")  # fmt: skip
    print("\n".join(efficiency_table(nbytes, compute)))
    print(f"\n(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")


def print_here(rows: list[dict[str, Any]]) -> None:
    """The 1 process × 2 threads against 2 processes × 1 thread table."""
    print("| workload | 1 proc × 2 threads steps/s | 2 procs × 1 thread steps/s | ratio "
          "(per repeat) | bare all-reduce of the grads, ms |")  # fmt: skip
    print("|---|---|---|---|---|")
    for r in rows:
        per = ", ".join(f"{x:.2f}" for x in r["ratios"])
        print(f"| {r['workload']} | {r['one_process_2_threads']:.1f} | "
              f"{r['two_processes_1_thread']:.1f} | {r['ratio']:.2f} ({per}) | "
              f"{r['allreduce_ms']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
