"""``neuralab train``, ``evaluate`` and ``predict``: a model, a dataset, and the fit loop.

A trained model is saved as one file (``nl.load`` gives ``{"model": ..., "meta": ...}``): the
model rebuilds from its config, and ``meta`` records the dataset, the classes and how inputs
were prepared, so ``evaluate`` and ``predict`` treat new inputs the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.commands import DefaultsHelpFormatter, datasets, zoo
from neuralab.commands.zoo import UsageError
from neuralab.distributed import launch
from neuralab.models.registry import MODELS, TASKS
from neuralab.nn.registry import ACTIVATIONS, LOSSES
from neuralab.optim.registry import OPTIMIZERS, SCHEDULES
from neuralab.train.parallel import is_main_process, join_launched_group

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def add_arguments(sub: Any) -> None:
    """Register the train, evaluate and predict sub-commands."""
    fmt = DefaultsHelpFormatter
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
    _model_options(train.add_argument_group("model and data"))
    _optimization_options(train.add_argument_group("optimization"))
    _run_options(train.add_argument_group("data handling and the run"))
    train.set_defaults(func=train_command)
    _evaluate_and_predict(sub, fmt)


def _model_options(group: Any) -> None:
    """What to train, and on what."""
    group.add_argument(
        "--data",
        help=f"dataset: {datasets.describe()} (default with --model: the model's own data)",
    )
    model = group.add_mutually_exclusive_group()
    model.add_argument(
        "--layers", type=int, nargs="*", default=[32], help="hidden layer sizes of an MLP"
    )
    model.add_argument(
        "--model", help="a zoo model by name instead, trained on its own data unless --data "
        "says otherwise (neuralab info --models lists them with their tasks)",
    )  # fmt: skip
    group.add_argument(
        "--model-arg", action="append", default=[], metavar="KEY=VALUE",
        help="extra argument for the zoo model's builder (repeatable)",
    )  # fmt: skip
    group.add_argument(
        "--activation", default="relu", choices=ACTIVATIONS.names(), metavar="NAME",
        help=f"MLP activation: {ACTIVATIONS.describe()}",
    )  # fmt: skip
    group.add_argument("--dropout", type=float, default=0.0, help="MLP dropout rate")
    group.add_argument("--batch-norm", action="store_true", help="MLP batch normalization")


def _optimization_options(group: Any) -> None:
    """How to descend: the update rule, its schedule, penalties."""
    group.add_argument(
        "--optimizer", choices=OPTIMIZERS.names(),
        help="update rule (default: adam, or the zoo model's recipe)",
    )  # fmt: skip
    group.add_argument("--lr", type=float, help="learning rate (default: 0.01, or the recipe's)")
    group.add_argument(
        "--scheduler", choices=SCHEDULES.names(),
        help="learning-rate schedule per epoch: step and exp multiply by --lr-decay every "
        "--lr-every epochs, cosine falls to 0 over --lr-every epochs (default: none, or the "
        "zoo recipe's cosine over the run)",
    )  # fmt: skip
    group.add_argument("--lr-decay", type=float, default=0.5, help="factor of step and exp")
    group.add_argument("--lr-every", type=int, help="schedule period (default: all epochs)")
    group.add_argument("--weight-decay", type=float, help="optimizer weight decay (default 0)")
    group.add_argument(
        "--epochs", type=int,
        help="passes over the training data (default: 10, or the zoo model's quick recipe)",
    )  # fmt: skip
    group.add_argument("--batch-size", type=int, help="examples per mini-batch (default 32)")
    group.add_argument("--l1", type=float, default=0.0, help="L1 penalty strength λ")
    group.add_argument("--l2", type=float, default=0.0, help="L2 penalty strength λ")
    group.add_argument(
        "--elastic-net", type=float, nargs=2, metavar=("LAMBDA", "ALPHA"),
        help="elastic-net penalty λ[(1−α)‖θ‖₁ + α‖θ‖₂²]",
    )  # fmt: skip


def _run_options(group: Any) -> None:
    """Augmentation, early stopping, splits, output, resume and processes."""
    group.add_argument(
        "--augment", choices=("none", "crop", "autoaugment", "randaugment"), default="none",
        help="image augmentation for image datasets",
    )  # fmt: skip
    group.add_argument("--patience", type=int, help="early stopping patience (epochs)")
    group.add_argument("--image-size", type=int, help="rescale images to this side (e.g. 32)")
    group.add_argument(
        "--samples", type=int,
        help="points of generated datasets; for other data, train on this many examples "
        "(scenes per epoch, date pairs, ...) for a quick run",
    )  # fmt: skip
    group.add_argument("--noise", type=float, default=0.0, help="noise for generated datasets")
    group.add_argument("--test-fraction", type=float, default=0.25, help="held-out share")
    group.add_argument("--seed", type=int, default=0, help="random seed")
    group.add_argument("--out", default="runs/latest", help="folder for the model and plots")
    group.add_argument("--resume", action="store_true", help="continue an interrupted run")
    group.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="output level")
    group.add_argument(
        "--processes", type=int, default=1,
        help="data-parallel training on this many processes, launched with mpiexec "
        "(pip install 'neuralab[distributed]'; see docs/distributed.md)",
    )  # fmt: skip
    group.add_argument(
        "--hostfile", help="with --processes: run them on the machines this MPI hostfile lists"
    )


def _evaluate_and_predict(sub: Any, fmt: type) -> None:
    """Register the evaluate and predict sub-commands."""
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

DEFAULTS = {
    "epochs": 10, "lr": 0.01, "optimizer": "adam", "batch_size": 32, "weight_decay": 0.0,
    "scheduler": "none",
}  # fmt: skip
"""The MLP's settings when the command line leaves them out (a zoo model uses its recipe's)."""


def train_command(args: argparse.Namespace) -> int:
    """Train, report test metrics, save the model and its figures."""
    for name in ("epochs", "batch_size", "samples"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr is not None and args.lr <= 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    if args.processes > 1 and not launch.under_mpiexec():
        return _launch(args)
    join_launched_group()  # when mpiexec started this process: join its process group
    spec = None if args.model is None else MODELS.get(args.model)
    if spec is None and args.data is None:
        raise UsageError("train needs --data (a dataset), or --model (a zoo model, which trains "
                         "on its own data)")  # fmt: skip
    if spec is not None and spec.task != "classification":
        return _train_zoo(args, spec)
    return _train_classifier(args, spec)


def _train_zoo(args: argparse.Namespace, spec: Any) -> int:
    """A zoo model of another task than classification, by its task's runner."""
    import neuralab as nl

    runner = zoo.RUNNERS.get(spec.task)
    opt = zoo.options(args, spec)
    _check_zoo_data(spec, opt.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"training {spec.name} ({spec.task}: {TASKS[spec.task]}) on {opt.data}, "
          f"{opt.epochs} epochs")  # fmt: skip
    recorder = zoo.Recorder()
    model, scores, extra = runner.train(spec, opt, [recorder])
    print(f"{spec.name}: {model.num_parameters():,} parameters")
    print("test " + _format(scores))
    if not is_main_process():
        return 0  # in data-parallel training, process 0 writes the files
    meta = {
        "task": spec.task, "model": spec.name, "dataset": opt.data, "seed": args.seed,
        "epochs": opt.epochs, "test": scores, "history": recorder.history, **extra,
    }  # fmt: skip
    nl.save({"model": model, "meta": meta}, out / "model.safetensors")
    print(f"saved {out / 'model.safetensors'}")
    figure = out / f"{spec.task}.png"
    runner.figure(model, meta, figure)
    if figure.exists():
        print(f"saved {figure}")
    return 0


