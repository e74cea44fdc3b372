"""ONNX converters for the layer ops: linear, convolution, pooling, unpooling, normalization,
embedding, dropout, attention and resizing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.onnx.graph import Emitter
from neuralab.onnx.registry import arg, axis, converts
from neuralab.onnx.trace import Call
from neuralab.tensor import Tensor


def _tuple(value: Any, n: int) -> list[int]:
    return [int(v) for v in value] if isinstance(value, tuple | list) else [int(value)] * n


@converts("linear")
def _linear(e: Emitter, c: Call, o: Call | None) -> str:
    """x·Wᵀ + b: Gemm for 2-D input, MatMul (+ Add) otherwise."""
    x, w, b = arg(c, 0), arg(c, 1), arg(c, 2)
    if x.ndim == 2:
        ins = [e.value(x), e.value(w)] + ([e.value(b)] if b is not None else [])
        return e.node("Gemm", ins, transB=1)
    out = e.node("MatMul", [e.value(x), e.node("Transpose", [e.value(w)], perm=[1, 0])])
    return out if b is None else e.node("Add", [out, e.value(b)])


def _conv_pads(c: Call, n: int) -> list[int]:
    padding, w = c.params["padding"], arg(c, 1)
    if padding == "valid":
        return [0] * 2 * n
    if padding == "same":
        dil = _tuple(c.params["dilation"], n)
        totals = [d * (k - 1) for d, k in zip(dil, w.shape[2:])]
        return [t // 2 for t in totals] + [t - t // 2 for t in totals]
    return _tuple(padding, n) * 2


def _conv_inputs(e: Emitter, c: Call) -> tuple[list[str], Tensor, int]:
    """A convolution's ONNX inputs (x, w and the bias if any), its weight and spatial rank."""
    x, w, b = arg(c, 0), arg(c, 1), arg(c, 2)
    ins = [e.value(x), e.value(w)] + ([e.value(b)] if b is not None else [])
    return ins, w, x.ndim - 2


@converts("conv1d", "conv2d")
def _conv(e: Emitter, c: Call, o: Call | None) -> str:
    ins, w, n = _conv_inputs(e, c)
    return e.node(
        "Conv", ins, kernel_shape=list(w.shape[2:]), strides=_tuple(c.params["stride"], n),
        pads=_conv_pads(c, n), dilations=_tuple(c.params["dilation"], n),
        group=int(c.params["groups"]),
    )  # fmt: skip


@converts("conv_transpose1d", "conv_transpose2d")
def _conv_transpose(e: Emitter, c: Call, o: Call | None) -> str:
    ins, w, n = _conv_inputs(e, c)
    return e.node(
        "ConvTranspose", ins, kernel_shape=list(w.shape[2:]),
        strides=_tuple(c.params["stride"], n), pads=_tuple(c.params["padding"], n) * 2,
        output_padding=_tuple(c.params["output_padding"], n),
        dilations=_tuple(c.params["dilation"], n), group=int(c.params["groups"]),
    )  # fmt: skip


def _pool_attrs(c: Call, n: int) -> dict:
    kernel = _tuple(c.params["kernel_size"], n)
    stride = c.params.get("stride")
    return {
        "kernel_shape": kernel,
        "strides": kernel if stride is None or stride == [] else _tuple(stride, n),
        "pads": _tuple(c.params["padding"], n) * 2,
        "ceil_mode": int(bool(c.params["ceil_mode"])),
    }


@converts("max_pool1d", "max_pool2d")
def _max_pool(e: Emitter, c: Call, o: Call | None) -> Any:
    """MaxPool; indices come back per (N, C) plane, as torch gives them."""
    x = arg(c, 0)
    n = x.ndim - 2
    attrs = _pool_attrs(c, n) | {"dilations": _tuple(c.params["dilation"], n)}
    if not c.params["return_indices"]:
        return e.node("MaxPool", [e.value(x)], **attrs)
    out, flat = e.node("MaxPool", [e.value(x)], outputs=2, **attrs)
    plane = int(np.prod(x.shape[2:]))
    return [out, e.node("Mod", [flat, e.scalar(plane, np.int64)])]


