"""The variants and inference benchmarks (bench/variants.py, bench/inference.py) at toy sizes."""

import dataclasses

import numpy as np
import pytest
import torch

import neuralab as nl
from bench import inference, variants
from bench.training import QUICK
from bench.training_models import BY_KEY, setup

TINY = dataclasses.replace(QUICK, pairs=1, warmup=0, sample_s=0.0, batch=2)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread: idle OpenMP workers would spin on the CPU the other tests share."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_sampler_is_deterministic_per_seed():
    assert variants.draw(4, seed=3) == variants.draw(4, seed=3)
    assert variants.draw(4, seed=3) != variants.draw(4, seed=4)
    assert [v.family for v in variants.draw(2)] == [f for f in variants.FAMILIES for _ in range(2)]


def test_five_draws_cover_every_option_of_every_family():
    drawn = variants.draw(5, seed=11)
    for family, options in variants.FAMILIES.items():
        members = [v for v in drawn if v.family == family]
        assert len(set(members)) == 5, family  # no two alike
        for name, values in options.items():
            assert {v[name] for v in members} == set(values), (family, name)
    with pytest.raises(ValueError, match="count must be at least 1"):
        variants.draw(0)


@pytest.mark.parametrize("index", range(5 * len(variants.FAMILIES)))
def test_every_variant_steps_alike_in_both_frameworks(index):
    v = variants.draw(5, seed=0)[index]
    w = variants.workload(v, index)
    theirs = setup(w, torch, batch=3)
    state = {k: t.detach().numpy() for k, t in theirs.model.state_dict().items()}
    ours = setup(w, nl, batch=3, state=state)
    np.testing.assert_allclose(ours.current_loss(), theirs.current_loss(), rtol=1e-5)
    ours.step()
    theirs.step()
    np.testing.assert_allclose(ours.current_loss(), theirs.current_loss(), rtol=1e-4, atol=1e-6)


def test_the_variants_report_gives_each_ratio_the_mean_and_the_worst():
    drawn = variants.draw(1, seed=0)
    timed = variants.run(drawn, TINY, threads=(1,))
    text = variants.report(timed, "python -m bench variants --count 1", "busy")
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| :")]
    families = len(variants.FAMILIES)
    per_variant, summary = rows[1 : 1 + families], rows[2 + families :]
    assert [r.split("|")[1].strip() for r in per_variant] == [v.label for v in drawn]
    ratios = [t.timing.ratio for t in timed]
    (cells,) = [[c.strip() for c in r.strip("|").split("|")] for r in summary]
    worst = min(timed, key=lambda t: t.timing.ratio)
    mean = np.exp(np.mean(np.log(ratios)))
    assert cells[:5] == [
        "1",
        str(families),
        f"{mean:.2f}",
        f"{min(ratios):.2f}",
        worst.variant.label,
    ]
    assert cells[5:] == ["≥ 0.9", "yes" if min(ratios) >= 0.9 else "**no**"]
    assert "**Note:** busy" in text


@pytest.mark.parametrize("key", inference.MODELS)
def test_inference_predicts_what_torch_predicts(key):
    theirs = setup(BY_KEY[key], torch, batch=1)
    state = {k: v.detach().numpy() for k, v in theirs.model.state_dict().items()}
    ours = inference._predictor(nl, setup(BY_KEY[key], nl, batch=1, state=state))
    expected = inference._predictor(torch, theirs)()
    got = ours()
    assert not got.requires_grad and not expected.requires_grad
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_the_inference_report_reads_latencies_and_ratios():
    latencies = inference.run(("W2",), threads=(1,), pairs=1, sample_s=0.0)
    text = inference.report(latencies, "python -m bench inference")
    (row,) = [ln for ln in text.splitlines() if ln.startswith("| W2")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    t = latencies[0].timing
    assert cells == [
        "W2 mlp-mnist", "1", f"{1e6 * t.ours_median:.0f}", f"{1e6 * t.theirs_median:.0f}",
        f"{t.ratio:.2f}", "≥ 2", "yes" if t.ratio >= 2 else "**no**",
    ]  # fmt: skip
