"""ONNX operators implemented with neuralab's ops, for :mod:`neuralab.onnx.load`.

Float computations go through the differentiable ops (so an imported model trains); shape
arithmetic (Shape, Gather on shapes, Concat of sizes, ...) runs on the integer arrays directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx

import neuralab as nl
from neuralab.nn import functional as F
from neuralab.tensor import Tensor, constant


class Node:
    """One ONNX node: op type, input/output names and attributes as Python values."""

    def __init__(self, proto: onnx.NodeProto, helper: Any) -> None:
        self.op, self.name = proto.op_type, proto.name
        self.inputs, self.outputs = list(proto.input), list(proto.output)
        self.attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}
        for k, v in self.attrs.items():
            if isinstance(v, bytes):
                self.attrs[k] = v.decode()
            elif isinstance(v, list) and v and isinstance(v[0], bytes):
                self.attrs[k] = [s.decode() for s in v]
        self.module = None


OPS: dict[str, Callable[[Node, list], Any]] = {}


def op(*names: str) -> Callable:
    """Decorator: register an implementation for the ONNX operator(s) ``names``."""

    def register(fn: Callable) -> Callable:
        for name in names:
            OPS[name] = fn
        return fn

    return register


def arr(x: Tensor) -> np.ndarray:
    """The array a value holds."""
    return x._data


def ints(x: Tensor) -> list[int]:
    """A 1-D integer value (shapes, axes, pads) as a list."""
    return [int(v) for v in np.asarray(arr(x)).reshape(-1)]


def _const(a: Any) -> Tensor:
    return constant(np.asarray(a))


_BINARY = {"Add": nl.add, "Sub": nl.sub, "Mul": nl.mul, "Div": nl.div, "Pow": nl.pow,
           "MatMul": nl.matmul, "Equal": nl.eq, "Less": nl.lt, "Greater": nl.gt,
           "LessOrEqual": nl.le, "GreaterOrEqual": nl.ge}  # fmt: skip


@op(*_BINARY)
def _binary(n: Node, x: list) -> Tensor:
    a, b = x
    if a._data.dtype.kind in "iu" and b._data.dtype.kind in "iu" and n.op != "Div":
        fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power}.get(n.op)
        if fn is not None:
            return _const(fn(arr(a), arr(b)))
    if n.op == "Div" and a._data.dtype.kind in "iu":
        return _const(arr(a) // arr(b))
    return _BINARY[n.op](a, b)


@op("Mod")
def _mod(n: Node, x: list) -> Tensor:
    fn = np.fmod if n.attrs.get("fmod") else np.mod
    return _const(fn(arr(x[0]), arr(x[1])))


@op("And", "Or", "Xor", "Not")
def _logic(n: Node, x: list) -> Tensor:
    fns = {"And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor}
    if n.op == "Not":
        return _const(~arr(x[0]))
    return _const(fns[n.op](arr(x[0]), arr(x[1])))


_UNARY = {"Relu": F.relu, "Sigmoid": nl.sigmoid, "Tanh": nl.tanh, "Exp": nl.exp,
          "Log": nl.log, "Sqrt": nl.sqrt, "Abs": nl.abs, "Neg": nl.neg, "Sin": nl.sin,
          "Cos": nl.cos, "Erf": nl.erf, "Floor": nl.floor, "Ceil": nl.ceil, "Round": nl.round,
          "Softsign": F.softsign, "Softplus": F.softplus, "Sign": nl.sign,
          "Reciprocal": nl.reciprocal, "HardSwish": F.hardswish, "Identity": lambda t: t,
          "IsNaN": nl.isnan}  # fmt: skip


@op(*_UNARY)
def _unary(n: Node, x: list) -> Tensor:
    return _UNARY[n.op](x[0])


@op("LeakyRelu", "Elu", "Celu", "Selu", "HardSigmoid", "Shrink", "Gelu")
def _activation(n: Node, x: list) -> Tensor:
    a, t = n.attrs, x[0]
    if n.op == "LeakyRelu":
        return F.leaky_relu(t, a.get("alpha", 0.01))
    if n.op in ("Elu", "Celu"):
        return (F.elu if n.op == "Elu" else F.celu)(t, a.get("alpha", 1.0))
    if n.op == "Selu":
        return F.selu(t)
    if n.op == "Gelu":
        return F.gelu(t, approximate=a.get("approximate", "none"))
    if n.op == "HardSigmoid":
        return nl.clamp(t * a.get("alpha", 0.2) + a.get("beta", 0.5), 0.0, 1.0)
    lambd, bias = a.get("lambd", 0.5), a.get("bias", 0.0)
    return nl.where(t < -lambd, t + bias, nl.where(t > lambd, t - bias, t * 0.0))


@op("PRelu")
def _prelu(n: Node, x: list) -> Tensor:
    t, slope = x
    return nl.where(t >= 0, t, t * slope)


@op("Softmax", "LogSoftmax")
def _softmax(n: Node, x: list) -> Tensor:
    fn = F.softmax if n.op == "Softmax" else F.log_softmax
    return fn(x[0], dim=n.attrs.get("axis", -1))


@op("Clip")
def _clip(n: Node, x: list) -> Tensor:
    lo = x[1] if len(x) > 1 and x[1] is not None else None
    hi = x[2] if len(x) > 2 and x[2] is not None else None
    return nl.clamp(x[0], None if lo is None else lo.item(), None if hi is None else hi.item())


@op("Max", "Min")
def _max_min(n: Node, x: list) -> Tensor:
    out = x[0]
    for t in x[1:]:
        out = (nl.maximum if n.op == "Max" else nl.minimum)(out, t)
    return out


@op("Where")
def _where(n: Node, x: list) -> Tensor:
    return nl.where(x[0], x[1], x[2])


@op("Gemm")
def _gemm(n: Node, x: list) -> Tensor:
    a, b = x[0], x[1]
    if n.attrs.get("transA"):
        a = a.transpose(0, 1)
    if n.attrs.get("transB"):
        b = b.transpose(0, 1)
    out = nl.matmul(a, b) * n.attrs.get("alpha", 1.0) if n.attrs.get("alpha", 1.0) != 1 else (
        nl.matmul(a, b))  # fmt: skip
    if len(x) > 2 and x[2] is not None:
        out = out + x[2] * n.attrs.get("beta", 1.0) if n.attrs.get("beta", 1.0) != 1 else (
            out + x[2])  # fmt: skip
    return out


def _pads(n: Node, x: Tensor) -> tuple[Tensor, list[int]]:
    """Symmetric pads for the op, padding ``x`` explicitly when ONNX's are asymmetric."""
    k = x.ndim - 2
    pads = n.attrs.get("pads", [0] * 2 * k)
    if n.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise NotImplementedError(f"onnx.load: {n.op} with auto_pad={n.attrs['auto_pad']}")
    begin, end = pads[:k], pads[k:]
    if begin != end:
        widths = []
        for b, e in zip(reversed(begin), reversed(end)):
            widths += [b, e]
        return F.pad(x, widths), [0] * k
    return x, list(begin)


