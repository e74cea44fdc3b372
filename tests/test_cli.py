"""The neuralab command, run as a subprocess like a person would run it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neuralab.data import digits


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neuralab.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run(
        "train", "--data", "digits", "--layers", "64", "--epochs", "20", "--verbose", "2",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_mlp_on_digits_reaches_95_percent_and_saves(trained):
    out, result = trained
    test_line = [ln for ln in result.stdout.splitlines() if ln.startswith("test ")][-1]
    accuracy = float(test_line.split("accuracy")[1].split()[0])
    assert accuracy >= 0.95, result.stdout
    assert "Epoch 20/20" in result.stdout  # one line per epoch when not a terminal
    assert (out / "model.safetensors").stat().st_size > 1000
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_and_predict_use_the_saved_model(trained, tmp_path):
    out, _ = trained
    result = run("evaluate", str(out / "model.safetensors"))
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy")[1].split()[0])
    assert accuracy >= 0.95
    X, y = digits()
    np.save(tmp_path / "x.npy", X[:20])
    result = run("predict", str(out / "model.safetensors"), str(tmp_path / "x.npy"))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0] == "input,class,confidence" and len(rows) == 21
    predicted = np.array([int(r.split(",")[1]) for r in rows[1:]])
    assert (predicted == y[:20]).mean() >= 0.9
    np.savetxt(tmp_path / "x.csv", X[:5], delimiter=",")
    csv = run("predict", str(out / "model.safetensors"), str(tmp_path / "x.csv"))
    assert csv.returncode == 0 and len(csv.stdout.strip().splitlines()) == 6


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "nope"], "unknown dataset 'nope'"),
        (["train", "--data", "digits", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--data", "digits", "--optimizer", "magic"], "invalid choice: 'magic'"),
        (["train"], "train needs --data (a dataset), or --model"),
        (["train", "--data", "mnist"], "write it as mnist:DIR"),
        (["train", "--data", "mnist:/nonexistent"], "/nonexistent"),
        (["train", "--data", "digits", "--model", "nomodel"], "unknown model 'nomodel'"),
        (["evaluate", "/no/such/model.safetensors"], "no model file at /no/such"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_predict_rejects_wrong_input_shape(trained, tmp_path):
    out, _ = trained
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.float32))
    result = run("predict", str(out / "model.safetensors"), str(tmp_path / "bad.npy"))
    assert result.returncode == 2 and "do not match the model's input (64,)" in result.stderr


def test_help_and_info():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "train", "evaluate", "predict", "info"):
        assert command in result.stdout
    info = run("info", "--models")
    assert info.returncode == 0 and "numpy" in info.stdout and "mlp" in info.stdout
    as_module = subprocess.run(
        [sys.executable, "-m", "neuralab", "--help"], capture_output=True, text=True, timeout=300
    )
    assert as_module.returncode == 0 and as_module.stdout == result.stdout
