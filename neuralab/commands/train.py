"""``neuralab train``, ``evaluate`` and ``predict``: a model, a dataset, and the fit loop.

A trained model is saved as one file (``nl.load`` gives ``{"model": ..., "meta": ...}``): the
model rebuilds from its config, and ``meta`` records the dataset, the classes and how inputs
were prepared, so ``evaluate`` and ``predict`` treat new inputs the same way.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.commands import datasets

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


class UsageError(ValueError):
    """A bad argument or file: reported as one line, exit status 2."""


def add_arguments(sub: Any) -> None:
    """Register the train, evaluate and predict sub-commands."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    train = sub.add_parser(
        "train",
        help="train an MLP or a zoo model on a dataset and save it",
        formatter_class=fmt,
        description=(
            "Train a network with mini-batch gradient descent, showing a progress bar, then "
            "report test metrics and save the model (loadable with nl.load) and a learning-curve "
            "PNG in --out. Example: neuralab train --data digits --layers 64 32 --epochs 20"
        ),
    )
    train.add_argument("--data", required=True, help=f"dataset: {datasets.describe()}")
    model = train.add_mutually_exclusive_group()
    model.add_argument(
        "--layers", type=int, nargs="*", default=[32], help="hidden layer sizes of an MLP"
    )
    model.add_argument("--model", help="a zoo model by name instead (see neuralab info --models)")
    train.add_argument(
        "--model-arg", action="append", default=[], metavar="KEY=VALUE",
        help="extra argument for the zoo model's builder (repeatable)",
    )  # fmt: skip
    train.add_argument("--activation", default="relu", help="MLP activation")
    train.add_argument("--dropout", type=float, default=0.0, help="MLP dropout rate")
    train.add_argument("--batch-norm", action="store_true", help="MLP batch normalization")
    train.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, help="update rule")
    train.add_argument("--lr", type=float, default=0.01, help="learning rate")
    train.add_argument("--weight-decay", type=float, default=0.0, help="optimizer weight decay")
    train.add_argument("--epochs", type=int, default=10, help="passes over the training data")
    train.add_argument("--batch-size", type=int, default=32, help="examples per mini-batch")
    train.add_argument("--l1", type=float, default=0.0, help="L1 penalty strength λ")
    train.add_argument("--l2", type=float, default=0.0, help="L2 penalty strength λ")
    train.add_argument(
        "--elastic-net", type=float, nargs=2, metavar=("LAMBDA", "ALPHA"),
        help="elastic-net penalty λ[(1−α)‖θ‖₁ + α‖θ‖₂²]",
    )  # fmt: skip
    train.add_argument(
        "--augment", choices=("none", "crop", "autoaugment", "randaugment"), default="none",
        help="image augmentation for image datasets",
    )  # fmt: skip
    train.add_argument("--patience", type=int, help="early stopping patience (epochs)")
    train.add_argument("--image-size", type=int, help="rescale digits to this size (e.g. 32)")
    train.add_argument("--samples", type=int, help="points for generated datasets")
    train.add_argument("--noise", type=float, default=0.0, help="noise for generated datasets")
    train.add_argument("--test-fraction", type=float, default=0.25, help="held-out share")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument("--out", default="runs/latest", help="folder for the model and plots")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="output level")
    train.set_defaults(func=train_command)

    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a dataset's test split",
        formatter_class=fmt,
        description="Load a model saved by 'neuralab train' and report loss and metrics.",
    )
    evaluate.add_argument("model", help="model file written by neuralab train")
    evaluate.add_argument("--data", help="dataset (default: the one it was trained on)")
    evaluate.set_defaults(func=evaluate_command)

    predict = sub.add_parser(
        "predict",
        help="run a saved model on inputs from a .npy, .csv or image file",
        formatter_class=fmt,
        description=(
            "Load a model saved by 'neuralab train' and print one prediction per input row "
            "(.npy or .csv, one sample per row) or per image (.png/.jpg, or a folder of them)."
        ),
    )
    predict.add_argument("model", help="model file written by neuralab train")
    predict.add_argument("inputs", help="a .npy or .csv file, an image, or a folder of images")
    predict.add_argument("--output", help="also write the predictions to this CSV file")
    predict.set_defaults(func=predict_command)


# ----------------------------------------------------------------------------- train


