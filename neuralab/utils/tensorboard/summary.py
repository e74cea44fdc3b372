"""TensorBoard ``Summary`` protos from tensors: scalars, histograms, images, text, hyperparameters.

Built with the ``tensorboard`` package's own protos and plugin metadata, in the layout torch's
SummaryWriter writes (legacy ``simple_value`` scalars, ``histo`` and ``image`` values), so
TensorBoard shows them as it shows torch's.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from PIL import Image
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.text import metadata as text_metadata
from tensorboard.util import tensor_util

from neuralab.tensor import Tensor


def _tf_bucket_edges() -> np.ndarray:
    """TensorFlow's default histogram edges: ±1e-12 · 1.1^k up to 1e20, and 0."""
    positive = 1e-12 * 1.1 ** np.arange(math.ceil(math.log(1e32) / math.log(1.1)))
    return np.concatenate([-positive[::-1], [0.0], positive])


_TF_EDGES = _tf_bucket_edges()


def to_numpy(value: Any) -> np.ndarray:
    """A tensor, array, number or nested list as a NumPy array."""
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def scalar(tag: str, value: Any, new_style: bool = False, double: bool = False) -> Summary:
    """One number: a legacy ``simple_value``, or (``new_style``) a scalars-plugin tensor."""
    arr = to_numpy(value)
    if arr.size != 1:
        raise ValueError(f"add_scalar: '{tag}' needs one number, got shape {arr.shape}")
    number = arr.reshape(()).item()
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=float(number))])
    tensor = tensor_util.make_tensor_proto(np.asarray(number, np.float64 if double else np.float32))
    plugin = SummaryMetadata.PluginData(plugin_name="scalars")
    meta = SummaryMetadata(plugin_data=plugin)
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


def _merge_buckets(
    counts: np.ndarray, limits: np.ndarray, max_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merge runs of adjacent buckets so that at most ``max_bins`` remain."""
    size = math.ceil(len(counts) / max_bins)
    starts = np.arange(0, len(counts), size)
    return np.add.reduceat(counts, starts), limits[np.minimum(starts + size, len(counts)) - 1]


def histogram(
    tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None
) -> Summary:
    """A histogram of ``values``; ``bins`` is 'tensorflow' (TF's edges) or np.histogram's bins."""
    arr = to_numpy(values).astype(np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"add_histogram: '{tag}' has no values")
    counts, edges = np.histogram(arr, bins=_TF_EDGES if bins == "tensorflow" else bins)
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"add_histogram: no value of '{tag}' falls inside the bins")
    first, last = filled[0], filled[-1]
    # bucket i holds the values up to limit i; an empty first bucket marks where they start
    counts = np.concatenate([[0], counts[first : last + 1]])
    limits = edges[first : last + 2]
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _merge_buckets(counts, limits, max_bins)
    histo = HistogramProto(
        min=float(arr.min()),
        max=float(arr.max()),
        num=arr.size,
        sum=float(arr.sum()),
        sum_squares=float(arr @ arr),
        bucket_limit=limits.tolist(),
        bucket=counts.astype(np.float64).tolist(),
    )
    return Summary(value=[Summary.Value(tag=tag, histo=histo)])


def _grid(nchw: np.ndarray) -> np.ndarray:
    """Images N×C×H×W tiled 8 to a row on a black canvas, as one C×H×W image."""
    n, c, h, w = nchw.shape
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    canvas = np.zeros((c, h * rows, w * cols), dtype=nchw.dtype)
    for i, img in enumerate(nchw):
        r, k = divmod(i, cols)
        canvas[:, r * h : (r + 1) * h, k * w : (k + 1) * w] = img
    return canvas


def to_hwc(arr: np.ndarray, dataformats: str, where: str) -> np.ndarray:
    """An image (or a batch, tiled) laid out as ``dataformats`` (e.g. 'CHW'), as H×W×C."""
    fmt = dataformats.upper()
    if (
        len(set(fmt)) != len(fmt)
        or not set(fmt) <= set("NCHW")
        or not {"H", "W"} <= set(fmt)
        or arr.ndim != len(fmt)
    ):
        raise ValueError(
            f"{where}: dataformats={dataformats!r} does not describe an image of shape "
            f"{arr.shape} (use letters N, C, H, W, e.g. 'CHW', 'HWC', 'HW', 'NCHW')"
        )
    arr = arr.transpose([fmt.index(c) for c in "NCHW" if c in fmt])
    if "C" not in fmt:
        arr = np.expand_dims(arr, -3)
    if "N" in fmt:
        arr = _grid(arr)
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    return arr.transpose(1, 2, 0)


def image(tag: str, img: Any, dataformats: str = "CHW", where: str = "add_image") -> Summary:
    """A PNG of ``img``: uint8 as it is, floats in [0, 1] scaled to 0..255 (clipped)."""
    hwc = to_hwc(to_numpy(img), dataformats, where)
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    height, width, channels = pixels.shape
    encoded = Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=png.getvalue()
    )
    return Summary(value=[Summary.Value(tag=tag, image=encoded)])


def figure_chw(figure: Any) -> np.ndarray:
    """A matplotlib figure rendered to an RGB uint8 image, C×H×W."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # only figures need it

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))


