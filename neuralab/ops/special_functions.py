"""torch.special's functions that neuralab's other op families lack: the scaled error and Bessel
functions, the normal distribution's ndtr family, polygamma, the incomplete gamma, Hurwitz zeta
and the classical orthogonal polynomials, with SciPy computing values and derivatives.

The differentiable ones are built like :mod:`neuralab.ops.unary`'s (value and derivative side by
side); a derivative torch leaves unimplemented raises when the backward reaches it; the functions
torch gives no gradient (Bessel functions, polynomials) return tensors outside the graph, as torch.
Integer inputs are promoted to the default float dtype; float32 stays float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.dtypes import promote_types
from neuralab.ops._util import LazyFunctions, to_tensor, unbroadcast
from neuralab.ops.elementwise import cast, coerce
from neuralab.ops.unary import _smooth
from neuralab.tensor import Tensor, constant, get_default_dtype, make

sp = LazyFunctions("scipy.special")

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_BY_SQRT_PI = 2 / math.sqrt(math.pi)
_LOG_PI = math.log(math.pi)

Partial = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def floating(t: Tensor) -> Tensor:
    """``t`` itself if it holds floats, else ``t`` cast to the default float dtype (as torch)."""
    return t if t._data.dtype.kind in "fc" else cast(t, get_default_dtype())


def promoting(fn: Callable[..., Tensor], name: str | None = None) -> Callable[..., Tensor]:
    """``fn`` with its tensor arguments cast to the default float dtype when none holds floats:
    torch's promotion of integer inputs (neuralab's own ops compute those in float32)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        tensors = [a for a in args if isinstance(a, Tensor)]
        if tensors and all(t._data.dtype.kind not in "fc" for t in tensors):
            args = tuple(floating(a) if isinstance(a, Tensor) else a for a in args)
        return fn(*args, **kwargs)

    if name is not None:
        wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _unary(name: str, forward: Callable, derivative: Callable, doc: str) -> Callable[..., Tensor]:
    """A differentiable one-input op (:func:`neuralab.ops.unary._smooth`) with torch's promotion."""
    return promoting(_smooth(name, forward, derivative, doc))


# ----------------------------------------------------------------------------- differentiable


entr = _unary(
    "entr", sp.entr, lambda x, y: -(1 + np.log(x)), "-x log x for x > 0, 0 at 0, -inf below."
)
erfcx = _unary(
    "erfcx", sp.erfcx, lambda x, y: 2 * x * y - _TWO_BY_SQRT_PI, "exp(x²) erfc(x), scaled."
)
ndtr = _unary(
    "ndtr", sp.ndtr, lambda x, y: np.exp(-0.5 * x * x) / _SQRT_2PI, "The standard normal CDF."
)
ndtri = _unary(
    "ndtri", sp.ndtri, lambda x, y: _SQRT_2PI * np.exp(0.5 * y * y), "The inverse of ndtr."
)
log_ndtr = _unary(
    "log_ndtr",
    sp.log_ndtr,
    lambda x, y: np.exp(-(0.5 * x * x + y)) / _SQRT_2PI,
    "log(ndtr(x)), accurate far into the left tail.",
)
i0e = _unary(
    "i0e", sp.i0e, lambda x, y: sp.i1e(x) - np.sign(x) * y, "exp(-|x|) I0(x), scaled Bessel."
)
i1 = _unary(
    "i1",
    sp.i1,
    lambda x, y: np.where(x == 0, 0.5, sp.i0(x) - y / x),
    "Modified Bessel function of the first kind, order 1.",
)
i1e = _unary(
    "i1e",
    sp.i1e,
    lambda x, y: np.where(x == 0, 0.5, sp.i0e(x) - y * (np.sign(x) + 1 / x)),
    "exp(-|x|) I1(x), scaled Bessel.",
)


def _polygamma(n: int, x: np.ndarray) -> np.ndarray:
    return sp.digamma(x) if n == 0 else sp.polygamma(n, x)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma (n = 0 is digamma itself); its gradient is polygamma(n+1)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    op = _unary(
        "polygamma",
        functools.partial(_polygamma, n),
        lambda x, y: _polygamma(n + 1, x),
        polygamma.__doc__,
    )
    return op(input)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension ``p``: Σⱼ lgamma(x - j/2) + const."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    halves = [j / 2 for j in range(p)]
    const = p * (p - 1) / 4 * _LOG_PI
    op = _unary(
        "multigammaln",
        lambda x: sum(sp.gammaln(x - h) for h in halves) + const,
        lambda x, y: sum(sp.digamma(x - h) for h in halves),
        multigammaln.__doc__,
    )
    return op(input)


def _binary(
    name: str, forward: Callable, partials: tuple[Partial | None, Partial | None], doc: str
) -> Callable[..., Tensor]:
    """A broadcasting two-input op; a partial given as None raises if the backward needs it
    (torch's "the derivative ... is not implemented")."""

    def op(input: Any, other: Any) -> Tensor:
        a, b = coerce(input, other)
        a, b = floating(a), floating(b)
        x, y = a._data, b._data
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(forward(x, y), promote_types(x.dtype, y.dtype))

        def grad(parent: Tensor, which: str, partial: Partial | None, g: np.ndarray) -> Any:
            if not parent.requires_grad:
                return None
            if partial is None:
                raise NotImplementedError(
                    f"{name}: the derivative for '{which}' is not implemented"
                )
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                d = g * partial(x, y, out)
            return unbroadcast(d, parent.shape).astype(parent._data.dtype, copy=False)

        def backward(g: np.ndarray) -> tuple:
            return grad(a, "input", partials[0], g), grad(b, "other", partials[1], g)

        return make(out, (a, b), backward)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _gammainc_slope(a: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """d/dx of the regularized lower incomplete gamma P(a, x)."""
    return np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))


