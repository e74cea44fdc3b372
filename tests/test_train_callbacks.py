"""Callbacks: hook order, early stopping, divergence, checkpoints, schedules, CSV and gradients."""

from __future__ import annotations

import csv
import math
import warnings

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim, train
from neuralab.data import circle

X, Y01 = circle(128, noise=0.1, seed=3, labels="01")  # 4 batches of 32


def mlp(seed: int = 0) -> nn.Module:
    nl.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
    )


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class Recorder(train.Callback):
    """Snapshots the weights at every epoch end; optionally injects a 'score' into the logs."""

    def __init__(self, scores=None):
        self.scores = scores
        self.snapshots: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        if self.scores is not None:
            logs["score"] = self.scores[epoch]
        self.snapshots.append(weights(self.model))


def run(model, callbacks=(), epochs=6, lr=0.05, **kw):
    return train.fit(
        model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr), (X, Y01),
        epochs=epochs, callbacks=callbacks, verbose=0, **kw,
    )  # fmt: skip


def test_hook_order():
    calls = []

    def hook(name):
        if name in ("on_train_begin", "on_train_end"):
            return lambda self, logs=None: calls.append((name,))
        return lambda self, index, logs=None: calls.append((name, index))

    Log = type("Log", (train.Callback,), {name: hook(name) for name in train.callbacks.HOOKS})
    model = mlp()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), (X[:64], Y01[:64]),
              epochs=2, val_data=(X, Y01), callbacks=[Log()], verbose=0)  # fmt: skip
    batch = [("on_train_batch_begin", 0), ("on_after_backward", 0), ("on_train_batch_end", 0),
             ("on_train_batch_begin", 1), ("on_after_backward", 1), ("on_train_batch_end", 1)]  # fmt: skip
    expected = [("on_train_begin",)]
    for e in range(2):
        expected += [("on_epoch_begin", e), *batch, ("on_epoch_end", e)]
    assert calls == [*expected, ("on_train_end",)]


def test_batch_and_epoch_logs():
    batches, epochs = [], []

    class Spy(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(dict(logs))

        def on_epoch_end(self, epoch, logs=None):
            epochs.append(dict(logs))

    model = mlp()
    run(model, [Spy()], epochs=1, val_data=(X, Y01))
    assert len(batches) == 4 and set(batches[0]) == {"loss", "accuracy"}
    assert set(epochs[0]) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert batches[-1]["loss"] == pytest.approx(epochs[0]["loss"])  # equal batches: same mean


def test_early_stopping_stops_and_restores_the_best_epoch():
    scores = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9]
    rec = Recorder(scores)
    stop = train.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    model = mlp()
    h = run(model, [rec, stop], epochs=8)
    assert h.stopped_reason == "early_stopping" and h.stopped_epoch == 4
    assert h.epoch == [0, 1, 2, 3, 4]
    assert stop.best_epoch == 2 and stop.restored_epoch == 2 and stop.best == 3.0
    assert_same(weights(model), rec.snapshots[2])
    assert any("stopping after epoch 5" in m for m in h.messages)
    assert any("restored the weights from the end of epoch 3" in m for m in h.messages)


def test_early_stopping_restores_after_ctrl_c_and_prints(capsys):
    rec = Recorder([3.0, 1.0, 2.0, 2.5, 2.6])

    class CtrlC(train.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise KeyboardInterrupt

    stop = train.EarlyStopping(monitor="score", patience=5, restore_best_weights=True)
    model = mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.05), (X, Y01),
                  epochs=5, callbacks=[rec, stop, CtrlC()], verbose=2)  # fmt: skip
    assert h.stopped_reason == "interrupted" and h.stopped_epoch == 3 and len(h.epoch) == 3
    assert_same(weights(model), rec.snapshots[1])
    out = capsys.readouterr().out
    assert "Training interrupted in epoch 4/5" in out
    assert "restored the weights from the end of epoch 2" in out


