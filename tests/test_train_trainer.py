"""train.Trainer: custom steps, driving steps by hand, streams, divergence, the step callbacks."""

import itertools
import math
import warnings

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim, train
from neuralab.train import DivergenceDetector, Trainer, TrainingDiverged


class Batches:
    """An iterable of batches that can be iterated again (a list would be read as a dataset)."""

    def __init__(self, *batches) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, (X @ np.array([1.0, -2.0, 0.5], np.float32) > 0).astype(np.float32)


def net(seed: int = 0) -> nn.Module:
    nl.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))


def weights(model: nn.Module) -> list[np.ndarray]:
    return [p.numpy().copy() for p in model.parameters()]


def test_a_custom_step_written_like_the_default_trains_exactly_as_fit():
    X, y = data()
    a, b = net(), net()
    loss = nn.BCEWithLogitsLoss()
    history = train.fit(a, loss, optim.SGD(a.parameters(), 0.1), (X, y), epochs=3,
                        shuffle=False, verbose=0)  # fmt: skip

    def step(trainer: Trainer, batch):
        x, t = batch
        out = trainer.model(x)
        value = trainer.optimize(loss(out, t.reshape(-1, 1)))
        trainer.record(out, t.reshape(-1, 1))
        return {"loss": value}

    trainer = Trainer(b, loss, optim.SGD(b.parameters(), 0.1), train_step=step, verbose=0)
    mine = trainer.fit((X, y), 3, shuffle=False)
    for p, q in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(p, q)
    assert mine.history == history.history


def test_steps_driven_by_hand_equal_one_epoch_of_fit():
    X, y = data()
    a, b = net(), net()
    loss = nn.BCEWithLogitsLoss()
    train.fit(a, loss, optim.Adam(a.parameters(), 0.01), (X, y), epochs=1, batch_size=16,
              shuffle=False, verbose=0)  # fmt: skip
    trainer = Trainer(b, loss, optim.Adam(b.parameters(), 0.01), verbose=0)
    logs = [trainer.step((nl.tensor(X[i : i + 16]), nl.tensor(y[i : i + 16])))
            for i in range(0, 64, 16)]  # fmt: skip
    for p, q in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(p, q)
    assert [set(step) for step in logs] == [{"loss"}] * 4


def test_a_two_optimizer_step_descends_each_network_with_its_own_optimizer():
    """A GAN-shaped step: two losses, two optimizers, each through trainer.optimize."""
    nl.manual_seed(0)
    model = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)})
    opt_a = optim.SGD(model["a"].parameters(), 0.1)
    opt_b = optim.SGD(model["b"].parameters(), 0.1)
    changed = []

    def step(trainer: Trainer, x):
        before = weights(model["b"])
        la = trainer.optimize((model["a"](x) ** 2).mean(), opt_a, name="a_loss")
        changed.append(any(not np.array_equal(p, q) for p, q in zip(before, weights(model["b"]))))
        lb = trainer.optimize(((model["b"](x) - 1) ** 2).mean(), opt_b, name="b_loss")
        return {"a_loss": la, "b_loss": lb}

    rng = np.random.default_rng(0)
    stream = (nl.tensor(rng.normal(size=(8, 2)).astype(np.float32)) for _ in itertools.count())
    curves = train.StepHistory()
    trainer = Trainer(model, train_step=step, callbacks=[curves], metrics=(), verbose=0)
    history = trainer.fit(stream, epochs=2, steps_per_epoch=25)
    assert changed == [False] * 50  # the first optimizer never moved the second network
    assert len(curves.steps["a_loss"]) == len(curves.steps["b_loss"]) == 50
    assert curves.steps["a_loss"][-1] < curves.steps["a_loss"][0] / 4
    assert curves.steps["b_loss"][-1] < curves.steps["b_loss"][0] / 4
    # the epoch values are the means of the steps' values (each step weighs 1)
    for epoch in range(2):
        part = curves.steps["b_loss"][25 * epoch : 25 * (epoch + 1)]
        assert history["b_loss"][epoch] == pytest.approx(np.mean(part), rel=1e-12)


