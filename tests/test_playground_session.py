"""The playground's session logic without a server: TF semantics, training, commands, data, export."""

import json
import subprocess
import sys

import numpy as np
import pytest

import neuralab as nl
from neuralab.playground import commands, export
from neuralab.playground.config import DEFAULTS, ConfigError, validate
from neuralab.playground.data import CSVError, parse_csv, train_mask
from neuralab.playground.protocol import ProtocolError
from neuralab.playground.session import Session, SessionError, descend_parabola, lr_factor


def train_epochs(session, epochs):
    """Step whole epochs (the server's playing loop runs the same updates)."""
    for _ in range(epochs):
        session.step("epoch")


def weights(session):
    return [layer.weight.numpy().copy() for layer in session.linears]


def test_defaults_follow_the_tensorflow_playground():
    s = Session()
    assert s.layer_sizes == [2, 4, 2, 1]
    assert (len(s.split.X_train), len(s.split.X_test)) == (250, 250)
    for layer in s.linears:
        assert np.all(np.abs(layer.weight.numpy()) <= 0.5) and np.all(
            layer.bias.numpy() == np.float32(0.1)
        )
        assert layer.weight.dtype == np.float32
    assert s.config["learningRate"] == 0.03 and s.config["batchSize"] == 10
    snap = s.snapshot()
    assert snap["outAct"] == "tanh" and snap["epoch"] == 0
    json.dumps(snap, allow_nan=False)
    reg = Session({"problem": "regression"})
    assert len(reg.split.X_train) == 600 and reg.snapshot()["outAct"] == "linear"


def test_circle_with_tanh_learns_and_linear_does_not():
    s = Session()
    train_epochs(s, 150)
    assert s.evaluate("test")["loss"] < 0.1
    assert s.evaluate("test")["acc"] > 0.95
    flat = Session({"activation": "linear"})
    train_epochs(flat, 60)
    assert flat.evaluate("test")["loss"] > 0.3


def test_epoch_semantics_fixed_order_with_wraparound():
    s = Session({"batchSize": 30})  # 250 training points: batches straddle the epoch end
    s.step("epoch")
    assert (s.epoch, s.updates, s.seen) == (1, 9, 270)
    s.step("batch")
    assert (s.epoch, s.updates, s.seen) == (1, 10, 300)
    assert len(s.hist_pending) == 1 and s.hist_pending[0][0] == 1
    s.step("epoch")
    assert s.epoch == 2 and s.seen >= 500


def test_live_settings_keep_weights_and_rebuilds_do_not():
    s = Session()
    train_epochs(s, 3)
    before = weights(s)
    for change in [
        {"learningRate": 0.1},
        {"batchSize": 5},
        {"regularization": "L2"},
        {"optimizer": "adam"},
        {"dropout": 0.2},
        {"lrSchedule": "step"},
        {"speed": 0},
    ]:
        s.configure(validate(change))
        assert all(np.array_equal(a, b) for a, b in zip(before, weights(s))), change
    assert s.epoch == 3 and s.lr == 0.1
    s.configure(validate({"activation": "relu"}))
    assert s.epoch == 0 and s.hist_pending == []


def test_learning_rate_changes_live_under_a_schedule():
    assert lr_factor("step", 0.5, 10, 25) == 0.25
    assert lr_factor("cosine", 0.5, 10, 10) == pytest.approx(0.0)
    s = Session({"lrSchedule": "step", "lrEvery": 2, "lrDecay": 0.5})
    train_epochs(s, 4)
    assert s.lr == pytest.approx(0.03 * 0.25)
    s.configure({"learningRate": 0.1})
    assert s.lr == pytest.approx(0.1 * 0.25)


