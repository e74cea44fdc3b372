"""The API coverage table: its classification of names, and docs/porting.md kept current."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import api_coverage  # noqa: E402


@pytest.mark.parametrize("name", ["cuda", "is_cuda", "cudnn_batch_norm", "FloatStorage", "qint8"])
def test_accelerator_and_quantization_names_are_not_counted(name):
    assert api_coverage.not_applicable(name)


@pytest.mark.parametrize("name", ["eq_", "flipud", "huber_loss", "is_inference", "sqrt", "Linear"])
def test_ordinary_names_are_counted(name):
    assert not api_coverage.not_applicable(name)


def test_a_missing_namespace_covers_nothing(monkeypatch):
    monkeypatch.setattr(
        api_coverage, "NAMESPACES", [("torch.optim", "torch.optim", "neuralab.no_such", None)]
    )
    (row,) = api_coverage.coverage()
    assert row.present == [] and "SGD" in row.missing and row.percent == 0.0


def test_present_names_are_neuralabs():
    rows = {r.label: r for r in api_coverage.coverage()}
    assert {"Linear", "Module", "Sequential"} <= set(rows["torch.nn"].present)
    assert {"backward", "reshape", "sum"} <= set(rows["torch.Tensor methods"].present)
    assert 0 < rows["torch"].percent < 100


def test_porting_guide_shows_the_current_table():
    text = api_coverage.PORTING.read_text()
    block = text.split(api_coverage.START, 1)[1].split(api_coverage.END, 1)[0].strip()
    assert block == api_coverage.summary(api_coverage.coverage()), (
        "docs/porting.md's coverage table is stale: run `python tools/api_coverage.py --write`"
    )
