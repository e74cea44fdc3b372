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
from neuralab import nn
from neuralab.data.registry import DATASETS
from neuralab.nn.registry import ACTIVATIONS, LOSSES
from neuralab.optim.registry import OPTIMIZERS, SCHEDULES
from neuralab.playground import config as cfg
from neuralab.playground.data import FEATURE_SOURCE, sample_count
from neuralab.playground.session import Session, SessionError

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
ONNX_NAME = "playground_model.onnx"
SCRIPT_NAME = "playground_run.py"


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


def onnx_file(session: Session) -> bytes:
    """The model as ONNX bytes: input ``features`` (batch, the features in ``model_file``'s
    order), output ``output`` (what the model returns); needs ``neuralab[onnx]``."""
    import io

    try:
        from neuralab import onnx as nx
    except ImportError:
        raise SessionError("ONNX export needs: pip install 'neuralab[onnx]'") from None
    example = nl.zeros(1, len(session.feature_keys))
    buffer = io.BytesIO()
    nx.export(
        session.model, (example,), buffer, input_names=["features"], output_names=["output"],
        dynamic_axes={"features": {0: "batch"}, "output": {0: "batch"}},
    )  # fmt: skip
    return buffer.getvalue()


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
    call = DATASETS.get(name).source(
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
    module = ACTIVATIONS.get(c["activation"]).module  # the URL's 'linear' is identity
    act = None if module is nn.Identity else f"nn.{module.__name__}()"
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
    return OPTIMIZERS.get(c["optimizer"]).source(c["learningRate"], momentum=c["momentum"])


def _header_source(session: Session) -> list[str]:
    """The script's docstring, imports, constants and data."""
    c = session.config
    data_import, data_code = _data_source(session)
    shape = "-".join(str(n) for n in session.layer_sizes)
    schedule = SCHEDULES.get(c["lrSchedule"])
    return [
        f'"""Reproduce a neuralab playground run ({session.epoch} epoch'
        f"{'' if session.epoch == 1 else 's'}).\n\n"
        f"{c['problem'].capitalize()}, network {shape} ({c['activation']}), {c['optimizer']} at "
        f"learning rate {c['learningRate']:g}.\n"
        "Generated by `neuralab playground`: it trains the settings at export time from the\n"
        "start; changes made during the run (learning rate, edited weights, new points) are\n"
        'not replayed.\n"""\n\n',
        schedule.imports + ("\n" if schedule.imports else ""),
        "import numpy as np\n\nimport neuralab as nl\nimport neuralab.nn.functional as F\n",
        "from neuralab import nn, optim\n",
        data_import,
        "from neuralab.optim.lr_scheduler import LambdaLR\n" if c["lrSchedule"] != "none" else "",
        "\nEPOCHS = " + str(session.epoch) + "\n",
        f"BATCH_SIZE = {c['batchSize']}\n\n",
        data_code,
    ]


def _inputs_source(session: Session) -> list[str]:
    """The script's ``features`` and ``targets`` functions and its loss."""
    c = session.config
    keys = session.feature_keys
    loss = LOSSES.get(cfg.loss_name(c))
    names = ", ".join(FEATURE_NAMES[k] for k in keys)
    if c["problem"] == "multiclass":
        targets = "    return y.astype(np.int64)\n"
    elif cfg.output_activation(c) == "sigmoid":
        targets = (
            "    t = y.astype(np.float32).reshape(-1, 1)\n"
            "    return (t + 1) / 2  # labels ±1 as 0/1\n"
        )
    else:
        targets = "    return y.astype(np.float32).reshape(-1, 1)\n"
    return [
        f'\n\ndef features(X):\n    """The input features {names}."""\n',
        "    x1, x2 = X[:, 0], X[:, 1]\n",
        "    return np.stack([" + ", ".join(FEATURE_SOURCE[k] for k in keys) + "], axis=1)"
        ".astype(np.float32)\n\n\n",
        f'def targets(y):\n    """Labels as the loss wants them."""\n{targets}\n\n',
        f"# Loss: {loss.formula}\n{loss.source}\n\n\n",
    ]


def _network_source(session: Session) -> list[str]:
    """The network, its initialisation, the optimizer, the schedule and the penalty."""
    c = session.config
    init = (
        "        nn.init.zeros_(layer.weight)\n        nn.init.zeros_(layer.bias)\n"
        if c["initZero"]
        else "        nn.init.uniform_(layer.weight, -0.5, 0.5)\n"
        "        nn.init.constant_(layer.bias, 0.1)\n"
    )
    src = [
        f"# Network: weights U(-0.5, 0.5), biases 0.1 (the Playground's), seed {c['initSeed']}.\n"
        f"nl.manual_seed({c['initSeed']})\n",
        _model_source(session),
        "for layer in model:\n    if isinstance(layer, nn.Linear):\n",
        init,
        f"opt = {_optimizer_source(c)}\n",
    ]
    if c["lrSchedule"] != "none":
        factor = SCHEDULES.get(c["lrSchedule"]).source(decay=c["lrDecay"], every=c["lrEvery"])
        src.append(f"scheduler = LambdaLR(opt, lambda epoch: {factor})\n")
    penalty = session.penalty
    if penalty is not None:
        text = "λ‖w‖₁" if c["regularization"] == "L1" else "(λ/2)‖w‖₂²"
        src.append(
            f"penalty = optim.{c['regularization']}({penalty.lam!r})  # {text}, "
            f"λ = {c['regularizationRate']:g}, weights only\n"
        )
    return src


def _loop_source(session: Session) -> list[str]:
    """The playground's epoch loop, written out."""
    src = [
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
    ]
    if session.penalty is not None:
        src.append("        loss = loss + penalty(model)\n")
    src.append("        opt.zero_grad()\n        loss.backward()\n        opt.step()\n")
    if session.config["lrSchedule"] != "none":
        src.append("    scheduler.step()\n")
    return src


def _evaluation_source(c: dict[str, Any]) -> list[str]:
    """The final loss (and accuracy) on the training and test points."""
    problem = c["problem"]
    src = [
        "\nmodel.eval()\n"
        "with nl.no_grad():\n"
        '    parts = (("train", X_train, y_train), ("test", X_test, y_test))\n'
        "    for part, X_part, y_part in parts:\n"
        "        if len(X_part) == 0:\n            continue\n"
        "        out = model(nl.tensor(features(X_part)))\n"
        '        line = f"{part} loss {loss_fn(out, nl.tensor(targets(y_part))).item():.6f}"\n'
    ]
    if problem == "multiclass":
        src.append("        correct = out.numpy().argmax(axis=1) == y_part\n")
    elif problem == "classification":
        # a probability for a sigmoid output without the logit loss, else a score or a logit
        probability = cfg.output_activation(c) == "sigmoid" and c["loss"] != "cross_entropy"
        threshold = "0.5" if probability else "0.0"
        src.append(f"        correct = (out.numpy()[:, 0] > {threshold}) == (y_part > 0)\n")
    if problem != "regression":
        src.append('        line += f"  accuracy {correct.mean():.1%}"\n')
    src.append("        print(line)\n")
    return src


def script(session: Session) -> str:
    """Python source that rebuilds and retrains this run with neuralab (see the docstring)."""
    parts = (
        _header_source(session),
        _inputs_source(session),
        _network_source(session),
        _loop_source(session),
        _evaluation_source(session.config),
    )
    return "".join(line for part in parts for line in part)
