"""Variants: seeded random members of each model family, neuralab beside PyTorch.

    python -m bench variants [--threads 1 2] [--count 5] [--seed 0] [--families resnet ...]

The training workloads are fixed models; a speed-up tuned to them need not carry over to the
networks users build. This command draws ``count`` members of each family — MLPs, CNNs,
recurrent nets (RNN, LSTM, GRU), GPT-style transformers, SegNet-style encoder–decoders
(pixel-wise classes, unpooling by the pooling's indices) and CIFAR ResNets of 16–64 base
channels (up to 512 on 4×4 planes, ResNet-18's layout) — varying the activation (ReLU,
GELU, tanh, SiLU, sigmoid), the pooling (max or average), the norm (batch, layer or none),
causal attention or not, widths, depths, sequence lengths, batch sizes and the optimizer. Every
option is drawn as passes through its values, each pass freshly shuffled, so ``count`` at least
the longest list (5) meets every value of every option, and the same seed draws the same
variants. Each variant
is timed as the training workloads are (same weights, same batch, paired and interleaved steps,
:func:`bench.training.time_steps`); the report gives every variant's ratio (our steps/s ÷
torch's), and per thread count the geometric mean and the worst ratio (target: worst ≥ 0.9).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.harness import Paired, markdown_table
from bench.training import QUICK, Sizes, geometric_mean, limited_threads, time_steps
from bench.training_models import VOCAB, Workload, _gpt_class, text

WORST_TARGET = 0.9
ACTIVATIONS = ("ReLU", "GELU", "Tanh", "SiLU", "Sigmoid")
OPTIMIZERS = ("SGD", "Adam", "AdamW")
FAMILIES: dict[str, dict[str, tuple]] = {
    "mlp": {
        "activation": ACTIVATIONS, "norm": ("batch", "layer", "none"), "depth": (1, 2, 3),
        "width": (64, 128, 256, 512), "features": (64, 256, 784), "batch": (32, 64, 128, 256),
        "optimizer": OPTIMIZERS,
    },
    "cnn": {
        "activation": ACTIVATIONS, "pool": ("max", "avg"), "norm": ("batch", "layer", "none"),
        "channels": (8, 16, 32), "input": ((1, 28), (3, 32)), "batch": (16, 32, 64),
        "optimizer": OPTIMIZERS,
    },
    "rnn": {
        "cell": ("RNN", "LSTM", "GRU"), "hidden": (64, 128, 256), "length": (16, 32, 64),
        "batch": (16, 32, 64), "optimizer": OPTIMIZERS,
    },
    "transformer": {
        "activation": ACTIVATIONS, "causal": (True, False), "dim": (64, 128), "heads": (2, 4),
        "layers": (1, 2, 3), "length": (16, 32, 64), "batch": (8, 16, 32),
        "optimizer": OPTIMIZERS,
    },
    "segnet": {
        "activation": ACTIVATIONS, "widths": ((8, 16, 32), (16, 32, 64), (32, 64, 128)),
        "convs": (1, 2), "batch": (4, 8, 16), "optimizer": OPTIMIZERS,
    },
    "resnet": {
        "activation": ACTIVATIONS, "base": (16, 32, 64), "blocks": (1, 2), "batch": (8, 16, 32),
        "optimizer": OPTIMIZERS,
    },
}  # fmt: skip
SEGMENT_CLASSES = 4  # the segnet family's pixel classes, on (3, 32, 32) images


@dataclasses.dataclass(frozen=True)
class Variant:
    """One drawn member of a family: its options, by name."""

    family: str
    options: tuple[tuple[str, Any], ...]

    def __getitem__(self, name: str) -> Any:
        return dict(self.options)[name]

    @property
    def label(self) -> str:
        """A short readable name, e.g. ``mlp activation=GELU norm=layer depth=2 ...``."""
        return " ".join([self.family, *(f"{k}={_short(v)}" for k, v in self.options)])


def _short(value: Any) -> str:
    return "×".join(map(str, value)) if isinstance(value, tuple) else str(value)


def draw(count: int, seed: int = 0) -> list[Variant]:
    """``count`` variants of every family from ``seed``: each option in freshly shuffled passes."""
    if count < 1:
        raise ValueError(f"draw: count must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    variants = []
    for family, options in FAMILIES.items():
        columns = {}
        for name, values in options.items():
            passes = -(-count // len(values))  # each pass a fresh shuffle of every value
            order = np.concatenate([rng.permutation(len(values)) for _ in range(passes)])
            columns[name] = [values[i] for i in order[:count]]
        variants += [
            Variant(family, tuple((name, columns[name][i]) for name in options))
            for i in range(count)
        ]
    return variants


# ----------------------------------------------------------------------------- models


def _norm(lib: Any, kind: str, shape: tuple[int, ...]) -> list[Any]:
    """A norm over features ``shape`` (C or C×H×W): BatchNorm, LayerNorm, or nothing."""
    nn = lib.nn
    if kind == "batch":
        return [(nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d)(shape[0])]
    return [nn.LayerNorm(list(shape))] if kind == "layer" else []


def _mlp(lib: Any, v: Variant) -> Any:
    """``depth`` hidden layers of ``width``: Linear, norm, activation; then Linear to 10."""
    nn, layers, fan_in = lib.nn, [], v["features"]
    for _ in range(v["depth"]):
        layers += [nn.Linear(fan_in, v["width"]), *_norm(lib, v["norm"], (v["width"],))]
        layers.append(getattr(nn, v["activation"])())
        fan_in = v["width"]
    return nn.Sequential(*layers, nn.Linear(fan_in, 10))


def _cnn(lib: Any, v: Variant) -> Any:
    """Two blocks of conv 3×3 ('same'), norm, activation, 2×2 pooling; then Linear to 10."""
    nn, (channels, side) = lib.nn, v["input"]
    pool = nn.MaxPool2d if v["pool"] == "max" else nn.AvgPool2d
    layers = []
    for width in (v["channels"], 2 * v["channels"]):
        layers += [nn.Conv2d(channels, width, 3, padding=1)]
        layers += [*_norm(lib, v["norm"], (width, side, side)), getattr(nn, v["activation"])()]
        layers.append(pool(2))
        channels, side = width, side // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * side * side, 10))


def _segnet(lib: Any, v: Variant) -> Any:
    """SegNet over 3 stages of ``widths``: ``convs`` × (conv 3×3, batch norm, activation) per
    stage, max pooling with indices; the decoder unpools with them and mirrors the encoder."""
    return _segnet_class(lib)(v["widths"], v["convs"], v["activation"])


@functools.cache
def _segnet_class(lib: Any) -> type:
    """The family's SegNet in ``lib`` (one class per library, as the other families')."""
    nn = lib.nn

    def stage(widths: Sequence[int], activation: str) -> Any:
        """Conv-BN-activation blocks taking ``widths[0]`` channels through ``widths[1:]``."""
        layers = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)]
            layers.append(getattr(nn, activation)())
        return nn.Sequential(*layers)

    class SegNet(nn.Module):
        """Per-pixel class scores (N, SEGMENT_CLASSES, H, W) of images (N, 3, H, W)."""

        def __init__(self, widths: Sequence[int], convs: int, activation: str) -> None:
            super().__init__()
            inputs = [3, *widths[:-1]]
            self.encoder = nn.ModuleList(
                stage([c_in] + [c] * convs, activation) for c_in, c in zip(inputs, widths)
            )
            self.pool, self.unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
            inner = [
                stage([c] * convs + [c_in], activation) for c_in, c in zip(inputs[1:], widths[1:])
            ]
            outer = stage([widths[0]] * convs, activation)
            outer.append(nn.Conv2d(widths[0], SEGMENT_CLASSES, 3, padding=1))
            self.decoder = nn.ModuleList(reversed([outer, *inner]))

        def forward(self, x: Any) -> Any:
            """Encode and pool, then unpool by the same indices and decode."""
            indices = []
            for encode in self.encoder:
                x, index = self.pool(encode(x))
                indices.append(index)
            for decode in self.decoder:
                x = decode(self.unpool(x, indices.pop()))
            return x

    return SegNet


@functools.cache
def _resnet_class(lib: Any) -> type:
    """The family's CIFAR ResNet in ``lib``: a 3×3 stem of ``base`` channels, then 4 stages of
    ``blocks`` residual blocks, widths base·1, 2, 4, 8 on 32, 16, 8 and 4-pixel planes (each
    stage after the first halves the plane with a stride-2 block and a 1×1 projection), global
    average pooling and a Linear to 10: ResNet-18's layout at base 64 and 2 blocks."""
    nn = lib.nn

    class Block(nn.Module):
        """conv-BN-activation, conv-BN, plus the (projected) input, then the activation."""

        def __init__(self, c_in: int, c_out: int, stride: int, activation: str) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                getattr(nn, activation)(),
                nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
            )  # fmt: skip
            self.shortcut = nn.Sequential()
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                )
            self.act = getattr(nn, activation)()

        def forward(self, x: Any) -> Any:
            return self.act(self.body(x) + self.shortcut(x))

    class ResNet(nn.Sequential):
        """Class scores (N, 10) of images (N, 3, 32, 32)."""

        def __init__(self, base: int, blocks: int, activation: str) -> None:
            layers = [nn.Conv2d(3, base, 3, padding=1, bias=False), nn.BatchNorm2d(base)]
            layers.append(getattr(nn, activation)())
            c_in = base
            for stage in range(4):
                for i in range(blocks):
                    stride = 2 if stage and not i else 1
                    layers.append(Block(c_in, base << stage, stride, activation))
                    c_in = base << stage
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 10)]
            super().__init__(*layers)

    return ResNet


