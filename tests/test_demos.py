"""The lecture's demonstrations: every topic runs (quick), writes PNGs, and shows its lesson."""

from __future__ import annotations

import subprocess
import sys

import pytest

from neuralab import demos

PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.xdist_group("demos")  # one process runs each topic once


@pytest.fixture
def ran(demo_runs):
    """{topic: (returned dict, printed text)}: each topic run once (quick), on first use."""
    return demo_runs


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neuralab.cli", "demo", *args],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize("name", list(demos.TOPICS))
def test_every_topic_prints_and_writes_pngs(ran, name):
    result, text = ran[name]
    assert len(text.strip().splitlines()) >= 3, text
    assert result["figures"], f"{name} wrote no figure"
    for path in result["figures"]:
        assert path.read_bytes()[:8] == PNG, path
        assert f"figure: {path}" in text


def test_gradient_descent_exercise_and_regimes(ran):
    result, text = ran["gradient-descent"]
    assert result["updates"] == pytest.approx([7.2, 5.76, 4.608])
    for value in ("7.2", "5.76", "4.608"):
        assert value in text
    assert result["regimes"][0.1] == "converges"
    assert result["regimes"][0.9] == "oscillates"
    assert result["regimes"][1.1] == "diverges"
    assert abs(result["final_x"][1.1]) > 9 > abs(result["final_x"][0.1])
    assert {"converges", "oscillates", "diverges"} <= set(text.split())


def test_neuron_four_models_classify_separable_data(ran):
    result, text = ran["neuron"]
    assert set(result["accuracy"]) == {
        "Perceptron", "LinearRegression", "LinearSVM", "LogisticRegression",
    }  # fmt: skip
    for name, accuracy in result["accuracy"].items():
        assert accuracy >= 0.9, (name, accuracy)
        assert name in text
    # the far-away points tilt the least-squares line away from the logistic one
    lines = result["lines"]
    cos = lines["LinearRegression"]["w"] @ lines["LogisticRegression"]["w"]
    cos /= (lines["LinearRegression"]["w"] ** 2).sum() ** 0.5
    cos /= (lines["LogisticRegression"]["w"] ** 2).sum() ** 0.5
    assert cos < 0.97


def test_activations_and_losses_tables(ran):
    result, text = ran["activations"]
    assert result["max_derivative"]["sigmoid"] == pytest.approx(0.25, abs=1e-3)
    assert result["max_derivative"]["relu"] == pytest.approx(1.0)
    assert "sigmoid'(z)" in text
    result, text = ran["losses"]
    at = dict(zip(result["margins"], zip(*result["losses"].values())))
    squared, logistic, hinge, perceptron = at[-1.0]
    assert (squared, hinge, perceptron) == (4.0, 2.0, 1.0)
    assert at[1.0][2] == 0.0 and at[0.5][3] == 0.0  # hinge at m = 1, perceptron for m > 0
    assert result["cross_entropy_bits"][(0.5, 0.5)] == pytest.approx(1.0)
    assert "cross-entropy" in text


def test_nonlinearity_identity_fails_tanh_succeeds(ran):
    result, text = ran["nonlinearity"]
    assert result["accuracy"]["tanh"] >= 0.9
    assert result["accuracy"]["identity"] <= 0.7
    assert "identity" in text and "tanh" in text


def test_overfitting_remedies_shrink_the_gap(ran):
    result, text = ran["overfitting"]
    runs = result["results"]
    assert set(runs) == {"none", "dropout", "L1", "L2", "elastic net", "augmentation"}
    gap = {name: r["loss_gap"] for name, r in runs.items()}
    assert gap["none"] > gap["L2"] and gap["none"] > gap["dropout"]
    assert runs["none"]["train_accuracy"] - runs["none"]["val_accuracy"] > 0.05
    assert all(len(c["val_loss"]) == len(c["loss"]) > 1 for c in result["curves"].values())
    assert "augmentation" in text and "elastic net" in text


