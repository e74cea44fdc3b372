"""The engine benchmark: neuralab beside PyTorch CPU, float32, in one process.

Two kinds of workload. *Per-op overhead*: an op on 8x8 tensors followed by its backward, where
the time is almost all Python and framework bookkeeping (graph recording, closure calls, grad
accumulation), reported in microseconds per op. *Throughput*: a 512x512 matmul forward and a
conv2d forward+backward, where BLAS (NumPy's OpenBLAS for us, MKL/oneDNN for torch) decides,
reported in milliseconds and GFLOP/s. Every workload runs with 1 and then 2 threads, both
frameworks limited alike (``torch.set_num_threads`` and ``threadpoolctl.threadpool_limits``).
Timing is paired and interleaved (see :mod:`bench.harness`); the headline is the median of the
per-pair ratios torch time / our time, so above 1 means neuralab is faster.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import threadpoolctl
import torch
import torch.nn.functional as F

import neuralab as nl
from bench.harness import Paired, compare, markdown_table
from neuralab.ops.conv import conv2d

RESULTS_START = "<!-- bench:results:start -->"
RESULTS_END = "<!-- bench:results:end -->"
# Pause before each multi-threaded sample: three times the longest busy-wait of an idle worker
# (torch's OpenMP ~10 ms; OpenBLAS's 90 µs under neuralab's OPENBLAS_THREAD_TIMEOUT), so neither
# framework's spinning threads take the other's cores. It was 0.2 s, for OpenBLAS's old 0.1-s
# wait; an idle pause that long also lets this machine's scheduler pack a process's threads onto
# one CPU (sched_vcpu_pack), so each 2-thread sample mostly timed the slow first steps after a
# pause (a CIFAR CNN's first took 53-59 ms, its later ones 24), and more so for neuralab, whose
# workers sleep between ops where torch's spin (docs/benchmarks.md, third session of 2026-12-07).
SETTLE_S = 0.03
SMALL = 8  # side of the square tensors in the per-op workloads
RATIO_HEADER = "torch ÷ ours (>1: ours faster)"
HEADER = ["workload", "threads", "ours", "torch", RATIO_HEADER, "ours GFLOP/s", "torch GFLOP/s"]


# ----------------------------------------------------------------------------- frameworks


@dataclasses.dataclass(frozen=True)
class Framework:
    """What a workload needs from a framework beyond the shared Tensor methods (+, @, .sum())."""

    tensor: Callable[[np.ndarray, bool], Any]  # (array, requires_grad) -> tensor
    conv2d: Callable[..., Any]


NEURALAB = Framework(lambda a, g: nl.Tensor(a, requires_grad=g), conv2d)
TORCH = Framework(lambda a, g: torch.tensor(a, requires_grad=g), F.conv2d)


# ----------------------------------------------------------------------------- workloads


@dataclasses.dataclass(frozen=True)
class Workload:
    """One timed step: ``fn`` on tensors made from ``inputs``, then backward if any needs grad.

    ``inner`` is the number of calls averaged into one sample; ``flops`` the floating-point
    operations of one call, when GFLOP/s means something; ``unit`` how the time is shown.
    """

    name: str
    fn: Callable[..., Any]
    inputs: tuple[np.ndarray, ...]
    requires_grad: tuple[bool, ...]
    inner: int
    unit: str  # "us" or "ms"
    flops: float | None = None


def make_step(w: Workload, fw: Framework) -> Callable[[], None]:
    """A zero-argument call of ``w`` in framework ``fw``, grads reset to None each time.

    Non-scalar outputs are seeded with a fixed gradient of ones (``backward(gradient)``), so the
    step is the op and its backward, nothing else, identically in both frameworks.
    """
    tensors = [fw.tensor(a, g) for a, g in zip(w.inputs, w.requires_grad)]
    leaves = [t for t, g in zip(tensors, w.requires_grad) if g]
    if not leaves:
        return lambda: w.fn(fw, *tensors)
    out_shape = tuple(w.fn(fw, *tensors).shape)
    seed = fw.tensor(np.ones(out_shape, np.float32), False) if out_shape else None

    def step() -> None:
        for t in leaves:
            t.grad = None
        w.fn(fw, *tensors).backward(seed)

    return step


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Repetitions and problem sizes: the full run, ``--quick``, and the smoke test differ."""

    pairs: int
    warmup: int
    op_inner: int
    matmul_n: int
    matmul_inner: int
    conv_batch: int
    conv_channels: int
    conv_hw: int


