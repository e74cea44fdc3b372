"""The training-step benchmark: workloads W1–W6 in neuralab beside PyTorch CPU, float32.

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
* peak memory: the growth of the peak RSS over some steps, each framework alone in a fresh
  subprocess with one thread (see :func:`bench.training_models.memory_child`);
* one epoch of W2 over 60,000 samples, ``neuralab.train.fit`` with a DataLoader against
  scikit-learn's ``MLPClassifier((256, 128), solver='adam', batch_size=128, max_iter=1)``.
"""

from __future__ import annotations

import argparse
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
from collections.abc import Callable, Sequence
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
MEMORY_TARGET = ("W4", 1.2)  # W4's peak memory at most 1.2× torch's
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
    pairs=3, warmup=1, sample_s=0.1, gemm_n=512, memory_steps=3, epoch_samples=6_000,
    epoch_pairs=1,
)  # fmt: skip


# ----------------------------------------------------------------------------- measurements


def _inner(ours: Callable[[], object], theirs: Callable[[], object], sample_s: float) -> int:
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

    inner = _inner(ours, theirs, sizes.sample_s)
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
    inner = _inner(ours.step, theirs.step, sizes.sample_s)
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
    """Peak-RSS growth (MB) of a workload's steps, each framework alone in a fresh process.

    ``numpy_only_mb`` is ours again with the optional numba kernels off (``NEURALAB_NUMBA=0``),
    measured when they are on: their LLVM runtime is a fixed cost that a NumPy-only install
    (``pip install neuralab``) does not pay. The target is judged on that install.
    """

    workload: Workload
    ours_mb: float
    torch_mb: float
    numpy_only_mb: float | None = None

    @property
    def ratio(self) -> float:
        """Ours ÷ torch's: below 1 means neuralab needs less (NaN when torch grew by nothing)."""
        return self.ours_mb / self.torch_mb if self.torch_mb > 0 else float("nan")

    @property
    def default_ratio(self) -> float:
        """The ratio of a NumPy-only install: the one the target is judged on."""
        mb = self.ours_mb if self.numpy_only_mb is None else self.numpy_only_mb
        return mb / self.torch_mb if self.torch_mb > 0 else float("nan")


def measure_memory(w: Workload, steps: int, batch: int | None = None) -> Memory:
    """Run ``w`` for ``steps`` steps in a fresh 1-thread subprocess per framework."""
    one_thread = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = {**os.environ, **dict.fromkeys(one_thread, "1")}
    runs = [("neuralab", "neuralab", {}), ("torch", "torch", {})]
    if numba_enabled():
        runs.append(("numpy-only", "neuralab", {"NEURALAB_NUMBA": "0"}))
    growth = {}
    for name, framework, extra in runs:
        command = [sys.executable, "-m", "bench.training_models", w.key, framework]
        command += ["--steps", str(steps)] + (["--batch", str(batch)] if batch else [])
        done = subprocess.run(
            command, env={**env, **extra}, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"memory run {shlex.join(command)} failed:\n{done.stderr}")
        growth[name] = json.loads(done.stdout.splitlines()[-1])["growth_mb"]
    return Memory(w, growth["neuralab"], growth["torch"], growth.get("numpy-only"))


# ----------------------------------------------------------------------------- running


@dataclasses.dataclass
class Results:
    """Everything one run measured."""

    gemm: list[Gemm] = dataclasses.field(default_factory=list)
    steps: list[Steps] = dataclasses.field(default_factory=list)
    epochs: list[tuple[int, int, Paired]] = dataclasses.field(default_factory=list)  # threads, n
    memory: list[Memory] = dataclasses.field(default_factory=list)

    def peak(self, threads: int) -> float:
        """The GEMM peak (GFLOP/s) measured at ``threads``."""
        return next(g.peak for g in self.gemm if g.threads == threads)


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
    torch_threads, our_threads = torch.get_num_threads(), nl.get_num_threads()
    gc.freeze()  # the libraries' import-time objects: no full collection walks them mid-sample
    try:
        for n in threads:
            with threadpoolctl.threadpool_limits(limits=n):
                torch.set_num_threads(n)
                nl.set_num_threads(n)  # after the limits: it also caps BLAS at n
                settle = SETTLE_S if n > 1 else 0.0  # one thread: no idle workers to spin
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
    finally:
        torch.set_num_threads(torch_threads)
        nl.set_num_threads(our_threads)
        gc.unfreeze()
    if memory:
        for w in workloads:
            results.memory.append(measure_memory(w, sizes.memory_steps, sizes.batch))
            progress(f"{w.key} memory: ratio {results.memory[-1].ratio:.2f}")
    return results


# ----------------------------------------------------------------------------- reporting


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
    """Peak-memory growth per workload, ours against torch (and ours NumPy-only, if measured)."""
    key, limit = MEMORY_TARGET
    split = any(m.numpy_only_mb is not None for m in results.memory)
    header = ["workload", "ours MB", "torch MB", "ours ÷ torch"]
    header += ["ours NumPy-only MB", "NumPy-only ÷ torch"] if split else []
    header += ["target", "met"]
    rows = []
    for m in results.memory:
        row = [f"{m.workload.key} {m.workload.name}", _num(m.ours_mb), _num(m.torch_mb)]
        row.append(_num(m.ratio) if m.torch_mb > 0 else "–")
        if split:
            row += [_num(m.numpy_only_mb), _num(m.default_ratio) if m.torch_mb > 0 else "–"]
        judged = m.workload.key == key
        row += [f"≤ {limit:g}", _met(m.default_ratio <= limit)] if judged else ["–", "–"]
        rows.append(row)
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
    for title, table, present in (
        ("**Peak float32 GEMM** (the faster library's, per thread count)", gemm_table, True),
        ("**One W2 epoch**, `fit` + DataLoader against scikit-learn", epoch_table, results.epochs),
        ("**Peak memory** (peak-RSS growth over the steps, fresh 1-thread process each)",
         memory_table, results.memory),
    ):  # fmt: skip
        if present:
            lines += ["", title, "", table(results)]
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
            "workloads W1-W6 in neuralab beside PyTorch CPU, float32, same weights and data, "
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