def train_command(args: argparse.Namespace) -> int:
    """Train, report test metrics, save the model and the learning curve."""
    import neuralab as nl
    from neuralab import nn, train

    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    nl.manual_seed(args.seed)
    task = datasets.load(
        args.data, samples=args.samples, noise=args.noise, test_fraction=args.test_fraction,
        seed=args.seed, image=args.model is not None, image_size=args.image_size,
    )  # fmt: skip
    model = _build_model(args, task)
    loss = nn.CrossEntropyLoss() if task.classification else nn.MSELoss()
    metrics = ("accuracy",) if task.classification else ("mse", "r2")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    callbacks = []
    if args.patience is not None:
        callbacks.append(train.EarlyStopping(patience=args.patience, restore_best_weights=True))
    loader = nl.data.DataLoader(
        nl.data.TensorDataset(task.X_train, task.y_train),
        batch_size=args.batch_size, shuffle=True, transform=_augmentation(args, task),
    )  # fmt: skip
    print(
        f"training {type(model).__name__} ({model.num_parameters():,} parameters) on "
        f"{task.name}: {len(task.X_train)} train / {len(task.X_test)} test samples"
    )
    history = train.fit(
        model, loss, _optimizer(args, model), loader, epochs=args.epochs,
        val_data=(task.X_test, task.y_test), callbacks=callbacks, metrics=metrics,
        regularizers=_penalties(args), verbose=args.verbose,
        checkpoint_dir=out / "checkpoint" if args.resume else None,
    )  # fmt: skip
    for message in history.messages:
        print(message)
    scores = train.evaluate(model, loss, (task.X_test, task.y_test), metrics=metrics)
    print("test " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    meta = {
        "dataset": args.data, "classification": task.classification,
        "num_classes": task.num_classes, "input_shape": list(task.input_shape),
        "prep": task.prep, "image": args.model is not None, "image_size": args.image_size,
        "test": scores,
    }  # fmt: skip
    nl.save({"model": model, "meta": meta}, out / "model.safetensors")
    print(f"saved {out / 'model.safetensors'}")
    _save_curve(history, out / "learning_curve.png", metrics)
    return 0


def _build_model(args: argparse.Namespace, task: datasets.Task) -> Any:
    from neuralab import models
    from neuralab.models.mlp import MLP

    outputs = task.num_classes if task.classification else 1
    if args.model is None:
        if any(size < 1 for size in args.layers):
            raise UsageError(f"--layers sizes must be positive, got {args.layers}")
        return MLP(
            int(np.prod(task.input_shape)), list(args.layers), outputs,
            activation=args.activation, dropout=args.dropout, batch_norm=args.batch_norm,
        )  # fmt: skip
    kwargs: dict[str, Any] = {"num_classes": outputs}
    for item in args.model_arg:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--model-arg expects KEY=VALUE, got {item!r}")
        kwargs[key] = _parse_value(value)
    try:
        return models.get_model(args.model, **kwargs)
    except KeyError as e:
        raise UsageError(str(e).strip("'\"")) from None
    except TypeError as e:
        raise UsageError(f"model {args.model}: {e}") from None


def _parse_value(text: str) -> Any:
    """KEY=VALUE values: ints, floats, booleans, else strings."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _optimizer(args: argparse.Namespace, model: Any) -> Any:
    from neuralab import optim

    params, lr, wd = model.parameters(), args.lr, args.weight_decay
    return {
        "sgd": lambda: optim.SGD(params, lr=lr, weight_decay=wd),
        "momentum": lambda: optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd),
        "nesterov": lambda: optim.SGD(params, lr, momentum=0.9, nesterov=True, weight_decay=wd),
        "adam": lambda: optim.Adam(params, lr=lr, weight_decay=wd),
        "adamw": lambda: optim.AdamW(params, lr=lr, weight_decay=wd),
        "rmsprop": lambda: optim.RMSprop(params, lr=lr, weight_decay=wd),
        "adagrad": lambda: optim.Adagrad(params, lr=lr, weight_decay=wd),
    }[args.optimizer]()


def _penalties(args: argparse.Namespace) -> list[Any]:
    from neuralab import optim

    out: list[Any] = []
    if args.l1:
        out.append(optim.L1(args.l1))
    if args.l2:
        out.append(optim.L2(args.l2))
    if args.elastic_net:
        out.append(optim.ElasticNet(*args.elastic_net))
    return out


def _augmentation(args: argparse.Namespace, task: datasets.Task) -> Any:
    if args.augment == "none":
        return None
    if len(task.input_shape) != 3:
        raise UsageError("--augment needs image inputs: use a zoo --model on an image dataset")
    from neuralab.data import transforms as T

    size = task.input_shape[1:]
    return {
        "crop": lambda: T.RandomCrop(size, padding=max(1, size[0] // 8)),
        "autoaugment": lambda: T.AutoAugment(),
        "randaugment": lambda: T.RandAugment(),
    }[args.augment]()


def _save_curve(history: Any, path: Path, metrics: tuple[str, ...]) -> None:
    try:
        from neuralab.viz import plot_history
    except ImportError:
        return
    try:
        fig = plot_history(history, metrics=("loss",) + metrics[:1], path=path)
    except ImportError as e:
        print(f"no learning-curve plot: {e}")
        return
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"saved {path}")


# ----------------------------------------------------------------------------- evaluate


def _load_trained(path: str) -> tuple[Any, dict[str, Any]]:
    import neuralab as nl
    import neuralab.models  # noqa: F401  (registers the zoo's classes for loading)

    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path}")
    saved = nl.load(path)
    if not isinstance(saved, dict) or "model" not in saved or "meta" not in saved:
        raise UsageError(f"{path} was not written by 'neuralab train' (no model and meta inside)")
    return saved["model"], saved["meta"]


def evaluate_command(args: argparse.Namespace) -> int:
    """Report a saved model's loss and metrics on a dataset's test split."""
    from neuralab import nn, train

    model, meta = _load_trained(args.model)
    task = datasets.load(
        args.data or meta["dataset"], image=meta["image"], image_size=meta["image_size"]
    )
    if list(task.input_shape) != list(meta["input_shape"]):
        raise UsageError(
            f"the model takes inputs of shape {tuple(meta['input_shape'])}, but {task.name} "
            f"has {task.input_shape}"
        )
    loss = nn.CrossEntropyLoss() if meta["classification"] else nn.MSELoss()
    metrics = ("accuracy",) if meta["classification"] else ("mse", "r2")
    scores = train.evaluate(model, loss, (task.X_test, task.y_test), metrics=metrics)
    print(f"{task.name} test ({len(task.X_test)} samples): ", end="")
    print("  ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


# ----------------------------------------------------------------------------- predict


def predict_command(args: argparse.Namespace) -> int:
    """Print one prediction per input row or image."""
    from neuralab import train

    model, meta = _load_trained(args.model)
    X, names = _read_inputs(args.inputs, meta)
    prep = meta.get("prep", {})
    if "mean" in prep:
        X = (X - np.asarray(prep["mean"], np.float32)) / np.asarray(prep["std"], np.float32)
    out = train.predict(model, X.astype(np.float32))
    lines = []
    for name, row in zip(names, out):
        if meta["classification"]:
            p = np.exp(row - row.max())
            p /= p.sum()
            lines.append(f"{name},{int(p.argmax())},{p.max():.4f}")
        else:
            lines.append(f"{name}," + ",".join(f"{v:.6g}" for v in np.ravel(row)))
    header = "input,class,confidence" if meta["classification"] else "input,prediction"
    print(header)
    print("\n".join(lines))
    if args.output:
        Path(args.output).write_text(header + "\n" + "\n".join(lines) + "\n")
    return 0


def _read_inputs(source: str, meta: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Rows from .npy/.csv, or images (resized, grayscale as needed) from a file or folder."""
    path = Path(source)
    shape = tuple(meta["input_shape"])
    if not path.exists():
        raise FileNotFoundError(f"no input file or folder at {source}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if (
            path.is_dir()
        ) else [path]  # fmt: skip
        if not files:
            raise UsageError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {source}")
        X = np.stack([_read_image(f, shape) for f in files])
        return X, [f.name for f in files]
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
        X = _read_csv(path)
    else:
        raise UsageError(f"{source}: inputs must be .npy, .csv or images, not '{path.suffix}'")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X[None]
    if X.shape[1:] != shape and X.reshape(len(X), -1).shape[1] == int(np.prod(shape)):
        X = X.reshape((len(X),) + shape)
    if X.shape[1:] != shape:
        raise UsageError(
            f"{source}: rows of shape {X.shape[1:]} do not match the model's input {shape}"
        )
    return X, [str(i) for i in range(len(X))]


def _read_csv(path: Path) -> np.ndarray:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    try:
        float(lines[0].split(",")[0])
    except (ValueError, IndexError):
        lines = lines[1:]  # a header row
    try:
        return np.array([[float(v) for v in ln.split(",")] for ln in lines], dtype=np.float32)
    except ValueError as e:
        raise UsageError(f"{path}: not a numeric CSV ({e})") from None


def _read_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """An image as the model's input: its channels and size, values in [0, 1]."""
    import matplotlib.image

    from neuralab.ops.resize import interpolate

    img = np.asarray(matplotlib.image.imread(path), dtype=np.float32)
    if img.max() > 1.0:
        img = img / 255.0
    img = img[..., None] if img.ndim == 2 else img[..., :3]
    channels = shape[0] if len(shape) == 3 else 1
    if channels == 1 and img.shape[-1] == 3:
        img = img @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
    chw = img.transpose(2, 0, 1)[None]
    side = shape[-1] if len(shape) == 3 else int(round(np.sqrt(np.prod(shape))))
    resized = interpolate(chw, size=(side, side), mode="bilinear", align_corners=False).numpy()[0]
    return resized if len(shape) == 3 else resized.reshape(shape)
