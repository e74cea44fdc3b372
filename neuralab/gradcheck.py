"""Finite-difference check of an op's analytical gradients (central differences in float64)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neuralab.tensor import Tensor, float64


class GradcheckError(AssertionError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    *,
    raise_exception: bool = True,
) -> bool:
    """Compare backward's gradients of ``fn`` with central differences, in float64.

    Each float input (one tensor, or a sequence as torch.autograd.gradcheck takes) is copied to
    float64. The outputs are projected onto a fixed random direction v, so one backward gives
    vᵀJ; every input element is then perturbed by ±eps and the same projection differenced. On
    a mismatch the error names the input, the element and both values (or, with
    ``raise_exception=False``, False is returned). Returns True when everything agrees.
    """
    try:
        return _gradcheck(fn, [inputs] if isinstance(inputs, Tensor) else inputs, eps, atol,
                          rtol, seed)  # fmt: skip
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence[Tensor],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
) -> bool:
    """:func:`gradcheck` on a sequence of inputs, raising on the first mismatch."""
    inputs = [
        Tensor(t._data.astype(float64), dtype=float64, requires_grad=t.requires_grad)
        if isinstance(t, Tensor) and t._data.dtype.kind == "f"
        else t
        for t in inputs
    ]
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    directions = [rng.standard_normal(o.shape) for o in outs]

    def projected() -> float:
        return float(sum((o._data * v).sum() for o, v in zip(_outputs(fn(*inputs)), directions)))

    total = None
    for o, v in zip(outs, directions):
        if o.requires_grad:
            term = (o * Tensor(v, dtype=float64)).sum()
            total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output requires grad; mark an input requires_grad")
    total.backward()
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            continue
        analytical = np.zeros(t.shape) if t.grad is None else t.grad._data
        flat = t._data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            up = projected()
            flat[j] = orig - eps
            down = projected()
            flat[j] = orig
            numerical = (up - down) / (2 * eps)
            got = analytical.reshape(-1)[j]
            if not abs(got - numerical) <= atol + rtol * abs(numerical):
                element = np.unravel_index(j, t.shape) if t.shape else ()
                raise GradcheckError(
                    f"gradcheck: input {i}, element {tuple(int(k) for k in element)}: "
                    f"analytical gradient {got:.8g} != numerical {numerical:.8g}"
                )
    return True


def _outputs(out: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]