@functools.cache
def _sequence_class(lib: Any) -> type:
    """Embedding 64 → a recurrent layer → Linear to the vocabulary, in ``lib``."""
    nn = lib.nn

    class Recurrent(nn.Module):
        """Logits at every position of a recurrent net over token ids."""

        def __init__(self, cell: str, hidden: int) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 64)
            self.rnn = getattr(nn, cell)(64, hidden, batch_first=True)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, x: Any) -> Any:
            """Logits (N·T, vocabulary) of token ids (N, T)."""
            out, _ = self.rnn(self.embed(x))
            return self.head(out).reshape(-1, VOCAB)

    return Recurrent


def _builder(v: Variant) -> Callable[[Any], Any]:
    """The model of ``v`` in a library."""
    if v.family == "mlp":
        return lambda lib: _mlp(lib, v)
    if v.family == "cnn":
        return lambda lib: _cnn(lib, v)
    if v.family == "rnn":
        return lambda lib: _sequence_class(lib)(v["cell"], v["hidden"])
    if v.family == "segnet":
        return lambda lib: _segnet(lib, v)
    if v.family == "resnet":
        return lambda lib: _resnet_class(lib)(v["base"], v["blocks"], v["activation"])
    options = {k: v[k] for k in ("dim", "layers", "heads", "length", "causal", "activation")}
    return lambda lib: _gpt_class(lib)(**options)