xlog1py = _binary(
    "xlog1py",
    sp.xlog1py,
    (
        lambda x, y, o: np.where((x == 0) & (y <= -1), 0, np.log1p(y)),
        lambda x, y, o: x / (1 + y),
    ),
    "input * log1p(other), and 0 where input is 0 (unless other is NaN).",
)
zeta = _binary(
    "zeta",
    sp.zeta,
    (None, lambda x, q, o: -x * sp.zeta(x + 1, q)),
    "The Hurwitz zeta function Σₖ (k + other)^-input; differentiable in ``other`` only.",
)
gammainc = _binary(
    "gammainc",
    sp.gammainc,
    (None, _gammainc_slope),
    "The regularized lower incomplete gamma P(input, other); differentiable in ``other`` only.",
)
gammaincc = _binary(
    "gammaincc",
    sp.gammaincc,
    (None, lambda a, x, o: -_gammainc_slope(a, x, o)),
    "The regularized upper incomplete gamma Q(input, other); differentiable in ``other`` only.",
)


# ----------------------------------------------------------------------------- no gradient


def _forward_only(name: str, forward: Callable, doc: str) -> Callable[..., Tensor]:
    """A one-input op torch gives no gradient: the result is outside the graph, as torch's."""

    def op(input: Tensor) -> Tensor:
        x = floating(to_tensor(input))._data
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return constant(np.asarray(forward(x), x.dtype))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


airy_ai = _forward_only("airy_ai", lambda x: sp.airy(x)[0], "The Airy function Ai(x).")
bessel_j0 = _forward_only("bessel_j0", sp.j0, "Bessel function of the first kind, order 0.")
bessel_j1 = _forward_only("bessel_j1", sp.j1, "Bessel function of the first kind, order 1.")
bessel_y0 = _forward_only("bessel_y0", sp.y0, "Bessel function of the second kind, order 0.")
bessel_y1 = _forward_only("bessel_y1", sp.y1, "Bessel function of the second kind, order 1.")
modified_bessel_i0 = _forward_only("modified_bessel_i0", sp.i0, "Modified Bessel I0.")
modified_bessel_i1 = _forward_only("modified_bessel_i1", sp.i1, "Modified Bessel I1.")
modified_bessel_k0 = _forward_only("modified_bessel_k0", sp.k0, "Modified Bessel K0.")
modified_bessel_k1 = _forward_only("modified_bessel_k1", sp.k1, "Modified Bessel K1.")
scaled_modified_bessel_k0 = _forward_only(
    "scaled_modified_bessel_k0", sp.k0e, "exp(x) K0(x), scaled modified Bessel."
)
scaled_modified_bessel_k1 = _forward_only(
    "scaled_modified_bessel_k1", sp.k1e, "exp(x) K1(x), scaled modified Bessel."
)
spherical_bessel_j0 = _forward_only(
    "spherical_bessel_j0", lambda x: sp.spherical_jn(0, x), "sin(x) / x, 1 at 0."
)


# ----------------------------------------------------------------------------- polynomials

# torch returns NaN for Hermite polynomials above these degrees (its recurrence's limit)
_HERMITE_LIMIT = {np.dtype(np.float32): 128, np.dtype(np.float64): 512}


def _chebyshev_vw(sign: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Chebyshev V (sign -1) or W (sign +1) of the third and fourth kinds: U_n ± U_{n-1}."""

    def evaluate(n: np.ndarray, x: np.ndarray) -> np.ndarray:
        below = np.where(n > 0, sp.eval_chebyu(np.maximum(n - 1, 0), x), 0.0)
        return sp.eval_chebyu(n, x) + sign * below

    return evaluate


def _polynomial(
    name: str, evaluate: Callable, shifted: bool = False, hermite: bool = False
) -> Callable[..., Tensor]:
    """``name(input, n)``: a degree-n polynomial family at ``input`` (either may be a number).
    As torch: n is truncated to an integer, a negative one gives 0, and there is no gradient."""

    def op(input: Any, n: Any) -> Tensor:
        a, b = coerce(input, n)
        dtype = promote_types(a._data.dtype, b._data.dtype)
        dtype = dtype if dtype.kind == "f" else get_default_dtype()
        x, k = np.broadcast_arrays(a._data.astype(np.float64), b._data)
        if k.dtype.kind == "f":
            k = np.where(np.isfinite(k), k.astype(dtype), -1)
        k = k.astype(np.int64)
        x = 2 * x - 1 if shifted else x
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.where(k < 0, 0.0, evaluate(np.maximum(k, 0), x))
        if hermite:
            out = np.where(k > _HERMITE_LIMIT.get(dtype, 1024), np.nan, out)
        return constant(np.asarray(out, dtype))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.special.{name}: the polynomial of degree ``n`` at ``input`` (no gradient)."
    return op


_chebyshev_v = _chebyshev_vw(-1)
_chebyshev_w = _chebyshev_vw(+1)

chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", sp.eval_chebyt)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", sp.eval_chebyu)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _chebyshev_v)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _chebyshev_w)
# the shifted families: the same polynomials at 2x - 1 (orthogonal on [0, 1])
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", sp.eval_chebyt, True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", sp.eval_chebyu, True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", _chebyshev_v, True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", _chebyshev_w, True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", sp.eval_hermite, hermite=True)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", sp.eval_hermitenorm, hermite=True)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", sp.eval_laguerre)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", sp.eval_legendre)
