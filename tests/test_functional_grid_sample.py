"""F.affine_grid and F.grid_sample: values and gradients (image and grid) against torch's."""

import warnings
import zlib

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl
import neuralab.nn.functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("hw", [(5, 7), (1, 4), (6, 1)])
def test_grid_sample_matches_torch(mode, padding, align, hw, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((mode, padding, align, hw)).encode()))
    image = rng.standard_normal((2, 3, *hw))
    grid = rng.uniform(-1.4, 1.4, (2, 4, 5, 2))  # points outside the image too
    kw = dict(mode=mode, padding_mode=padding, align_corners=align)
    # a one-pixel-wide image makes bicubic's slope along that axis a sum of four equal values
    # with weights that cancel: float32 leaves residues of a few 1e-6 on either side of zero
    tol = dict(rtol=1e-4, atol=5e-5) if mode == "bicubic" and dtype == np.float32 else None
    compare(
        lambda x, g: F.grid_sample(x, g, **kw),
        lambda x, g: torch.nn.functional.grid_sample(x, g, **kw),
        [image, grid],
        dtype,
        tol=tol,
    )


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_matches_torch_and_keeps_the_dtype(align):
    theta = np.random.default_rng(1).standard_normal((3, 2, 3))
    for dtype in (np.float32, np.float64):
        compare(
            lambda t: F.affine_grid(t, (3, 2, 5, 4), align_corners=align),
            lambda t: torch.nn.functional.affine_grid(t, (3, 2, 5, 4), align_corners=align),
            [theta],
            dtype,
        )
        grid = F.affine_grid(nl.tensor(theta.astype(dtype)), (3, 2, 5, 4), align_corners=align)
        assert grid.dtype == nl.tensor(theta.astype(dtype)).dtype


@pytest.mark.parametrize("align", [False, True])
def test_the_identity_transform_reads_the_image_back(align):
    image = nl.randn(2, 3, 6, 5)
    theta = nl.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2)
    grid = F.affine_grid(theta, image.shape, align_corners=align)
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(image, grid, mode=mode, align_corners=align)
        np.testing.assert_allclose(out.numpy(), image.numpy(), atol=1e-5)


def test_a_shift_moves_the_image_and_the_theta_gradient_says_which_way():
    # a bright column at x = 2 of 5, sampled one pixel to the right (tx = 2/5 with 5 columns):
    # the output's column 1 is bright; pushing tx further right moves brightness to column 0
    image = np.zeros((1, 1, 4, 5), np.float32)
    image[..., 2] = 1.0
    theta = nl.tensor([[[1.0, 0.0, 0.4], [0.0, 1.0, 0.0]]], requires_grad=True)
    out = F.grid_sample(
        nl.tensor(image), F.affine_grid(theta, (1, 1, 4, 5), False), align_corners=False
    )
    np.testing.assert_allclose(out.numpy()[0, 0, 0], [0, 1, 0, 0, 0], atol=1e-6)
    out[..., 0].sum().backward()
    assert theta.grad.numpy()[0, 0, 2] > 0 and abs(theta.grad.numpy()[0, 1, 2]) < 1e-6


def test_unset_align_corners_warns_as_torch_does():
    image, theta = nl.randn(1, 1, 3, 3), nl.tensor([[[1.0, 0, 0], [0, 1.0, 0]]])
    with pytest.warns(UserWarning, match="align_corners defaults to False"):
        grid = F.affine_grid(theta, (1, 1, 3, 3))
    with pytest.warns(UserWarning, match="align_corners defaults to False"):
        F.grid_sample(image, grid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(image, grid, align_corners=False)


def test_bad_arguments_say_what_is_wrong():
    image, grid = nl.randn(2, 3, 4, 4), nl.zeros(2, 3, 3, 2)
    with pytest.raises(ValueError, match="mode must be one of .*'bicubic'.*got 'cubic'"):
        F.grid_sample(image, grid, mode="cubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode must be one of .*'wrap'"):
        F.grid_sample(image, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(ValueError, match=r"\(N, H_out, W_out, 2\) with the input's N=2"):
        F.grid_sample(image, nl.zeros(2, 3, 3, 1), align_corners=False)
    with pytest.raises(ValueError, match=r"4-D input .* shapes \(3, 4, 4\)"):
        F.grid_sample(nl.randn(3, 4, 4), grid, align_corners=False)
    with pytest.raises(TypeError, match="float32.*float64.*same dtype"):
        F.grid_sample(image, grid.double(), align_corners=False)
    with pytest.raises(ValueError, match=r"shape \(2, 2, 3\) for size \(2, 3, 4, 5\).*\(2, 1, 3\)"):
        F.affine_grid(nl.zeros(2, 1, 3), (2, 3, 4, 5), align_corners=False)
    with pytest.raises(NotImplementedError, match="only 4-D sizes .* and 5-D sizes"):
        F.affine_grid(nl.zeros(2, 3, 4), (2, 3, 4, 5, 6, 7), align_corners=False)