def test_restart_replays_the_same_run_and_reset_draws_new_weights():
    s = Session({"dropout": 0.3})
    start = weights(s)
    train_epochs(s, 3)
    first = weights(s)
    s.restart()
    assert s.epoch == 0 and all(np.array_equal(a, b) for a, b in zip(start, weights(s)))
    train_epochs(s, 3)
    assert all(np.array_equal(a, b) for a, b in zip(first, weights(s)))
    seed = s.config["initSeed"]
    s.reset()
    assert s.config["initSeed"] != seed
    assert not all(np.array_equal(a, b) for a, b in zip(start, weights(s)))


def test_regenerate_keeps_weights_and_changes_data():
    s = Session()
    train_epochs(s, 2)
    before, points = weights(s), s.split.X_train.copy()
    s.regenerate()
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(s)))
    assert not np.array_equal(points, s.split.X_train) and s.epoch == 2


def test_sessions_do_not_share_random_streams():
    a, b = Session({"dropout": 0.5}), Session({"dropout": 0.5})
    train_epochs(a, 1)
    nl.manual_seed(123)  # the global generator must not matter either
    train_epochs(b, 1)
    assert all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b)))


def test_edit_weights_and_biases_including_the_output_bias():
    s = Session()
    commands.apply(s, {"cmd": "edit", "layer": 2, "to": 0, "from": None, "value": 1.5})
    commands.apply(s, {"cmd": "edit", "layer": 0, "to": 3, "from": 1, "value": -2.0})
    assert s.linears[2].bias.numpy()[0] == 1.5 and s.linears[0].weight.numpy()[3, 1] == -2.0
    with pytest.raises(ProtocolError, match="layer 0 has weights of shape 4×2"):
        commands.apply(s, {"cmd": "edit", "layer": 0, "to": 4, "from": 0, "value": 1.0})
    with pytest.raises(ProtocolError, match="layer 5 does not exist"):
        commands.apply(s, {"cmd": "edit", "layer": 5, "to": 0, "from": 0, "value": 1.0})


def test_divergence_pauses_with_a_message_and_snapshots_stay_valid_json():
    s = Session({"problem": "regression", "learningRate": 3, "speed": 0})
    s.play()
    s.run_for(1.0, 0.1)
    assert not s.playing
    assert "diverged" in s.notices[-1]["message"] and "learning rate" in s.notices[-1]["message"]
    for _ in range(20):
        s.step("batch")  # now NaN or inf everywhere
    json.dumps(s.snapshot(), allow_nan=False)


def test_early_stop_at_a_target_loss_and_at_an_epoch():
    s = Session({"stopLoss": 0.05, "speed": 0})
    s.play()
    for _ in range(200):
        s.run_for(0.05, 0.1)
        if not s.playing:
            break
    assert not s.playing and "Early stop" in s.notices[-1]["message"]
    assert s.hist_pending[-1][2] <= 0.05
    t = Session({"stopEpoch": 7, "speed": 0})
    t.play()
    t.run_for(2.0, 0.1)
    assert t.epoch == 7 and not t.playing


def test_speed_caps_epochs_per_second():
    s = Session({"speed": 20})
    s.play()
    s.run_for(1.0, 0.1)  # 0.1 s of credit at 20 epochs/s: two epochs
    assert s.epoch == 2


@pytest.mark.parametrize(
    "change",
    [
        {"loss": "perceptron"},
        {"loss": "squared", "output": "linear"},
        {"loss": "hinge", "regularization": "L2", "regularizationRate": 0.01},
        {"loss": "logistic"},
        {"loss": "cross_entropy", "learningRate": 0.03},
    ],
)
def test_single_neuron_models_separate_the_gaussians(change):
    s = Session(
        {"dataset": "gauss", "noise": 10, "networkShape": [], "learningRate": 0.01, **change}
    )
    assert s.layer_sizes == [2, 1]
    train_epochs(s, 15)
    assert s.evaluate("test")["acc"] > 0.9


