"""The training-step benchmark: workloads W1–W8 in neuralab beside PyTorch CPU, float32.

For each workload of :mod:`bench.training_models` both frameworks get the same architecture, the
same initial weights (torch's ``state_dict`` copied into ours) and the same seeded batch; one
*step* is ``zero_grad``, forward, loss, backward, optimizer update. Steps are timed paired and
interleaved (:func:`bench.harness.compare`) with 1 and 2 threads, both frameworks limited alike;
the ratio is the median over pairs of our steps/s ÷ torch's, so above 1 means neuralab is faster.

Beside the steps the command reports:

* GFLOP/s of each step: the forward's GEMM work counted from the layer shapes (2 per
  multiply-add of linear, conv, LSTM gates and attention matmuls; elementwise work not counted),
  times 3 for forward + backward, and its fraction of this machine's float32 GEMM peak, the
  faster of NumPy's and torch's square matmul measured by the same harness;
* the speed-up from 1 to 2 threads of each framework, per workload;
* peak memory: the peak RSS over 10 steps minus the RSS after the first, each framework alone
  in a fresh subprocess with one thread (see :func:`bench.training_models.memory_child`), and
  the fixed RSS cost of numba and the compiled kernels;
* one epoch of W2 over 60,000 samples, ``neuralab.train.fit`` with a DataLoader against
  scikit-learn's ``MLPClassifier((256, 128), solver='adam', batch_size=128, max_iter=1)``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import gc
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import threadpoolctl
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import neuralab as nl
from bench.engine import SETTLE_S, _num, machine_info, write_results
from bench.harness import Paired, compare, markdown_table
from bench.training_models import BY_KEY, WORKLOADS, Workload, mnist_like, setup
from neuralab.compiled import numba_enabled

TRAINING_START = "<!-- bench:training:start -->"
TRAINING_END = "<!-- bench:training:end -->"
PEAK_TARGET = 0.5  # W2 and W4: at least this fraction of the machine's GEMM peak
PEAK_WORKLOADS = ("W2", "W4")
MEMORY_TARGETS = {"W4": 1.2, "W8": 1.2}  # a step's memory at most this × torch's
GEOMEAN_TARGET = 1.3  # over every workload and thread count
KERNEL_COST_TARGET = 150.0  # MB: the fixed RSS of numba and the compiled kernels
EPOCH_TARGET = 1.5  # one W2 epoch at least 1.5× faster than scikit-learn's MLPClassifier
STEP_HEADER = [
    "workload", "threads", "ours steps/s", "torch steps/s", "ours ÷ torch", "target", "met",
    "ours GFLOP/s", "ours % peak", "torch GFLOP/s", "torch % peak",
]  # fmt: skip
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `bench` imports from


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Repetitions and sizes: the full run, ``--quick`` and the smoke test differ.

    ``sample_s`` is the wanted length of one timed sample (the number of steps averaged into it
    is calibrated to it); ``batch`` overrides every workload's batch size when set.
    """

    pairs: int
    warmup: int
    sample_s: float
    gemm_n: int
    memory_steps: int
    epoch_samples: int
    epoch_pairs: int
    batch: int | None = None


FULL = Sizes(
    pairs=11, warmup=2, sample_s=0.3, gemm_n=1024, memory_steps=10, epoch_samples=60_000,
    epoch_pairs=3,
)  # fmt: skip
QUICK = Sizes(
    pairs=3, warmup=1, sample_s=0.1, gemm_n=512, memory_steps=10, epoch_samples=6_000,
    epoch_pairs=1,
)  # fmt: skip


# ----------------------------------------------------------------------------- measurements


def calls_per_sample(
    ours: Callable[[], object], theirs: Callable[[], object], sample_s: float
) -> int:
    """Calls per sample so that a sample lasts about ``sample_s`` (from one warm call of each)."""
    seconds = []
    for fn in (ours, theirs):
        fn()  # the first call allocates optimizer state and warms caches
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return max(1, round(sample_s / statistics.mean(seconds)))


def _gemm_flops(module: torch.nn.Module, inputs: tuple, output: Any) -> float:
    """Forward FLOPs of the matrix products of one module call (0 for the others)."""
    nn = torch.nn
    if isinstance(module, nn.Linear):
        return 2.0 * output.numel() * module.in_features
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * np.prod(module.kernel_size)
        return 2.0 * output.numel() * float(per_output)
    if isinstance(module, nn.LSTM):
        h, dirs = module.hidden_size, 2 if module.bidirectional else 1
        tokens = output[0].numel() / (h * dirs)  # batch × time
        fan_ins = [module.input_size] + [h * dirs] * (module.num_layers - 1)
        return 2.0 * tokens * dirs * sum(4 * h * (i + h) for i in fan_ins)
    if isinstance(module, nn.MultiheadAttention):
        q = inputs[0]
        n, length, e = q.shape if module.batch_first else (q.shape[1], q.shape[0], q.shape[2])
        projections = 4 * e * e  # q, k, v and output
        return 2.0 * n * length * (projections + 2 * length * e)  # + scores and weighted sum
    return 0.0


