"""Einstein summation with gradients: the forward is ``np.einsum``; each operand's gradient is
another einsum of the output gradient with the other operands, broadcast over the labels only
that operand has and put back on the diagonal where its subscripts repeat a label."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.tensor import Tensor, make


def _parse(equation: str, ndims: Sequence[int]) -> tuple[list[str], str]:
    """Explicit subscripts per operand and for the output, with every ``...`` spelled out."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(subs)} operands, got {len(ndims)}"
        )
    spare = [c for c in string.ascii_letters if c not in eq]
    widths = [nd - len(s.replace("...", "")) if "..." in s else 0 for s, nd in zip(subs, ndims)]
    ell = "".join(spare[: max(widths, default=0)])
    inputs = []
    for k, (s, nd, w) in enumerate(zip(subs, ndims, widths)):
        bad = set(s.replace("...", "")) - set(string.ascii_letters)
        if bad or s.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {s!r} for operand {k}")
        full = s.replace("...", ell[len(ell) - w :] if w > 0 else "")
        if len(full) != nd or w < 0:
            raise ValueError(
                f"einsum: operand {k} has {nd} dimensions but its subscripts {s!r} name "
                f"{len(s.replace('...', ''))}"
            )
        inputs.append(full)
    if arrow:
        output = out.replace("...", ell)
    else:
        letters = "".join(s.replace("...", "") for s in subs)
        output = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    unknown = set(output) - set("".join(inputs))
    if unknown or len(set(output)) != len(output):
        raise ValueError(f"einsum: invalid output subscripts {out!r} in {equation!r}")
    return inputs, output


# A product of two operands goes to BLAS (NumPy's optimize=True: tensordot) from this many
# multiply-adds, when it is a matrix product: a summed label in both, and a label of each that
# the other lacks. NumPy's own loops ran such a product 3-9x slower than torch (attention's
# 'bhqd,bhkd->bhqk' at 32x4x64x32: 10.9 ms, torch 3.2, BLAS 3.5); below this size, and for
# row-wise dots ('ij,ij->i'), the path search's ~30 µs and the copies cost more than they save.
BLAS_WORK = 1 << 18


def _optimize(inputs: Sequence[str], output: str, arrays: Sequence[np.ndarray]) -> bool:
    """Whether ``np.einsum`` should plan its contraction (BLAS) rather than loop itself."""
    if len(arrays) > 2:
        return True
    if len(arrays) < 2:
        return False
    sizes: dict[str, int] = {}
    for subs, x in zip(inputs, arrays):
        sizes.update(zip(subs, x.shape))
    a, b = set(inputs[0]), set(inputs[1])
    summed = (a & b) - set(output)
    matrix = bool(summed) and bool(a - b) and bool(b - a)
    return matrix and int(np.prod(list(sizes.values()), dtype=np.float64)) >= BLAS_WORK


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the labels the ``equation`` names (torch.einsum, '...' included)."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum: every operand must be a Tensor")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: operands must share one dtype, got {sorted(map(str, dtypes))}")
    arrays = [t._data for t in operands]
    inputs, output = _parse(equation, [x.ndim for x in arrays])
    try:
        out = np.einsum(
            f"{','.join(inputs)}->{output}", *arrays, optimize=_optimize(inputs, output, arrays)
        )
    except ValueError as e:
        raise ValueError(f"einsum: shapes {[x.shape for x in arrays]} do not fit: {e}") from None

    def backward(g: np.ndarray) -> tuple:
        return tuple(
            _operand_grad(k, inputs, output, arrays, g) if t.requires_grad else None
            for k, t in enumerate(operands)
        )

    return make(np.asarray(out), tuple(operands), backward)


def _operand_grad(
    k: int, inputs: list[str], output: str, arrays: list[np.ndarray], g: np.ndarray
) -> np.ndarray:
    """d(sum(g * einsum(...))) / d(arrays[k])."""
    subs, x = inputs[k], arrays[k]
    labels = "".join(dict.fromkeys(subs))  # unique, in order
    sizes = {c: x.shape[subs.index(c)] for c in labels}
    others = [(s, a) for j, (s, a) in enumerate(zip(inputs, arrays)) if j != k]
    seen = set(output).union(*(s for s, _ in others))
    target = "".join(c for c in labels if c in seen)
    subscripts, operands = [output, *(s for s, _ in others)], [g, *(a for _, a in others)]
    spec = ",".join(subscripts) + "->" + target
    grad = np.einsum(spec, *operands, optimize=_optimize(subscripts, target, operands))
    # labels only this operand has were summed in the forward: the gradient is constant along them
    grad = grad.reshape([grad.shape[target.index(c)] if c in target else 1 for c in labels])
    shrink = tuple(i for i, c in enumerate(labels) if sizes[c] == 1 and grad.shape[i] != 1)
    if shrink:
        grad = grad.sum(axis=shrink, keepdims=True)
    grad = np.broadcast_to(grad, [sizes[c] for c in labels])
    if len(labels) == len(subs):
        return np.ascontiguousarray(np.transpose(grad, [labels.index(c) for c in subs]))
    full = np.zeros(x.shape, g.dtype)  # a repeated label: only the diagonal was read
    ranges = [np.arange(sizes[c]).reshape([-1 if d == c else 1 for d in labels]) for c in subs]
    full[tuple(ranges)] = grad
    return full
