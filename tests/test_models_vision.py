"""The zoo's encoder–decoder and generative vision models: the convolutional autoencoder, SegNet,
the Vision Transformer and the GANs — each trained by its example's recipe to the quality its docs
page states, plus layout checks (SegNet unpools at its own indices, ViT equals a torch-built ViT),
the GAN's alternating steps and save/load round trips.

Each model is trained once, inside the one test that checks it (pytest-xdist may run tests of one
file in different processes, so a shared fixture could train twice). CPU budget for this file:
180 s on one core.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import neuralab as nl
from examples.train_zoo_autoencoder import train_denoiser
from examples.train_zoo_gan import train_digits_gan, train_ring_gan
from examples.train_zoo_segnet import train_segnet_scenes
from examples.train_zoo_vit import train_vit_digits
from neuralab import models, nn, optim
from neuralab.models.autoencoder import ConvAutoencoder
from neuralab.models.gan import GAN, mode_counts, ring_centres, ring_of_gaussians
from neuralab.models.segnet import SegNet, iou_per_class, mean_iou
from neuralab.models.vit import VisionTransformer

DOCS = Path(__file__).resolve().parents[1] / "docs" / "models"
VISION_MODELS = {  # name: (docs page, class, input shape for one forward pass)
    "conv_autoencoder": ("autoencoder.md", ConvAutoencoder, (2, 1, 8, 8)),
    "segnet": ("segnet.md", SegNet, (1, 3, 32, 32)),
    "segnet_scenes": ("segnet.md", SegNet, (2, 3, 32, 32)),
    "vit_b_16": ("vit.md", VisionTransformer, None),
    "vit_digits": ("vit.md", VisionTransformer, (2, 1, 8, 8)),
    "mlp_gan": ("gan.md", GAN, (2, 8)),
    "digits_gan": ("gan.md", GAN, (2, 32)),
}


# ----------------------------------------------------------------------------- registry, save/load


@pytest.mark.parametrize("name", sorted(VISION_MODELS))
def test_builders_are_registered_and_docs_quote_their_parameter_counts(name):
    page, cls, _ = VISION_MODELS[name]
    model = models.get_model(name)
    assert type(model) is cls
    assert f"{model.num_parameters():,}" in (DOCS / page).read_text()


def test_vit_b_16_has_torchvisions_parameter_count():
    assert models.get_model("vit_b_16").num_parameters() == 86_567_656


@pytest.mark.parametrize("name", [n for n, (_, _, shape) in VISION_MODELS.items() if shape])
def test_save_load_rebuilds_the_model_by_name(name, tmp_path):
    nl.manual_seed(0)
    model = models.get_model(name)
    model.eval()
    x = nl.randn(*VISION_MODELS[name][2])
    nl.save(model, tmp_path / "model.safetensors")
    loaded = nl.load(tmp_path / "model.safetensors")
    assert type(loaded) is type(model) and not loaded.training
    with nl.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
        if isinstance(model, GAN):
            np.testing.assert_array_equal(
                loaded.discriminator(model(x)).numpy(), model.discriminator(model(x)).numpy()
            )


# ----------------------------------------------------------------------------- layouts


def test_segnet_decoder_unpools_at_the_encoders_max_pool_indices():
    nl.manual_seed(0)
    model = models.get_model("segnet_scenes")
    pooled, unpooled = [], []
    model.pool.register_forward_hook(lambda m, inputs, out: pooled.append(out[1].numpy()))
    model.unpool.register_forward_hook(lambda m, inputs, out: unpooled.append(inputs[1].numpy()))
    out = model(nl.rand(2, 3, 32, 32))
    assert out.shape == (2, 4, 32, 32)
    assert len(pooled) == len(unpooled) == 3
    for indices, used in zip(reversed(pooled), unpooled):  # innermost stage unpools first
        np.testing.assert_array_equal(used, indices)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())  # fully convolutional
    assert model.predict(nl.rand(2, 3, 16, 16)).shape == (2, 16, 16)  # any size divisible by 8
    with pytest.raises(ValueError, match=r"divisible by 8.*\(2, 3, 20, 20\)"):
        model(nl.rand(2, 3, 20, 20))


def test_iou_per_class_and_mean_iou():
    target = np.array([[0, 0, 1, 1], [2, 2, 2, 0]])
    np.testing.assert_array_equal(iou_per_class(target, target, 4), [1, 1, 1, np.nan])
    assert mean_iou(target, target, 4) == 1.0  # class 3 absent from both: skipped
    pred = nl.tensor([[0, 1, 1, 1], [2, 2, 0, 0]])
    # class 0: 2 shared of 4 in the union; class 1: 2 of 3; class 2: 2 of 3
    np.testing.assert_allclose(iou_per_class(pred, target, 4), [2 / 4, 2 / 3, 2 / 3, np.nan])
    assert mean_iou(pred, target, 4) == pytest.approx((2 / 4 + 2 / 3 + 2 / 3) / 3)
    with pytest.raises(ValueError, match=r"prediction \(3,\) and target \(8,\)"):
        mean_iou(np.zeros(3), target, 4)


def test_vit_equals_a_vit_built_from_torch_modules():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchViT(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_proj = tnn.Conv2d(1, 16, 2, stride=2)
            self.class_token = tnn.Parameter(torch.zeros(1, 1, 16))
            self.pos_embedding = tnn.Parameter(torch.zeros(1, 17, 16))
            layer = tnn.TransformerEncoderLayer(
                16, 4, 32, 0.0, activation="gelu", layer_norm_eps=1e-6, batch_first=True,
                norm_first=True,
            )  # fmt: skip
            norm = tnn.LayerNorm(16, eps=1e-6)
            self.encoder = tnn.TransformerEncoder(layer, 2, norm, enable_nested_tensor=False)
            self.heads = tnn.Linear(16, 10)

        def forward(self, x):
            tokens = self.conv_proj(x).flatten(2).transpose(1, 2)
            cls = self.class_token.expand(len(x), -1, -1)
            return self.heads(self.encoder(torch.cat([cls, tokens], 1) + self.pos_embedding)[:, 0])

    nl.manual_seed(0)
    ours = VisionTransformer(8, 2, 2, 4, 16, 32, num_classes=10, in_channels=1)
    theirs = TorchViT()
    rng = np.random.default_rng(0)
    state = {
        k: rng.normal(0, 0.3, v.shape).astype(np.float32) for k, v in ours.state_dict().items()
    }
    assert sorted(state) == sorted(theirs.state_dict())
    ours.load_state_dict({k: nl.tensor(v) for k, v in state.items()})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = rng.random((3, 1, 8, 8), dtype=np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(nl.tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, C, 8, 8\).*\(3, 1, 16, 16\)"):
        ours(nl.rand(3, 1, 16, 16))
    with pytest.raises(ValueError, match="image_size 10 is not divisible by patch_size 4"):
        VisionTransformer(10, 4, 1, 1, 8, 8)


def test_autoencoder_squeezes_64_pixels_into_32_numbers_and_back():
    model = models.get_model("conv_autoencoder")
    x = nl.rand(2, 1, 8, 8)
    assert model.encode(x).shape == (2, 8, 2, 2)  # 32 numbers for 64 pixels
    out = model(x)
    assert out.shape == x.shape and 0 <= out.numpy().min() and out.numpy().max() <= 1
    with pytest.raises(ValueError, match=r"divisible by 4.*\(2, 1, 6, 6\)"):
        model(nl.rand(2, 1, 6, 6))


# ----------------------------------------------------------------------------- GAN steps


def test_gan_steps_each_train_only_their_own_network():
    nl.manual_seed(0)
    gan = models.get_model("mlp_gan")
    opt_d = optim.Adam(gan.discriminator.parameters(), lr=1e-2)
    opt_g = optim.Adam(gan.generator.parameters(), lr=1e-2)

    def weights(module: nn.Module) -> list[np.ndarray]:
        return [p.numpy().copy() for p in module.parameters()]

    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    d_loss = gan.d_step(nl.tensor(ring_of_gaussians(64)), opt_d)
    assert np.isfinite(d_loss) and d_loss > 0
    assert all(np.array_equal(a, b) for a, b in zip(weights(gan.generator), g_before))
    assert not any(np.array_equal(a, b) for a, b in zip(weights(gan.discriminator), d_before))

    d_after = weights(gan.discriminator)
    d_grads = [p.grad for p in gan.discriminator.parameters()]
    g_loss = gan.g_step(64, opt_g)
    assert np.isfinite(g_loss) and g_loss > 0
    assert all(np.array_equal(a, b) for a, b in zip(weights(gan.discriminator), d_after))
    # no gradient was computed for D's parameters: their .grad is still the d_step's
    assert all(p.grad is g for p, g in zip(gan.discriminator.parameters(), d_grads))
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # and D is trainable again
    assert not any(np.array_equal(a, b) for a, b in zip(weights(gan.generator), g_before))

    samples = gan.sample(5)
    assert samples.shape == (5, 2) and not samples.requires_grad and gan.training


def test_ring_of_gaussians_and_mode_counts():
    points = ring_of_gaussians(4000, std=0.05, seed=3)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ring_centres(), axis=1), 2.0)
    counts = mode_counts(points, ring_centres(), max_distance=0.25)
    assert counts.sum() == 4000 and counts.min() > 400  # 8 equal modes, all within 5 std
    assert mode_counts(np.zeros((3, 2)), ring_centres(), max_distance=0.25).sum() == 0


# ----------------------------------------------------------------------------- quality


@pytest.mark.quality
def test_autoencoder_denoises_digits():
    _, errors = train_denoiser()
    # docs/models/autoencoder.md: noisy 0.117, denoised 0.041 (35 %)
    assert errors["denoised_mse"] < 0.5 * errors["noisy_mse"]


@pytest.mark.quality
def test_segnet_segments_scenes():
    _, ious = train_segnet_scenes()
    # docs/models/segnet.md: mean IoU 0.887 (seeds 1-3 and other BLAS kernels: 0.876-0.890),
    # triangles 0.75
    assert ious.mean() >= 0.85
    assert ious.min() >= 0.6  # the rarest, smallest class too


@pytest.mark.quality
def test_vit_classifies_digits():
    _, accuracy = train_vit_digits()
    # docs/models/vit.md: 95.0 % at seed 0 (seeds 1 and 2: 96.1 %, 98.3 %; before the compiled
    # GELU, layer norm and softmax changed the rounding: 95.3, 94.2, 96.1 %)
    assert accuracy >= 0.94


@pytest.mark.quality
def test_gan_covers_every_mode_of_the_ring():
    _, counts = train_ring_gan()
    assert counts.min() >= 50  # every mode ≥ 5 % of the 1,000 samples; docs/models/gan.md


@pytest.mark.quality
def test_gan_makes_digit_like_images():
    _, result = train_digits_gan()
    assert result["confident"] >= 0.8  # docs/models/gan.md
    assert result["classes"].min() >= 10  # and not a few digits only: each ≥ 1 % of the 1,000
