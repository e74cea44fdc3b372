"""Text-to-image diffusion in miniature: the math of each piece, and a trained model's images.

The module fixture trains a small model (128 units, 1 residual block, 1,000 steps) and a digits
classifier once; together they take about 10 CPU seconds on an idle core.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neuralab as nl
from neuralab.apps import diffusion
from neuralab.random import use_generator

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained():
    """(model, classifier, classifier's held-out accuracy), trained once for the module."""
    with use_generator(np.random.default_rng(0)):
        model = diffusion.TextToImage(width=128, depth=1)
    model = diffusion.train(model, steps=1000, seed=0)
    classifier, accuracy = diffusion.train_digit_classifier(seed=0, epochs=30)
    return model, classifier, accuracy


# ----------------------------------------------------------------------------- prompts


def test_tokenize_keeps_vocabulary_words_and_drops_fillers():
    assert diffusion.tokenize("A thick Seven.") == ["thick", "seven"]
    assert diffusion.tokenize("an eight, narrow") == ["eight", "narrow"]
    assert diffusion.tokenize("") == []


def test_unknown_word_is_named_with_the_vocabulary():
    with pytest.raises(ValueError) as info:
        diffusion.tokenize("a purple seven")
    message = str(info.value)
    assert "'purple'" in message and "'a purple seven'" in message
    for word in (*diffusion.FILLER_WORDS, *diffusion.VOCABULARY):
        assert word in message
    with pytest.raises(ValueError, match="unknown word '7'"):
        diffusion.encode(["a seven", "a 7"])


def test_encode_is_a_bag_of_words_and_the_empty_prompt_is_null():
    words = diffusion.encode(["a thick seven", "seven thick", "", "a seven seven"])
    assert words.shape == (4, len(diffusion.VOCABULARY)) and words.dtype == np.float32
    seven, thick = diffusion.VOCABULARY.index("seven"), diffusion.VOCABULARY.index("thick")
    assert words[0, seven] == words[0, thick] == 1 and words[0].sum() == 2
    np.testing.assert_array_equal(words[0], words[1])  # order does not matter
    assert not words[2].any()
    assert words[3, seven] == 2


def test_style_words_come_from_ink_and_spread_within_each_digit():
    images, labels = nl.data.digits()
    styles = diffusion.style_words(images, labels)
    ink, spread = diffusion.ink(images), diffusion.spread(images)
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        thick = [i for i in rows if "thick" in styles[i]]
        thin = [i for i in rows if "thin" in styles[i]]
        assert abs(len(thick) - len(rows) / 3) <= 2 and abs(len(thin) - len(rows) / 3) <= 2
        assert ink[thick].min() > ink[thin].max()
        wide = [i for i in rows if "wide" in styles[i]]
        narrow = [i for i in rows if "narrow" in styles[i]]
        assert spread[wide].min() > spread[narrow].max()
    assert diffusion.captions([7, 0], [("thick", "narrow"), ()]) == [
        "a thick narrow seven",
        "a zero",
    ]


# ----------------------------------------------------------------------------- noise schedule


@pytest.mark.parametrize("kind", diffusion.NoiseSchedule.KINDS)
def test_schedule_alpha_bar_falls_from_near_one_to_near_zero(kind):
    s = diffusion.NoiseSchedule(200, kind)
    assert s.betas.dtype == s.alpha_bars.dtype == np.float32
    assert np.all((s.betas > 0) & (s.betas < 1))
    np.testing.assert_array_equal(s.alphas, 1 - s.betas)
    np.testing.assert_allclose(s.alpha_bars, np.cumprod(s.alphas.astype(np.float64)), rtol=1e-5)
    assert np.all(np.diff(s.alpha_bars) < 0)  # strictly decreasing
    assert s.alpha_bars[0] > 0.99 and s.alpha_bars[-1] < 0.01


def test_q_sample_has_the_forward_process_mean_and_variance():
    s = diffusion.NoiseSchedule(200)
    rng = np.random.default_rng(0)
    x0 = np.linspace(-1, 1, 64, dtype=np.float32)
    n = 20000
    for t in (0, 50, 150):
        noise = rng.standard_normal((n, 64)).astype(np.float32)
        x_t = s.q_sample(np.broadcast_to(x0, (n, 64)), np.full(n, t), noise)
        assert x_t.dtype == np.float32
        ab = float(s.alpha_bars[t])
        np.testing.assert_allclose(x_t.mean(0), np.sqrt(ab) * x0, atol=4 / np.sqrt(n))
        np.testing.assert_allclose(x_t.var(0), 1 - ab, rtol=0.06, atol=1e-4)


def test_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        diffusion.NoiseSchedule(100, "quadratic")
    with pytest.raises(ValueError, match="timesteps must be an int >= 2, got 1"):
        diffusion.NoiseSchedule(1)


# ----------------------------------------------------------------------------- guidance, sampler


def _stub(x, t, words):
    """A denoiser whose prediction depends on the prompt only: ε = words @ M."""
    v = len(diffusion.VOCABULARY)
    return np.broadcast_to(words @ np.arange(v * 64, dtype=np.float32).reshape(v, 64), x.shape)


@pytest.mark.parametrize("scale", [0.0, 1.0, 3.0, 7.5])
def test_classifier_free_guidance_formula(scale):
    x, t = np.zeros((2, 64), np.float32), np.array([5, 5])
    cond, uncond = diffusion.encode(["a seven", "a thick one"]), diffusion.encode(["", "a one"])
    got = diffusion.classifier_free_guidance(_stub, x, t, cond, uncond, scale)
    e_c, e_u = _stub(x, t, cond), _stub(x, t, uncond)
    np.testing.assert_allclose(got, e_u + scale * (e_c - e_u), rtol=1e-6)
    if scale == 1.0:
        np.testing.assert_allclose(got, e_c, rtol=1e-6)


@pytest.mark.parametrize("sampler, steps", [("ddim", 10), ("ddpm", 200), ("ddpm", 25)])
def test_sampler_recovers_the_image_when_the_noise_is_predicted_exactly(sampler, steps):
    """If the data is a single image x*, the true noise is ε = (x_t − √ᾱ_t x*)/√(1 − ᾱ_t); with
    that denoiser every step's x̂₀ is x*, so DDIM and DDPM both end exactly at x*."""
    s = diffusion.NoiseSchedule(200)
    target = np.random.default_rng(1).uniform(-1, 1, 64).astype(np.float32)

    def exact(x, t, words):
        ab = s.alpha_bars[t][:, None]
        return (x - np.sqrt(ab) * target) / np.sqrt(1 - ab)

    cond = diffusion.encode(["a seven"] * 3)
    out = diffusion.sample(
        exact, s, cond, np.zeros_like(cond), 3.0, steps, sampler, np.random.default_rng(0)
    )
    np.testing.assert_allclose(out, np.broadcast_to(target, (3, 64)), atol=1e-4)


def test_sample_rejects_bad_arguments():
    s, cond = diffusion.NoiseSchedule(50), diffusion.encode(["a one"])
    with pytest.raises(ValueError, match="sampler must be one of ddim, ddpm"):
        diffusion.sample(_stub, s, cond, cond, sampler="euler")
    with pytest.raises(ValueError, match="steps must be an int from 1 to 50"):
        diffusion.sample(_stub, s, cond, cond, steps=60)


def test_forward_checks_shapes():
    model = diffusion.TextToImage(width=16, depth=1, timesteps=10)
    x = nl.zeros(3, 1, 8, 8)
    out = model(x, np.array([0, 4, 9]), nl.tensor(diffusion.encode(["a one"] * 3)))
    assert out.shape == (3, 1, 8, 8) and out.dtype == nl.float32
    with pytest.raises(ValueError, match=r"expected timesteps \(3,\) and words \(3, 14\)"):
        model(x, np.array([0, 4]), nl.tensor(diffusion.encode(["a one"] * 3)))


# ----------------------------------------------------------------------------- the trained model


def test_classifier_of_ours_is_good_enough_to_judge(trained):
    assert trained[2] >= 0.95


def test_generated_digits_are_the_prompted_ones(trained):
    model, classifier, _ = trained
    result = diffusion.evaluate(model, classifier, n=20, guidance=3.0, seed=0)
    print("labelled as prompted:", result)
    assert result["accuracy"] >= 0.8, result
    assert min(result["per_digit"].values()) >= 0.5, result


def test_negative_prompt_steers_away_and_style_words_steer_towards(trained):
    model = trained[0]
    n = 48
    plain = model.generate("a seven", n=n, seed=1)
    not_thick = model.generate("a seven", negative_prompt="a thick seven", n=n, seed=1)
    assert diffusion.ink(not_thick).mean() < diffusion.ink(plain).mean() - 1.0
    thick, thin = model.generate(["a thick zero", "a thin zero"], n=n, seed=2).reshape(2, n, 64)
    assert diffusion.ink(thick).mean() > diffusion.ink(thin).mean() + 1.0
    wide, narrow = model.generate(["a wide zero", "a narrow zero"], n=n, seed=3).reshape(2, n, 64)
    assert diffusion.spread(wide).mean() > diffusion.spread(narrow).mean()


def test_generate_shapes_range_and_determinism(trained):
    model = trained[0]
    a = model.generate("a two", n=4, seed=7)
    assert a.shape == (4, 1, 8, 8) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, model.generate("a two", n=4, seed=7))
    assert not np.array_equal(a, model.generate("a two", n=4, seed=8))
    assert model.generate(["a one", "a two", "a three"], n=2, seed=0).shape == (6, 1, 8, 8)
    nl.manual_seed(3)
    b = model.generate("a two", n=2, sampler="ddpm", steps=20)
    nl.manual_seed(3)
    np.testing.assert_array_equal(b, model.generate("a two", n=2, sampler="ddpm", steps=20))
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        model.generate("a two", n=0)
    with pytest.raises(ValueError, match="unknown word 'purple'"):
        model.generate("a two", negative_prompt="purple")
    with pytest.raises(ValueError, match="empty list of prompts"):
        model.generate([])
    with pytest.raises(ValueError, match=r"expected 8×8 images .* got \(2, 128\)"):
        diffusion.ink(np.zeros((2, 128)))