def _data(v: Variant) -> Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]:
    """The seeded batch of ``v``: features, images or token ids, and class targets."""
    if v.family in ("rnn", "transformer"):
        return text(v["length"])
    if v.family == "segnet":
        return _pixels
    if v.family == "mlp":
        shape: tuple[int, ...] = (v["features"],)
    else:
        channels, side = v["input"] if v.family == "cnn" else (3, 32)  # resnet: CIFAR's images
        shape = (channels, side, side)

    def data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((n, *shape), dtype=np.float32), rng.integers(0, 10, n)

    return data


def _pixels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal images (n, 3, 32, 32) and a class for every pixel (n, 32, 32)."""
    images = rng.standard_normal((n, 3, 32, 32), dtype=np.float32)
    return images, rng.integers(0, SEGMENT_CLASSES, (n, 32, 32))


def _optimizer(name: str) -> Callable[[Any, Any], Any]:
    if name == "SGD":
        return lambda lib, params: lib.optim.SGD(params, lr=0.01, momentum=0.9)
    return lambda lib, params: getattr(lib.optim, name)(params, lr=1e-3)


def workload(v: Variant, index: int) -> Workload:
    """``v`` as a training workload (key ``V<index>``), timed like W1–W8."""
    return Workload(
        f"V{index}", v.family, v.label, v["batch"], WORST_TARGET, _builder(v),
        "CrossEntropyLoss", _optimizer(v["optimizer"]), _data(v),
    )  # fmt: skip


# ----------------------------------------------------------------------------- run and report


@dataclasses.dataclass(frozen=True)
class Timed:
    """One variant's paired timing at a thread count."""

    variant: Variant
    threads: int
    timing: Paired


