"""A convolution on small planes as one GEMM over the whole batch (im2col side by side).

The per-sample products of :class:`neuralab.ops.conv._Im2colConv` are ``W @ cols`` with a few
columns each when the output plane is small (16 for 4×4): BLAS then packs the whole weight
again for every sample, and a 512 → 512 convolution on 4×4 planes ran at a third of torch's
speed. Here the columns of all samples sit side by side, ``(C·kh·kw, N·OH·OW)``, so each
direction is one product that packs the weight once: forward ``W @ cols``, weight gradient
``grad @ colsᵀ``, input gradient ``Wᵀ @ grad`` then col2im. The price is a transpose copy of the
columns and of the output, small on such planes. Ungrouped convolutions only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._window import col2im, im2col
from neuralab.ops.matmul import pmatmul
from neuralab.parallel import parallel_for

# The path pays where BLAS would pack a large weight again for every sample: output planes of
# up to SMALL_PIXELS (4×4) with a weight of SMALL_WEIGHT elements or more, and planes of up to
# MAX_PIXELS (8×8) with LARGE_WEIGHT or more. Measured on this CPU, 1 thread, batch 32, forward
# and backward against torch: 512 -> 512 3×3 on 4×4 0.40x per sample, 1.46x here; 256 -> 256 on
# 8×8 0.97x and 1.12x; but 32 -> 64 on 8×8 (a 74 KB weight) 1.0x and 0.85x, and weights under
# 256 KB on 4×4 planes alike either way.
SMALL_PIXELS, SMALL_WEIGHT = 16, 1 << 16
MAX_PIXELS, LARGE_WEIGHT = 64, 1 << 18


def suits(n: int, groups: int, rows: int, k: int, pixels: int) -> bool:
    """Whether a convolution of ``n`` samples, a weight of ``rows`` output channels by ``k``
    (C·kh·kw) and ``pixels`` output pixels per sample runs as one batch-wide product."""
    if groups != 1 or n < 2 or rows < pixels or pixels > MAX_PIXELS:
        return False
    return rows * k >= (SMALL_WEIGHT if pixels <= SMALL_PIXELS else LARGE_WEIGHT)


def side_by_side(x: np.ndarray) -> np.ndarray:
    """Per-sample matrices x (N, C, P) as one (C, N·P) matrix: sample i's are columns i·P.."""
    n, c, p = x.shape
    return np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(c, n * p)


def product_per_sample(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a @ x[i]`` for every sample of x (N, C, P), as one product: (N, M, P), C-contiguous."""
    n, _, p = x.shape
    out = pmatmul(a, side_by_side(x)).reshape(a.shape[0], n, p)
    return np.ascontiguousarray(out.transpose(1, 0, 2))


def summed_outer(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Σ_i x[i] @ g[i]ᵀ over the samples of x (N, C, P) and g (N, M, P), as one product: (C, M)."""
    return pmatmul(side_by_side(x), side_by_side(g).T)


class WideConv:
    """One convolution call as batch-wide products: the forward, and the backward it keeps.

    Samples are split over threads in contiguous chunks (:func:`neuralab.parallel.parallel_for`,
    ``grain``), each chunk one product per direction; with ``keep`` the forward's columns stay,
    as one (C·kh·kw, N, OH·OW) array, for the weight gradient.
    """

    def __init__(self, shape: Any, xd: np.ndarray, wd: np.ndarray, keep: bool, grain: float):
        s = self.shape = shape
        self.xd, self.k, self.p, self.grain = xd, s.k, s.p, grain
        self.w2 = wd.reshape(s.cout, s.k)
        self.work = s.n * s.cout * s.k * s.p  # the forward's multiply-adds
        self.kept = np.empty((s.k, s.n, s.p), xd.dtype) if keep else None
        self.built = False  # whether kept holds the columns yet

    def columns(self, lo: int, hi: int) -> np.ndarray:
        """The (C·kh·kw, (hi-lo)·OH·OW) columns of samples lo..hi, side by side."""
        s, k = self.shape, self.k
        if self.built:
            return self.kept[:, lo:hi].reshape(k, -1)
        if s.pointwise:
            per_sample = self.xd[lo:hi].reshape(hi - lo, k, self.p)
        else:
            cols = im2col(self.xd[lo:hi], s.kernel, s.stride, s.dilation, s.out_hw, s.before)
            per_sample = cols.reshape(hi - lo, k, self.p)
        if self.kept is None:
            return side_by_side(per_sample)
        np.copyto(self.kept[:, lo:hi], per_sample.transpose(1, 0, 2))
        return self.kept[:, lo:hi].reshape(k, -1)

    def forward(self, bias: np.ndarray | None) -> np.ndarray:
        """The (N, C_out, OH, OW) output."""
        s = self.shape
        out = np.empty((s.n, s.cout, *s.out_hw), self.xd.dtype)
        flat = out.reshape(s.n, s.cout, self.p)

        def chunk(lo: int, hi: int) -> None:
            product = self.w2 @ self.columns(lo, hi)
            product = product.reshape(s.cout, hi - lo, self.p).transpose(1, 0, 2)
            if bias is None:
                np.copyto(flat[lo:hi], product)
            else:
                np.add(product, bias[:, None], out=flat[lo:hi])

        parallel_for(s.n, chunk, self.work, grain=self.grain)
        self.built = self.kept is not None
        return out

    def backward(
        self, g4: np.ndarray, need_x: bool, need_w: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(input gradient (N, C, H, W), weight gradient (out, C·kh·kw)), each or None."""
        s = self.shape
        gx = np.empty((s.n, s.c, s.h, s.w), self.xd.dtype) if need_x else None
        parts: dict[int, np.ndarray] = {}

        def chunk(lo: int, hi: int) -> None:
            grad = side_by_side(g4[lo:hi].reshape(hi - lo, s.cout, self.p))
            if need_w:
                parts[lo] = grad @ self.columns(lo, hi).T
            if gx is not None:
                self.input_grad(grad, gx[lo:hi])

        parallel_for(s.n, chunk, (int(need_w) + int(need_x)) * self.work, grain=self.grain)
        gw = sum(parts[lo] for lo in sorted(parts)) if parts else None
        return gx, gw

    def input_grad(self, grad: np.ndarray, gx: np.ndarray) -> None:
        """``gx`` (a chunk of samples) = col2im(Wᵀ @ grad) for the chunk's side-by-side
        output gradient ``grad`` (C_out, samples·OH·OW)."""
        s, m = self.shape, gx.shape[0]
        gcols = (self.w2.T @ grad).reshape(self.k, m, self.p).transpose(1, 0, 2)
        if s.pointwise:
            np.copyto(gx.reshape(m, self.k, self.p), gcols)
            return
        gcols = np.ascontiguousarray(gcols).reshape(m, s.c, *s.kernel, *s.out_hw)
        col2im(gcols, (s.h, s.w), s.stride, s.dilation, s.before, gx)
