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
ROWS = ["W1 playground", "W2 mlp-mnist", "W3 lenet5", "W4 cifar-cnn", "W5 char-lstm", "W6 tiny-vit"]


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


def test_step_flops_count_the_matrix_products():
    trainer = setup(BY_KEY["W2"], torch, batch=3)
    forward = 2 * 3 * (784 * 256 + 256 * 128 + 128 * 10)
    assert step_flops(trainer.model, trainer.x) == 3 * forward


def test_training_bench_tables(tmp_path):
    results = run(TINY, threads=(1,), memory=False)
    results.memory.append(measure_memory(BY_KEY["W4"], steps=1, batch=2))
    text = report(results, "python -m bench training", "a note")

    tables = _tables(text)
    assert list(tables) == [
        "workload / threads", "float32 GEMM / threads", "W2 epoch / threads", "workload / ours MB"
    ]  # fmt: skip
    steps = tables["workload / threads"]
    assert [row[0] for row in steps] == ROWS
    for name, threads, ours, theirs, ratio, target, met, *gflops in steps:
        assert threads == "1" and target.startswith("≥ ") and met in ("yes", "**no**")
        assert all(float(x) > 0 for x in (ours, theirs, ratio, gflops[0], gflops[2])), name
    (gemm,) = tables["float32 GEMM / threads"]
    assert gemm[:2] == ["32×32 matmul", "1"] and all(float(x) > 0 for x in gemm[2:])
    (epoch,) = tables["W2 epoch / threads"]
    assert epoch[:2] == ["256 samples", "1"] and all(float(x) > 0 for x in epoch[2:5])
    (memory,) = tables["workload / ours MB"]
    assert memory[0] == "W4 cifar-cnn" and memory[-2] == "≤ 1.2" and memory[-1] in ("yes", "**no**")
    assert float(memory[1]) > 0 and float(memory[2]) > 0
    if numba_enabled():  # ours is measured again without the compiled kernels' runtime
        assert len(memory) == 8 and float(memory[4]) > 0
    assert "GEMM-peak target" in text and "**Note:** a note" in text

    doc = tmp_path / "benchmarks.md"
    engine = f"{RESULTS_START}\nengine\n{RESULTS_END}"
    doc.write_text(f"{engine}\n{TRAINING_START}\nold\n{TRAINING_END}\n", encoding="utf-8")
    write_results(str(doc), text, (TRAINING_START, TRAINING_END))
    written = doc.read_text(encoding="utf-8")
    assert written == f"{engine}\n{TRAINING_START}\n{text}{TRAINING_END}\n"
