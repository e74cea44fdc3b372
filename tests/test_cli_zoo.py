"""``neuralab train --model NAME`` for every model of the zoo: a tiny run on its natural data
saves a model that ``evaluate`` scores exactly as training did and ``predict`` uses; data a model
is not made for is refused with what it needs."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import cli, models
from neuralab.data import dates, digits, scenes

CIFAR = ["--data", "cifar10:{cifar}", "--batch-size", "4"]
TINY = {
    "alexnet": [*CIFAR, "--image-size", "64"],
    "alexnet_paper": [*CIFAR, "--image-size", "64"],
    "resnet18": CIFAR,
    "resnet34": CIFAR,
    "resnet50": CIFAR,
    "vit_b_16": CIFAR,
    "segnet": ["--samples", "2"],
    "segnet_scenes": ["--samples", "8"],
    "mlp_gan": ["--samples", "512"],
    "char_lm": [],
    "sequence_classifier": ["--samples", "200"],
}
"""Arguments that keep each run tiny (default: 32 training samples). The ImageNet-scale
networks train on their natural data, CIFAR-format files (here 10 training and 2 test images);
being tens of millions of weights, they skip ``predict`` (the same code as the small ones')."""
PAPER_SCALE = {"alexnet", "alexnet_paper", "resnet18", "resnet34", "resnet50", "vit_b_16", "segnet"}


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    """A folder of CIFAR-10 python batches with 2 random images each."""
    import pickle

    root = tmp_path_factory.mktemp("cifar")
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, 2)]}  # fmt: skip
        (root / name).write_bytes(pickle.dumps(batch))
    return root


def scores_in(text: str) -> dict[str, float]:
    """The 'name value' pairs of the last line that has them."""
    line = [ln for ln in text.splitlines() if ln.strip()][-1].split(": ", 1)[-1]
    words = line.replace("test ", "").split()
    return {k: float(v) for k, v in zip(words[::2], words[1::2])}


def predict_inputs(task: str, folder) -> str:
    """A file of inputs for ``neuralab predict`` of a model of ``task``."""
    path = folder / "inputs"
    if task == "segmentation":
        np.save(path.with_suffix(".npy"), scenes(2, 32, seed=7)[0])
        return str(path.with_suffix(".npy"))
    if task in ("denoising", "classification"):
        np.save(path.with_suffix(".npy"), digits(layout="image")[0][:3])
        return str(path.with_suffix(".npy"))
    if task == "generation":
        return "5"
    lines = {
        "translation": [source for source, _ in dates(3, seed=9)],
        "language_model": ["The lamp", "and the"],
        "sequence_classification": ["0123", "9870", "1155"],
    }[task]
    path.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    return str(path.with_suffix(".txt"))


@pytest.mark.parametrize("name", models.list_models())
def test_every_zoo_model_trains_saves_evaluates_and_predicts(name, tmp_path, capsys, cifar):
    spec = models.MODELS.get(name)
    out = tmp_path / "run"
    args = [a.format(cifar=cifar) for a in TINY.get(name, ["--samples", "32"])]
    code = cli.main(["train", "--model", name, "--epochs", "1", "--verbose", "0",
                     "--out", str(out), *args])  # fmt: skip
    trained = capsys.readouterr()
    assert code == 0, trained.err
    saved = nl.load(out / "model.safetensors")
    assert saved["meta"]["task"] == spec.task and saved["meta"]["test"]
    assert isinstance(saved["model"], nl.nn.Module)
    assert any(p.suffix == ".png" for p in out.iterdir()), list(out.iterdir())

    assert cli.main(["evaluate", str(out / "model.safetensors")]) == 0
    evaluated = scores_in(capsys.readouterr().out)
    expected = {k: v for k, v in saved["meta"]["test"].items() if not k.startswith("final_")}
    for key, value in expected.items():  # the saved model is the one that was scored
        assert evaluated[key] == pytest.approx(value, abs=2e-4), (key, evaluated)

    if name in PAPER_SCALE:
        return
    inputs = predict_inputs(spec.task, tmp_path)
    assert cli.main(["predict", str(out / "model.safetensors"), inputs,
                     "--output", str(tmp_path / "pred.csv")]) == 0  # fmt: skip
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) >= 3 and rows[0].count(",") >= 1
    assert (tmp_path / "pred.csv").read_text().splitlines() == rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "segnet_scenes", "--data", "digits"],
         "segnet_scenes labels every pixel of an image with a class: it trains on scenes"),
        (["--model", "seq2seq_gru", "--data", "text"], "it trains on dates (pairs of strings"),
        (["--model", "lenet5", "--data", "circle"], "lenet5 classifies images (N, C, H, W)"),
        (["--model", "resnet18"], "dataset cifar10 is read from files: write it as cifar10:DIR"),
        (["--model", "alexnet", "--data", "digits", "--samples", "2"],
         "alexnet cannot take the 8×8 images of digits"),
        (["--data", "scenes"], "dataset scenes holds images with a class for every pixel"),
        (["--model", "lenet5", "--data", "digitz"], "unknown dataset 'digitz'; did you mean digits?"),
        (["--model", "lenet"], "unknown model 'lenet'; did you mean lenet5"),
    ],
)  # fmt: skip
def test_data_a_model_is_not_made_for_is_refused_clearly(args, message, tmp_path, capsys):
    assert cli.main(["train", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1


def test_predict_explains_what_a_model_reads(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "mlp_gan", "--epochs", "1", "--samples", "512",
                     "--verbose", "0", "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    assert cli.main(["predict", str(out / "model.safetensors"), "many"]) == 2
    assert "a GAN's input is how many samples to draw" in capsys.readouterr().err


def test_scheduler_option_uses_the_schedule_registry(tmp_path, capsys):
    args = ["train", "--data", "circle", "--layers", "8", "--epochs", "4", "--lr", "0.1",
            "--scheduler", "step", "--lr-every", "2", "--lr-decay", "0.5", "--verbose", "2",
            "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(args) == 0
    epochs = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch ")]
    rates = [float(ln.rsplit("lr: ", 1)[1]) for ln in epochs]
    assert rates == [0.1, 0.1, 0.05, 0.05]  # ×0.5 every 2 epochs, as the playground's 'step'
