"""The lecture's architecture, backpropagation and augmentation demos: each runs (quick) and shows
its lesson — real accuracies, errors and gradients (tests/test_demos.py checks, for every topic,
that it prints and writes its PNG figures)."""

from __future__ import annotations

import numpy as np
import pytest

from neuralab import demos

TOPICS = ("backprop", "augmentation", "lenet", "alexnet", "resnet", "rnn", "seq2seq",
          "autoencoder", "transformer", "gan")  # fmt: skip


pytestmark = pytest.mark.xdist_group("demos")  # one process runs each topic once


@pytest.fixture
def ran(demo_runs):
    """{topic: (returned dict, printed text)}: each topic run once (quick), on first use."""
    return demo_runs


def test_topics_are_registered_with_summaries():
    listed = demos.topics()
    for name in TOPICS:
        assert name in listed and len(listed[name]) > 20


def test_backprop_by_hand_matches_engine_and_finite_differences(ran):
    result, text = ran["backprop"]
    for name, value in result["hand"].items():
        engine = {**result["engine"], **result["engine_nodes"]}[name]
        assert value == pytest.approx(engine, abs=1e-12), name
    for name, value in result["engine"].items():
        assert value == pytest.approx(result["finite_difference"][name], abs=1e-7)
    assert result["hand"]["θ1"] == pytest.approx(0.0521929, abs=1e-6)
    assert result["loss_after"] < result["loss_before"]
    assert "∂J/∂θ1 = ∂J/∂a3 · ∂a3/∂z3 · ∂z3/∂a2 · ∂a2/∂z2 · ∂z2/∂θ1" in text


def test_augmentation_operations_change_the_photographs(ran):
    result, _ = ran["augmentation"]
    change = result["change"]
    assert len(result["operations"]) == 14  # AutoAugment's operations besides Identity
    for op in ("ShearX", "Rotate", "Brightness", "Contrast"):
        assert change[(op, 9)] > change[(op, 2)] > 0, op  # stronger bins change more
    assert change[("Invert", None)] > 50
    assert any(result["passes_differ"])


def test_cnns_learn_the_digits(ran):
    lenet, text = ran["lenet"]
    assert lenet["accuracy"] > 0.85
    assert lenet["shapes"]["c1"] == (1, 6, 28, 28) and lenet["shapes"]["c3"] == (1, 16, 10, 10)
    alexnet, _ = ran["alexnet"]
    assert alexnet["accuracy"] > 0.3  # 10 classes; 4 quick epochs on 600 digits
    assert alexnet["paper_neurons"][1:] == [186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    assert alexnet["paper_neurons"][0] == 55 * 55 * 96


def test_residual_net_gets_the_gradient_the_plain_one_loses(ran):
    result, _ = ran["resnet"]
    assert result["first_grad"]["residual"] > 20 * result["first_grad"]["plain"]
    plain, residual = result["losses"]["plain"], result["losses"]["residual"]
    assert np.mean(residual[-10:]) < np.mean(plain[-10:]) - 0.05
    assert abs(np.mean(plain[-10:]) - np.log(10)) < 0.1
    assert result["accuracy"] > 0.3


def test_recurrent_cells_and_translation(ran):
    result, _ = ran["rnn"]
    assert result["accuracy"]["gru"] > 0.9 and result["accuracy"]["lstm"] > 0.9
    assert result["accuracy"]["rnn"] > 0.6
    assert all(s.startswith("The lamp") and len(s) == 128 for s in result["samples"].values())
    result, _ = ran["seq2seq"]
    attention, plain = result["scores"]["seq2seq_gru_attention"], result["scores"]["seq2seq_gru"]
    assert attention["greedy"] > plain["greedy"] + 0.1


def test_autoencoder_denoises_and_segnet_segments(ran):
    result, _ = ran["autoencoder"]
    assert result["denoised_mse"] < 0.7 * result["noisy_mse"]
    assert result["iou"]["background"] > 0.8
    # Painting everything background scores at most 0.25 (three shape classes at 0); the quick
    # run reaches 0.30-0.35 depending on the convolution kernels' float32 rounding.
    assert result["mean_iou"] > 0.27
    assert max(result["iou"][shape] for shape in ("circle", "square", "triangle")) > 0.15


def test_vit_and_gan_learn(ran):
    result, _ = ran["transformer"]
    assert result["accuracy"] > 0.2  # chance is 0.1; 4 quick epochs
    result, _ = ran["gan"]
    assert sum(c > 0 for c in result["ring_counts"]) >= 5
    assert result["confident"] > 0.05  # the zoo's MLP judge is sure of some drawn digits
