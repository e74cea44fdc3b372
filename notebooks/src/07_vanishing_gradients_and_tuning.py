# %% [markdown]
# # 7. Vanishing gradients and hyperparameter search
#
# Backpropagation multiplies the gradient by each layer's activation derivative. The sigmoid's
# is at most 0.25, so through ten sigmoid layers the gradient reaching the first layer is tiny.
# Then: choosing hyperparameters (learning rate, penalty, ...) by grid and random search.

# %%
import neuralab as nl
import neuralab.viz as viz
from neuralab import nn, optim, train
from neuralab.data import circle
from neuralab.demos.vanishing_gradient import deep_net

X, y = circle(n=200, noise=0.0, seed=0, labels="01")
norms = {}
for activation in ("sigmoid", "relu"):
    nl.manual_seed(0)
    model = deep_net(activation)  # 10 He-initialized layers of 32 units
    stats = train.GradientStats()
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (X, y),
        epochs=10,
        batch_size=20,
        callbacks=[stats],
        verbose=0,
    )
    norms[activation] = stats.norms
    first = [v[0] for v in stats.norms.values()]
    print(
        f"{activation:>7}: first layer / last layer gradient = {first[0] / first[-1]:.1e}, "
        f"accuracy {h['accuracy'][-1]:.0%}"
    )

# %%
fig = viz.plot_gradient_norms(norms["sigmoid"])
fig.axes[0].set_title("sigmoid: gradient norm per layer and epoch")
fig = viz.plot_gradient_norms(norms["relu"])
fig.axes[0].set_title("ReLU: gradient norm per layer and epoch")

# %% [markdown]
# ## Grid against random search
# Hyperparameters are set before training. A 3×3 grid over the learning rate (which matters)
# and an L2 strength (which barely does) tries only 3 learning rates; 9 random trials try 9.

# %%
from neuralab import tune
from neuralab.data import xor

Xx, yx = xor(n=200, noise=0.1, seed=0, labels="01")
Xv, yv = xor(n=200, noise=0.1, seed=1, labels="01")


def trial(config, seed=0, report=None):
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=config["lr"]),
        (Xx, yx),
        epochs=15,
        batch_size=20,
        val_data=(Xv, yv),
        verbose=0,
        regularizers=[optim.L2(config["l2"])],
    )
    return h["val_accuracy"][-1]


grid = tune.GridSearch(
    trial, {"lr": [0.001, 0.01, 0.1], "l2": [0.0, 1e-4, 1e-3]}, mode="max", n_jobs=1
).run()
rand = tune.RandomSearch(
    trial,
    {"lr": tune.loguniform(1e-3, 1.0), "l2": tune.loguniform(1e-5, 1e-2)},
    n_trials=9,
    mode="max",
    n_jobs=1,
    seed=0,
).run()
for name, result in (("grid", grid), ("random", rand)):
    print(f"{name:>6}: best accuracy {result.best_score:.1%} at {result.best_config}")