@converts("avg_pool1d", "avg_pool2d")
def _avg_pool(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    attrs = _pool_attrs(c, x.ndim - 2)
    if c.params.get("divisor_override") is not None:
        raise e.fail("divisor_override has no ONNX mapping")
    include = int(bool(c.params["count_include_pad"]))
    return e.node("AveragePool", [e.value(x)], count_include_pad=include, **attrs)


@converts("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
          "adaptive_max_pool2d")  # fmt: skip
def _adaptive_pool(e: Emitter, c: Call, o: Call | None) -> str:
    """Adaptive pooling where every cell has the same size: a plain (or global) pool."""
    x = arg(c, 0)
    out = c.out[0] if isinstance(c.out, tuple | list) else c.out
    kind = "Max" if "max" in c.name else "Average"
    if isinstance(c.out, tuple | list) and len(c.out) == 2 and c.params.get("return_indices"):
        raise e.fail("adaptive max pooling with indices has no ONNX mapping")
    ins, outs = x.shape[2:], out.shape[2:]
    if all(s == 1 for s in outs):
        return e.node(f"Global{kind}Pool", [e.value(x)])
    if not any(i % s for i, s in zip(ins, outs)):
        kernel = [i // s for i, s in zip(ins, outs)]
        return e.node(f"{kind}Pool", [e.value(x)], kernel_shape=kernel, strides=kernel)
    name = e.value(x)
    for k, (n_in, n_out) in enumerate(zip(ins, outs)):  # unequal cells: one axis at a time
        name = _adaptive_axis(e, name, 2 + k, n_in, n_out, kind, x._data.dtype)
    return name


def _adaptive_axis(e: Emitter, x: str, ax: int, n_in: int, n_out: int, kind: str, dtype) -> str:
    """Cell i spans rows floor(i·n/out) .. ceil((i+1)·n/out) - 1 of axis ``ax``."""
    cells = [(i * n_in // n_out, -(-(i + 1) * n_in // n_out)) for i in range(n_out)]
    if kind == "Average":  # a (in, out) averaging matrix, applied on the last axis
        weights = np.zeros((n_in, n_out), dtype)
        for j, (lo, hi) in enumerate(cells):
            weights[lo:hi, j] = 1.0 / (hi - lo)
        perm = list(range(ax)) + [ax + 1, ax] if ax == 2 else None
        moved = e.node("Transpose", [x], perm=perm) if perm else x
        out = e.node("MatMul", [moved, e.const(weights, "cells")])
        return e.node("Transpose", [out], perm=perm) if perm else out
    parts = [
        e.axes_node("ReduceMax", e.node("Slice", [x, e.ints([lo]), e.ints([hi]), e.ints([ax])]),
                    [ax], keepdims=1)
        for lo, hi in cells
    ]  # fmt: skip
    return e.node("Concat", parts, axis=ax)


@converts("max_unpool2d")
def _max_unpool(e: Emitter, c: Call, o: Call | None) -> str:
    """MaxUnpool: torch's per-plane indices get each (N, C) plane's offset added back."""
    x, idx = arg(c, 0), arg(c, 1)
    out = c.out
    plane = int(np.prod(out.shape[2:]))
    channels = x.shape[1]
    batch = e.node("Shape", [e.value(x)], start=0, end=1)
    count = e.axes_node("Squeeze", e.node("Mul", [batch, e.ints([channels])]), [0])
    zero, one = e.scalar(0, np.int64), e.scalar(1, np.int64)
    planes = e.node("Range", [zero, count, one])
    planes = e.node("Reshape", [planes, e.ints([-1, channels, 1, 1])])
    offsets = e.node("Mul", [planes, e.scalar(plane, np.int64)])
    flat = e.node("Add", [e.value(idx, np.int64), offsets])
    kernel = _tuple(c.params["kernel_size"], 2)
    stride = c.params["stride"]
    shape = e.node("Concat", [batch, e.ints(out.shape[1:])], axis=0)
    return e.node(
        "MaxUnpool", [e.value(x), flat, shape], kernel_shape=kernel,
        strides=kernel if stride is None else _tuple(stride, 2),
        pads=_tuple(c.params["padding"], 2) * 2,
    )  # fmt: skip


def _ones(e: Emitter, shape: Any, dtype: Any, fill: float = 1.0) -> str:
    return e.const(np.full(tuple(shape), fill, dtype), "ones" if fill else "zeros")


def _affine(e: Emitter, y: str, weight: Any, bias: Any, ndim: int) -> str:
    """y·w + b with per-channel (dimension 1) w and b."""
    shape = [-1] + [1] * (ndim - 2)
    if weight is not None:
        y = e.node("Mul", [y, e.node("Reshape", [e.value(weight), e.ints(shape)])])
    if bias is not None:
        y = e.node("Add", [y, e.node("Reshape", [e.value(bias), e.ints(shape)])])
    return y


def _standardize(e: Emitter, x: str, axes: list[int], eps: float, dtype: Any) -> str:
    mean = e.axes_node("ReduceMean", x, axes, keepdims=1)
    centred = e.node("Sub", [x, mean])
    var = e.axes_node("ReduceMean", e.node("Mul", [centred, centred]), axes, keepdims=1)
    std = e.node("Sqrt", [e.node("Add", [var, e.scalar(eps, dtype)])])
    return e.node("Div", [centred, std])


@converts("batch_norm")
def _batch_norm(e: Emitter, c: Call, o: Call | None) -> str:
    """BatchNormalization from the running statistics (batch statistics when there are none)."""
    p = c.params
    x = arg(c, 0)
    dtype, channels = x._data.dtype, x.shape[1]
    if p["training"] or p["running_mean"] is None:
        axes = [0] + list(range(2, x.ndim))
        y = _standardize(e, e.value(x), axes, float(p["eps"]), dtype)
        return _affine(e, y, p["weight"], p["bias"], x.ndim)
    w = e.value(p["weight"]) if p["weight"] is not None else _ones(e, [channels], dtype)
    b = e.value(p["bias"]) if p["bias"] is not None else _ones(e, [channels], dtype, 0.0)
    ins = [e.value(x), w, b, e.value(p["running_mean"]), e.value(p["running_var"])]
    return e.node("BatchNormalization", ins, epsilon=float(p["eps"]))


@converts("instance_norm")
def _instance_norm(e: Emitter, c: Call, o: Call | None) -> str:
    p = c.params
    x = arg(c, 0)
    if not p["use_input_stats"]:
        return _batch_norm(e, Call("batch_norm", c.fn, (), {}, c.out, c.where, params=p | {
            "training": False}), o)  # fmt: skip
    dtype, channels = x._data.dtype, x.shape[1]
    w = e.value(p["weight"]) if p["weight"] is not None else _ones(e, [channels], dtype)
    b = e.value(p["bias"]) if p["bias"] is not None else _ones(e, [channels], dtype, 0.0)
    return e.node("InstanceNormalization", [e.value(x), w, b], epsilon=float(p["eps"]))


@converts("layer_norm")
def _layer_norm(e: Emitter, c: Call, o: Call | None) -> str:
    p = c.params
    x = arg(c, 0)
    shape = _tuple(p["normalized_shape"], 1)
    dtype = x._data.dtype
    w = e.value(p["weight"]) if p["weight"] is not None else _ones(e, shape, dtype)
    ins = [e.value(x), w] + ([e.value(p["bias"])] if p["bias"] is not None else [])
    return e.node("LayerNormalization", ins, axis=-len(shape), epsilon=float(p["eps"]))


@converts("rms_norm")
def _rms_norm(e: Emitter, c: Call, o: Call | None) -> str:
    p = c.params
    x = arg(c, 0)
    dtype = x._data.dtype
    axes = list(range(x.ndim - len(_tuple(p["normalized_shape"], 1)), x.ndim))
    eps = p["eps"] if p["eps"] is not None else float(np.finfo(dtype).eps)
    name = e.value(x)
    ms = e.axes_node("ReduceMean", e.node("Mul", [name, name]), axes, keepdims=1)
    y = e.node("Div", [name, e.node("Sqrt", [e.node("Add", [ms, e.scalar(eps, dtype)])])])
    return y if p["weight"] is None else e.node("Mul", [y, e.value(p["weight"])])


@converts("group_norm")
def _group_norm(e: Emitter, c: Call, o: Call | None) -> str:
    """Standardize each group of channels, then the per-channel affine map."""
    p = c.params
    x = arg(c, 0)
    grouped = e.node("Reshape", [e.value(x), e.ints([0, int(p["num_groups"]), -1])])
    y = _standardize(e, grouped, [2], float(p["eps"]), x._data.dtype)
    y = e.node("Reshape", [y, e.node("Shape", [e.value(x)])])
    return _affine(e, y, p["weight"], p["bias"], x.ndim)


@converts("local_response_norm")
def _local_response_norm(e: Emitter, c: Call, o: Call | None) -> str:
    p = c.params
    if p["size"] % 2 == 0:
        raise e.fail("local_response_norm with an even size centres its window unlike ONNX LRN")
    return e.node(
        "LRN", [e.value(arg(c, 0))], size=int(p["size"]), alpha=float(p["alpha"]),
        beta=float(p["beta"]), bias=float(p["k"]),
    )  # fmt: skip


@converts("embedding")
def _embedding(e: Emitter, c: Call, o: Call | None) -> str:
    ids = arg(c, 0)
    return e.node("Gather", [e.value(arg(c, 1)), e.value(ids, np.int64)], axis=0)


@converts("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
          "feature_alpha_dropout")  # fmt: skip
def _dropout(e: Emitter, c: Call, o: Call | None) -> str:
    """Dropout is the identity at inference; a training-mode call is refused."""
    if c.params.get("training") and c.params.get("p", 0) > 0:
        raise e.fail("dropout with training=True is random; export in eval mode")
    return e.node("Identity", [e.value(arg(c, 0))])


@converts("scaled_dot_product_attention", "scaled_dot_product_attention_with_weights")
def _attention(e: Emitter, c: Call, o: Call | None) -> Any:
    """softmax(q·kᵀ·scale + mask)·v, with boolean (True attends) or additive masks."""
    p = c.params
    q, k, v = arg(c, 0), arg(c, 1), arg(c, 2)
    if p.get("dropout_p", 0) > 0:
        raise e.fail("attention dropout is random; pass dropout_p=0 (eval mode) to export")
    dtype = q._data.dtype
    scale = p.get("scale")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    perm = list(range(k.ndim - 2)) + [k.ndim - 1, k.ndim - 2]
    kt = e.node("Transpose", [e.value(k)], perm=perm)
    scores = e.node("Mul", [e.node("MatMul", [e.value(q), kt]), e.scalar(scale, dtype)])
    mask = p.get("attn_mask")
    if p.get("is_causal"):
        mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), bool))
    if mask is not None:
        scores = _masked(e, scores, mask, dtype)
    weights = e.node("Softmax", [scores], axis=-1)
    out = e.node("MatMul", [weights, e.value(v)])
    return [out, weights] if c.name.endswith("with_weights") else out


def _masked(e: Emitter, scores: str, mask: Any, dtype: Any) -> str:
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == np.bool_:
        floor = e.scalar(-np.inf, dtype)
        return e.node("Where", [e.value(mask, bool), scores, floor])
    return e.node("Add", [scores, e.value(mask, dtype)])


@converts("interpolate", "upsample")
def _interpolate(e: Emitter, c: Call, o: Call | None) -> str:
    """Resize by scales (so the batch size stays free), with torch's rule for each mode."""
    x, out = arg(c, 0), c.out
    factor = c.params.get("scale_factor")
    if (
        factor is not None
        and c.params.get("size") is None
        and not c.params.get("recompute_scale_factor")
    ):
        spatial = [float(f) for f in factor] if isinstance(factor, tuple | list) else None
        spatial = spatial or [float(factor)] * (x.ndim - 2)
    else:
        spatial = [b / a for a, b in zip(x.shape[2:], out.shape[2:])]
    attrs = _resize_attributes(e, c.params.get("mode", "nearest"), c.params.get("align_corners"))
    roi = e.const(np.zeros(0, np.float32), "roi")
    scales = e.const(np.asarray([1.0, 1.0, *spatial], np.float32))
    return e.node("Resize", [e.value(x), roi, scales], **attrs)


def _resize_attributes(e: Emitter, mode: str, align_corners: bool | None) -> dict[str, Any]:
    """ONNX Resize's attributes that reproduce torch's interpolation ``mode``."""
    if mode == "nearest":
        return {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                "nearest_mode": "floor"}  # fmt: skip
    if mode == "nearest-exact":  # floor((dst + 0.5) / scale): half-pixel, rounding up at .5
        return {"mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                "nearest_mode": "round_prefer_ceil"}  # fmt: skip
    if mode == "area":
        raise e.fail("interpolate(mode='area') is adaptive average pooling, not an ONNX Resize")
    ct = "align_corners" if align_corners else "pytorch_half_pixel"
    if mode == "bicubic":
        return {"mode": "cubic", "coordinate_transformation_mode": ct, "cubic_coeff_a": -0.75}
    return {"mode": "linear", "coordinate_transformation_mode": ct}


@converts("pixel_shuffle")
def _pixel_shuffle(e: Emitter, c: Call, o: Call | None) -> str:
    factor = int(arg(c, 1))
    return e.node("DepthToSpace", [e.value(arg(c, 0))], blocksize=factor, mode="CRD")


@converts("cosine_similarity")
def _cosine_similarity(e: Emitter, c: Call, o: Call | None) -> str:
    """x·y / max(‖x‖·‖y‖, eps) along ``dim``."""
    x1, x2 = arg(c, 0), arg(c, 1)
    ax = axis(c.params.get("dim", 1), max(x1.ndim, x2.ndim))
    dtype = x1._data.dtype
    a, b = e.value(x1), e.value(x2)
    dot = e.axes_node("ReduceSum", e.node("Mul", [a, b]), [ax], keepdims=0)
    na = e.axes_node("ReduceSum", e.node("Mul", [a, a]), [ax], keepdims=0)
    nb = e.axes_node("ReduceSum", e.node("Mul", [b, b]), [ax], keepdims=0)
    norm = e.node("Sqrt", [e.node("Mul", [na, nb])])
    eps = e.scalar(c.params.get("eps", 1e-8), dtype)
    return e.node("Div", [dot, e.node("Max", [norm, eps])])
