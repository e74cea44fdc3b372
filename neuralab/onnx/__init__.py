"""ONNX export and import: ``export`` (torch.onnx.export's call) and ``load`` (an ONNX file as a
Module). Needs the ``onnx`` package (``pip install neuralab[onnx]``); ONNX Runtime runs the files.
See docs/onnx.md."""

from __future__ import annotations

try:
    import onnx as _onnx  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "neuralab.onnx needs the 'onnx' package: pip install 'neuralab[onnx]'"
    ) from error

from neuralab.onnx.export import DEFAULT_OPSET, export
from neuralab.onnx.graph import ExportError
from neuralab.onnx.load import ONNXModule, load

__all__ = ["DEFAULT_OPSET", "ExportError", "ONNXModule", "export", "load"]