@op("Conv")
def _conv(n: Node, x: list) -> Tensor:
    t, pads = _pads(n, x[0])
    fn = F.conv1d if t.ndim == 3 else F.conv2d
    a = n.attrs
    bias = x[2] if len(x) > 2 else None
    strides, dilations = a.get("strides", 1), a.get("dilations", 1)
    return fn(t, x[1], bias, strides, tuple(pads), dilations, a.get("group", 1))


@op("ConvTranspose")
def _conv_transpose(n: Node, x: list) -> Tensor:
    a = n.attrs
    t, pads = _pads(n, x[0])
    if t.ndim != 4:
        raise NotImplementedError("onnx.load: ConvTranspose is supported for 2-D images")
    return F.conv_transpose2d(
        t, x[1], x[2] if len(x) > 2 else None, a.get("strides", 1), tuple(pads),
        tuple(a.get("output_padding", [0, 0])), a.get("group", 1), a.get("dilations", 1),
    )  # fmt: skip


@op("MaxPool", "AveragePool")
def _pool(n: Node, x: list) -> Any:
    a = n.attrs
    t, pads = _pads(n, x[0])
    kernel, stride = a["kernel_shape"], a.get("strides", [1] * (t.ndim - 2))
    ceil = bool(a.get("ceil_mode", 0))
    if n.op == "AveragePool":
        fn = F.avg_pool1d if t.ndim == 3 else F.avg_pool2d
        return fn(t, kernel, stride, pads, ceil, bool(a.get("count_include_pad", 0)))
    fn = F.max_pool1d if t.ndim == 3 else F.max_pool2d
    if len(n.outputs) == 1:
        return fn(t, kernel, stride, pads, a.get("dilations", 1), ceil)
    out, idx = fn(t, kernel, stride, pads, a.get("dilations", 1), ceil, True)
    plane = int(np.prod(t.shape[2:]))
    offsets = np.arange(t.shape[0] * t.shape[1]).reshape(t.shape[:2] + (1,) * (t.ndim - 2))
    return out, _const(arr(idx) + offsets * plane)