@pytest.mark.parametrize("ending", ["all epochs", "divergence"])
def test_early_stopping_restores_the_best_epoch_however_training_ends(ending):
    calls = {"n": 0}

    def loss(pred, target):  # NaN in epoch 4 (4 batches per epoch) for the divergence case
        calls["n"] += 1
        nan = ending == "divergence" and calls["n"] == 14
        return ((pred - target) ** 2).mean() * (float("nan") if nan else 1.0)

    rec = Recorder([3.0, 1.0, 2.0, 2.5])
    stop = train.EarlyStopping(monitor="score", patience=10, restore_best_weights=True)
    model = mlp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", train.DivergenceWarning)
        h = train.fit(model, loss, optim.SGD(model.parameters(), 0.05), (X, Y01), epochs=4,
                      callbacks=[rec, stop], verbose=0)  # fmt: skip
    assert h.stopped_reason == (None if ending == "all epochs" else "diverged")
    assert len(h.epoch) == (4 if ending == "all epochs" else 3)
    assert stop.restored_epoch == 1
    assert_same(weights(model), rec.snapshots[1])


def test_early_stopping_mode_and_missing_monitor():
    assert train.EarlyStopping("val_accuracy").mode == "max"
    assert train.EarlyStopping("val_loss").mode == "min"
    model = mlp()
    with pytest.raises(ValueError, match="monitor='val_loss' is not logged.*val_data"):
        run(model, [train.EarlyStopping()], epochs=1)


def test_divergence_nan_loss_keeps_the_last_good_epoch():
    calls = {"n": 0}

    def loss(pred, target):
        calls["n"] += 1
        value = nl.nn.functional.binary_cross_entropy_with_logits(pred, target)
        return value * float("nan") if calls["n"] == 4 + 3 else value  # epoch 2, step 3

    rec = Recorder()
    model = mlp()
    with pytest.warns(train.DivergenceWarning) as caught:
        h = train.fit(model, loss, optim.SGD(model.parameters(), 0.1), (X, Y01), epochs=5,
                      callbacks=[rec], verbose=0)  # fmt: skip
    message = str(caught[0].message)
    assert "epoch 2/5 at step 3/4" in message and "loss is nan" in message
    assert "smaller learning rate" in message and "end of epoch 1" in message
    assert h.stopped_reason == "diverged" and h.stopped_epoch == 1 and h.epoch == [0]
    assert_same(weights(model), rec.snapshots[0])
    assert message in h.messages


def test_divergence_from_a_huge_learning_rate_restores_finite_weights():
    model = mlp()
    start = weights(model)
    with pytest.warns(train.DivergenceWarning, match=r"epoch 1/20 at step \d+/4.*initial weights"):
        h = train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), 1e6), (X, 2 * Y01 - 1),
                      epochs=20, verbose=0)  # fmt: skip
    assert h.stopped_reason == "diverged" and h.epoch == []
    assert_same(weights(model), start)


