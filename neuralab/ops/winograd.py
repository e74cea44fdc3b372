"""Winograd F(2×2, 3×3): a 3×3, stride-1 convolution in 16 multiply-adds per 2×2 output tile
instead of im2col's 36, as 16 products whose inner size is the input channel count.

:mod:`neuralab.ops.conv` runs its forward and its input gradient (a 3×3, stride-1 convolution
of the output gradient with the flipped, transposed kernel) this way where :func:`suits` says,
with the compiled kernels of :mod:`neuralab.compiled.winograd`, and then the weight gradient
too, as the adjoint of the same transforms. Float32 only; the rounding differs from im2col's by
a few units in the last place.
"""

from __future__ import annotations

import numpy as np

from neuralab.compiled import load
from neuralab.parallel import parallel_for

# Samples are transformed and multiplied this many bytes of tiles (V and M) at a time: ~L2.
BLOCK_BYTES = 640 * 1024
# Below this many input or output channels im2col + GEMM was measured faster (an RGB input)...
MIN_CHANNELS = 16
# ...except from 8 channels on planes of LARGE_PIXELS and more, where Winograd gains 1.1-1.6x
# forward and backward (8 -> 8 at 28x28 1.15x, 16 -> 8 at 32x32 1.5x; 8 -> 16 at 16x16 0.9x).
MIN_CHANNELS_LARGE = 8
LARGE_PIXELS = 28 * 28
# Smaller images only above 64 input channels: 2x2 tiles of an 8x8 plane waste a fifth.
MIN_PIXELS = 256


def suits(dtype: np.dtype, c_in: int, c_out: int, out_hw: tuple[int, int]) -> bool:
    """Whether a 3×3, stride-1, ungrouped convolution with these channels and output size
    (padding at most 2 before the image) runs faster as Winograd here (measured on this CPU:
    1.1-2.1x for 16-128 channels, slower for an RGB input or 16-32 channels on an 8x8 plane;
    8-15 channels 1.1-1.6x from 28x28 planes on, 0.9x at 16x16)."""
    pixels, channels = out_hw[0] * out_hw[1], min(c_in, c_out)
    if dtype != np.float32 or channels < MIN_CHANNELS_LARGE:
        return False
    if channels < MIN_CHANNELS and pixels < LARGE_PIXELS:
        return False
    if pixels < MIN_PIXELS and c_in < 64:
        return False
    return load("neuralab.compiled.winograd") is not None


def weight_tiles(w: np.ndarray, flip: bool = False) -> np.ndarray:
    """(16, out, in): position ξ of G g Gᵀ for every 3×3 kernel g of ``w`` (out, in, 3, 3); with
    ``flip``, (16, in, out) of the kernels turned by 180°: the input gradient's convolution."""
    outs, ins = w.shape[:2]
    u = np.empty((16, ins, outs) if flip else (16, outs, ins), np.float32)
    load("neuralab.compiled.winograd").kernel_tiles(w.astype(np.float32, copy=False), flip, u)
    return u


def conv3x3(
    x: np.ndarray,
    u: np.ndarray,
    bias: np.ndarray | None,
    before: tuple[int, int],
    out_hw: tuple[int, int],
    work: float,
    grain: float,
) -> np.ndarray:
    """The (N, out, *out_hw) correlation of NCHW ``x`` with the kernels transformed to ``u``,
    ``before`` rows and columns of zero padding above and left of x (zeros past its far edges);
    samples split over threads as :func:`neuralab.parallel.parallel_for` (``work``, ``grain``)."""
    kernels = load("neuralab.compiled.winograd")
    x = np.ascontiguousarray(x, np.float32)
    y = np.empty((x.shape[0], u.shape[1], *out_hw), np.float32)
    per = _samples_per_block(x.shape[1], u.shape[1], out_hw)
    b = np.zeros(0, np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)

    def chunk(lo: int, hi: int) -> None:
        kernels.conv3x3(x, u, b, *before, y, lo, hi, min(per, hi - lo))

    parallel_for(x.shape[0], chunk, work, grain=grain)
    return y


def weight_grad(
    x: np.ndarray, g: np.ndarray, before: tuple[int, int], work: float, grain: float
) -> np.ndarray:
    """dL/dW (out, in, 3, 3) of :func:`conv3x3` from its input ``x`` and output gradient ``g``:
    Gᵀ dU G, where dU[ξ] sums every tile's (A dY Aᵀ)[ξ] times its input tile's (Bᵀ d B)[ξ]."""
    kernels = load("neuralab.compiled.winograd")
    x, g = np.ascontiguousarray(x, np.float32), np.ascontiguousarray(g, np.float32)
    (n, ins), outs = x.shape[:2], g.shape[1]
    per = _samples_per_block(ins, outs, g.shape[2:])
    parts: dict[int, np.ndarray] = {}

    def chunk(lo: int, hi: int) -> None:
        parts[lo] = np.zeros((16, outs, ins), np.float32)
        kernels.weight_grad(x, g, *before, parts[lo], lo, hi, min(per, hi - lo))

    parallel_for(n, chunk, work, grain=grain)
    dw = np.empty((outs, ins, 3, 3), np.float32)
    kernels.kernel_grad(sum(parts[lo] for lo in sorted(parts)), dw)  # Gᵀ dU G
    return dw


def _samples_per_block(ins: int, outs: int, out_hw: tuple[int, ...]) -> int:
    """How many samples' tiles (16 positions, in and out channels, float32) fit BLOCK_BYTES."""
    tiles = (out_hw[0] + 1) // 2 * ((out_hw[1] + 1) // 2 + 1)  # each row has one extra tile
    return max(1, BLOCK_BYTES // (16 * 4 * (ins + outs) * tiles))