def _launch(args: argparse.Namespace) -> int:
    """Run this same command as ``--processes`` processes under mpiexec."""
    if sys.argv[1:2] != ["train"]:
        raise UsageError("--processes works from the command line (neuralab train ...)")
    if args.hostfile is not None and not Path(args.hostfile).is_file():
        raise UsageError(f"--hostfile {args.hostfile}: no such file")
    try:
        return launch.run(args.processes, ["-m", "neuralab.cli", *sys.argv[1:]], args.hostfile)
    except RuntimeError as e:
        raise UsageError(str(e)) from e


def _check_zoo_data(spec: Any, data: str) -> None:
    """Refuse data the model is not made for, saying what it needs."""
    name = data.partition(":")[0]
    wanted = datasets.DATASETS.canonical(spec.data)
    if datasets.DATASETS.canonical(name) == wanted:
        return
    given = datasets.KINDS[datasets.kind_of(data)]
    raise UsageError(
        f"{spec.name} {TASKS[spec.task]}: it trains on {spec.data} "
        f"({datasets.KINDS[datasets.kind_of(spec.data)]}), not on {data} ({given}); "
        f"leave out --data to use {spec.data}"
    )


def _format(scores: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in scores.items())


def _train_classifier(args: argparse.Namespace, spec: Any) -> int:
    """An MLP, or a zoo classifier, on a classification or regression dataset."""
    import neuralab as nl
    from neuralab import train

    settings = _settings(args, spec)
    nl.manual_seed(args.seed)
    task = _load_task(args, spec, settings)
    model = _build_model(args, spec, task, settings)
    loss = _loss(task.classification)
    metrics = ("accuracy",) if task.classification else ("mse", "r2")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    callbacks = []
    if args.patience is not None:
        callbacks.append(train.EarlyStopping(patience=args.patience, restore_best_weights=True))
    loader = nl.data.DataLoader(
        nl.data.TensorDataset(task.X_train, task.y_train),
        batch_size=settings["batch_size"], shuffle=True, transform=_augmentation(args, task),
    )  # fmt: skip
    print(
        f"training {type(model).__name__} ({model.num_parameters():,} parameters) on "
        f"{task.name}: {len(task.X_train)} train / {len(task.X_test)} test samples"
    )
    optimizer = _optimizer(settings, model)
    history = train.fit(
        model, loss, optimizer, loader, epochs=settings["epochs"],
        scheduler=_scheduler(args, settings, optimizer),
        val_data=(task.X_test, task.y_test), callbacks=callbacks, metrics=metrics,
        regularizers=_penalties(args), verbose=args.verbose,
        checkpoint_dir=out / "checkpoint" if args.resume else None,
    )  # fmt: skip
    for message in history.messages:
        print(message)
    scores = train.evaluate(model, loss, (task.X_test, task.y_test), metrics=metrics)
    print("test " + _format(scores))
    if not is_main_process():
        return 0  # in data-parallel training, process 0 writes the files
    meta = {
        "task": "classification", "model": args.model, "dataset": args.data or spec.data,
        "classification": task.classification, "num_classes": task.num_classes,
        "input_shape": list(task.input_shape), "prep": task.prep,
        "image": len(task.input_shape) == 3, "image_size": settings["image_size"],
        "test_fraction": args.test_fraction, "seed": args.seed, "noise": args.noise,
        "samples": args.samples if datasets.kind_of(task.name) in datasets.GENERATED else None,
        "test": scores,
    }  # fmt: skip
    nl.save({"model": model, "meta": meta}, out / "model.safetensors")
    print(f"saved {out / 'model.safetensors'}")
    _save_curve(history, out / "learning_curve.png", metrics)
    return 0


