"""The training workloads W1–W8, written once against a torch-shaped library.

Every builder takes the library module itself, ``neuralab`` or ``torch``, and uses only the
names the two share (``lib.nn.Linear``, ``lib.optim.Adam``, ``lib.cat``, ``lib.from_numpy``...),
so both frameworks run the very same architecture, loss and optimizer: this is also a check that
code written for torch ports by changing the import. One *step* is ``zero_grad``, forward, loss,
backward, optimizer step on one fixed batch of synthetic data (seeded NumPy, the same arrays for
both frameworks).

This module imports neither framework: ``python -m bench.training_models W4 neuralab`` is the
fresh subprocess in which :mod:`bench.training` measures one framework's peak memory, so that
the other framework's import cannot hide or inflate it.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import resource
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VOCAB = 65  # W5's and W8's character vocabulary
SEQ_LEN = 32  # W5's sequence length
GPT_LEN = 64  # W8's context length


@dataclass(frozen=True)
class Workload:
    """One training workload of the issue's targets table.

    ``build(lib)`` makes the model, ``optimizer(lib, params)`` its optimizer, ``data(rng, batch)``
    the float32 inputs and the targets of one batch; ``loss`` names the ``lib.nn`` loss class;
    ``target`` is the wanted ratio of our steps per second to torch's.
    """

    key: str
    name: str
    description: str
    batch: int
    target: float
    build: Callable[[Any], Any]
    loss: str
    optimizer: Callable[[Any, Any], Any]
    data: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


# ----------------------------------------------------------------------------- models


def _mlp(lib: Any, sizes: Sequence[int], activation: str) -> Any:
    """Linear layers of ``sizes`` with ``activation`` (a ``lib.nn`` class name) between them."""
    nn = lib.nn
    layers = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    hidden = [m for linear in layers[:-1] for m in (linear, getattr(nn, activation)())]
    return nn.Sequential(*hidden, layers[-1])


def lenet5(lib: Any) -> Any:
    """LeNet-5, 1998 layout: conv 6@5×5, avg pool 2, conv 16@5×5, avg pool 2, fc 120-84-10, tanh."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )  # fmt: skip


def cifar_cnn(lib: Any) -> Any:
    """conv3×3 32 → ReLU → maxpool → conv3×3 64 → ReLU → maxpool → fc 256 → fc 10 ('same' pad)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10),
    )  # fmt: skip


@functools.cache
def _custom_classes(lib: Any) -> tuple[type, type]:
    """The two models with their own ``forward`` (W5, W6), subclassing ``lib.nn.Module``."""
    nn = lib.nn

    class CharLSTM(nn.Module):
        """Embedding 64 → LSTM 128 → Linear to the vocabulary, logits at every position."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 64)
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.head = nn.Linear(128, VOCAB)

        def forward(self, x: Any) -> Any:
            """Logits (N·T, vocabulary) of token ids (N, T): the loss reads every position."""
            out, _ = self.lstm(self.embed(x))
            return self.head(out).reshape(-1, VOCAB)

    class TinyViT(nn.Module):
        """7×7 patches of 28×28 by a strided conv, class token, positions, 2 pre-norm layers."""

        def __init__(self, dim: int = 64, layers: int = 2) -> None:
            super().__init__()
            self.patch = nn.Conv2d(1, dim, 7, stride=7)
            self.class_token = nn.Parameter(lib.zeros(1, 1, dim))
            self.positions = nn.Parameter(lib.zeros(1, 17, dim))
            nn.init.normal_(self.positions, std=0.02)
            self.encoder = nn.Sequential(
                *(
                    nn.TransformerEncoderLayer(
                        dim, 4, 128, dropout=0.0, batch_first=True, norm_first=True
                    )
                    for _ in range(layers)
                )
            )
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, 10)

        def forward(self, x: Any) -> Any:
            """Class scores (N, 10) of images (N, 1, 28, 28), read from the class token."""
            p = self.patch(x)  # (N, dim, 4, 4)
            n, d = p.shape[0], p.shape[1]
            tokens = p.reshape(n, d, -1).permute(0, 2, 1)  # (N, 16, dim)
            tokens = lib.cat([self.class_token.expand(n, -1, -1), tokens], dim=1)
            return self.head(self.norm(self.encoder(tokens + self.positions))[:, 0])

    return CharLSTM, TinyViT