def test_steps_per_epoch_draws_on_from_a_stream_and_restarts_a_reiterable_source():
    seen = []

    def step(trainer: Trainer, batch):
        seen.append(int(batch))
        return {"value": float(batch)}

    model = net()
    counter = itertools.count()
    Trainer(model, train_step=step, metrics=(), verbose=0).fit(counter, 3, steps_per_epoch=4)
    assert seen == list(range(12))  # one stream across the epochs, no batch repeated
    seen.clear()
    Trainer(model, train_step=step, metrics=(), verbose=0).fit(
        Batches(10, 11, 12), 2, steps_per_epoch=4
    )
    assert seen == [10, 11, 12, 10, 11, 12, 10, 11]
    with pytest.raises(TypeError, match="one-shot iterator.*steps_per_epoch"):
        Trainer(model, train_step=step, metrics=(), verbose=0).fit(iter([1, 2]), 1)


def test_record_weights_the_epoch_means():
    def step(trainer: Trainer, batch):
        value, weight = batch
        trainer.record(weight=weight)
        return {"loss": value}

    history = Trainer(net(), train_step=step, metrics=(), verbose=0).fit(
        Batches((1.0, 1), (4.0, 3)), 1
    )
    assert history["loss"] == [pytest.approx((1.0 * 1 + 4.0 * 3) / 4)]


def test_divergence_in_a_custom_step_names_the_loss_and_fit_keeps_the_last_good_epoch():
    model = net()
    opt = optim.SGD(model.parameters(), 0.1)
    losses = iter([1.0, 2.0, 1.5, math.nan])

    def step(trainer: Trainer, batch):
        value = next(losses)
        return {"g_loss": trainer.optimize((model(batch) * 0).sum() + value, opt, name="g_loss")}

    x = nl.tensor(np.ones((2, 3), np.float32))
    trainer = Trainer(model, optimizer=opt, train_step=step, metrics=(), verbose=0)
    with pytest.warns(
        train.DivergenceWarning, match=r"epoch 2/5 at step 2: g_loss: the loss is nan"
    ):
        history = trainer.fit(Batches(x, x), epochs=5)
    assert history.stopped_reason == "diverged" and history.epoch == [0]

    standalone = Trainer(model, optimizer=opt, train_step=step, metrics=(), verbose=0)
    losses = iter([1.0, math.inf])
    standalone.step(x)
    with pytest.raises(TrainingDiverged, match="g_loss: the loss is inf") as caught:
        standalone.step(x)
    assert (caught.value.epoch, caught.value.step) == (0, 1)


def test_divergence_detector():
    d = DivergenceDetector(threshold=10)
    assert d.check(-3.0) is None and d.reference == -3.0
    assert d.check(29.0) is None  # the bound is 10 × max(|-3|, 1) = 30
    assert "exploded past 30" in d.check(31.0)
    assert d.check(math.nan) == "the loss is nan"
    assert DivergenceDetector(None).check(1e300) is None
    model = net()
    assert DivergenceDetector.check_parameters(model) is None
    model[2].bias.data[...] = np.inf
    assert DivergenceDetector.check_parameters(model) == (
        "parameter '2.bias' holds NaN or infinite values"
    )
    with pytest.raises(ValueError, match="divergence_threshold must be > 0 or None"):
        DivergenceDetector(0)


def sklearn_rule(scores: list[float], tol: float, n_iter_no_change: int) -> tuple[int, int]:
    """scikit-learn's MLP early-stopping rule, written as in its source: (epochs run, best)."""
    best, count, best_epoch = np.inf, 0, None
    for epoch, score in enumerate(scores):
        if score < best:
            best_epoch = epoch
        count = 0 if score < best - tol else count + 1
        best = min(best, score)
        if count > n_iter_no_change:
            return epoch + 1, best_epoch
    return len(scores), best_epoch


@pytest.mark.parametrize("seed", range(6))
def test_early_stopping_best_of_all_is_scikit_learns_rule(seed):
    rng = np.random.default_rng(seed)
    scores = list(1 / (1 + np.arange(40)) + rng.normal(0, 0.01, 40))
    tol, n = 0.005, 3
    stopper = train.EarlyStopping("val_loss", min_delta=tol, patience=n + 1, best_of="all")
    stopper.model = net()
    ran = len(scores)
    for epoch, score in enumerate(scores):
        stopper.on_epoch_end(epoch, {"val_loss": score})
        if stopper.model.__dict__.get("stop_training"):
            ran = epoch + 1
            break
    assert (ran, stopper.best_epoch) == sklearn_rule(scores, tol, n)


