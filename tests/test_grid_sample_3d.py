"""5-D F.grid_sample (trilinear and nearest) and F.affine_grid: values and gradients against
torch's."""

import zlib

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl
import neuralab.nn.functional as F

SHAPE = (2, 3, 4, 5, 6)  # N, C, D, H, W
GRID = (2, 3, 4, 5, 3)  # N, D_out, H_out, W_out, (x, y, z)
TIGHT = dict(rtol=1e-5, atol=1e-6)  # float32 values and gradients to the input


def _grid(rng: np.random.Generator, mode: str) -> np.ndarray:
    """Random points, some outside [-1, 1]; for nearest, kept off the rounding boundaries so
    float32 rounding cannot pick another voxel than torch."""
    grid = rng.uniform(-1.4, 1.4, GRID)
    if mode == "nearest":
        grid = np.round(grid * 20) / 20 + 0.01  # never a half-voxel for sizes 4, 5 and 6
    return grid


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_matches_torch(mode, padding, align):
    rng = np.random.default_rng(zlib.crc32(repr((mode, padding, align)).encode()))
    volume, grid = rng.standard_normal(SHAPE), _grid(rng, mode)
    kw = dict(mode=mode, padding_mode=padding, align_corners=align)

    def ours(x, g):
        return F.grid_sample(x, g, **kw)

    def theirs(x, g):
        return torch.nn.functional.grid_sample(x, g, **kw)

    # values and the input's gradient to float32 precision
    compare(ours, theirs, [volume, grid], np.float32, grad=[True, False], tol=TIGHT)
    # the grid's gradient sums cancelling differences of voxels: looser in float32
    compare(ours, theirs, [volume, grid], np.float32, tol=dict(rtol=1e-4, atol=1e-4))
    compare(ours, theirs, [volume, grid], np.float64)


def test_nearest_gives_the_grid_a_zero_gradient_as_torch():
    grid = nl.tensor(np.zeros(GRID, np.float32), requires_grad=True)
    out = F.grid_sample(nl.randn(*SHAPE), grid, mode="nearest", align_corners=False)
    out.sum().backward()
    assert not grid.grad.numpy().any()


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_5d_matches_torch_with_its_theta_gradient(align):
    theta = np.random.default_rng(3).standard_normal((2, 3, 4))
    for dtype, tol in ((np.float32, TIGHT), (np.float64, None)):
        compare(
            lambda t: F.affine_grid(t, SHAPE, align_corners=align),
            lambda t: torch.nn.functional.affine_grid(t, SHAPE, align_corners=align),
            [theta],
            dtype,
            tol=tol,
        )


@pytest.mark.parametrize("align", [False, True])
def test_the_identity_transform_reads_the_volume_back(align):
    volume = nl.randn(*SHAPE)
    theta = nl.tensor([np.eye(3, 4, dtype=np.float32)] * 2)
    grid = F.affine_grid(theta, volume.shape, align_corners=align)
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(volume, grid, mode=mode, align_corners=align)
        np.testing.assert_allclose(out.numpy(), volume.numpy(), atol=1e-5)


def test_bicubic_on_a_volume_raises_like_torch():
    volume, grid = np.zeros((1, 1, 2, 2, 2), np.float32), np.zeros((1, 1, 1, 1, 3), np.float32)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4"):
        torch.nn.functional.grid_sample(
            torch.tensor(volume), torch.tensor(grid), mode="bicubic", align_corners=False
        )
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4"):
        F.grid_sample(nl.tensor(volume), nl.tensor(grid), mode="bicubic", align_corners=False)


def test_bad_5d_arguments_say_what_is_wrong():
    volume = nl.randn(*SHAPE)
    with pytest.raises(ValueError, match=r"\(N, D_out, H_out, W_out, 3\) with the input's N=2"):
        F.grid_sample(volume, nl.zeros(2, 1, 1, 1, 2), align_corners=False)
    with pytest.raises(ValueError, match=r"5-D input .* shapes \(2, 3, 4, 5, 6\) and \(2, 1, 3\)"):
        F.grid_sample(volume, nl.zeros(2, 1, 3), align_corners=False)
    with pytest.raises(ValueError, match=r"shape \(2, 3, 4\) for size \(2, 3, 4, 5, 6\)"):
        F.affine_grid(nl.zeros(2, 2, 3), SHAPE, align_corners=False)
    with pytest.raises(NotImplementedError, match="5-D sizes"):
        F.affine_grid(nl.zeros(2, 3, 4), (*SHAPE, 7), align_corners=False)
