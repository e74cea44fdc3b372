"""``neuralab export MODEL_FILE --format onnx``: a saved model as an ONNX file.

The model file is what ``nl.save`` wrote: a Module, or a checkpoint dict holding one under
``model`` (``neuralab train``'s, the playground's and the Teachable Machine tab's exports). The
input shape comes from the checkpoint when it records one (``meta.input_shape``, the
playground's ``features``, the Teachable Machine's ``input``), else from ``--input-shape``;
the batch dimension stays dynamic.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

FORMATS = ("onnx",)


def add_arguments(sub: Any) -> None:
    """Register the export sub-command."""
    export = sub.add_parser(
        "export",
        help="write a saved model as ONNX (for ONNX Runtime and other tools)",
        description="Load a model saved with nl.save (or by 'neuralab train', the playground "
        "or the Teachable Machine tab) and write it as an ONNX file whose batch dimension is "
        "free. Needs the onnx package: pip install 'neuralab[onnx]'.",
    )
    export.add_argument("model", metavar="MODEL_FILE", help="the saved model (.safetensors)")
    export.add_argument("--format", choices=FORMATS, default="onnx", help="output format")
    export.add_argument("-o", "--output", help="output path (default: MODEL_FILE with .onnx)")
    export.add_argument(
        "--input-shape",
        help="one input's shape without the batch, e.g. 1,28,28 (when the file does not say)",
    )
    export.add_argument(
        "--input-dtype", default="float32", choices=("float32", "int64"),
        help="the input's dtype (int64 for token ids)",
    )  # fmt: skip
    export.add_argument("--opset", type=int, default=None, help="ONNX opset (17 to 21)")
    export.set_defaults(func=export_command)


def _shape(saved: Any, given: str | None) -> tuple[int, ...]:
    """The example input's shape without the batch: given, or recorded in the checkpoint."""
    if given:
        try:
            return tuple(int(s) for s in given.replace("x", ",").split(",") if s.strip())
        except ValueError:
            raise ValueError(f"--input-shape must be sizes like 1,28,28, got {given!r}") from None
    if isinstance(saved, dict):
        meta = saved.get("meta") or {}
        if meta.get("input_shape"):
            return tuple(int(s) for s in meta["input_shape"])
        if "features" in saved:
            return (len(saved["features"]),)
        if isinstance(saved.get("input"), dict) and "size" in saved["input"]:
            spec = saved["input"]
            return (int(spec.get("channels", 1)), int(spec["size"]), int(spec["size"]))
    raise ValueError("the model file does not record its input shape: pass --input-shape")


def export_command(args: argparse.Namespace) -> int:
    """Load, trace on a zero input with batch 1 (dynamic), write the ONNX file."""
    import numpy as np

    import neuralab as nl
    import neuralab.models  # noqa: F401  (registers the zoo's classes for loading)
    from neuralab.nn.module import Module

    try:
        from neuralab import onnx as nx
    except ImportError as e:
        raise ValueError(str(e)) from None
    path = Path(args.model)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    saved = nl.load(str(path))
    model = saved.get("model") if isinstance(saved, dict) else saved
    if not isinstance(model, Module):
        raise ValueError(f"{path} holds no model (a Module, or a dict with one under 'model')")
    shape = _shape(saved, args.input_shape)
    example = nl.tensor(np.zeros((1, *shape), dtype=args.input_dtype))
    out = Path(args.output) if args.output else path.with_suffix(".onnx")
    nx.export(
        model, (example,), str(out), input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=args.opset,
    )  # fmt: skip
    print(f"saved {out} (input 'input' of shape (batch, {', '.join(map(str, shape))}))")
    return 0
