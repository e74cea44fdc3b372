"""Every optimizer trains a 2-16-16-1 network on the Playground's circle data to >= 95% test accuracy."""

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.data import circle

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.005),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_reaches_95_percent_on_circle(name):
    nl.manual_seed(0)
    X, y = circle(n=500, noise=0.0, seed=1, labels="01")
    Xtr, ytr = nl.tensor(X[:250]), nl.tensor(y[:250]).reshape(-1, 1)
    Xte, yte = X[250:], y[250:]
    model = nn.Sequential(
        nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
    )
    opt = OPTIMIZERS[name](model.parameters())
    loss_fn = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(0)
    for _ in range(60):
        order = rng.permutation(250)
        for i in range(0, 250, 25):
            idx = order[i : i + 25]
            opt.zero_grad()
            loss_fn(model(Xtr[idx]), ytr[idx]).backward()
            opt.step()
    with nl.no_grad():
        accuracy = ((model(nl.tensor(Xte)).numpy()[:, 0] > 0) == (yte > 0.5)).mean()
    assert accuracy >= 0.95, f"{name}: test accuracy {accuracy:.3f}"