@op("MaxUnpool")
def _max_unpool(n: Node, x: list) -> Tensor:
    t, idx = x[0], x[1]
    shape = ints(x[2]) if len(x) > 2 and x[2] is not None else None
    out_hw = shape[2:] if shape else None
    a = n.attrs
    size = out_hw or [
        (i - 1) * s - 2 * p + k
        for i, s, p, k in zip(t.shape[2:], a.get("strides", a["kernel_shape"]),
                              a.get("pads", [0] * 4)[:2], a["kernel_shape"])
    ]  # fmt: skip
    plane = int(np.prod(size))
    local = _const(arr(idx) % plane)
    return F.max_unpool2d(t, local, a["kernel_shape"], a.get("strides"), a.get("pads", [0] * 4)[:2],
                          output_size=tuple(size))  # fmt: skip


@op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(n: Node, x: list) -> Tensor:
    axes = tuple(range(2, x[0].ndim))
    if n.op == "GlobalAveragePool":
        return x[0].mean(dim=axes, keepdim=True)
    return nl.amax(x[0], dim=axes, keepdim=True)


@op("BatchNormalization")
def _batch_norm(n: Node, x: list) -> Tensor:
    return F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, n.attrs.get("epsilon", 1e-5))


@op("InstanceNormalization")
def _instance_norm(n: Node, x: list) -> Tensor:
    return F.instance_norm(x[0], weight=x[1], bias=x[2], eps=n.attrs.get("epsilon", 1e-5))


@op("LayerNormalization")
def _layer_norm(n: Node, x: list) -> Tensor:
    t = x[0]
    ax = n.attrs.get("axis", -1) % t.ndim
    bias = x[2] if len(x) > 2 else None
    return F.layer_norm(t, t.shape[ax:], x[1], bias, n.attrs.get("epsilon", 1e-5))


@op("LRN")
def _lrn(n: Node, x: list) -> Tensor:
    a = n.attrs
    return F.local_response_norm(x[0], a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75),
                                 a.get("bias", 1.0))  # fmt: skip


@op("Gather")
def _gather(n: Node, x: list) -> Tensor:
    data, idx = x
    ax = n.attrs.get("axis", 0) % data.ndim
    if isinstance(data, Tensor) and data.requires_grad and ax == 0 and data.ndim == 2:
        return F.embedding(idx, data)
    index = [slice(None)] * ax + [np.asarray(arr(idx)) % data.shape[ax]]
    if data._data.dtype.kind in "iu":
        return _const(arr(data)[tuple(index)])
    return data[tuple(index)]


@op("Reshape")
def _reshape(n: Node, x: list) -> Tensor:
    shape = ints(x[1])
    shape = [x[0].shape[i] if s == 0 and not n.attrs.get("allowzero") else s
             for i, s in enumerate(shape)]  # fmt: skip
    return x[0].reshape(*shape)


@op("Flatten")
def _flatten(n: Node, x: list) -> Tensor:
    ax = n.attrs.get("axis", 1) % max(x[0].ndim, 1)
    lead = int(np.prod(x[0].shape[:ax]))
    return x[0].reshape(lead, -1)


@op("Transpose")
def _transpose(n: Node, x: list) -> Tensor:
    perm = n.attrs.get("perm", list(range(x[0].ndim))[::-1])
    return x[0].permute(*perm)


@op("Squeeze", "Unsqueeze")
def _squeeze(n: Node, x: list) -> Tensor:
    axes = ints(x[1]) if len(x) > 1 and x[1] is not None else n.attrs.get("axes")
    t = x[0]
    if n.op == "Squeeze":
        axes = axes or [i for i, s in enumerate(t.shape) if s == 1]
        for a in sorted((a % t.ndim for a in axes), reverse=True):
            t = t.squeeze(a)
        return t
    out_rank = t.ndim + len(axes)
    for a in sorted(a % out_rank for a in axes):
        t = t.unsqueeze(a)
    return t


@op("Concat")
def _concat(n: Node, x: list) -> Tensor:
    parts = [t for t in x if t is not None]
    if all(t._data.dtype.kind in "iu" for t in parts):
        return _const(np.concatenate([arr(t) for t in parts], axis=n.attrs["axis"]))
    return nl.cat(parts, dim=n.attrs["axis"])