FULL = Sizes(
    pairs=21,
    warmup=3,
    op_inner=400,
    matmul_n=512,
    matmul_inner=5,
    conv_batch=64,
    conv_channels=32,
    conv_hw=32,
)
QUICK = Sizes(
    pairs=3,
    warmup=1,
    op_inner=50,
    matmul_n=256,
    matmul_inner=2,
    conv_batch=8,
    conv_channels=32,
    conv_hw=32,
)


def workloads(s: Sizes, seed: int = 0) -> list[Workload]:
    """The engine workloads at sizes ``s``, with float32 inputs drawn from ``seed``."""
    rng = np.random.default_rng(seed)

    def arr(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    def small_op(name: str, fn: Callable[..., Any], arity: int) -> Workload:
        inputs = tuple(arr(SMALL, SMALL) for _ in range(arity))
        return Workload(name, fn, inputs, (True,) * arity, s.op_inner, "us")

    n = s.matmul_n
    b, c, hw = s.conv_batch, s.conv_channels, s.conv_hw
    conv_flops = 3 * 2 * b * c * hw * hw * c * 3 * 3  # forward + backward counted as 2 forwards
    return [
        small_op(f"add {SMALL}×{SMALL} +bwd", lambda fw, x, y: x + y, 2),
        small_op(f"mul {SMALL}×{SMALL} +bwd", lambda fw, x, y: x * y, 2),
        small_op(f"matmul {SMALL}×{SMALL} +bwd", lambda fw, x, y: x @ y, 2),
        small_op(f"relu {SMALL}×{SMALL} +bwd", lambda fw, x: x.relu(), 1),
        small_op(f"sum {SMALL}×{SMALL} +bwd", lambda fw, x: x.sum(), 1),
        Workload(
            f"matmul {n}×{n} fwd",
            lambda fw, x, y: x @ y,
            (arr(n, n), arr(n, n)),
            (False, False),
            s.matmul_inner,
            "ms",
            2.0 * n**3,
        ),
        Workload(
            f"conv2d {b}×{c}×{hw}×{hw} 3×3 {c}→{c} pad 1 fwd+bwd",
            lambda fw, x, w, bias: fw.conv2d(x, w, bias, padding=1),
            (arr(b, c, hw, hw), arr(c, c, 3, 3) / np.float32(3 * c), arr(c)),
            (True, True, True),
            1,
            "ms",
            float(conv_flops),
        ),
    ]


# ----------------------------------------------------------------------------- running


@dataclasses.dataclass(frozen=True)
class Result:
    """One row of the table: a workload at a thread count, timed in both frameworks."""

    workload: Workload
    threads: int
    timing: Paired

    def cells(self) -> list[str]:
        """The row's Markdown cells, in the order of :data:`HEADER`."""
        scale, unit = (1e6, "µs") if self.workload.unit == "us" else (1e3, "ms")
        ours, theirs = self.timing.ours_median, self.timing.theirs_median
        flops = self.workload.flops
        gflops = [_num(flops / t / 1e9) if flops else "–" for t in (ours, theirs)]
        return [
            self.workload.name,
            str(self.threads),
            f"{_num(ours * scale)} {unit}",
            f"{_num(theirs * scale)} {unit}",
            _num(self.timing.ratio),
            *gflops,
        ]


def _num(x: float) -> str:
    """Three significant digits, never rounded to zero, never in exponent notation."""
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


def run(
    sizes: Sizes,
    threads: Sequence[int] = (1, 2),
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    """Time every workload at every thread count, neuralab against torch, paired."""
    results = []
    torch_threads, our_threads = torch.get_num_threads(), nl.get_num_threads()
    try:
        for n in threads:
            with threadpoolctl.threadpool_limits(limits=n):
                torch.set_num_threads(n)
                nl.set_num_threads(n)  # after the limits: it also caps BLAS at n
                settle = SETTLE_S if n > 1 else 0.0  # one thread: no idle workers to spin
                for w in workloads(sizes):
                    ours, theirs = make_step(w, NEURALAB), make_step(w, TORCH)
                    timing = compare(
                        ours,
                        theirs,
                        pairs=sizes.pairs,
                        warmup=sizes.warmup,
                        inner=w.inner,
                        settle=settle,
                    )
                    results.append(Result(w, n, timing))
                    if progress:
                        progress(f"{w.name}, {n} thread(s): ratio {timing.ratio:.2f}")
    finally:
        torch.set_num_threads(torch_threads)
        nl.set_num_threads(our_threads)
    return results


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table (times are medians of the per-pair samples)."""
    return markdown_table(HEADER, [r.cells() for r in results])


# ----------------------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _owner(library_path: str) -> str:
    """The package a shared library ships with: ``.../numpy.libs/libx.so`` -> ``numpy``."""
    parent = os.path.basename(os.path.dirname(library_path))
    return parent.removesuffix(".libs")


def _torch_backends() -> list[str]:
    """The libraries torch computes with (OpenMP, MKL, oneDNN), from its parallel_info."""
    lines = torch.__config__.parallel_info().splitlines()
    headings = [ln for ln in lines if ln[:1].strip() and not ln.endswith(":") and "::" not in ln]
    return [
        ln.split(" (Git")[0].removesuffix(" for Intel(R) 64 architecture applications")
        for ln in headings
    ]


def machine_info() -> list[str]:
    """What the numbers depend on: CPU, versions, BLAS kernel, the environment variables."""
    blas = [
        f"{_owner(i['filepath'])}: {i.get('internal_api')} {i.get('version')} "
        f"({i.get('architecture', '?')} kernel, {i.get('threading_layer', '?')}, "
        f"{i.get('num_threads')} threads)"
        for i in sorted(threadpoolctl.threadpool_info(), key=lambda i: "numpy" not in i["filepath"])
        if i.get("user_api") == "blas"
    ]
    from neuralab.compiled import KERNELS, numba_enabled

    kernels = "NumPy only"
    if numba_enabled():
        kernels = f"numba ({', '.join(KERNELS.values())})"
    kept = "yes" if nl.memory.configured_at_import else "no"
    prefixes = ("OPENBLAS_", "MALLOC_", "OMP_", "MKL_", "NEURALAB_")
    env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(prefixes)]
    return [
        f"CPU: {_cpu_model()}, nproc {len(os.sched_getaffinity(0))}",
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}",
        f"BLAS (numpy's is the one neuralab uses): {'; '.join(blas) or 'none found'}",
        f"torch: {'; '.join(_torch_backends())}",
        f"neuralab: threads per op as set for each row (nl.set_num_threads); compiled kernels: "
        f"{kernels}; freed memory kept for reuse: {kept}",
        f"Environment: {', '.join(env) or 'no OPENBLAS_/MALLOC_/OMP_/MKL_/NEURALAB_ variables'}",
    ]


def report(results: Sequence[Result], command: str, note: str | None) -> str:
    """The full Markdown results section: when, how, where, and the table."""
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"Run {when}: `{command}`", ""]
    lines += [f"- {line}" for line in machine_info()]
    if note:
        lines += ["", f"**Note:** {note}"]
    return "\n".join([*lines, "", table(results), ""])


def write_results(
    path: str, section: str, markers: tuple[str, str] = (RESULTS_START, RESULTS_END)
) -> None:
    """Replace the text between the ``markers`` (the results ones) of the Markdown file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(markers[0]), text.find(markers[1])
    if start < 0 or end < start:
        raise SystemExit(
            f"--out {path}: the file needs the lines {markers[0]!r} and {markers[1]!r} "
            "around its results section"
        )
    head, tail = text[: start + len(markers[0])], text[end:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}\n{section}{tail}")


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench [--quick] [--threads 1 2] [--out FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Time neuralab beside PyTorch CPU (float32, same process): per-op overhead on 8x8 "
            "tensors including backward, a matmul forward, and a conv2d forward+backward, each "
            "with 1 and 2 threads. The two run interleaved (ours, torch, ours, torch, ...) and "
            "the ratio column is the median over pairs of torch time / our time, so above 1 "
            "means neuralab is faster. Prints a Markdown table. For honest BLAS numbers run it "
            "as: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench"
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, fewer pairs: a smoke run (~15 s)"
    )
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)"
    )
    parser.add_argument("--pairs", type=int, help="override the number of timed pairs")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="also rewrite the results section of FILE (docs/benchmarks.md)",
    )
    parser.add_argument("--note", help="a remark to record with the results (e.g. machine load)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)

    sizes = QUICK if args.quick else FULL
    if args.pairs:
        sizes = dataclasses.replace(sizes, pairs=args.pairs)
    results = run(sizes, args.threads, progress=lambda m: print(f"# {m}", file=sys.stderr))
    section = report(results, shlex.join(["python", "-m", "bench", *argv]), args.note)
    print(section)
    if args.out:
        write_results(args.out, section)
