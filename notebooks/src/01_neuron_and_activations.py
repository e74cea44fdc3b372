# %% [markdown]
# # 1. The artificial neuron and its activations
#
# An artificial neuron turns features $x$ into a prediction $\hat y = \sigma(w^T x + b)$: a
# weighted sum, then an **activation function** $\sigma$. This notebook builds one with
# neuralab, looks at the four activations of the lecture and their derivatives, and shows why
# the activation must be *non-linear*. Everything runs on a laptop CPU in a few seconds.

# %%
import numpy as np

import neuralab as nl
import neuralab.viz as viz
from neuralab import nn, optim

nl.manual_seed(0)

# %% [markdown]
# ## One neuron
# `nn.Linear(2, 1)` holds $w$ (shape 1×2) and $b$; the activation is applied after it.

# %%
neuron = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
x = nl.tensor([[1.0, 2.0]])
w, b = neuron[0].weight, neuron[0].bias
by_hand = 1 / (1 + np.exp(-(x.numpy() @ w.detach().numpy().T + b.detach().numpy())))
print("w =", w.detach().numpy(), "b =", b.detach().numpy())
print("neuron(x) =", neuron(x).item(), " by hand:", by_hand.item())

# %% [markdown]
# ## Sigmoid, tanh, ReLU and leaky ReLU
# Their derivatives come from the engine's `backward()`. The sigmoid's derivative is at most
# 0.25 (at $z = 0$): remember this for the vanishing-gradient notebook.

# %%
z = nl.linspace(-4, 4, 9, requires_grad=True)
for name, f in [
    ("sigmoid", nl.sigmoid),
    ("tanh", nl.tanh),
    ("relu", nn.functional.relu),
    ("leaky_relu", lambda t: nn.functional.leaky_relu(t, 0.1)),
]:
    z.grad = None
    f(z).sum().backward()
    print(f"{name:>10}: g'(z) at z = -4..4: {np.round(z.grad.numpy(), 3)}")

# %%
fig = viz.plot_activations()

# %% [markdown]
# ## Why non-linear? The circle data
# A network whose activation is the identity multiplies its layers into one linear map: it can
# only draw a straight line. With tanh the same network bends its boundary around the circle
# (the lecture's Playground figures).

# %%
from neuralab.data import circle

X, y = circle(n=400, noise=0.05, seed=0, labels="01")
for activation in (nn.Identity, nn.Tanh):
    nl.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 8), activation(), nn.Linear(8, 8), activation(), nn.Linear(8, 1)
    )
    opt = optim.Adam(model.parameters(), lr=0.03)
    Xt, yt = nl.tensor(X), nl.tensor(y).reshape(-1, 1)
    for _ in range(300):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(Xt), yt)
        loss.backward()
        opt.step()
    accuracy = ((model(Xt) > 0).float() == yt).float().mean().item()
    print(f"{activation.__name__:>8}: training accuracy {accuracy:.1%}")
    fig = viz.plot_decision_boundary(model, X, y)
    fig.axes[0].set_title(f"activation: {activation.__name__}")
