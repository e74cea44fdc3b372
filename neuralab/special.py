"""neuralab.special, the counterpart of torch.special: every function of it, under its names.

The ones neuralab already has (erf, lgamma, digamma, sigmoid, the softmax family, ...) are
exposed under torch.special's names with torch's promotion of integer inputs; the rest live in
:mod:`neuralab.ops.special_functions`.
"""

from __future__ import annotations

from typing import Any

from neuralab.ops import activation, arith, reduce, unary
from neuralab.ops.special_functions import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    entr,
    erfcx,
    floating,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    i0e,
    i1,
    i1e,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    log_ndtr,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    multigammaln,
    ndtr,
    ndtri,
    polygamma,
    promoting,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    xlog1py,
    zeta,
)
from neuralab.tensor import Tensor

# neuralab's own functions under torch.special's names (torch.special name = neuralab function)
digamma = promoting(unary.digamma, "digamma")
psi = promoting(unary.digamma, "psi")
gammaln = promoting(unary.lgamma, "gammaln")
erf = promoting(unary.erf, "erf")
erfc = promoting(unary.erfc, "erfc")
erfinv = promoting(unary.erfinv, "erfinv")
exp2 = promoting(unary.exp2, "exp2")
expm1 = promoting(unary.expm1, "expm1")
log1p = promoting(unary.log1p, "log1p")
expit = promoting(activation.sigmoid, "expit")
i0 = promoting(unary.i0, "i0")
sinc = promoting(unary.sinc, "sinc")
logit = promoting(unary.logit, "logit")
xlogy = promoting(arith.xlogy, "xlogy")
round = unary.round  # noqa: A001  (torch.special.round: half to even, ``decimals=`` too)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(Σ exp(input)) over ``dim``, stable for large values; integers give the default float."""
    return reduce.logsumexp(floating(input), dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim`` (the input cast to ``dtype`` first, if given)."""
    return activation.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, as x - logsumexp(x) (cast to ``dtype`` first, if given)."""
    return activation.log_softmax(input, dim, dtype=dtype)


__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
    "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
    "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e",
    "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit",
    "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py",
    "xlogy", "zeta",
]  # fmt: skip