def run(
    variants: Sequence[Variant],
    sizes: Sizes,
    threads: Sequence[int] = (1, 2),
    progress: Callable[[str], None] = lambda message: None,
) -> list[Timed]:
    """Time every variant at every thread count, ours against torch."""
    timed = []
    for n in threads:
        with limited_threads(n) as settle:
            for i, v in enumerate(variants):
                timing, _ = time_steps(workload(v, i), sizes, settle)
                timed.append(Timed(v, n, timing))
                progress(f"{v.label}, {n} thread(s): ratio {timing.ratio:.2f}")
    return timed


def report(timed: Sequence[Timed], command: str, note: str | None = None) -> str:
    """The Markdown section: per-variant ratios, then geometric mean and worst per thread count."""
    lines = [f"`{command}`", ""] + ([f"**Note:** {note}", ""] if note else [])
    rows = [
        [t.variant.label, str(t.threads), f"{1 / t.timing.ours_median:.4g}",
         f"{1 / t.timing.theirs_median:.4g}", f"{t.timing.ratio:.2f}"]
        for t in timed
    ]  # fmt: skip
    header = ["variant", "threads", "ours steps/s", "torch steps/s", "ours ÷ torch"]
    lines += [markdown_table(header, rows), ""]
    summary = []
    for n in sorted({t.threads for t in timed}):
        ratios = [t for t in timed if t.threads == n]
        worst = min(ratios, key=lambda t: t.timing.ratio)
        ok = worst.timing.ratio >= WORST_TARGET
        summary.append([
            str(n), str(len(ratios)), f"{geometric_mean([t.timing.ratio for t in ratios]):.2f}",
            f"{worst.timing.ratio:.2f}", worst.variant.label, f"≥ {WORST_TARGET:g}",
            "yes" if ok else "**no**",
        ])  # fmt: skip
    header = ["threads", "variants", "geometric mean", "worst", "worst variant", "target", "met"]
    return "\n".join([*lines, markdown_table(header, summary), ""])


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench variants [--threads 1 2] [--count N] [--seed S]
    [--families F ...]``."""
    parser = argparse.ArgumentParser(prog="python -m bench variants", description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--count", type=int, default=5, help="variants per family (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=5, help="timed pairs per variant")
    parser.add_argument(
        "--families", nargs="+", choices=list(FAMILIES), default=list(FAMILIES),
        help="only these families (their members are drawn as in a full run)",
    )  # fmt: skip
    parser.add_argument("--note", help="a remark to record with the results (e.g. machine load)")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    sizes = dataclasses.replace(QUICK, pairs=args.pairs, sample_s=0.15)
    timed = run(
        [v for v in draw(args.count, args.seed) if v.family in args.families],
        sizes,
        args.threads,
        progress=lambda m: print(f"# {m}", file=sys.stderr, flush=True),
    )
    print(report(timed, shlex.join(["python", "-m", "bench", "variants", *argv]), args.note))