def text(tag: str, text_string: str) -> Summary:
    """Text (Markdown) under ``<tag>/text_summary``, as TensorBoard's text plugin reads it."""
    meta = text_metadata.create_summary_metadata(display_name="", description="")
    tensor = tensor_util.make_tensor_proto([text_string], shape=[1])
    return Summary(value=[Summary.Value(tag=f"{tag}/text_summary", metadata=meta, tensor=tensor)])


_HPARAM_TYPES = (
    (bool, "bool_value", api_pb2.DATA_TYPE_BOOL),  # before int: a bool is an int
    ((int, float), "number_value", api_pb2.DATA_TYPE_FLOAT64),
    (str, "string_value", api_pb2.DATA_TYPE_STRING),
)


def _hparam_value(name: str, value: Any) -> tuple[struct_pb2.Value, int]:
    """A hyperparameter as a protobuf Value and its hparams data type."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)) and to_numpy(value).size == 1:
        value = to_numpy(value).reshape(()).item()
    for kind, field, dtype in _HPARAM_TYPES:
        if isinstance(value, kind):
            return struct_pb2.Value(**{field: value}), dtype
    raise ValueError(
        f"add_hparams: hyperparameter '{name}' must be an int, float, str, bool or one-element "
        f"tensor, got {type(value).__name__}"
    )


def _hparams_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> Summary:
    meta = hparams_metadata.create_summary_metadata(data)
    value = Summary.Value(tag=tag, metadata=meta, tensor=hparams_metadata.NULL_TENSOR)
    return Summary(value=[value])


def hparams(
    hparam_dict: Mapping[str, Any],
    metric_dict: Mapping[str, Any],
    domains: Mapping[str, list] | None = None,
) -> tuple[Summary, Summary, Summary]:
    """The hparams plugin's experiment, session-start and session-end summaries."""
    infos, start = [], plugin_data_pb2.SessionStartInfo()
    for name, value in hparam_dict.items():
        proto, dtype = _hparam_value(name, value)
        info = api_pb2.HParamInfo(name=name, type=dtype)
        if domains and name in domains:
            info.domain_discrete.values.extend(_hparam_value(name, v)[0] for v in domains[name])
        infos.append(info)
        start.hparams[name].CopyFrom(proto)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    data = plugin_data_pb2.HParamsPluginData
    return (
        _hparams_summary(hparams_metadata.EXPERIMENT_TAG, data(experiment=experiment)),
        _hparams_summary(hparams_metadata.SESSION_START_INFO_TAG, data(session_start_info=start)),
        _hparams_summary(hparams_metadata.SESSION_END_INFO_TAG, data(session_end_info=end)),
    )