def resnet20(lib: Any) -> Any:
    """ResNet-20 for CIFAR (He et al. 2016): conv 16, 3 stages × 3 basic blocks of 16/32/64
    channels with BatchNorm, stride-2 1×1-conv+BN projection shortcuts, global average pooling."""
    nn = lib.nn

    def conv_bn(cin: int, cout: int, size: int, stride: int) -> list[Any]:
        conv = nn.Conv2d(cin, cout, size, stride=stride, padding=size // 2, bias=False)
        return [conv, nn.BatchNorm2d(cout)]

    class Block(nn.Module):
        """Two 3×3 conv+BN with a ReLU between, added to the (projected) input, then ReLU."""

        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                *conv_bn(cin, cout, 3, stride), nn.ReLU(), *conv_bn(cout, cout, 3, 1)
            )
            same = stride == 1 and cin == cout
            self.shortcut = nn.Identity() if same else nn.Sequential(*conv_bn(cin, cout, 1, stride))
            self.relu = nn.ReLU()

        def forward(self, x: Any) -> Any:
            """relu(body(x) + shortcut(x))."""
            return self.relu(self.body(x) + self.shortcut(x))

    stages, cin = [], 16
    for i, width in enumerate((16, 32, 64)):
        for j in range(3):
            stages.append(Block(cin, width, 2 if i > 0 and j == 0 else 1))
            cin = width
    return nn.Sequential(
        *conv_bn(3, 16, 3, 1), nn.ReLU(), *stages,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )  # fmt: skip


@functools.cache
def _gpt_class(lib: Any) -> type:
    """nanoGPT's GPT (Karpathy's model.py) in ``lib``: pre-norm blocks, tied embeddings."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        """x + attention(ln(x)), then x + MLP(ln(x)); causal multi-head attention, GELU MLP 4×."""

        def __init__(self, dim: int, heads: int, causal: bool, activation: str) -> None:
            super().__init__()
            self.heads, self.causal = heads, causal
            self.ln_1, self.ln_2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.c_attn, self.attn_proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
            self.c_fc, self.act = nn.Linear(dim, 4 * dim), getattr(nn, activation)()
            self.mlp_proj = nn.Linear(4 * dim, dim)

        def attention(self, x: Any) -> Any:
            """Multi-head self-attention by ``F.scaled_dot_product_attention``, as nanoGPT."""
            b, t, c = x.shape
            q, k, v = self.c_attn(x).split(c, dim=2)
            q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
            return self.attn_proj(y.transpose(1, 2).contiguous().view(b, t, c))

        def forward(self, x: Any) -> Any:
            """One pre-norm block."""
            x = x + self.attention(self.ln_1(x))
            return x + self.mlp_proj(self.act(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        """Token + position embeddings, blocks, final LayerNorm, head tied to the token table."""

        def __init__(
            self, dim: int = 128, layers: int = 4, heads: int = 4, length: int = GPT_LEN,
            causal: bool = True, activation: str = "GELU",
        ) -> None:  # fmt: skip
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, dim), nn.Embedding(length, dim)
            self.blocks = nn.Sequential(
                *(Block(dim, heads, causal, activation) for _ in range(layers))
            )
            self.ln_f = nn.LayerNorm(dim)
            self.lm_head = nn.Linear(dim, VOCAB, bias=False)
            self.wte.weight = self.lm_head.weight  # weight tying
            for name, p in self.named_parameters():  # nanoGPT's initialisation
                if p.dim() >= 2:
                    std = 0.02 / (2 * layers) ** 0.5 if name.endswith("proj.weight") else 0.02
                    nn.init.normal_(p, mean=0.0, std=std)
                elif name.endswith("bias"):
                    nn.init.zeros_(p)

        def forward(self, idx: Any) -> Any:
            """Logits (N·T, vocabulary) of token ids (N, T), every position's next token."""
            positions = lib.arange(0, idx.shape[1])
            x = self.blocks(self.wte(idx) + self.wpe(positions))
            return self.lm_head(self.ln_f(x)).reshape(-1, VOCAB)

    return GPT


