"""Export a playground run: the model as a file ``nl.load`` reads, and a script that reproduces it.

The model file is ``nl.save`` of a checkpoint dict: ``model`` (the ``nn.Sequential``, taking the
feature matrix), ``features`` (the input features in order, as Python expressions of x1, x2),
``output`` (what the last unit is: 'tanh', 'sigmoid', 'linear' score or 'softmax' logits),
``epoch`` and ``config`` (the playground settings, the link's state).

The script is plain neuralab: the same data (generator and seed, or the points inline), the same
features, network, initialisation (``nl.manual_seed(initSeed)``), loss, optimizer, schedule and
penalty, and the playground's epoch loop, run for the session's number of epochs. Trained
without interruption it ends with the same weights as the playground (tested). Changes made
while the run was going (a new learning rate, an edited weight, new points) are not replayed:
the script trains the settings at export time from the start.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

import neuralab as nl
from neuralab.playground import config as cfg
from neuralab.playground.data import FEATURE_SOURCE, GENERATOR_CALLS, sample_count
from neuralab.playground.session import Session

FEATURE_NAMES = {  # the features as the script's docstring names them
    "x": "X1",
    "y": "X2",
    "xSquared": "X1²",
    "ySquared": "X2²",
    "xTimesY": "X1·X2",
    "sinX": "sin X1",
    "sinY": "sin X2",
}

MODEL_NAME = "playground_model.safetensors"
SCRIPT_NAME = "playground_run.py"

_MODULES = {
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "leakyrelu": "nn.LeakyReLU()",
    "linear": None,
}
_LOSSES = {
    "squared": (
        'def loss_fn(out, target):\n    """½(ŷ − y)², the Playground\'s loss."""\n'
        "    return 0.5 * F.mse_loss(out, target)",
        "½(ŷ − y)²",
    ),
    "hinge": ("loss_fn = F.hinge_loss", "max(0, 1 − y·ŷ)"),
    "logistic": ("loss_fn = F.logistic_loss", "log(1 + exp(−y·ŷ))"),
    "perceptron": ("loss_fn = F.perceptron_loss", "max(0, −y·ŷ)"),
    "cross_entropy": (
        "loss_fn = F.binary_cross_entropy_with_logits",
        "−[t·log σ(z) + (1−t)·log(1−σ(z))]",
    ),
    "softmax_cross_entropy": ("loss_fn = F.cross_entropy", "−log softmax(z)_y"),
}
_SCHEDULES = {
    "step": "{decay!r} ** (epoch // {every})",
    "exp": "{decay!r} ** (epoch / {every})",
    "cosine": "0.5 * (1 + math.cos(math.pi * min(epoch, {every}) / {every}))",
}


def model_file(session: Session) -> bytes:
    """The checkpoint (see the module docstring) as the bytes of a safetensors file."""
    c = session.config
    checkpoint = {
        "model": session.model,
        "features": [FEATURE_SOURCE[k] for k in session.feature_keys],
        "output": cfg.output_activation(c),
        "epoch": session.epoch,
        "config": dict(c),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, MODEL_NAME)
        nl.save(checkpoint, path)
        with open(path, "rb") as f:
            return f.read()


def _float32_literal(points: np.ndarray) -> str:
    """Rows of float32 values as a Python list literal that round-trips exactly."""
    rows = ",\n    ".join("[" + ", ".join(str(v) for v in row) + "]" for row in points)
    return f"[\n    {rows},\n]" if len(points) else "[]"