def test_lambda_callback_and_exponential_moving_average():
    X, y = data()
    model = net()
    start = weights(model)
    seen, after = [], []
    hand = [w.copy() for w in start]

    def average(batch, logs):
        seen.append(batch)
        ws = weights(model)
        after.append(ws)
        for h, w in zip(hand, ws):
            h *= 0.9
            h += 0.1 * w

    callbacks = [
        train.LambdaCallback(on_train_batch_end=average),
        train.ExponentialMovingAverage(0.9),
    ]
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), 0.5), (X, y),
              epochs=2, batch_size=16, callbacks=callbacks, verbose=0)  # fmt: skip
    assert seen == [0, 1, 2, 3] * 2
    for got, want in zip(weights(model), hand):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(TypeError, match="'on_batch' is not a hook"):
        train.LambdaCallback(on_batch=print)


def test_the_default_step_needs_a_loss_and_an_optimizer():
    with pytest.raises(ValueError, match="Trainer: the default train_step needs a loss and an"):
        Trainer(net()).step((nl.tensor(np.ones((1, 3), np.float32)), nl.tensor(np.ones(1))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Trainer(net()).is_main_process()


def test_train_gan_on_the_trainer_equals_the_hand_written_alternation():
    from neuralab import models
    from neuralab.models.gan import ring_of_gaussians, train_gan

    data = ring_of_gaussians(500)
    nl.manual_seed(3)
    a = models.get_model("mlp_gan", hidden=16)
    nl.manual_seed(3)
    b = models.get_model("mlp_gan", hidden=16)
    nl.manual_seed(4)
    curves = train_gan(a, data, steps=6, batch_size=32, cosine=True, seed=1)
    nl.manual_seed(4)  # the loop train_gan was before it ran on the Trainer
    opt_d = optim.Adam(b.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_g = optim.Adam(b.generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    schedules = [optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6) for opt in (opt_d, opt_g)]
    rng = np.random.default_rng(1)
    hand = {"d_loss": [], "g_loss": []}
    for _ in range(6):
        real = nl.tensor(data[rng.integers(len(data), size=32)])
        hand["d_loss"].append(b.d_step(real, opt_d))
        hand["g_loss"].append(b.g_step(32, opt_g))
        for schedule in schedules:
            schedule.step()
    assert curves == hand
    for p, q in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(p, q)


def test_policy_gradient_on_the_trainer_equals_collect_then_update_by_hand():
    from neuralab.apps.rl.agents import ActorCritic, PolicyGradient
    from neuralab.apps.rl.cartpole import CartPole

    def agent() -> PolicyGradient:
        nl.manual_seed(5)
        return PolicyGradient(ActorCritic(4, 2, (8,)), lr=1e-2, seed=7)

    a, b = agent(), agent()
    stops = []
    history = a.train(CartPole(4, seed=9), 3, callback=lambda h: stops.append(len(h)))
    env = CartPole(4, seed=9)
    hand = []
    for update in range(1, 4):
        batch = b.collect(env)
        hand.append({
            "update": update, "mean_return": float(batch.episode_returns.mean()),
            "mean_length": float(batch.episode_lengths.mean()), **b.update(batch),
        })  # fmt: skip
    assert history == hand and stops == [1, 2, 3]
    for p, q in zip(weights(a.model), weights(b.model)):
        np.testing.assert_array_equal(p, q)
    stopped = agent().train(CartPole(4, seed=9), 5, callback=lambda h: len(h) == 2)
    assert len(stopped) == 2  # a callback returning True ends training after that round


def test_playground_divergence_pauses_before_the_bad_step():
    from neuralab.playground.session import Session

    s = Session({"problem": "regression", "learningRate": 3, "speed": 0})
    s.play()
    for _ in range(200):
        s.run_for(0.05, 0.1)
        if not s.playing:
            break
    assert not s.playing and "diverged" in s.notices[-1]["message"]
    assert all(np.isfinite(p.numpy()).all() for p in s.model.parameters())