@op("Split")
def _split(n: Node, x: list) -> list:
    t, ax = x[0], n.attrs.get("axis", 0) % x[0].ndim
    sizes = ints(x[1]) if len(x) > 1 and x[1] is not None else n.attrs.get("split")
    if sizes is None:
        count = len(n.outputs)
        sizes = [-(-t.shape[ax] // count)] * count
        sizes[-1] = t.shape[ax] - sum(sizes[:-1])
    return list(nl.split(t, sizes, dim=ax))


@op("Slice")
def _slice_(n: Node, x: list) -> Tensor:
    t = x[0]
    starts, ends = ints(x[1]), ints(x[2])
    axes = ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(len(starts)))
    steps = ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(starts)
    index = [slice(None)] * t.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        size = t.shape[a % t.ndim]
        lo, hi, _ = slice(s, e, st).indices(size)
        index[a % t.ndim] = slice(lo, hi if hi >= 0 else None, st)
    if any(st < 0 for st in steps):
        return _flip_slice(t, index)
    return _const(arr(t)[tuple(index)]) if t._data.dtype.kind in "iub" else t[tuple(index)]


def _flip_slice(t: Tensor, index: list) -> Tensor:
    dims = [i for i, s in enumerate(index) if s.step is not None and s.step < 0]
    positions = np.arange(int(np.prod(t.shape))).reshape(t.shape)[tuple(index)]
    flat = t.reshape(-1)
    return flat[positions.reshape(-1)].reshape(*positions.shape) if dims else t


@op("Shape")
def _shape(n: Node, x: list) -> Tensor:
    dims = np.asarray(x[0].shape, np.int64)
    return _const(dims[n.attrs.get("start", 0) : n.attrs.get("end", len(dims))])


@op("Size")
def _size(n: Node, x: list) -> Tensor:
    return _const(np.int64(x[0].numel()))


@op("Constant")
def _constant_(n: Node, x: list) -> Tensor:
    from onnx import numpy_helper

    value = n.attrs.get("value")
    if value is not None:
        return _const(numpy_helper.to_array(value).copy())
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in n.attrs:
            return _const(np.asarray(n.attrs[key], dtype))
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in n.attrs:
            return _const(np.asarray(n.attrs[key], dtype))
    raise NotImplementedError(f"onnx.load: Constant node {n.name!r} with {sorted(n.attrs)}")


@op("ConstantOfShape")
def _constant_of_shape(n: Node, x: list) -> Tensor:
    from onnx import numpy_helper

    value = n.attrs.get("value")
    fill = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
    return _const(np.full(ints(x[0]), fill.reshape(-1)[0], fill.dtype))


@op("Range")
def _range_(n: Node, x: list) -> Tensor:
    return _const(np.arange(arr(x[0]), arr(x[1]), arr(x[2])).astype(arr(x[0]).dtype))


@op("Cast")
def _cast(n: Node, x: list) -> Tensor:
    dtype = onnx.helper.tensor_dtype_to_np_dtype(n.attrs["to"])
    t = x[0]
    if t._data.dtype == dtype:
        return t
    return (
        t.astype(dtype) if dtype.kind == "f" and t.requires_grad else _const(arr(t).astype(dtype))
    )


@op("Expand")
def _expand(n: Node, x: list) -> Tensor:
    target = np.broadcast_shapes(x[0].shape, tuple(ints(x[1])))
    t = x[0]
    if t.ndim < len(target):
        t = t.reshape(*((1,) * (len(target) - t.ndim) + tuple(t.shape)))
    return t.expand(*target)


@op("Tile")
def _tile(n: Node, x: list) -> Tensor:
    return x[0].repeat(*ints(x[1]))


@op("Pad")
def _pad(n: Node, x: list) -> Tensor:
    t = x[0]
    pads = ints(x[1]) if len(x) > 1 else n.attrs["pads"]
    value = float(x[2].item()) if len(x) > 2 and x[2] is not None else 0.0
    k = t.ndim
    widths = []
    for i in reversed(range(k)):
        widths += [pads[i], pads[i + k]]
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
            "wrap": "circular"}[n.attrs.get("mode", "constant")]  # fmt: skip
    return (
        F.pad(t, widths, mode=mode, value=value) if mode == "constant" else F.pad(t, widths, mode)
    )


_REDUCE = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "amax", "ReduceMin": "amin",
           "ReduceProd": "prod", "ReduceLogSumExp": "logsumexp"}  # fmt: skip


