"""Smoke test of the training benchmark (bench/training.py): tiny batches, one pair, no timing."""

import numpy as np
import pytest
import torch

import neuralab as nl
from bench.engine import RESULTS_END, RESULTS_START, write_results
from bench.training import (
    TRAINING_END,
    TRAINING_START,
    Sizes,
    kernel_cost_mb,
    measure_memory,
    report,
    run,
    step_flops,
)
from bench.training_models import BY_KEY, WORKLOADS, setup
from neuralab.compiled import numba_enabled

TINY = Sizes(
    pairs=1,
    warmup=0,
    sample_s=0.0,
    gemm_n=32,
    memory_steps=1,
    epoch_samples=256,
    epoch_pairs=1,
    batch=2,
)
ROWS = ["W1 playground", "W2 mlp-mnist"]  # the table test's selection


def _tables(text: str) -> dict[str, list[list[str]]]:
    """The Markdown tables in ``text``, by their first two header cells, as body rows of cells."""
    tables: dict[str, list[list[str]]] = {}
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    for i, ln in enumerate(lines):
        if i + 1 < len(lines) and lines[i + 1].startswith("| :-"):
            cells = [c.strip() for c in ln.strip("|").split("|")]
            tables[" / ".join(cells[:2])] = body = []
        elif not ln.startswith("| :-"):
            body.append([c.strip() for c in ln.strip("|").split("|")])
    return tables


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread: idle OpenMP workers would spin on the CPU the other tests share."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("w", WORKLOADS, ids=lambda w: w.key)
def test_both_frameworks_start_from_the_same_weights_and_data(w):
    theirs = setup(w, torch, batch=2)
    state = {k: v.detach().numpy() for k, v in theirs.model.state_dict().items()}
    ours = setup(w, nl, batch=2, state=state)
    np.testing.assert_allclose(ours.current_loss(), theirs.current_loss(), rtol=1e-5)


@pytest.mark.parametrize("key", ["W7", "W8"])
def test_the_new_workloads_take_the_same_first_step(key):
    w = BY_KEY[key]
    theirs = setup(w, torch, batch=4)
    state = {k: v.detach().numpy() for k, v in theirs.model.state_dict().items()}
    ours = setup(w, nl, batch=4, state=state)
    before = theirs.current_loss()
    ours.step()
    theirs.step()
    assert theirs.current_loss() < before  # the step learned something
    np.testing.assert_allclose(ours.current_loss(), theirs.current_loss(), rtol=1e-4)


def test_resnet20_and_gpt_have_their_published_shapes():
    resnet = BY_KEY["W7"].build(nl)
    assert sum(p.numel() for p in resnet.parameters()) == 272_474  # He et al.: 0.27 M
    assert sum(isinstance(m, nl.nn.BatchNorm2d) for m in resnet.modules()) == 19 + 2
    gpt = BY_KEY["W8"].build(nl)
    assert gpt.wte.weight is gpt.lm_head.weight  # weight tying: one parameter
    assert sum(p.numel() for p in gpt.parameters()) == 65 * 128 + 64 * 128 + 4 * 198_272 + 256


def test_step_flops_count_the_matrix_products():
    trainer = setup(BY_KEY["W2"], torch, batch=3)
    forward = 2 * 3 * (784 * 256 + 256 * 128 + 128 * 10)
    assert step_flops(trainer.model, trainer.x) == 3 * forward


def test_training_bench_tables(tmp_path):
    chosen = [BY_KEY[row.split()[0]] for row in ROWS]
    results = run(TINY, chosen, threads=(1, 2), memory=False)
    results.memory.append(measure_memory(BY_KEY["W8"], steps=2, batch=2))
    results.kernel_mb = 110.0
    text = report(results, "python -m bench training", "a note")

    tables = _tables(text)
    assert list(tables) == [
        "workload / threads", "workload / ours 1→2 threads", "float32 GEMM / threads",
        "W2 epoch / threads", "workload / ours MB",
    ]  # fmt: skip
    steps = tables["workload / threads"]
    assert [row[0] for row in steps] == ROWS + ROWS
    for i, (name, threads, ours, theirs, ratio, target, met, *gflops) in enumerate(steps):
        assert threads == str(1 + i // len(ROWS)) and target.startswith("≥ ")
        assert met in ("yes", "**no**")
        assert all(float(x) > 0 for x in (ours, theirs, ratio, gflops[0], gflops[2])), name
    scaling = tables["workload / ours 1→2 threads"]
    assert [row[0] for row in scaling] == ROWS
    one, two = results.steps[: len(ROWS)], results.steps[len(ROWS) :]
    for (name, ours, theirs, met), a, b in zip(scaling, one, two):
        speedups = [a.timing.ours_median / b.timing.ours_median]
        speedups.append(a.timing.theirs_median / b.timing.theirs_median)
        assert [ours, theirs] == [f"{x:.2f}×" for x in speedups], name
        assert met == ("yes" if speedups[0] >= speedups[1] else "**no**")
    gemm = tables["float32 GEMM / threads"]
    assert [g[:2] for g in gemm] == [["32×32 matmul", "1"], ["32×32 matmul", "2"]]
    epoch = tables["W2 epoch / threads"]
    assert epoch[0][:2] == ["256 samples", "1"] and all(float(x) > 0 for x in epoch[0][2:5])
    memory = tables["workload / ours MB"]
    assert [m[0] for m in memory] == ["W8 nanogpt"]
    for m in memory:
        assert m[-3] == "≤ 1.2" and m[-2] in ("yes", "**no**")
        assert float(m[1]) >= 0 and float(m[2]) >= 0
        ours_peak, torch_peak = map(float, m[-1].split(" / "))
        assert ours_peak > 50 and torch_peak > 100  # whole processes: the libraries are in it
        if numba_enabled():  # ours is measured again without the compiled kernels
            assert len(m) == 9 and float(m[4]) >= 0
    assert "Fixed RSS of numba and the compiled kernels" in text and "110 MB" in text
    mean = np.exp(np.mean(np.log([s.timing.ratio for s in results.steps])))
    assert f"Geometric mean of the ratios above: {mean:.2f}" in text
    assert "GEMM-peak target" in text and "**Note:** a note" in text

    doc = tmp_path / "benchmarks.md"
    engine = f"{RESULTS_START}\nengine\n{RESULTS_END}"
    doc.write_text(f"{engine}\n{TRAINING_START}\nold\n{TRAINING_END}\n", encoding="utf-8")
    write_results(str(doc), text, (TRAINING_START, TRAINING_END))
    written = doc.read_text(encoding="utf-8")
    assert written == f"{engine}\n{TRAINING_START}\n{text}{TRAINING_END}\n"


@pytest.mark.skipif(not numba_enabled(), reason="measures the compiled kernels' fixed cost")
def test_the_compiled_kernels_fixed_memory_is_measured():
    assert 10 < kernel_cost_mb() < 1000  # numba and LLVM are tens of MB at least