def _data_source(session: Session) -> tuple[str, str]:
    """The import and the code that make X_train, X_test, y_train, y_test."""
    c = session.config
    name = c[cfg.dataset_key(c)]
    ratio = c["percTrainData"] / 100
    label_type = "np.int64" if c["problem"] == "multiclass" else "np.float32"
    if name == "custom":
        code = (
            f"# Your own points (x1, x2, label); point i trains when floor((i+1)·r) > floor(i·r).\n"
            f"POINTS = np.array({_float32_literal(session.custom.astype(np.float32))}, "
            f"dtype=np.float32).reshape(-1, 3)\n"
            f"i = np.arange(len(POINTS))\n"
            f"train = np.floor((i + 1) * {ratio!r}) > np.floor(i * {ratio!r})\n"
            f"X, y = POINTS[:, :2], POINTS[:, 2].astype({label_type})\n"
            f"X_train, X_test, y_train, y_test = X[train], X[~train], y[train], y[~train]\n"
        )
        return "", code
    call = GENERATOR_CALLS[name].format(
        n=sample_count(c["problem"]), noise=c["noise"] / 100, seed=c["seed"], k=c["classes"]
    )
    function = call.split("(")[0]
    code = f"X, y = {call}\n"
    if name == "moons":
        code += "y = (2 * y - 1).astype(np.float32)  # classes 0/1 as labels -1/+1\n"
    code += (
        f"X_train, X_test, y_train, y_test = train_test_split(X, y, ratio={ratio!r}, "
        f"seed={c['seed']})\n"
    )
    return f"from neuralab.data import {function}, train_test_split\n", code


def _model_source(session: Session) -> str:
    c = session.config
    sizes = session.layer_sizes
    lines = []
    act = _MODULES[c["activation"]]
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        parts = [f"nn.Linear({a}, {b})"]
        if act:
            parts.append(act)
        if c["dropout"] > 0:
            parts.append(f"nn.Dropout({c['dropout']!r})")
        lines.append(", ".join(parts) + ",")
    last = [f"nn.Linear({sizes[-2]}, {sizes[-1]})"]
    out = cfg.output_activation(c)
    if c["loss"] != "cross_entropy" and out in ("tanh", "sigmoid"):
        last.append("nn.Tanh()" if out == "tanh" else "nn.Sigmoid()")
    lines.append(", ".join(last) + ",")
    return "model = nn.Sequential(\n" + "".join(f"    {line}\n" for line in lines) + ")\n"


def _optimizer_source(c: dict[str, Any]) -> str:
    lr = c["learningRate"]
    return {
        "sgd": f"optim.SGD(model.parameters(), lr={lr!r})",
        "momentum": f"optim.SGD(model.parameters(), lr={lr!r}, momentum={c['momentum']!r})",
        "adam": f"optim.Adam(model.parameters(), lr={lr!r})",
        "rmsprop": f"optim.RMSprop(model.parameters(), lr={lr!r})",
    }[c["optimizer"]]