# ----------------------------------------------------------------------------- data


def _images(channels: int, side: int) -> Callable[[np.random.Generator, int], Any]:
    """Standard-normal float32 images (N, channels, side, side) and labels of 10 classes."""

    def data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((n, channels, side, side), dtype=np.float32)
        return x, rng.integers(0, 10, n)

    return data


def _playground(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in the plane and the XOR-like target sign(x0·x1), as in the Playground."""
    x = rng.standard_normal((n, 2), dtype=np.float32)
    return x, np.sign(x[:, :1] * x[:, 1:]).astype(np.float32)


def mnist_like(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform [0, 1) float32 'pixels' (N, 784) and labels of 10 classes (W2 and its epoch)."""
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def text(length: int) -> Callable[[np.random.Generator, int], Any]:
    """Token ids (N, ``length``) and their next-token targets, flattened to (N·length,)."""

    def data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        ids = rng.integers(0, VOCAB, (n, length + 1))
        return ids[:, :-1], ids[:, 1:].reshape(-1)

    return data


def _sgd(lr: float, momentum: float = 0.0) -> Callable[[Any, Any], Any]:
    return lambda lib, params: lib.optim.SGD(params, lr=lr, momentum=momentum)


def _adam(lib: Any, params: Any) -> Any:
    return lib.optim.Adam(params, lr=1e-3)


def _resnet_sgd(lib: Any, params: Any) -> Any:
    """The ResNet paper's SGD: lr 0.1, momentum 0.9, weight decay 5e-4."""
    return lib.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)


def nanogpt_adamw(lib: Any, params: Any) -> Any:
    """nanoGPT's AdamW (shakespeare-char): lr 1e-3, betas (0.9, 0.99), decay 0.1 on matrices."""
    params = list(params)
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return lib.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))


WORKLOADS = [
    Workload(
        "W1", "playground", "MLP 2-8-8-1 tanh, batch 10, SGD lr 0.03, squared error",
        10, 3.0, lambda lib: _mlp(lib, (2, 8, 8, 1), "Tanh"), "MSELoss", _sgd(0.03), _playground,
    ),
    Workload(
        "W2", "mlp-mnist", "MLP 784-256-128-10 ReLU, batch 128, Adam, cross-entropy",
        128, 1.2, lambda lib: _mlp(lib, (784, 256, 128, 10), "ReLU"), "CrossEntropyLoss", _adam,
        mnist_like,
    ),
    Workload(
        "W3", "lenet5", "LeNet-5 on 1×32×32, batch 64, SGD lr 0.01 momentum 0.9, cross-entropy",
        64, 1.0, lenet5, "CrossEntropyLoss", _sgd(0.01, 0.9), _images(1, 32),
    ),
    Workload(
        "W4", "cifar-cnn", "2 conv3×3 (32, 64) + maxpool, fc 256-10 on 3×32×32, batch 64, Adam",
        64, 0.8, cifar_cnn, "CrossEntropyLoss", _adam, _images(3, 32),
    ),
    Workload(
        "W5", "char-lstm", "embedding 64, LSTM 128, seq 32, vocab 65, batch 32, Adam",
        32, 1.0, lambda lib: _custom_classes(lib)[0](), "CrossEntropyLoss", _adam, text(SEQ_LEN),
    ),
    Workload(
        "W6", "tiny-vit", "ViT 28×28, 16 patches, dim 64, 2 pre-norm layers, 4 heads, batch 64",
        64, 1.0, lambda lib: _custom_classes(lib)[1](), "CrossEntropyLoss", _adam, _images(1, 28),
    ),
    Workload(
        "W7", "resnet20", "ResNet-20 (BatchNorm, 3×3 basic blocks 16/32/64) on 3×32×32, batch 64, "
        "SGD momentum 0.9, weight decay 5e-4", 64, 1.0, resnet20, "CrossEntropyLoss", _resnet_sgd,
        _images(3, 32),
    ),
    Workload(
        "W8", "nanogpt", "GPT: 4 pre-norm blocks, 4 heads, 128 wide, 64 tokens, vocab 65, tied "
        "embeddings, batch 16, AdamW", 16, 1.0, lambda lib: _gpt_class(lib)(), "CrossEntropyLoss",
        nanogpt_adamw, text(GPT_LEN),
    ),
]  # fmt: skip
BY_KEY = {w.key: w for w in WORKLOADS}