def test_vanishing_gradient_sigmoid_ratio_far_below_relu(ran):
    result, text = ran["vanishing-gradient"]
    sigmoid, relu = result["results"]["sigmoid"], result["results"]["relu"]
    assert sigmoid["ratio"] < 1e-3 * relu["ratio"]
    assert len(sigmoid["per_layer"]) == demos.vanishing_gradient.DEPTH + 1
    assert "first/last" in text


def test_minibatch_compares_three_batch_sizes(ran):
    result, text = ran["minibatch"]
    runs = result["results"]
    steps = {r["batch_size"]: r["steps"] for r in runs.values()}
    epochs = len(runs["batch (all)"]["loss_per_epoch"])
    assert steps[None] == epochs and steps[1] == 200 * epochs and steps[32] == 7 * epochs
    # per epoch, the one-sample steps get furthest and the single full-batch step least far
    final = {r["batch_size"]: r["final_loss"] for r in runs.values()}
    assert final[1] < final[32] < final[None]
    assert all(r["seconds"] > 0 for r in runs.values())
    assert "ms/step" in text


def test_tuning_random_search_tries_more_learning_rates(ran):
    result, text = ran["tuning"]
    grid, random = result["searches"]["grid"], result["searches"]["random"]
    assert len(grid["scores"]) == len(random["scores"])  # the same budget
    assert random["distinct_lr"] == len(random["scores"]) > grid["distinct_lr"]
    assert 0.5 <= grid["best_score"] <= 1 and 0.5 <= random["best_score"] <= 1
    assert "grid search" in text and "random search" in text


def test_tour_prints_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demos, "TOUR", ("activations", "losses"))
    results = demos.tour(tmp_path, quick=True)
    text = capsys.readouterr().out
    assert set(results) == {"activations", "losses"}
    assert "[1/2] activations" in text and "[2/2] losses done in" in text
    assert "Tour finished" in text


def test_unknown_topic_in_python_names_the_choices():
    with pytest.raises(ValueError, match="unknown demo topic 'nope'.*gradient-descent"):
        demos.run("nope")


def test_cli_list_names_every_topic():
    result = run_cli("--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [*demos.TOPICS, "tour"]


@pytest.mark.parametrize(
    "args, message",
    [(["nope"], "unknown topic 'nope'"), (["neuron", "--frobnicate"], "unrecognized arguments")],
)
def test_cli_bad_topic_exits_2_with_one_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_out_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    result = run_cli("losses", "--out", str(tmp_path / "file"))
    assert result.returncode == 2 and "is a file" in result.stderr


def test_cli_runs_a_topic_and_writes_its_figures(tmp_path):
    result = run_cli("gradient-descent", "--quick", "--out", str(tmp_path / "figs"))
    assert result.returncode == 0, result.stderr
    assert "x3 = 5.76 − 0.1·(2·5.76) = 4.608" in result.stdout
    assert "diverges" in result.stdout
    pngs = sorted((tmp_path / "figs").glob("*.png"))
    assert [p.name for p in pngs] == ["gradient_descent_1d.png", "gradient_descent_2d.png"]
    assert all(p.read_bytes()[:8] == PNG for p in pngs)


def test_without_matplotlib_the_demo_still_prints(tmp_path, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a),
    )
    result = demos.run("losses", tmp_path, quick=True)
    text = capsys.readouterr().out
    assert result["figures"] == [] and not list(tmp_path.iterdir())
    assert text.count("figures skipped: matplotlib is not installed") == 1
    assert "hinge" in text


def test_teachable_machine_learns_the_drawings(ran):
    result, text = ran["teachable-machine"]
    assert result["train_accuracy"] >= 0.9
    assert result["new_correct"] >= 2  # of one new drawing per class
    assert "confusion matrix" in text and "a new circle drawing ->" in text