def script(session: Session) -> str:
    """Python source that rebuilds and retrains this run with neuralab (see the docstring)."""
    c = session.config
    problem = c["problem"]
    data_import, data_code = _data_source(session)
    keys = session.feature_keys
    loss_key = "softmax_cross_entropy" if problem == "multiclass" else c["loss"]
    loss_code, loss_formula = _LOSSES[loss_key]
    out = cfg.output_activation(c)
    shape = "-".join(str(n) for n in session.layer_sizes)
    penalty = session.penalty
    schedule = c["lrSchedule"]
    names = ", ".join(FEATURE_NAMES[k] for k in keys)
    if problem == "multiclass":
        targets = "    return y.astype(np.int64)\n"
    elif out == "sigmoid":
        targets = (
            "    t = y.astype(np.float32).reshape(-1, 1)\n"
            "    return (t + 1) / 2  # labels ±1 as 0/1\n"
        )
    else:
        targets = "    return y.astype(np.float32).reshape(-1, 1)\n"
    init = (
        "        nn.init.zeros_(layer.weight)\n        nn.init.zeros_(layer.bias)\n"
        if c["initZero"]
        else "        nn.init.uniform_(layer.weight, -0.5, 0.5)\n"
        "        nn.init.constant_(layer.bias, 0.1)\n"
    )
    src = [
        f'"""Reproduce a neuralab playground run ({session.epoch} epoch'
        f"{'' if session.epoch == 1 else 's'}).\n\n"
        f"{problem.capitalize()}, network {shape} ({c['activation']}), {c['optimizer']} at "
        f"learning rate {c['learningRate']:g}.\n"
        "Generated by `neuralab playground`: it trains the settings at export time from the\n"
        "start; changes made during the run (learning rate, edited weights, new points) are\n"
        'not replayed.\n"""\n\n',
        "import math\n\n" if schedule == "cosine" else "",
        "import numpy as np\n\nimport neuralab as nl\nimport neuralab.nn.functional as F\n",
        "from neuralab import nn, optim\n",
        data_import,
        "from neuralab.optim.lr_scheduler import LambdaLR\n" if schedule != "none" else "",
        "\nEPOCHS = " + str(session.epoch) + "\n",
        f"BATCH_SIZE = {c['batchSize']}\n\n",
        data_code,
        f'\n\ndef features(X):\n    """The input features {names}."""\n',
        "    x1, x2 = X[:, 0], X[:, 1]\n",
        "    return np.stack([" + ", ".join(FEATURE_SOURCE[k] for k in keys) + "], axis=1)"
        ".astype(np.float32)\n\n\n",
        f'def targets(y):\n    """Labels as the loss wants them."""\n{targets}\n\n',
        f"# Loss: {loss_formula}\n{loss_code}\n\n\n",
        f"# Network: weights U(-0.5, 0.5), biases 0.1 (the Playground's), seed {c['initSeed']}.\n"
        f"nl.manual_seed({c['initSeed']})\n",
        _model_source(session),
        "for layer in model:\n    if isinstance(layer, nn.Linear):\n",
        init,
        f"opt = {_optimizer_source(c)}\n",
    ]
    if schedule != "none":
        factor = _SCHEDULES[schedule].format(decay=c["lrDecay"], every=c["lrEvery"])
        src.append(f"scheduler = LambdaLR(opt, lambda epoch: {factor})\n")
    if penalty is not None:
        text = "λ‖w‖₁" if c["regularization"] == "L1" else "(λ/2)‖w‖₂²"
        src.append(
            f"penalty = optim.{c['regularization']}({penalty.lam!r})  # {text}, "
            f"λ = {c['regularizationRate']:g}, weights only\n"
        )
    src.append(
        "\ninputs, labels = nl.tensor(features(X_train)), nl.tensor(targets(y_train))\n"
        "n = len(X_train)\n"
        "seen = 0  # training points used so far\n"
        "for epoch in range(1, EPOCHS + 1):\n"
        "    # The Playground's epoch: the points in a fixed order, an update every BATCH_SIZE\n"
        "    # points; a batch that runs past the end wraps round to the start.\n"
        "    while seen < epoch * n:\n"
        "        idx = np.arange(seen, seen + BATCH_SIZE) % n\n"
        "        seen += BATCH_SIZE\n"
        "        loss = loss_fn(model(inputs[idx]), labels[idx])\n"
    )
    if penalty is not None:
        src.append("        loss = loss + penalty(model)\n")
    src.append("        opt.zero_grad()\n        loss.backward()\n        opt.step()\n")
    if schedule != "none":
        src.append("    scheduler.step()\n")
    src.append(
        "\nmodel.eval()\n"
        "with nl.no_grad():\n"
        '    parts = (("train", X_train, y_train), ("test", X_test, y_test))\n'
        "    for part, X_part, y_part in parts:\n"
        "        if len(X_part) == 0:\n            continue\n"
        "        out = model(nl.tensor(features(X_part)))\n"
        '        line = f"{part} loss {loss_fn(out, nl.tensor(targets(y_part))).item():.6f}"\n'
    )
    if problem == "multiclass":
        src.append("        correct = out.numpy().argmax(axis=1) == y_part\n")
    elif problem == "classification":
        probability = out == "sigmoid" and c["loss"] != "cross_entropy"  # else a score or logit
        threshold = "0.5" if probability else "0.0"
        src.append(f"        correct = (out.numpy()[:, 0] > {threshold}) == (y_part > 0)\n")
    if problem != "regression":
        src.append('        line += f"  accuracy {correct.mean():.1%}"\n')
    src.append("        print(line)\n")
    return "".join(src)
