"""fit(checkpoint_dir=...): a run stopped after epoch k and resumed ends bit-exactly like one run.

The model has dropout (the global generator), the loader shuffles (its own generator), Adam has
moments and a step count, and a StepLR changes the learning rate, so each of those states must
be saved and restored for the weights to match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim, train
from neuralab.data import circle

X, Y = circle(96, noise=0.2, seed=5, labels="01")  # 3 batches of 32
EPOCHS = 5


class CtrlC(train.Callback):
    """Simulate Ctrl-C at the start of epoch ``epoch`` (or of its batch ``batch``)."""

    def __init__(self, epoch: int, batch: int | None = None):
        self.epoch, self.batch, self.current = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise KeyboardInterrupt

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt


def run(seed: int, epochs: int = EPOCHS, callbacks=(), **kw):
    """Build everything from ``seed`` and train; returns (model, history)."""
    nl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    opt = optim.Adam(model.parameters(), 0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), opt, (X, Y), epochs=epochs, val_data=(X, Y),
        callbacks=list(callbacks), scheduler=sched, verbose=0, **kw,
    )  # fmt: skip
    return model, history


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted():
    return run(seed=0)


@pytest.mark.parametrize("where", ["between epochs", "mid-epoch", "by a shorter fit"])
def test_resume_gives_exactly_the_uninterrupted_weights(tmp_path, uninterrupted, where):
    reference, ref_history = uninterrupted
    if where == "between epochs":
        _, h = run(seed=0, callbacks=[CtrlC(epoch=2)], checkpoint_dir=tmp_path)
        assert h.stopped_reason == "interrupted" and h.epoch == [0, 1]
    elif where == "mid-epoch":
        _, h = run(seed=0, callbacks=[CtrlC(epoch=3, batch=1)], checkpoint_dir=tmp_path)
        assert h.stopped_reason == "interrupted" and h.epoch == [0, 1, 2]
        assert any("holds the 3 finished epoch(s)" in m for m in h.messages)
    else:
        _, h = run(seed=0, epochs=2, checkpoint_dir=tmp_path)
        assert h.stopped_reason is None
    assert (tmp_path / train.CHECKPOINT_FILE).exists()
    # another seed: everything random must come from the checkpoint, not from the new seed
    model, h = run(seed=123, checkpoint_dir=tmp_path)
    assert_same_weights(model, reference)
    assert h.epoch == list(range(EPOCHS)) and h.stopped_reason is None
    assert h.history == ref_history.history
    assert any("resuming from" in m for m in h.messages)


def test_without_the_checkpoint_another_seed_differs(uninterrupted):
    model, _ = run(seed=123)
    assert not np.array_equal(model[0].weight.numpy(), uninterrupted[0][0].weight.numpy())


def test_checkpoint_contents(tmp_path):
    run(seed=0, epochs=2, checkpoint_dir=tmp_path)
    state = nl.load(tmp_path / train.CHECKPOINT_FILE)
    assert state["epoch"] == 2 and state["stopped_reason"] is None
    assert set(state["model"]) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert state["optimizer"]["state"][0]["step"] == 6
    assert set(state["rng"]) == {"global", "train_loader", "val_loader"}
    assert state["rng"]["val_loader"] is None  # validation does not shuffle
    assert state["callbacks"]["History"]["epoch"] == [0, 1]
    assert state["callbacks"]["LearningRateScheduler"]["last_epoch"] == 2


def test_resume_when_done_or_stopped_trains_nothing(tmp_path):
    model, _ = run(seed=0, epochs=2, checkpoint_dir=tmp_path)
    again, h = run(seed=9, epochs=2, checkpoint_dir=tmp_path)
    assert_same_weights(again, model)
    assert h.epoch == [0, 1] and any("nothing to train" in m for m in h.messages)

    stop = train.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    model, h = run(seed=0, callbacks=[stop], checkpoint_dir=tmp_path / "early")
    assert h.stopped_reason == "early_stopping" and h.epoch == [0, 1]
    again, h = run(seed=9, callbacks=[train.EarlyStopping(monitor="loss", patience=0,
                                                          min_delta=10.0)],
                   checkpoint_dir=tmp_path / "early")  # fmt: skip
    assert h.epoch == [0, 1] and h.stopped_reason == "early_stopping"
    assert any("training had stopped (early_stopping)" in m for m in h.messages)
    assert_same_weights(again, model)


def test_csv_logger_appends_when_resuming(tmp_path):
    log = tmp_path / "log.csv"
    run(seed=0, callbacks=[train.CSVLogger(log), CtrlC(epoch=2)], checkpoint_dir=tmp_path)
    run(seed=0, callbacks=[train.CSVLogger(log)], checkpoint_dir=tmp_path)
    rows = log.read_text().splitlines()
    assert rows[0].startswith("epoch,") and [r.split(",")[0] for r in rows[1:]] == list(
        map(str, range(EPOCHS))
    )


def test_a_foreign_file_is_refused(tmp_path):
    nl.save({"weights": nl.zeros(3)}, tmp_path / train.CHECKPOINT_FILE)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        run(seed=0, checkpoint_dir=tmp_path)