@op(*_REDUCE)
def _reduce(n: Node, x: list) -> Tensor:
    t = x[0]
    axes = ints(x[1]) if len(x) > 1 and x[1] is not None else n.attrs.get("axes")
    keep = bool(n.attrs.get("keepdims", 1))
    if not axes:
        if n.attrs.get("noop_with_empty_axes"):
            return t
        axes = list(range(t.ndim))
    axes = tuple(a % t.ndim for a in axes)
    if t._data.dtype.kind in "iu":
        fn = {"sum": np.sum, "amax": np.max, "amin": np.min, "prod": np.prod}[_REDUCE[n.op]]
        return _const(fn(arr(t), axis=axes, keepdims=keep))
    if n.op == "ReduceProd":
        out = t
        for a in sorted(axes, reverse=True):
            out = out.prod(dim=a, keepdim=keep)
        return out
    return getattr(nl, _REDUCE[n.op])(t, dim=axes, keepdim=keep)


@op("ArgMax", "ArgMin")
def _argmax(n: Node, x: list) -> Tensor:
    fn = nl.argmax if n.op == "ArgMax" else nl.argmin
    return fn(x[0], dim=n.attrs.get("axis", 0), keepdim=bool(n.attrs.get("keepdims", 1)))


@op("CumSum")
def _cumsum(n: Node, x: list) -> Tensor:
    return nl.cumsum(x[0], dim=int(arr(x[1])))


@op("Dropout")
def _dropout(n: Node, x: list) -> Any:
    return (x[0], _const(np.ones(x[0].shape, bool))) if len(n.outputs) > 1 else x[0]


@op("Resize")
def _resize(n: Node, x: list) -> Tensor:
    t = x[0]
    sizes = ints(x[3])[2:] if len(x) > 3 and x[3] is not None else None
    if sizes is None:
        scales = arr(x[2])[2:]
        sizes = [int(np.floor(s * f)) for s, f in zip(t.shape[2:], scales)]
    mode, corners = _resize_mode(n.attrs, t.ndim - 2)
    return F.interpolate(t, size=tuple(sizes), mode=mode, align_corners=corners)


def _resize_mode(a: dict, spatial: int) -> tuple[str, bool | None]:
    """The F.interpolate mode (and align_corners) that a Resize node's attributes describe."""
    transform = a.get("coordinate_transformation_mode", "half_pixel")
    if a.get("mode", "nearest") == "nearest":
        if transform == "half_pixel" and a.get("nearest_mode") == "round_prefer_ceil":
            return "nearest-exact", None
        if transform == "asymmetric" and a.get("nearest_mode", "round_prefer_floor") == "floor":
            return "nearest", None
        raise NotImplementedError(
            f"onnx.load: nearest Resize with {transform} / {a.get('nearest_mode')}"
        )
    if transform not in ("align_corners", "pytorch_half_pixel", "half_pixel"):
        raise NotImplementedError(
            f"onnx.load: Resize with coordinate_transformation_mode {transform}"
        )
    corners = transform == "align_corners"
    if a["mode"] == "cubic":
        if abs(a.get("cubic_coeff_a", -0.75) + 0.75) > 1e-6:
            raise NotImplementedError("onnx.load: cubic Resize with cubic_coeff_a other than -0.75")
        return "bicubic", corners
    return ("linear", "bilinear", "trilinear")[spatial - 1], corners


@op("DepthToSpace")
def _depth_to_space(n: Node, x: list) -> Tensor:
    t, b = x[0], n.attrs["blocksize"]
    nb, c, h, w = t.shape
    if n.attrs.get("mode", "DCR") == "DCR":
        y = t.reshape(nb, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    else:
        y = t.reshape(nb, c // (b * b), b, b, h, w).permute(0, 1, 4, 2, 5, 3)
    return y.reshape(nb, c // (b * b), h * b, w * b)


@op("LSTM", "GRU", "RNN")
def _recurrent(n: Node, x: list) -> list:
    """The node's nn layer over X (T, N, I); Y comes back as ONNX's (T, D, N, H)."""
    m = n.module
    seq = x[0]
    if n.attrs.get("layout", 0):
        seq = seq.transpose(0, 1)
    h0 = x[5] if len(x) > 5 else None
    c0 = x[6] if len(x) > 6 else None
    batch, d = seq.shape[1], 2 if m.bidirectional else 1
    if n.op == "LSTM":
        zero = constant(np.zeros((d, batch, m.hidden_size), seq._data.dtype))
        state = None
        if h0 is not None or c0 is not None:
            state = (zero if h0 is None else h0, zero if c0 is None else c0)
        y, (h, c) = m(seq, state)
        finals = [h, c]
    else:
        y, h = m(seq, h0)
        finals = [h]
    y = y.reshape(seq.shape[0], batch, d, m.hidden_size).permute(0, 2, 1, 3)
    return [y] + finals