def test_multiclass_snapshot_and_optimizers():
    for optimizer in ("momentum", "adam", "rmsprop"):
        s = Session(
            {
                "problem": "multiclass",
                "loss": "cross_entropy",
                "optimizer": optimizer,
                "learningRate": 0.01,
            }
        )
        train_epochs(s, 10)
        assert s.evaluate("test")["acc"] > 0.9, optimizer
    snap = s.snapshot()
    assert "gridClass" in snap and "gridConf" in snap and snap["shape"][-1] == 3
    assert np.array(snap["confusion"]["test"]).shape == (3, 3)
    with pytest.raises(ConfigError, match="multiclass data uses cross_entropy"):
        s.configure({"loss": "hinge"})
    with pytest.raises(ConfigError, match="at least one input feature"):
        s.configure({"x": False, "y": False})


def test_regression_metrics_and_focus_grid():
    s = Session({"problem": "regression"})
    train_epochs(s, 2)
    snap = s.snapshot()
    assert snap["acc"] == {"train": None, "test": None} and snap["confusion"]["test"] is None
    s.set_focus("h1_1")
    assert len(s.snapshot()["focus"]["grid"]) == len(snap["grid"])  # 100x100 bytes, base64
    with pytest.raises(SessionError, match="no node 'h2_0'"):
        s.set_focus("h2_0")


def test_dropout_reports_dropped_units_and_relu_reports_dead_units():
    s = Session({"dropout": 0.5, "networkShape": [8, 8]})
    s.step("batch")
    dropped = s.snapshot()["dropped"]
    assert len(dropped) == 2 and any(dropped)
    r = Session({"activation": "relu"})
    r.linears[0].weight.data[0] = 0
    r.linears[0].bias.data[0] = -1  # this unit's input is -1 everywhere: dead
    assert r.snapshot()["health"][0]["dead"] == 1
    t = Session()
    t.linears[0].bias.data[1] = 50  # tanh(50 + w·x) is flat everywhere
    assert t.snapshot()["health"][0]["saturated"] == 1


def test_gradient_magnitudes_show_vanishing_gradients_with_sigmoid():
    s = Session({"activation": "sigmoid", "networkShape": [6] * 6, "learningRate": 0.1})
    train_epochs(s, 3)
    grads = s.hist_pending[-1][6]
    assert len(grads) == 7 and grads[0] < grads[-1] / 100


def test_user_points_add_erase_clear_and_keep_their_split():
    s = Session()
    before = weights(s)
    commands.apply(s, {"cmd": "points", "op": "add", "x": 1.0, "y": 2.0, "label": 1})
    assert s.config["dataset"] == "custom" and len(s.custom) == 501
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(s)))
    commands.apply(s, {"cmd": "points", "op": "clear"})
    points = [[0.5, 0.5, 1], [-0.5, -0.5, -1], [3, 3, 1], [-3, -3, -1]]
    commands.apply(s, {"cmd": "points", "op": "set", "points": points})
    assert len(s.split.X_train) + len(s.split.X_test) == 4
    commands.apply(s, {"cmd": "points", "op": "erase", "x": 3, "y": 3, "radius": 0.5})
    assert len(s.custom) == 3
    with pytest.raises(ProtocolError, match="classification labels are -1 or \\+1"):
        commands.apply(s, {"cmd": "points", "op": "add", "x": 0, "y": 0, "label": 2})
    with pytest.raises(ProtocolError, match="outside the plotted square"):
        commands.apply(s, {"cmd": "points", "op": "add", "x": 9, "y": 0, "label": 1})
    mask = train_mask(10, 0.5)
    assert mask.sum() == 5 and np.array_equal(train_mask(11, 0.5)[:10], mask)


