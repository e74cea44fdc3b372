# %% [markdown]
# # 4. Backpropagation by hand, step by step
#
# The lecture's chain: $x \to z^{(2)} = \theta_1 x + b_1 \to a^{(2)} = \sigma(z^{(2)}) \to
# z^{(3)} = \theta_2 a^{(2)} + b_2 \to a^{(3)} = \sigma(z^{(3)}) \to J = \tfrac12(a^{(3)} - y)^2$.
# Backpropagation is the chain rule applied from $J$ backwards:
# $$\frac{\partial J}{\partial \theta_1} = \frac{\partial J}{\partial a^{(3)}}
# \frac{\partial a^{(3)}}{\partial z^{(3)}} \frac{\partial z^{(3)}}{\partial a^{(2)}}
# \frac{\partial a^{(2)}}{\partial z^{(2)}} \frac{\partial z^{(2)}}{\partial \theta_1}$$
# We compute every factor by hand, then ask the engine.

# %%
import math

import neuralab as nl

x, y = 1.5, 1.0
theta1, b1, theta2, b2 = 0.8, -0.2, -1.2, 0.3


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# forward pass
z2 = theta1 * x + b1
a2 = sigmoid(z2)
z3 = theta2 * a2 + b2
a3 = sigmoid(z3)
J = 0.5 * (a3 - y) ** 2
print(f"z2 = {z2:.4f}, a2 = {a2:.4f}, z3 = {z3:.4f}, a3 = {a3:.4f}, J = {J:.4f}")

# %% [markdown]
# ## Backward, one node at a time
# Each gradient is the gradient arriving from above times the node's local derivative;
# $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.

# %%
dJ_da3 = a3 - y
dJ_dz3 = dJ_da3 * a3 * (1 - a3)
dJ_dtheta2 = dJ_dz3 * a2
dJ_db2 = dJ_dz3 * 1
dJ_da2 = dJ_dz3 * theta2
dJ_dz2 = dJ_da2 * a2 * (1 - a2)
dJ_dtheta1 = dJ_dz2 * x
dJ_db1 = dJ_dz2 * 1
for name, value in [
    ("a3", dJ_da3),
    ("z3", dJ_dz3),
    ("θ2", dJ_dtheta2),
    ("b2", dJ_db2),
    ("a2", dJ_da2),
    ("z2", dJ_dz2),
    ("θ1", dJ_dtheta1),
    ("b1", dJ_db1),
]:
    print(f"dJ/d{name:<3} = {value:+.6f}")

# %% [markdown]
# ## The engine's answer
# The same graph from Tensors (float64); `backward()` fills every `.grad`.

# %%
t = {
    k: nl.tensor(v, dtype=nl.float64, requires_grad=True)
    for k, v in dict(theta1=theta1, b1=b1, theta2=theta2, b2=b2).items()
}
a3_t = (t["theta2"] * (t["theta1"] * x + t["b1"]).sigmoid() + t["b2"]).sigmoid()
J_t = 0.5 * (a3_t - y) ** 2
J_t.backward()
for k, hand in [("theta1", dJ_dtheta1), ("b1", dJ_db1), ("theta2", dJ_dtheta2), ("b2", dJ_db2)]:
    print(f"{k:>6}: by hand {hand:+.8f}   backward() {t[k].grad.item():+.8f}")
    assert abs(hand - t[k].grad.item()) < 1e-12

# %% [markdown]
# ## The demo's version
# `neuralab demo backprop` runs the same walk (the same numbers), prints it as a table with
# finite differences as a third check, and draws the graph with its values and gradients.

# %%
from tempfile import mkdtemp

from IPython.display import Image, display

from neuralab import demos
from neuralab.demos import backprop

result = demos.run("backprop", mkdtemp())
display(Image(filename=str(result["figures"][0])))

# %% [markdown]
# ## Gradient descent with these gradients
# Repeating forward, backward and update drives $J$ down; each step is the one above.

# %%
import matplotlib.pyplot as plt

params, losses = dict(backprop.PARAMS), []
for _ in range(60):
    losses.append(backprop.forward(params)["J"])
    grads = backprop.engine_gradients(params)[0]
    params = {k: v - 0.5 * grads[k] for k, v in params.items()}
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(losses)
_ = ax.set(xlabel="step", ylabel="J", title="Backpropagation + gradient descent on one example")