def test_training_is_deterministic_by_seed():
    def short(seed):
        with use_generator(np.random.default_rng(seed)):
            model = diffusion.TextToImage(width=16, depth=1, timesteps=20)
        return diffusion.train(model, steps=5, batch_size=8, seed=seed)

    a, b, c = (short(seed).state_dict() for seed in (0, 0, 1))
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy(), err_msg=name)
    assert any(not np.array_equal(a[name].numpy(), c[name].numpy()) for name in a)


def test_save_load_round_trip(trained, tmp_path):
    model = trained[0]
    nl.save(model, tmp_path / "t2i.safetensors")
    loaded = nl.load(tmp_path / "t2i.safetensors")
    assert isinstance(loaded, diffusion.TextToImage)
    assert loaded.schedule.timesteps == model.schedule.timesteps
    np.testing.assert_array_equal(
        loaded.generate("a five", "a thin five", n=3, seed=0),
        model.generate("a five", "a thin five", n=3, seed=0),
    )


# ----------------------------------------------------------------------------- the demo


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "neuralab.cli", "demo", *args],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_demo_draws_the_prompt_reusing_a_saved_model(trained, tmp_path):
    model, classifier, accuracy = trained
    saved = {"model": model, "classifier": classifier, "classifier_accuracy": accuracy}
    nl.save(saved, tmp_path / "text_to_image_quick.safetensors")
    result = _cli("text-to-image", "a", "seven", "--negative", "a thick seven", "--quick",
                  "--out", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "reusing the model saved in" in result.stdout
    assert (
        "prompt 'a seven'" in result.stdout and "negative prompt 'a thick seven'" in result.stdout
    )
    for name in ("text_to_image.png", "text_to_image_without_negative.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_demo_in_python_returns_its_numbers(trained, tmp_path):
    from neuralab import demos

    model, classifier, accuracy = trained
    saved = {"model": model, "classifier": classifier, "classifier_accuracy": accuracy}
    nl.save(saved, tmp_path / "text_to_image_quick.safetensors")
    result = demos.run("text-to-image", tmp_path, quick=True, prompt="a three")
    assert result["words"] == ["three"] and result["images"].shape == (16, 1, 8, 8)
    assert result["as_prompted"] >= 0.8
    assert "without_negative" not in result and len(result["figures"]) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["text-to-image", "a purple seven"], "unknown word 'purple'; the vocabulary is: a, an"),
        (["neuron", "a seven"], "topic 'neuron' takes no prompt"),
    ],
)
def test_demo_prompt_errors_are_one_line(args, message, tmp_path):
    result = _cli(*args, "--out", str(tmp_path / "figs"))
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