def step_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """FLOPs of one training step: 3 × the forward's matrix products (backward = 2 forwards)."""
    counts: list[float] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: counts.append(_gemm_flops(m, i, o)))
        for m in model.modules()
    ]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    return 3.0 * sum(counts)


@dataclasses.dataclass(frozen=True)
class Gemm:
    """NumPy's and torch's n×n float32 matmul at a thread count; the faster one is the peak."""

    n: int
    threads: int
    timing: Paired

    @property
    def numpy_gflops(self) -> float:
        """NumPy's GFLOP/s (the BLAS neuralab computes with)."""
        return 2.0 * self.n**3 / self.timing.ours_median / 1e9

    @property
    def torch_gflops(self) -> float:
        """torch's GFLOP/s."""
        return 2.0 * self.n**3 / self.timing.theirs_median / 1e9

    @property
    def peak(self) -> float:
        """This machine's float32 GEMM peak at this thread count, in GFLOP/s."""
        return max(self.numpy_gflops, self.torch_gflops)


def time_gemm(n: int, sizes: Sizes, settle: float) -> Paired:
    """``a @ b`` on n×n float32 arrays, NumPy (ours) against torch, paired."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)

    def ours() -> object:
        return a @ b

    def theirs() -> object:
        return ta @ tb

    inner = calls_per_sample(ours, theirs, sizes.sample_s)
    return compare(ours, theirs, pairs=sizes.pairs, warmup=sizes.warmup, inner=inner, settle=settle)


@dataclasses.dataclass(frozen=True)
class Steps:
    """A workload's training steps at a thread count, timed in both frameworks."""

    workload: Workload
    threads: int
    timing: Paired
    flops: float  # per step

    def gflops(self) -> tuple[float, float]:
        """(ours, torch) GFLOP/s at the median step times."""
        t = self.timing
        return self.flops / t.ours_median / 1e9, self.flops / t.theirs_median / 1e9


def time_steps(w: Workload, sizes: Sizes, settle: float) -> tuple[Paired, float]:
    """Paired timing of ``w``'s step, ours against torch from the same weights; FLOPs per step."""
    theirs = setup(w, torch, sizes.batch)
    state = {k: v.detach().numpy() for k, v in theirs.model.state_dict().items()}
    ours = setup(w, nl, sizes.batch, state=state)
    flops = step_flops(theirs.model, theirs.x)
    inner = calls_per_sample(ours.step, theirs.step, sizes.sample_s)
    timing = compare(
        ours.step, theirs.step, pairs=sizes.pairs, warmup=sizes.warmup, inner=inner, settle=settle
    )
    return timing, flops


def time_epoch(samples: int, pairs: int, settle: float, seed: int = 0) -> Paired:
    """One W2 epoch from a fresh model: ``neuralab.train.fit`` (ours) against scikit-learn.

    Both include building the model; both use Adam (lr 1e-3), batches of 128, shuffling, and the
    same ``samples`` × 784 float32 inputs with 10 classes. scikit-learn adds its default L2
    penalty (alpha 1e-4), a few array operations per batch.
    """
    x, y = mnist_like(np.random.default_rng(seed), samples)
    dataset = nl.data.TensorDataset(nl.from_numpy(x), nl.from_numpy(y))
    w2 = BY_KEY["W2"]

    def ours() -> None:
        nl.manual_seed(seed)
        model = w2.build(nl)
        loader = nl.data.DataLoader(dataset, batch_size=128, shuffle=True)
        optimizer = nl.optim.Adam(model.parameters(), lr=1e-3)
        nl.train.fit(model, nl.nn.CrossEntropyLoss(), optimizer, loader, epochs=1, verbose=0)

    def theirs() -> None:
        clf = MLPClassifier(
            (256, 128), solver="adam", batch_size=128, max_iter=1, random_state=seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)

    return compare(ours, theirs, pairs=pairs, warmup=0, settle=settle)