def test_csv_files_load_and_bad_files_say_what_is_wrong():
    good = parse_csv(
        "x1,x2,label\n1,2,1\n-1,-2,0\n0.5;0.5;1\n".replace(";", ","), "classification", 2
    )
    assert good.tolist() == [[1, 2, 1], [-1, -2, -1], [0.5, 0.5, 1]]
    assert parse_csv("1 2 0\n3 4 2\n", "multiclass", 3)[:, 2].tolist() == [0, 2]
    bad = {
        "": "empty",
        "x1,x2,label\n": "no data rows",
        "1,2\n": "line 1: expected 3 columns",
        "1,2,1\n1,abc,1\n": "line 2: 'abc' is not a number",
        "1,2,1\n1,2,3\n": "line 2: label 3",
        "1,2,1\n10,2,1\n": "line 2: \\(10, 2\\) is outside",
        "1,2,7\n": "multiclass labels are whole numbers 0 to 2",
    }
    for text, message in bad.items():
        problem = "multiclass" if "7" in text else "classification"
        with pytest.raises(CSVError, match=message):
            parse_csv(text, problem, 3)
    with pytest.raises(CSVError, match="exceed the limit"):
        parse_csv("1,1,1\n" * 2001, "classification", 2)
    s = Session()
    commands.apply(s, {"cmd": "csv", "text": "1,1,1\n-1,-1,-1\n2,2,1\n-2,-2,-1\n"})
    assert s.config["dataset"] == "custom" and s.epoch == 0
    with pytest.raises(ProtocolError, match="csv: line 1"):
        commands.apply(s, {"cmd": "csv", "text": "oops\n"})


def test_gradient_descent_on_x_squared_exercise_5_1():
    out = descend_parabola(9, 0.1, 3)
    np.testing.assert_allclose(out["xs"], [9, 7.2, 5.76, 4.608])
    assert out["verdict"] == "converges"
    assert descend_parabola(9, 0.8, 5)["verdict"] == "oscillates and converges"
    assert descend_parabola(9, 1.0, 4)["xs"] == [9, -9, 9, -9, 9]
    diverging = descend_parabola(9, 1.5, 200)
    assert diverging["verdict"] == "diverges" and len(diverging["xs"]) < 200


def test_exported_model_loads_with_nl_load():
    s = Session()
    train_epochs(s, 2)
    reply = commands.apply(s, {"cmd": "export", "what": "model"})
    assert reply["name"] == export.MODEL_NAME
    import base64
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, reply["name"])
        with open(path, "wb") as f:
            f.write(base64.b64decode(reply["b64"]))
        checkpoint = nl.load(path)
    model = checkpoint["model"]
    assert checkpoint["features"] == ["x1", "x2"] and checkpoint["epoch"] == 2
    with nl.no_grad():
        np.testing.assert_array_equal(
            model(s.test_inputs).numpy(), s._forward_layers(s.test_inputs)[1]
        )


@pytest.mark.parametrize(
    "config",
    [
        {},
        {
            "dataset": "spiral",
            "xSquared": True,
            "sinY": True,
            "activation": "relu",
            "batchSize": 7,
            "regularization": "L2",
            "regularizationRate": 0.003,
            "optimizer": "adam",
            "dropout": 0.2,
            "lrSchedule": "exp",
            "lrEvery": 3,
            "learningRate": 0.01,
        },
        {
            "problem": "multiclass",
            "loss": "cross_entropy",
            "optimizer": "momentum",
            "regularization": "L1",
            "regularizationRate": 0.001,
            "lrSchedule": "cosine",
            "lrEvery": 4,
        },
        {
            "problem": "classification",
            "dataset": "custom",
            "loss": "cross_entropy",
            "networkShape": [],
        },
    ],
)
def test_exported_script_reproduces_the_run(config, tmp_path):
    s = Session(config)
    if s.config["dataset"] == "custom":
        commands.apply(
            s, {"cmd": "csv", "text": "1,1,1\n-1,-1,0\n2,1.5,1\n-2,-1.25,0\n0.3,0.7,1\n"}
        )
    train_epochs(s, 5)
    path = tmp_path / "run.py"
    path.write_text(export.script(s))
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" loss ") for line in result.stdout.strip().splitlines())
    for part in ("train", "test"):
        if part in lines:
            assert float(lines[part].split()[0]) == pytest.approx(
                s.evaluate(part)["loss"], abs=2e-6
            )
    assert validate(DEFAULTS)  # the defaults themselves pass validation