# ----------------------------------------------------------------------------- steps


@dataclass
class Trainer:
    """A workload set up in one framework: model, optimizer, one batch, and the step closure."""

    model: Any
    loss: Any
    optimizer: Any
    x: Any
    y: Any

    def step(self) -> None:
        """One training step: zero_grad, forward, loss, backward, optimizer update."""
        self.optimizer.zero_grad()
        self.loss(self.model(self.x), self.y).backward()
        self.optimizer.step()

    def current_loss(self) -> float:
        """The loss of the batch at the current weights (no update)."""
        return float(self.loss(self.model(self.x), self.y).item())


def setup(
    w: Workload,
    lib: Any,
    batch: int | None = None,
    seed: int = 0,
    state: dict[str, np.ndarray] | None = None,
) -> Trainer:
    """``w`` in framework ``lib`` on its seeded batch; weights from ``state`` when given.

    Without ``state`` the weights are the framework's own initialisation from ``seed``.
    ``batch`` overrides the workload's batch size (the smoke test uses tiny ones).
    """
    lib.manual_seed(seed)
    model = w.build(lib)
    if state is not None:
        model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
    x, y = w.data(np.random.default_rng(seed), batch or w.batch)
    return Trainer(
        model,
        getattr(lib.nn, w.loss)(),
        w.optimizer(lib, model.parameters()),
        lib.from_numpy(x),
        lib.from_numpy(y),
    )


def _status_mb(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) resident memory of this process, in MB.

    Linux's ``/proc/self/status`` belongs to this program alone; ``ru_maxrss`` (the fallback
    elsewhere, peak only) inherits the parent's resident size at ``fork`` across ``exec``, so a
    child of a large parent would see no growth at all.
    """
    try:
        with open("/proc/self/status") as f:
            line = next(ln for ln in f if ln.startswith(f"{field}:"))
        return int(line.split()[1]) / 1024  # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reset_peak() -> None:
    """Restart the peak (``VmHWM``) from the current RSS (Linux ≥ 4.0; else it keeps counting)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def memory_child(argv: Sequence[str] | None = None) -> None:
    """Print, as JSON, the memory ``steps`` training steps need in one framework.

    Run as ``python -m bench.training_models KEY neuralab|torch [--steps N] [--batch B]`` in a
    fresh process. After the first step (optimizer state, caches and lazily loaded code exist)
    the baseline is the current RSS; the result is the peak RSS over the remaining steps minus
    that baseline. ``KEY`` ``all`` takes one step of every workload instead and reports the RSS
    after them (``rss_mb``): with and without the compiled kernels, the kernels' fixed cost.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.training_models")
    parser.add_argument("workload", choices=[*sorted(BY_KEY), "all"])
    parser.add_argument("framework", choices=["neuralab", "torch"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int)
    args = parser.parse_args(argv)
    lib = importlib.import_module(args.framework)
    chosen = WORKLOADS if args.workload == "all" else [BY_KEY[args.workload]]
    for w in chosen:
        trainer = setup(w, lib, args.batch)
        trainer.step()
    baseline = _status_mb("VmRSS")
    _reset_peak()
    for _ in range(args.steps - 1 if args.workload != "all" else 0):
        trainer.step()
    peak = _status_mb("VmHWM")
    result = {"baseline_mb": baseline, "peak_mb": peak, "growth_mb": max(0.0, peak - baseline)}
    print(json.dumps({**result, "rss_mb": _status_mb("VmRSS")}))


if __name__ == "__main__":
    memory_child()
