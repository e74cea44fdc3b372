"""Inference latency: one sample's forward pass, neuralab beside PyTorch.

    python -m bench inference [--threads 1 2] [--pairs 11]

What ``predict``, the playground and the Teachable Machine tab do: a trained model in eval
mode, under ``no_grad``, asked about one input. The models are W2's MLP, W3's LeNet-5, W5's
char-LSTM (32 tokens) and W8's GPT (64 tokens), built by :mod:`bench.training_models` with the
same weights in both frameworks. Calls are timed paired and interleaved
(:func:`bench.harness.compare`), many per sample; the ratio is torch's latency ÷ ours (above 1:
neuralab answers sooner), target ≥ 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch

import neuralab as nl
from bench.harness import Paired, compare, markdown_table
from bench.training import calls_per_sample, limited_threads
from bench.training_models import BY_KEY, setup

MODELS = ("W2", "W3", "W5", "W8")
TARGET = 2.0


def _predictor(lib: Any, trainer: Any) -> Callable[[], object]:
    """A zero-argument call of the trainer's model on its one-sample batch, eval and no_grad."""
    model, x = trainer.model.eval(), trainer.x

    def predict() -> object:
        with lib.no_grad():
            return model(x)

    return predict


def time_latency(key: str, pairs: int, sample_s: float, settle: float) -> Paired:
    """Paired batch-1 forward latency of workload ``key``'s model, ours against torch."""
    w = BY_KEY[key]
    theirs = setup(w, torch, batch=1)
    state = {k: v.detach().numpy() for k, v in theirs.model.state_dict().items()}
    ours = _predictor(nl, setup(w, nl, batch=1, state=state))
    theirs = _predictor(torch, theirs)
    inner = calls_per_sample(ours, theirs, sample_s)
    return compare(ours, theirs, pairs=pairs, warmup=3, inner=inner, settle=settle)


@dataclasses.dataclass(frozen=True)
class Latency:
    """One model's batch-1 latency at a thread count."""

    key: str
    threads: int
    timing: Paired


def run(
    keys: Sequence[str] = MODELS,
    threads: Sequence[int] = (1, 2),
    pairs: int = 11,
    sample_s: float = 0.1,
    progress: Callable[[str], None] = lambda message: None,
) -> list[Latency]:
    """Latency of every model at every thread count."""
    out = []
    for n in threads:
        with limited_threads(n) as settle:
            for key in keys:
                out.append(Latency(key, n, time_latency(key, pairs, sample_s, settle)))
                progress(f"{key}, {n} thread(s): ratio {out[-1].timing.ratio:.2f}")
    return out


def report(latencies: Sequence[Latency], command: str, note: str | None = None) -> str:
    """The Markdown table: latencies in µs, torch ÷ ours, against the target."""
    rows = []
    for lat in latencies:
        t, w = lat.timing, BY_KEY[lat.key]
        rows.append([
            f"{w.key} {w.name}", str(lat.threads), f"{1e6 * t.ours_median:.0f}",
            f"{1e6 * t.theirs_median:.0f}", f"{t.ratio:.2f}", f"≥ {TARGET:g}",
            "yes" if t.ratio >= TARGET else "**no**",
        ])  # fmt: skip
    header = ["model (batch 1, eval, no_grad)", "threads", "ours µs", "torch µs", "torch ÷ ours"]
    lines = [f"`{command}`", ""] + ([f"**Note:** {note}", ""] if note else [])
    return "\n".join([*lines, markdown_table([*header, "target", "met"], rows), ""])


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench inference [--threads 1 2] [--pairs N]``."""
    parser = argparse.ArgumentParser(prog="python -m bench inference", description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--note", help="a remark to record with the results (e.g. machine load)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    latencies = run(
        args.models,
        args.threads,
        args.pairs,
        progress=lambda m: print(f"# {m}", file=sys.stderr, flush=True),
    )
    print(report(latencies, shlex.join(["python", "-m", "bench", "inference", *argv]), args.note))