@dataclasses.dataclass(frozen=True)
class Memory:
    """The memory (MB) a workload's steps need, each framework alone in a fresh process.

    ``numpy_only_mb`` is ours again with the compiled kernels off (``NEURALAB_NUMBA=0``, the
    fallback install), measured when they are on. The target is judged on the default install.
    """

    workload: Workload
    ours_mb: float
    torch_mb: float
    numpy_only_mb: float | None = None
    peaks_mb: tuple[float, float] | None = None  # whole processes' peak RSS: ours, torch's

    @property
    def ratio(self) -> float:
        """Ours ÷ torch's: below 1 means neuralab needs less (NaN when torch grew by nothing)."""
        return self.ours_mb / self.torch_mb if self.torch_mb > 0 else float("nan")

    @property
    def numpy_only_ratio(self) -> float:
        """The ratio of the NumPy-only fallback (NaN when not measured or torch grew by nothing)."""
        if self.numpy_only_mb is None or self.torch_mb <= 0:
            return float("nan")
        return self.numpy_only_mb / self.torch_mb


def _memory_child(key: str, framework: str, steps: int, batch: int | None, **env: str) -> dict:
    """The JSON of ``python -m bench.training_models key framework`` in a fresh 1-thread process."""
    one_thread = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    command = [sys.executable, "-m", "bench.training_models", key, framework]
    command += ["--steps", str(steps)] + (["--batch", str(batch)] if batch else [])
    env = {**os.environ, **dict.fromkeys(one_thread, "1"), **env}
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"memory run {shlex.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def measure_memory(w: Workload, steps: int, batch: int | None = None) -> Memory:
    """Run ``w`` for ``steps`` steps in a fresh 1-thread subprocess per framework."""
    ours = _memory_child(w.key, "neuralab", steps, batch)
    theirs = _memory_child(w.key, "torch", steps, batch)
    numpy_only = None
    if numba_enabled():
        numpy_only = _memory_child(w.key, "neuralab", steps, batch, NEURALAB_NUMBA="0")
        numpy_only = numpy_only["growth_mb"]
    peaks = (ours["peak_mb"], theirs["peak_mb"])
    return Memory(w, ours["growth_mb"], theirs["growth_mb"], numpy_only, peaks)


def kernel_cost_mb() -> float | None:
    """The fixed RSS (MB) of numba and the compiled kernels, None when they are off.

    One step of every workload at batch 2, with the kernels and without (``NEURALAB_NUMBA=0``):
    the difference of the two processes' RSS is numba, LLVM and the kernels' code.
    """
    if not numba_enabled():
        return None
    with_kernels = _memory_child("all", "neuralab", 1, 2)["rss_mb"]
    return with_kernels - _memory_child("all", "neuralab", 1, 2, NEURALAB_NUMBA="0")["rss_mb"]


# ----------------------------------------------------------------------------- running


@dataclasses.dataclass
class Results:
    """Everything one run measured."""

    gemm: list[Gemm] = dataclasses.field(default_factory=list)
    steps: list[Steps] = dataclasses.field(default_factory=list)
    epochs: list[tuple[int, int, Paired]] = dataclasses.field(default_factory=list)  # threads, n
    memory: list[Memory] = dataclasses.field(default_factory=list)
    kernel_mb: float | None = None  # the fixed RSS of numba and the compiled kernels

    def peak(self, threads: int) -> float:
        """The GEMM peak (GFLOP/s) measured at ``threads``."""
        return next(g.peak for g in self.gemm if g.threads == threads)


@contextlib.contextmanager
def limited_threads(n: int) -> Iterator[float]:
    """Both frameworks and their BLAS limited to ``n`` threads; yields the ``settle`` to use.

    Also ``gc.freeze()``: the libraries' import-time objects stay out of full collections that
    one framework's garbage triggers mid-sample.
    """
    torch_threads, our_threads = torch.get_num_threads(), nl.get_num_threads()
    gc.freeze()
    try:
        with threadpoolctl.threadpool_limits(limits=n):
            torch.set_num_threads(n)
            nl.set_num_threads(n)  # after the limits: it also caps BLAS at n
            yield SETTLE_S if n > 1 else 0.0  # one thread: no idle workers to spin
    finally:
        torch.set_num_threads(torch_threads)
        nl.set_num_threads(our_threads)
        gc.unfreeze()


