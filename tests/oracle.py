"""Test helper: run the same function in neuralab and PyTorch and compare values and gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

import neuralab as nl

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


def _flat(out):
    return list(out) if isinstance(out, list | tuple) else [out]


def compare(
    ours: Callable,
    theirs: Callable,
    arrays: Sequence[np.ndarray],
    dtype=np.float32,
    grad: Sequence[bool] | None = None,
    seed: int = 0,
    tol: dict | None = None,
) -> None:
    """Assert forward values and each float input's gradient agree with torch's."""
    tol = tol or TOL[dtype]
    rng = np.random.default_rng(seed)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    grad = grad or [a.dtype.kind == "f" for a in arrays]
    ours_in = [nl.Tensor(a.copy(), dtype=a.dtype, requires_grad=g) for a, g in zip(arrays, grad)]
    theirs_in = [torch.tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grad)]
    out_o = _flat(ours(*ours_in))
    out_t = _flat(theirs(*theirs_in))
    assert len(out_o) == len(out_t)
    total_o, total_t = None, None
    for o, t in zip(out_o, out_t):
        t_np = t.detach().numpy()
        assert o.shape == tuple(t_np.shape), (o.shape, t_np.shape)
        assert o.dtype == t_np.dtype, (o.dtype, t_np.dtype)
        np.testing.assert_allclose(o.numpy(), t_np, **tol)
        if o.requires_grad:
            g = rng.standard_normal(o.shape).astype(o.dtype)
            term_o = (o * nl.Tensor(g, dtype=g.dtype)).sum()
            term_t = (t * torch.tensor(g)).sum()
            total_o = term_o if total_o is None else total_o + term_o
            total_t = term_t if total_t is None else total_t + term_t
    if total_o is None:
        return
    total_o.backward()
    total_t.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if not b.requires_grad:
            continue
        expected = np.zeros(a.shape, dtype=a.dtype) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape, dtype=a.dtype) if a.grad is None else a.grad.numpy()
        assert got.dtype == a.dtype, f"input {i}: grad dtype {got.dtype} != {a.dtype}"
        np.testing.assert_allclose(got, expected, err_msg=f"gradient of input {i}", **tol)