def _settings(args: argparse.Namespace, spec: Any) -> dict[str, Any]:
    """Epochs, learning rate, ... : the command line's, else the zoo recipe's, else DEFAULTS."""
    from neuralab.recipes.images import RECIPES

    recipe = RECIPES.get(spec.name) if spec is not None else None
    on_digits = spec is not None and (args.data or spec.data).partition(":")[0] == "digits"
    settings: dict[str, Any] = {"image_size": args.image_size}
    for key, default in DEFAULTS.items():
        given = getattr(args, key)
        settings[key] = given if given is not None else getattr(recipe, key, default)
    if recipe is not None and args.scheduler is None:
        settings["scheduler"] = "cosine"  # the zoo's recipes decay along a cosine
    if recipe is not None and on_digits and args.image_size is None and recipe.size != 8:
        settings["image_size"] = recipe.size
    settings["kwargs"] = dict(recipe.kwargs) if recipe is not None and on_digits else {}
    return settings


def _load_task(args: argparse.Namespace, spec: Any, settings: dict[str, Any]) -> datasets.Task:
    data = args.data or spec.data
    image = spec is not None and spec.name != "mlp"
    if image and datasets.kind_of(data) not in ("images", "image_files"):
        raise UsageError(
            f"{spec.name} classifies images (N, C, H, W), but {data} holds "
            f"{datasets.KINDS[datasets.kind_of(data)]}: use --data digits, mnist:DIR, "
            f"fashion_mnist:DIR or cifar10:DIR (or train an MLP with --layers)"
        )
    return datasets.load(
        data, samples=args.samples, noise=args.noise, test_fraction=args.test_fraction,
        seed=args.seed, image=image, image_size=settings["image_size"],
    )  # fmt: skip


def _loss(classification: bool) -> Any:
    return LOSSES.get("cross_entropy" if classification else "mse").module()


def _build_model(
    args: argparse.Namespace, spec: Any, task: datasets.Task, settings: dict[str, Any]
) -> Any:
    from neuralab.models.mlp import MLP

    outputs = task.num_classes if task.classification else 1
    if spec is None:
        if any(size < 1 for size in args.layers):
            raise UsageError(f"--layers sizes must be positive, got {args.layers}")
        return MLP(
            int(np.prod(task.input_shape)), list(args.layers), outputs,
            activation=args.activation, dropout=args.dropout, batch_norm=args.batch_norm,
        )  # fmt: skip
    kwargs = {**settings["kwargs"], **_data_arguments(spec, task, outputs)}
    for item in args.model_arg:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--model-arg expects KEY=VALUE, got {item!r}")
        kwargs[key] = _parse_value(value)
    try:
        model = spec.build(**kwargs)
    except TypeError as e:
        raise UsageError(f"model {spec.name}: {e}") from None
    _try_forward(spec, model, task)
    return model