def run(
    sizes: Sizes,
    workloads: Sequence[Workload] = WORKLOADS,
    threads: Sequence[int] = (1, 2),
    epoch: bool = True,
    memory: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> Results:
    """Measure everything at every thread count (memory: once, one thread per process)."""
    results = Results()
    for n in threads:
        with limited_threads(n) as settle:
            gemm = Gemm(sizes.gemm_n, n, time_gemm(sizes.gemm_n, sizes, settle))
            results.gemm.append(gemm)
            progress(f"GEMM {gemm.n}, {n} thread(s): peak {gemm.peak:.0f} GFLOP/s")
            for w in workloads:
                timing, flops = time_steps(w, sizes, settle)
                results.steps.append(Steps(w, n, timing, flops))
                progress(f"{w.key} {w.name}, {n} thread(s): ratio {timing.ratio:.2f}")
            if epoch:
                timing = time_epoch(sizes.epoch_samples, sizes.epoch_pairs, settle)
                results.epochs.append((n, sizes.epoch_samples, timing))
                progress(f"W2 epoch vs scikit-learn, {n} thread(s): ratio {timing.ratio:.2f}")
    if memory:
        for w in workloads:
            results.memory.append(measure_memory(w, sizes.memory_steps, sizes.batch))
            progress(f"{w.key} memory: ratio {results.memory[-1].ratio:.2f}")
        results.kernel_mb = kernel_cost_mb()
    return results


# ----------------------------------------------------------------------------- reporting


def geometric_mean(ratios: Sequence[float]) -> float:
    """The geometric mean of positive ratios (the fair average of speed-ups and slow-downs)."""
    return float(np.exp(np.mean(np.log(ratios))))


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def step_table(results: Results) -> str:
    """One row per workload and thread count: steps/s, ratio against its target, GFLOP/s."""
    rows = []
    for s in results.steps:
        peak = results.peak(s.threads)
        ours_gf, torch_gf = s.gflops()
        rows.append([
            f"{s.workload.key} {s.workload.name}",
            str(s.threads),
            _num(1 / s.timing.ours_median),
            _num(1 / s.timing.theirs_median),
            _num(s.timing.ratio),
            f"≥ {s.workload.target:g}",
            _met(s.timing.ratio >= s.workload.target),
            _num(ours_gf),
            _pct(ours_gf / peak),
            _num(torch_gf),
            _pct(torch_gf / peak),
        ])  # fmt: skip
    return markdown_table(STEP_HEADER, rows)


def gemm_table(results: Results) -> str:
    """The GEMM peak per thread count."""
    header = ["float32 GEMM", "threads", "NumPy GFLOP/s", "torch GFLOP/s", "peak GFLOP/s"]
    rows = [
        [f"{g.n}×{g.n} matmul", str(g.threads), _num(g.numpy_gflops), _num(g.torch_gflops),
         _num(g.peak)]
        for g in results.gemm
    ]  # fmt: skip
    return markdown_table(header, rows)


def epoch_table(results: Results) -> str:
    """W2's epoch through fit against scikit-learn's MLPClassifier."""
    header = ["W2 epoch", "threads", "ours s", "scikit-learn s", "sklearn ÷ ours", "target", "met"]
    rows = [
        [f"{samples:,} samples", str(n), _num(t.ours_median), _num(t.theirs_median),
         _num(t.ratio), f"≥ {EPOCH_TARGET:g}", _met(t.ratio >= EPOCH_TARGET)]
        for n, samples, t in results.epochs
    ]  # fmt: skip
    return markdown_table(header, rows)


def memory_table(results: Results) -> str:
    """A step's memory per workload, ours against torch (and ours NumPy-only, if measured)."""
    split = any(m.numpy_only_mb is not None for m in results.memory)
    header = ["workload", "ours MB", "torch MB", "ours ÷ torch"]
    header += ["ours NumPy-only MB", "NumPy-only ÷ torch"] if split else []
    header += ["target", "met", "process peak RSS MB: ours / torch"]
    rows = []
    for m in results.memory:
        row = [f"{m.workload.key} {m.workload.name}", _num(m.ours_mb), _num(m.torch_mb)]
        row.append(_num(m.ratio) if m.torch_mb > 0 else "–")
        if split:
            row += [_num(m.numpy_only_mb), _num(m.numpy_only_ratio) if m.torch_mb > 0 else "–"]
        limit = MEMORY_TARGETS.get(m.workload.key)
        row += [f"≤ {limit:g}", _met(m.ratio <= limit)] if limit else ["–", "–"]
        row.append(" / ".join(f"{mb:.0f}" for mb in m.peaks_mb) if m.peaks_mb else "–")
        rows.append(row)
    return markdown_table(header, rows)


def scaling_table(results: Results) -> str:
    """Per workload: steps/s at 2 threads ÷ at 1 thread, ours and torch's (target: ours ≥)."""
    by = {(s.workload.key, s.threads): s for s in results.steps}
    header = ["workload", "ours 1→2 threads", "torch 1→2 threads", "ours ≥ torch"]
    rows = []
    for s in results.steps:
        two = by.get((s.workload.key, 2))
        if s.threads != 1 or two is None:
            continue
        ours = s.timing.ours_median / two.timing.ours_median
        theirs = s.timing.theirs_median / two.timing.theirs_median
        rows.append([f"{s.workload.key} {s.workload.name}", f"{ours:.2f}×", f"{theirs:.2f}×",
                     _met(ours >= theirs)])  # fmt: skip
    return markdown_table(header, rows)


def report(results: Results, command: str, note: str | None) -> str:
    """The full Markdown results section: when, how, where, and the tables."""
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"Run {when}: `{command}`", ""]
    lines += [f"- {line}" for line in machine_info()]
    if note:
        lines += ["", f"**Note:** {note}"]
    lines += ["", "**Training steps** (ratio: median over pairs of ours ÷ torch steps/s; "
              "% peak: of the GEMM peak below)", "", step_table(results)]  # fmt: skip
    if results.steps:
        mean = geometric_mean([s.timing.ratio for s in results.steps])
        met = _met(mean >= GEOMEAN_TARGET)
        lines += ["", f"Geometric mean of the ratios above: {mean:.2f} "
                  f"(target ≥ {GEOMEAN_TARGET:g}: {met})"]  # fmt: skip
    scales = {1, 2} <= {s.threads for s in results.steps}
    for title, table, present in (
        ("**Two threads** (steps/s at 2 threads ÷ at 1, each framework; separate timings, so "
         "noisier than the paired ratios)", scaling_table, scales),
        ("**Peak float32 GEMM** (the faster library's, per thread count)", gemm_table, True),
        ("**One W2 epoch**, `fit` + DataLoader against scikit-learn", epoch_table, results.epochs),
        ("**Memory of a training step** (peak RSS over the steps minus the RSS after the first, "
         "fresh 1-thread process each)", memory_table, results.memory),
    ):  # fmt: skip
        if present:
            lines += ["", title, "", table(results)]
    if results.kernel_mb is not None:
        ok = _met(results.kernel_mb <= KERNEL_COST_TARGET)
        lines += ["", f"Fixed RSS of numba and the compiled kernels (one step of every workload, "
                  f"with and without): {results.kernel_mb:.0f} MB (target ≤ "
                  f"{KERNEL_COST_TARGET:g} MB: {ok})"]  # fmt: skip
    peaks = [
        f"{s.workload.key} {s.threads} thread(s): {_pct(s.gflops()[0] / results.peak(s.threads))}"
        for s in results.steps
        if s.workload.key in PEAK_WORKLOADS
    ]
    if peaks:
        lines += ["", f"GEMM-peak target (≥ {_pct(PEAK_TARGET)} for W2 and W4): {', '.join(peaks)}"]
    return "\n".join([*lines, ""])


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench training [--quick] [--workloads W1 W3] ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench training",
        description=(
            "Time training steps (zero_grad, forward, loss, backward, optimizer step) of the "
            "workloads W1-W8 in neuralab beside PyTorch CPU, float32, same weights and data, "
            "paired and interleaved, with 1 and 2 threads; also GFLOP/s against this machine's "
            "GEMM peak, peak memory (fresh subprocess per framework) and one W2 epoch against "
            "scikit-learn. Prints Markdown tables. For honest BLAS numbers run it as: "
            "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench training"
        ),
    )
    parser.add_argument("--quick", action="store_true", help="fewer pairs, a smaller epoch")
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(BY_KEY), metavar="W", help="e.g. W1 W3 (all)"
    )
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)"
    )
    parser.add_argument("--pairs", type=int, help="override the number of timed pairs")
    parser.add_argument("--no-epoch", action="store_true", help="skip the scikit-learn epoch")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument(
        "--out", metavar="FILE", help="also rewrite the training results section of FILE"
    )
    parser.add_argument("--note", help="a remark to record with the results (e.g. machine load)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)

    sizes = QUICK if args.quick else FULL
    if args.pairs:
        sizes = dataclasses.replace(sizes, pairs=args.pairs)
    chosen = [BY_KEY[k] for k in args.workloads] if args.workloads else WORKLOADS
    results = run(
        sizes,
        chosen,
        args.threads,
        epoch=not args.no_epoch,
        memory=not args.no_memory,
        progress=lambda m: print(f"# {m}", file=sys.stderr, flush=True),
    )
    section = report(results, shlex.join(["python", "-m", "bench", "training", *argv]), args.note)
    print(section)
    if args.out:
        write_results(args.out, section, (TRAINING_START, TRAINING_END))


if __name__ == "__main__":
    main()
