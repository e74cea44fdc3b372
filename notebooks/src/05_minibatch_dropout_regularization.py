# %% [markdown]
# # 5. Mini-batches, dropout and L1 / L2 / elastic net
#
# A 2-64-64-1 network on 60 noisy circle points overfits easily. We train it with full-batch,
# stochastic and mini-batch gradient descent, then with dropout and the three norm penalties,
# and compare training and validation loss. Small data and 150 epochs keep it to seconds; the
# numbers are from one seed, so treat small differences as noise.

# %%
import numpy as np

import neuralab as nl
import neuralab.viz as viz
from neuralab import nn, optim, train
from neuralab.data import DataLoader, TensorDataset, circle

X, y = circle(n=60, noise=0.3, seed=0, labels="01")
X_val, y_val = circle(n=400, noise=0.3, seed=1, labels="01")


def network(dropout=0.0):
    layers = [
        nn.Linear(2, 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, 1),
    ]
    return nn.Sequential(*layers)


# %% [markdown]
# ## Batch, stochastic, mini-batch
# Same network, data and epochs; only the batch size changes, hence the number of updates.

# %%
for batch_size in (len(X), 1, 16):
    nl.manual_seed(0)
    model = network()
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.05),
        loader,
        epochs=30,
        verbose=0,
    )
    print(
        f"batch size {batch_size:>2}: {len(loader) * 30:>4} updates, "
        f"final training loss {h['loss'][-1]:.3f}"
    )

# %% [markdown]
# ## Dropout and the penalties
# `fit(regularizers=...)` adds $\lambda\|\theta\|_1$, $\lambda\|\theta\|_2^2$ or the elastic
# net $\lambda[(1-\alpha)\|\theta\|_1 + \alpha\|\theta\|_2^2]$ to the loss.

# %%
runs = {
    "none": ({}, 0.0),
    "dropout 0.5": ({}, 0.5),
    "L1": ({"regularizers": [optim.L1(1e-3)]}, 0.0),
    "L2": ({"regularizers": [optim.L2(1e-3)]}, 0.0),
    "elastic net": ({"regularizers": [optim.ElasticNet(1e-3, alpha=0.5)]}, 0.0),
}
results = {}
for name, (extra, dropout) in runs.items():
    nl.manual_seed(0)
    model = network(dropout)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.Adam(model.parameters(), lr=0.01),
        (X, y),
        epochs=150,
        batch_size=16,
        val_data=(X_val, y_val),
        verbose=0,
        **extra,
    )
    results[name] = model
    weights = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    print(
        f"{name:>12}: train loss {h['loss'][-1]:.3f}, val loss {h['val_loss'][-1]:.3f}, "
        f"val accuracy {h['val_accuracy'][-1]:.1%}, "
        f"weights below 1e-3: {np.mean(np.abs(weights) < 1e-3):.0%}"
    )

# %%
fig = viz.plot_decision_boundary(results["none"], X, y)
fig.axes[0].set_title("no regularization")
fig = viz.plot_decision_boundary(results["L2"], X, y)
fig.axes[0].set_title("L2 penalty")
