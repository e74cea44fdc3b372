"""fit / evaluate / predict on small MLPs and the circle data: history, modes, data forms, output."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim, train
from neuralab.data import circle
from neuralab.data.dataset import TensorDataset
from neuralab.data.loader import DataLoader

X, Y_PM = circle(400, noise=0.0, seed=1)
Y01 = (Y_PM + 1) / 2


def mlp(seed: int = 0, out: int = 1) -> nn.Module:
    nl.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, out)
    )


def test_history_contents_and_lengths():
    model = mlp()
    h = train.fit(
        model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), 0.01), (X, Y01),
        epochs=3, val_data=(X[:100], Y01[:100]), metrics=("accuracy", "f1"), verbose=0,
    )  # fmt: skip
    assert isinstance(h, train.History)
    assert h.epoch == [0, 1, 2]
    assert list(h.history) == ["loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"]
    assert all(len(v) == 3 for v in h.history.values())
    assert all(isinstance(v, float) for values in h.history.values() for v in values)
    assert h["lr"] == [0.01] * 3
    assert h["loss"][-1] < h["loss"][0]
    assert h.stopped_reason is None and h.stopped_epoch is None
    # the last val values are what evaluate reports for the final model
    final = train.evaluate(model, nn.BCEWithLogitsLoss(), (X[:100], Y01[:100]), ("accuracy", "f1"))
    assert final["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-5)
    assert final["accuracy"] == h["val_accuracy"][-1]


@pytest.mark.parametrize("labels", ["pm1", "01"])
def test_fit_learns_circle(labels):
    """A 2-16-16-1 net reaches >= 90 % on the circle: tanh+MSE on ±1, logits+BCE on 0/1."""
    Xtr, y = circle(500, noise=0.0, seed=0, labels=labels)
    Xte, yte = circle(300, noise=0.0, seed=7, labels=labels)
    model = mlp(seed=0)
    if labels == "pm1":
        model.append(nn.Tanh())
        loss = nn.MSELoss()
    else:
        loss = nn.BCEWithLogitsLoss()
    h = train.fit(
        model, loss, optim.Adam(model.parameters(), 0.02), (Xtr, y), epochs=15,
        val_data=(Xte, yte), verbose=0,
    )  # fmt: skip
    assert h["val_accuracy"][-1] >= 0.9
    assert train.evaluate(model, loss, (Xte, yte))["accuracy"] >= 0.9


def test_multiclass_cross_entropy_and_predict():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 4], [4, 0], [-4, -4]], dtype=np.float32)
    y = rng.integers(0, 3, 300)
    Xb = (centers[y] + rng.standard_normal((300, 2))).astype(np.float32)
    model = mlp(out=3)
    h = train.fit(
        model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.1), (Xb, y), epochs=4,
        metrics=("accuracy", "top_2_accuracy"), verbose=0,
    )  # fmt: skip
    assert h["accuracy"][-1] > 0.9 and h["top_2_accuracy"][-1] >= h["accuracy"][-1]
    out = train.predict(model, Xb, batch_size=64)
    assert out.shape == (300, 3) and out.dtype == np.float32
    with nl.no_grad():
        np.testing.assert_allclose(out, model(nl.tensor(Xb)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(train.predict(model, (Xb, y), batch_size=64), out)  # y ignored


class FakeFrame:
    """A stand-in for a pandas object: only ``to_numpy`` and ``shape``."""

    def __init__(self, values):
        self.values = np.asarray(values)
        self.shape = self.values.shape

    def to_numpy(self):
        return self.values


def test_data_forms_give_the_same_training():
    """(X, y) arrays, pandas-like objects, Tensors, a Dataset and a DataLoader train alike."""
    results = []
    forms = [
        (X, Y01),
        (FakeFrame(X.astype(np.float64)), FakeFrame(Y01)),
        (nl.tensor(X), nl.tensor(Y01)),
        TensorDataset(X, Y01),
    ]
    for data in forms:
        model = mlp()
        train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), data,
                  epochs=1, shuffle=False, verbose=0)  # fmt: skip
        results.append(model[0].weight.numpy().copy())
    model = mlp()
    loader = DataLoader(TensorDataset(X, Y01), batch_size=32)
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), loader,
              verbose=0)  # fmt: skip
    results.append(model[0].weight.numpy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_bad_data_is_named():
    model = mlp()
    opt = optim.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="train_data.*first dimension"):
        train.fit(model, nn.MSELoss(), opt, (X, Y01[:10]), verbose=0)
    with pytest.raises(ValueError, match="no target"):
        train.fit(model, nn.MSELoss(), opt, X, verbose=0)
    with pytest.raises(TypeError, match="one-shot iterator"):
        train.fit(model, nn.MSELoss(), opt, iter([(X, Y01)]), verbose=0)
    with pytest.raises(TypeError, match="scalar Tensor.*shape"):
        train.fit(model, lambda p, t: p - t, opt, (X, Y01), verbose=0)


def test_modes_are_switched_and_restored():
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    seen = []

    class Spy(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model.training)

    model.eval()
    model[1].train()  # a deliberately mixed state survives fit
    train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), 0.01), (X, Y_PM),
              val_data=(X, Y_PM), callbacks=[Spy()], verbose=0)  # fmt: skip
    assert seen and all(seen)
    assert [m.training for m in model.modules()] == [False, False, True, False]
    assert not hasattr(model, "stop_training")


def test_regression_targets_skip_the_default_accuracy():
    rng = np.random.default_rng(0)
    Xr = rng.standard_normal((200, 2)).astype(np.float32)
    yr = (Xr @ np.array([1.5, -2.0]) + 0.5).astype(np.float32)
    model = mlp()
    h = train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), 0.01), (Xr, yr), epochs=2,
                  val_data=(Xr, yr), verbose=0)  # fmt: skip
    assert set(h.history) == {"loss", "val_loss", "lr"}
    assert any("not computing the default metric 'accuracy'" in m for m in h.messages)
    h = train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), 0.01), (Xr, yr),
                  metrics={"r2": "r2", "mae": train.metrics.mae}, verbose=0)  # fmt: skip
    assert set(h.history) == {"loss", "r2", "mae", "lr"}
    with pytest.raises(ValueError, match="metric 'accuracy'.*not class labels"):
        train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), 0.01), (Xr, yr),
                  metrics=["accuracy"], verbose=0)  # fmt: skip


def test_regularizers_are_added_to_the_loss():
    model = mlp()
    penalty = optim.L2(0.01)
    plain = train.evaluate(model, nn.BCEWithLogitsLoss(), (X, Y01), metrics=())
    with_penalty = train.evaluate(
        model, nn.BCEWithLogitsLoss(), (X, Y01), metrics=(), regularizers=[penalty]
    )
    assert with_penalty["loss"] == pytest.approx(plain["loss"] + penalty(model).item(), rel=1e-6)
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.0), (X, Y01),
                  regularizers=[penalty], metrics=(), shuffle=False, verbose=0)  # fmt: skip
    assert h["loss"][0] == pytest.approx(with_penalty["loss"], rel=1e-5)


def test_clip_grad_norm_bounds_the_update_gradients():
    norms = []

    class Norm(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            grads = [p.grad.numpy() for p in self.model.parameters()]
            norms.append(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))

    model = mlp()
    train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), 0.01), (X, 100 * Y_PM),
              clip_grad_norm=0.5, callbacks=[Norm()], metrics=(), verbose=0)  # fmt: skip
    assert max(norms) <= 0.5 + 1e-4


def test_verbose_2_prints_one_line_per_epoch(capsys):
    model = mlp()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), (X, Y01),
              epochs=3, val_data=(X, Y01), verbose=2)  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"Epoch {i}/3 - ")
        assert "loss: " in line and "val_accuracy: " in line


def test_verbose_1_without_a_terminal_prints_lines_and_0_prints_nothing(capsys):
    model = mlp()
    opt = optim.SGD(model.parameters(), 0.1)
    train.fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y01), epochs=2, verbose=1)
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "\r" not in out + err
    train.fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y01), epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_verbose_1_in_a_terminal_draws_tqdm_bars(capsys, monkeypatch):
    monkeypatch.setattr(train.progress, "is_interactive", lambda stream: True)
    model = mlp()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.1), (X, Y01),
              epochs=2, verbose=1)  # fmt: skip
    out, err = capsys.readouterr()
    assert out == ""
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "13/13" in err
    assert "loss=" not in err and "loss: " in err and "accuracy: " in err
