"""The Tensor methods of the math, selection, sorting, shape and sampling families, and their
in-place ``_`` forms; :func:`neuralab.ops.attach_methods` installs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops import activation as act
from neuralab.ops import (
    arith,
    combine,
    count,
    diagonal,
    distance,
    linalg,
    logic,
    piecewise,
    reduce,
    sampling,
    scan,
    select,
    shape,
    sort,
    statistics,
    unary,
)
from neuralab.ops import elementwise as e
from neuralab.ops import special_functions as special
from neuralab.ops.inplace import inplace_method

_NAMES: dict[object, tuple[str, ...]] = {
    unary: (
        "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "sinh", "cosh", "tan",
        "asin", "acos", "atan", "asinh", "acosh", "atanh", "erf", "erfc", "erfinv", "lgamma",
        "digamma", "sinc", "deg2rad", "rad2deg", "frac", "sgn", "i0", "square", "logit", "floor",
        "ceil", "trunc", "fix", "round", "clamp_min", "clamp_max", "nan_to_num",
    ),
    arith: (
        "remainder", "fmod", "floor_divide", "atan2", "hypot", "logaddexp", "logaddexp2",
        "xlogy", "copysign", "float_power", "lerp", "addcmul", "addcdiv", "fmax", "fmin",
        "heaviside", "gcd", "lcm", "ldexp", "frexp",
    ),
    logic: (
        "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
        "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "isinf",
        "isposinf", "isneginf", "isreal", "signbit", "isclose", "allclose", "equal",
    ),
    linalg: (
        "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr",
        "addbmm", "baddbmm", "kron", "cross",
    ),
    diagonal: (
        "diag", "diagonal", "diag_embed", "diagflat", "trace", "tril", "triu", "diagonal_scatter",
    ),
    distance: ("norm", "dist"),
    select: (
        "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
        "index_copy", "index_fill", "index_put", "masked_fill", "masked_select",
        "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere", "select",
        "slice_scatter", "select_scatter", "index_reduce", "nonzero_static",
    ),
    sort: (
        "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
        "quantile", "nanquantile",
    ),
    count: ("unique", "unique_consecutive", "bincount", "histc", "histogram"),
    reduce: ("any", "all", "amin", "aminmax", "nansum", "nanmean", "count_nonzero"),
    scan: ("cumprod", "cummax", "cummin", "logcumsumexp", "diff"),
    statistics: ("cov", "corrcoef"),
    shape: (
        "movedim", "moveaxis", "swapaxes", "swapdims", "roll", "narrow", "unflatten", "tile",
        "repeat_interleave", "rot90", "broadcast_to", "adjoint",
    ),
    combine: ("unbind", "tensor_split", "hsplit", "vsplit", "dsplit"),
    sampling: ("multinomial", "bernoulli"),
}  # fmt: skip

_ALIASES: dict[str, Callable] = {
    "eq": e.eq, "ne": e.ne, "lt": e.lt, "le": e.le, "gt": e.gt, "ge": e.ge, "greater": e.gt,
    "greater_equal": e.ge, "less": e.lt, "less_equal": e.le, "not_equal": e.ne,
    "arctan2": arith.atan2, "true_divide": e.div, "divide": e.div, "multiply": e.mul,
    "subtract": e.sub, "negative": e.neg, "absolute": e.abs, "arcsin": unary.asin,
    "arccos": unary.acos, "arctan": unary.atan, "arcsinh": unary.asinh,
    "arccosh": unary.acosh, "arctanh": unary.atanh, "positive": lambda self: self,
    "ravel": lambda self: shape.reshape(self, -1),
    "reshape_as": lambda self, other: shape.reshape(self, other.shape),
    "where": lambda self, condition, other: e.where(condition, self, other),
    "fliplr": lambda self: shape.flip(self, 1), "flipud": lambda self: shape.flip(self, 0),
    "split_with_sizes": lambda self, split_sizes, dim=0: shape.split(self, list(split_sizes), dim),
    "is_nonzero": lambda self: bool(self), "is_same_size": lambda self, o: self.shape == o.shape,
    "polygamma": lambda self, n: special.polygamma(n, self), "mvlgamma": special.multigammaln,
    "igamma": special.gammainc, "igammac": special.gammaincc,
}  # fmt: skip

# torch's unsafe_ splits only skip a check of in-place updates of the pieces (not made here)
_ALIASES.update(
    unsafe_split=shape.split, unsafe_chunk=shape.chunk,
    unsafe_split_with_sizes=_ALIASES["split_with_sizes"],
)  # fmt: skip

# in-place method -> the op it applies
_INPLACE: dict[str, Callable] = {
    "div_": e.div, "true_divide_": e.div, "pow_": e.pow, "sqrt_": e.sqrt, "exp_": e.exp,
    "log_": e.log, "abs_": e.abs, "neg_": e.neg, "negative_": e.neg, "sin_": e.sin,
    "cos_": e.cos, "sign_": e.sign, "clip_": e.clamp, "sigmoid_": act.sigmoid,
    "tanh_": act.tanh, "relu_": act.relu, "tril_": diagonal.tril, "triu_": diagonal.triu,
    "fill_diagonal_": diagonal.fill_diagonal, "t_": lambda t: t.t(),
    "transpose_": shape.transpose, "swapaxes_": shape.swapaxes, "swapdims_": shape.swapdims,
    "squeeze_": shape.squeeze, "unsqueeze_": shape.unsqueeze, "floor_divide_": arith.floor_divide,
    "logical_not_": logic.logical_not, "logical_and_": logic.logical_and,
    "logical_or_": logic.logical_or, "logical_xor_": logic.logical_xor, "eq_": e.eq, "ne_": e.ne,
    "lt_": e.lt, "le_": e.le, "gt_": e.gt, "ge_": e.ge, "greater_": e.gt, "greater_equal_": e.ge,
    "less_": e.lt, "less_equal_": e.le, "not_equal_": e.ne, "subtract_": e.sub,
    "multiply_": e.mul, "divide_": e.div, "arctan2_": arith.atan2, "cumsum_": reduce.cumsum,
    "cumprod_": scan.cumprod, "nextafter_": arith.nextafter, "renorm_": distance.renorm,
    "put_": select.put, "addmm_": linalg.addmm, "addmv_": linalg.addmv, "i0_": unary.i0,
    "polygamma_": lambda self, n: special.polygamma(n, self), "mvlgamma_": special.multigammaln,
    "igamma_": special.gammainc, "igammac_": special.gammaincc,
    "addbmm_": linalg.addbmm, "baddbmm_": linalg.baddbmm, "addr_": linalg.addr,
}  # fmt: skip
for _name in (
    "log1p",
    "expm1",
    "log2",
    "log10",
    "exp2",
    "rsqrt",
    "reciprocal",
    "sinh",
    "cosh",
    "tan",
    "asin",
    "acos",
    "atan",
    "erf",
    "erfc",
    "erfinv",
    "lgamma",
    "digamma",
    "frac",
    "sgn",
    "square",
    "floor",
    "ceil",
    "trunc",
    "fix",
    "round",
    "clamp_min",
    "clamp_max",
    "nan_to_num",
    "logit",
    "deg2rad",
    "rad2deg",
    "asinh",
    "acosh",
    "atanh",
    "sinc",
):
    _INPLACE[_name + "_"] = getattr(unary, _name)
for _alias, _name in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                      ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"),
                      ("absolute", "abs")):  # fmt: skip
    _INPLACE[_alias + "_"] = _INPLACE[_name + "_"]
for _name in ("remainder", "fmod", "atan2", "hypot", "xlogy", "copysign", "lerp", "addcmul",
              "addcdiv", "float_power", "heaviside", "gcd", "lcm", "ldexp"):  # fmt: skip
    _INPLACE[_name + "_"] = getattr(arith, _name)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
              "bitwise_right_shift"):  # fmt: skip
    _INPLACE[_name + "_"] = getattr(logic, _name)
for _name in (
    "masked_fill",
    "masked_scatter",
    "index_add",
    "index_fill",
    "index_copy",
    "index_put",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "index_reduce",
):
    _INPLACE[_name + "_"] = getattr(select, _name)


def _apply_in_place(self: Any, callable: Callable[[Any], Any]) -> Any:
    """Tensor.apply_: each element replaced by ``callable(element)``, a Python function called
    once per element (slow; outside the graph, as in torch)."""
    self._check_inplace("apply_")
    arr = self._array()
    arr[...] = np.array([callable(v) for v in arr.ravel().tolist()], arr.dtype).reshape(arr.shape)
    return self


def _map_in_place(self: Any, tensor: Any, callable: Callable[[Any, Any], Any]) -> Any:
    """Tensor.map_: each element replaced by ``callable(element, other)``, ``other`` the element
    of ``tensor`` (broadcast to this tensor's shape) at the same place."""
    self._check_inplace("map_")
    arr = self._array()
    other = np.broadcast_to(np.asarray(tensor._data), arr.shape).ravel().tolist()
    values = [callable(v, w) for v, w in zip(arr.ravel().tolist(), other)]
    arr[...] = np.array(values, arr.dtype).reshape(arr.shape)
    return self


# torch's functions that are their first argument's method: torch.clone(x) is x.clone(), and
# those ending in _ update it in place (torch.sigmoid_(x) is x.sigmoid_())
METHOD_FUNCTIONS = (
    "clone", "detach", "t", "ravel", "fliplr", "flipud", "is_nonzero", "is_same_size",
    "split_with_sizes", "positive", "is_complex", "is_signed", "is_inference", "unsafe_chunk",
    "unsafe_split", "unsafe_split_with_sizes", "gcd_", "lcm_", "ldexp_",
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "index_put_", "log10_", "log1p_",
    "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_",
)  # fmt: skip


# torch's *_copy functions: the view of that name as a new tensor (torch.t_copy(x) is
# x.t().clone(); a split's tensors are each cloned)
COPIED_VIEWS = (
    "view", "permute", "transpose", "t", "squeeze", "unsqueeze", "expand", "select", "diagonal",
    "detach", "split", "split_with_sizes", "unbind", "unfold", "narrow", "as_strided",
)  # fmt: skip


def _calling(name: str, view: str | None = None) -> Callable:
    """The function ``name`` calling ``input.<name>(...)``; with ``view``, one of torch's
    ``*_copy`` functions, which returns ``input.<view>(...)`` as a new tensor."""

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        out = getattr(input, view or name)(*args, **kwargs)
        if view is None:
            return out
        return tuple(t.clone() for t in out) if isinstance(out, list | tuple) else out.clone()

    function.__name__ = function.__qualname__ = name
    changes = ": updates ``input`` in place and returns it" if name.endswith("_") else ""
    what = f"``input.{view or name}(...)``"
    function.__doc__ = f"{what}{changes}." if view is None else f"{what} as a new tensor."
    return function


def method_functions() -> dict[str, Callable]:
    """The functions of :data:`METHOD_FUNCTIONS`, each calling the tensor method of its name,
    and the ``<view>_copy`` functions of :data:`COPIED_VIEWS`."""
    copies = {f"{view}_copy": view for view in COPIED_VIEWS}
    copies["alias_copy"] = "positive"  # torch's alias(x) is x itself, as positive(x) is
    functions = {name: _calling(name) for name in METHOD_FUNCTIONS}
    return functions | {name: _calling(name, view) for name, view in copies.items()}


def tensor_methods() -> dict[str, Callable]:
    """Every method name this module provides, mapped to its function."""
    methods = {name: getattr(module, name) for module, names in _NAMES.items() for name in names}
    methods.update(_ALIASES, apply_=_apply_in_place, map_=_map_in_place)
    methods.update({name: inplace_method(name, fn) for name, fn in _INPLACE.items()})
    methods.update(sampling.TENSOR_METHODS)
    from neuralab import linalg as la  # the torch.linalg namespace, built on these families
    from neuralab.sparse import to_sparse

    methods.update(
        inverse=la.inv,
        det=la.det,
        logdet=la.logdet,
        slogdet=la.slogdet,
        pinverse=la.pinv,
        matrix_power=la.matrix_power,
        matrix_exp=la.matrix_exp,
        cholesky=la.legacy_cholesky,
        svd=la.legacy_svd,
        qr=la.legacy_qr,
        lu=la.legacy_lu,
        lu_solve=la.legacy_lu_solve,
        cholesky_solve=la.cholesky_solve,
        cholesky_inverse=la.cholesky_inverse,
        triangular_solve=la.triangular_solve,
        to_sparse=to_sparse,
        unfold=shape.unfold_dim,
        as_strided=shape.as_strided,
        sum_to_size=reduce.sum_to_size,
        nextafter=arith.nextafter,
        renorm=distance.renorm,
        put=select.put,
        prelu=act.prelu,
        hardshrink=piecewise.hardshrink,
        narrow_copy=_calling("narrow_copy", "narrow"),
    )
    return methods


def _swap(fn: Callable) -> Callable:
    return lambda self, other: fn(other, self)


OPERATORS: dict[str, Callable] = {
    "__xor__": logic.bitwise_xor, "__rxor__": _swap(logic.bitwise_xor),
    "__rand__": _swap(e.logical_and), "__ror__": _swap(e.logical_or),
    "__mod__": arith.remainder, "__rmod__": _swap(arith.remainder),
    "__floordiv__": arith.floor_divide, "__rfloordiv__": _swap(arith.floor_divide),
    "__lshift__": logic.bitwise_left_shift, "__rshift__": logic.bitwise_right_shift,
}  # fmt: skip