def test_divergence_threshold_catches_an_exploding_loss():
    calls = {"n": 0}

    def loss(pred, target):
        calls["n"] += 1
        return ((pred - target) ** 2).mean() * (1e7 if calls["n"] == 6 else 1.0)

    model = mlp()
    with pytest.warns(train.DivergenceWarning, match="epoch 2/3 at step 2/4.*exploded past"):
        h = train.fit(model, loss, optim.SGD(model.parameters(), 0.0), (X, Y01), epochs=3,
                      metrics=(), verbose=0)  # fmt: skip
    assert h.stopped_reason == "diverged"
    calls["n"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train.fit(model, loss, optim.SGD(model.parameters(), 0.0), (X, Y01), epochs=3,
                      metrics=(), verbose=0, divergence_threshold=None)  # fmt: skip
    assert h.stopped_reason is None


def test_stop_training_flag_and_terminate_on_nan():
    class StopAt1(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = mlp()
    h = run(model, [StopAt1()])
    assert h.stopped_reason == "callback" and h.epoch == [0, 1]
    h = run(model, [Recorder([1.0, math.nan, 1.0]), train.TerminateOnNaN()], epochs=3)
    assert h.stopped_reason == "nan" and h.epoch == [0, 1]
    assert any("score = nan at epoch 2" in m for m in h.messages)


def test_model_checkpoint_keeps_the_best(tmp_path):
    rec = Recorder([3.0, 2.0, 2.5, 1.0, 1.5])
    path = tmp_path / "best.safetensors"
    ckpt = train.ModelCheckpoint(path, monitor="score", save_best_only=True, save_weights_only=True)
    every = train.ModelCheckpoint(tmp_path / "all" / "e{epoch:02d}-{score:.1f}.safetensors",
                                  monitor="score")  # fmt: skip
    model = mlp()
    run(model, [rec, ckpt, every], epochs=5)
    assert ckpt.best_epoch == 3 and ckpt.best == 1.0
    assert_same({k: v.numpy() for k, v in nl.load(path).items()}, rec.snapshots[3])
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert names == [f"e0{i}-{s:.1f}.safetensors" for i, s in zip(range(1, 6), rec.scores)]
    whole = nl.load(tmp_path / "all" / "e05-1.5.safetensors")  # a whole model, rebuilt
    assert isinstance(whole, nn.Sequential)
    assert_same(weights(whole), rec.snapshots[4])


def test_learning_rate_schedules():
    model = mlp()
    opt = optim.SGD(model.parameters(), 0.1)
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y01), epochs=4, verbose=0,
                  scheduler=optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))  # fmt: skip
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    # ReduceLROnPlateau gets the monitored value
    opt = optim.SGD(model.parameters(), 0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    sched = train.LearningRateScheduler(plateau, monitor="score")
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y01), epochs=5, verbose=0,
                  callbacks=[Recorder([1.0] * 5), sched])  # fmt: skip
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    # a Keras-style function (epoch, lr) -> lr
    h = run(model, [train.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))], epochs=3)
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    # stepping per batch
    opt = optim.SGD(model.parameters(), 0.1)
    per_batch = train.LearningRateScheduler(
        optim.lr_scheduler.ExponentialLR(opt, gamma=0.5), interval="batch"
    )
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y01), epochs=2, callbacks=[per_batch],
                  verbose=0)  # fmt: skip
    assert h["lr"] == pytest.approx([0.1 * 0.5**4, 0.1 * 0.5**8])


def test_gradient_stats_records_per_layer_norms():
    model = mlp()
    fresh = mlp()  # same initial weights
    stats = train.GradientStats()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), (X, Y01),
              epochs=3, batch_size=None, callbacks=[stats], verbose=0)  # fmt: skip
    assert list(stats.norms) == ["0", "2", "4"]
    assert all(len(v) == 3 and all(n > 0 for n in v) for v in stats.norms.values())
    # epoch 1 is a single full batch at the initial weights: compare with a manual backward
    nn.BCEWithLogitsLoss()(fresh(nl.tensor(X)), nl.tensor(Y01).reshape(-1, 1)).backward()
    for name in ["0", "2", "4"]:
        layer = getattr(fresh, name)
        expected = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum()
                               for p in layer.parameters()))  # fmt: skip
        assert stats.norms[name][0] == pytest.approx(expected, rel=1e-6)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    model = mlp()
    h = run(model, [train.CSVLogger(path)], epochs=3, val_data=(X, Y01))
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for r, i in zip(rows[1:], range(3)):
        assert float(r[2]) == h["loss"][i] and float(r[5]) == h["val_loss"][i]
    run(model, [train.CSVLogger(path, append=True)], epochs=1, val_data=(X, Y01))
    with open(path, newline="") as f:
        assert len(list(csv.reader(f))) == 5  # header kept, one row appended


def test_batch_metrics_are_computed_only_for_a_callback_that_reads_them():
    x, y = nl.randn(64, 4), nl.randint(0, 3, (64,))
    loader = nl.data.DataLoader(nl.data.TensorDataset(x, y), batch_size=16)
    seen = []

    class BatchReader(nl.train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    model = nl.nn.Linear(4, 3)
    history = nl.train.fit(
        model, nl.nn.CrossEntropyLoss(), nl.optim.SGD(model.parameters(), lr=0.1), loader,
        epochs=1, verbose=0, callbacks=[BatchReader()],
    )  # fmt: skip
    assert len(seen) == 4 and all("accuracy" in logs and "loss" in logs for logs in seen)
    assert 0 <= seen[-1]["accuracy"] <= 1
    assert "accuracy" in history.history  # the epoch's metric is there either way

    lists = [nl.train.callbacks.CallbackList(c, model, {}, [], None) for c in ([], [BatchReader()])]
    assert [cl.uses("on_train_batch_end") for cl in lists] == [False, True]
