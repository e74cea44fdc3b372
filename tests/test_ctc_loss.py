"""F.ctc_loss / nn.CTCLoss against torch: losses and gradients for every reduction, padded and
concatenated targets, repeats, empty targets, impossible alignments and zero_infinity."""

import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn.functional as F

T, N, C = 12, 4, 6


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C)).astype(np.float32)
    targets = rng.integers(1, C, (N, 5))
    targets[0, :3] = [2, 2, 3]  # a repeated label needs a blank between
    return x, targets, np.array([12, 10, 7, 3]), np.array([3, 5, 0, 2])


def _both(x, targets, input_lengths, target_lengths, upstream_seed=1, **kw):
    """(ours, torch's) loss and the gradient reaching the scores through log_softmax."""
    out = []
    for lib in (nl, torch):
        scores = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(
            scores.log_softmax(2), lib.tensor(targets), lib.tensor(input_lengths),
            lib.tensor(target_lengths), **kw,
        )  # fmt: skip
        g = (
            np.random.default_rng(upstream_seed)
            .standard_normal(tuple(loss.shape))
            .astype(np.float32)
        )
        loss.backward(lib.tensor(g))
        out.append((loss.detach().numpy(), scores.grad.numpy()))
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("padded", [True, False])
def test_ctc_loss_matches_torch(reduction, padded):
    x, targets, il, tl = _batch()
    if not padded:
        targets = np.concatenate([targets[i, : tl[i]] for i in range(N)])
    (ours, g_ours), (theirs, g_theirs) = _both(x, targets, il, tl, reduction=reduction)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(g_ours, g_theirs, atol=2e-6)


def test_impossible_alignments_are_infinite_unless_zeroed():
    x, targets, il, tl = _batch(2)
    il = np.array([3, 12, 12, 12])
    tl = np.array([5, 2, 1, 0])  # sample 0: 5 labels cannot fit 3 frames
    (ours, g_ours), (theirs, g_theirs) = _both(x, targets, il, tl, reduction="none")
    assert np.isinf(ours[0]) and np.isinf(theirs[0])
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=1e-5)
    np.testing.assert_array_equal(np.isnan(g_ours), np.isnan(g_theirs))  # NaN, as torch's
    (ours, g_ours), (theirs, g_theirs) = _both(x, targets, il, tl, zero_infinity=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(g_ours, g_theirs, atol=2e-6)


def test_unbatched_input_and_the_module():
    x, targets, _, _ = _batch(3)
    lp = np.log(np.random.default_rng(3).dirichlet(np.ones(C), T)).astype(np.float32)
    ours = F.ctc_loss(nl.tensor(lp), nl.tensor(targets[1, :4]), nl.tensor(T), nl.tensor(4))
    theirs = torch.nn.functional.ctc_loss(
        torch.tensor(lp), torch.tensor(targets[1, :4]), torch.tensor(T), torch.tensor(4)
    )
    assert ours.shape == () and ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    module = nl.nn.CTCLoss(blank=0, reduction="sum")
    lps = nl.tensor(x).log_softmax(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.CTCLoss(reduction="sum")(
            torch.tensor(x).log_softmax(2),
            torch.tensor(targets),
            torch.tensor([12] * N),
            torch.tensor([2] * N),
        )
    assert module(lps, nl.tensor(targets), [12] * N, [2] * N).item() == pytest.approx(
        expected.item(), rel=1e-5
    )


def test_a_ctc_model_learns_to_read_a_sequence():
    # a per-frame classifier trained with CTC outputs the target once its frames are decoded
    rng = np.random.default_rng(4)
    target = [3, 1, 4, 1]
    frames = nl.tensor(rng.standard_normal((16, 1, 8)).astype(np.float32))
    model = nl.nn.Linear(8, 6)
    opt = nl.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = F.ctc_loss(model(frames).log_softmax(2), nl.tensor([target]), [16], [4])
        loss.backward()
        opt.step()
    best = model(frames).argmax(2)[:, 0].tolist()
    decoded = [k for i, k in enumerate(best) if k != 0 and (i == 0 or k != best[i - 1])]
    assert decoded == target and loss.item() < 0.1


def test_bad_arguments_say_what_is_wrong():
    x, targets, il, tl = _batch()
    lp = nl.tensor(x).log_softmax(2)
    with pytest.raises(ValueError, match=r"input_lengths \[13, 10, 7, 3\] must be in 1..12"):
        F.ctc_loss(lp, nl.tensor(targets), [13, 10, 7, 3], tl)
    with pytest.raises(ValueError, match="target_lengths must hold 4 lengths"):
        F.ctc_loss(lp, nl.tensor(targets), il, [1, 2])
    with pytest.raises(ValueError, match="blank=0 must be a class index not used in the targets"):
        F.ctc_loss(lp, nl.tensor(np.zeros((N, 5), np.int64)), il, tl)