def _data_arguments(spec: Any, task: datasets.Task, outputs: int) -> dict[str, Any]:
    """The builder arguments the data decides: classes, input channels, features, image size."""
    import inspect

    shape = task.input_shape
    known = {
        "num_classes": outputs, "in_features": int(np.prod(shape)),
        "in_channels": shape[0] if len(shape) == 3 else None,
        "image_size": shape[-1] if len(shape) == 3 else None,
    }  # fmt: skip
    params = inspect.signature(spec.builder).parameters
    return {k: v for k, v in known.items() if k in params and v is not None}


def _try_forward(spec: Any, model: Any, task: datasets.Task) -> None:
    """Run two training inputs through the model: a shape it cannot take fails here, clearly."""
    import neuralab as nl
    from neuralab.nn.utils import eval_mode

    try:
        with eval_mode(model):
            model(nl.tensor(task.X_train[:2]))
    except (ValueError, RuntimeError, IndexError) as e:
        side = task.input_shape[-1]
        raise UsageError(
            f"{spec.name} cannot take the {side}×{side} images of {task.name} ({e}); it is "
            f"built for larger images: try --image-size 64 or 224 (with --samples to keep it "
            f"small)"
        ) from None


def _parse_value(text: str) -> Any:
    """KEY=VALUE values: ints, floats, booleans, else strings."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _optimizer(settings: dict[str, Any], model: Any) -> Any:
    choice = OPTIMIZERS.get(settings["optimizer"])
    return choice.build(model.parameters(), settings["lr"], weight_decay=settings["weight_decay"])


def _scheduler(args: argparse.Namespace, settings: dict[str, Any], optimizer: Any) -> Any:
    """A per-epoch LambdaLR for the named schedule (None for 'none')."""
    from neuralab.optim.lr_scheduler import LambdaLR

    if SCHEDULES.canonical(settings["scheduler"]) == "none":
        return None
    schedule = SCHEDULES.get(settings["scheduler"])
    every = args.lr_every or settings["epochs"]
    if every < 1:
        raise UsageError(f"--lr-every must be at least 1, got {every}")
    return LambdaLR(optimizer, lambda epoch: schedule.factor(epoch, args.lr_decay, every))


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
    from neuralab import train

    model, meta = _load_trained(args.model)
    if meta.get("task", "classification") != "classification":
        if args.data and args.data != meta["dataset"]:
            raise UsageError(f"a {meta['task']} model is scored on {meta['dataset']} only")
        scores = zoo.RUNNERS.get(meta["task"]).evaluate(model, meta)
        print(f"{meta['model']} on held-out {meta['dataset']}: {_format(scores)}")
        return 0
    task = datasets.load(
        args.data or meta["dataset"],
        image=meta["image"],
        image_size=meta["image_size"],
        **{k: meta[k] for k in ("test_fraction", "seed", "noise", "samples") if k in meta},
    )  # the same split as in training (files written before these keys: the defaults)
    if list(task.input_shape) != list(meta["input_shape"]):
        raise UsageError(
            f"the model takes inputs of shape {tuple(meta['input_shape'])}, but {task.name} "
            f"has {task.input_shape}"
        )
    loss = _loss(meta["classification"])
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
    if meta.get("task", "classification") != "classification":
        return _predict_zoo(model, meta, args)
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


def _predict_zoo(model: Any, meta: dict[str, Any], args: argparse.Namespace) -> int:
    """Use a model of another task: rows of text; arrays (masks, images) also go to .npy."""
    header, rows, array = zoo.RUNNERS.get(meta["task"]).predict(model, meta, args.inputs)
    print(header)
    print("\n".join(rows))
    if args.output:
        Path(args.output).write_text(header + "\n" + "\n".join(rows) + "\n")
        if array is not None:
            np.save(Path(args.output).with_suffix(".npy"), np.asarray(array))
            print(f"saved {Path(args.output).with_suffix('.npy')}", file=sys.stderr)
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
    if len(shape) == 3 and X.ndim == 4 and X.shape[1] == shape[0] and X.shape[2:] != shape[1:]:
        X = datasets.resize(X, shape[-1])  # images of another size: rescaled as image files are
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
