# %% [markdown]
# # 2. Losses and the one-neuron models
#
# Changing the activation and the loss of a single neuron gives four classic models:
# identity + soft perceptron loss = **perceptron**, identity + squared error = **linear
# regression**, identity + hinge = **SVM**, sigmoid + logistic loss = **logistic regression**.
# Then: linear regression solved in closed form beside gradient descent, and the lecture's
# question *"why not just set the derivative to zero?"*.

# %%
import numpy as np

import neuralab as nl
import neuralab.viz as viz
from neuralab import nn, optim
from neuralab.nn import functional as F

# %% [markdown]
# ## The losses as functions of the margin $m = y\cdot\hat y$ ($y = \pm 1$)

# %%
m = nl.linspace(-2, 2, 5)
ones = nl.ones(5)
print("margin      ", m.numpy())
print("perceptron  ", F.perceptron_loss(m, ones, reduction="none").numpy())
print("hinge       ", F.hinge_loss(m, ones, reduction="none").numpy())
print("logistic    ", np.log1p(np.exp(-m.numpy())).round(4))
fig = viz.plot_losses()

# %% [markdown]
# Cross-entropy as the lecture's exam: the teacher says $y = (1, 0)$; a student who answers
# $\hat y = (0.9, 0.1)$ pays $\log_2(1/0.9) \approx 0.15$ bits, one who answers $(0.5, 0.5)$
# pays 1 bit.

# %%
for student in ([0.9, 0.1], [0.5, 0.5], [0.1, 0.9]):
    bits = -np.log2(student[0])
    print(f"student {student}: cross-entropy {bits:.3f} bits")

# %% [markdown]
# ## The four one-neuron models (`neuralab.estimators`)

# %%
from neuralab.data import blobs
from neuralab.estimators import LinearSVM, LogisticRegression, Perceptron

X, y = blobs(n=200, k=2, noise=0.5, seed=0)
for model in (
    Perceptron(random_state=0),
    LinearSVM(random_state=0),
    LogisticRegression(random_state=0),
):
    model.fit(X, y)
    print(
        f"{type(model).__name__:>18}: accuracy {model.score(X, y):.1%}, network {model.network()}"
    )

# %% [markdown]
# ## Linear regression: closed form beside gradient descent
# Setting the derivative of $J(\beta) = (y - X\beta)^T(y - X\beta)$ to zero gives the normal
# equations $X^TX\beta = X^Ty$, solved in one step. Gradient descent reaches the same
# $\beta$ by small steps.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)).astype(np.float32)
true_beta = np.array([2.0, -1.0, 0.5], np.float32)
y = X @ true_beta + 0.3 + 0.1 * rng.normal(size=200).astype(np.float32)
X1 = np.hstack([X, np.ones((200, 1), np.float32)])
closed_form = np.linalg.solve(X1.T @ X1, X1.T @ y)

nl.manual_seed(0)
neuron = nn.Linear(3, 1)
opt = optim.SGD(neuron.parameters(), lr=0.1)
losses = []
for _ in range(100):
    opt.zero_grad()
    loss = F.mse_loss(neuron(nl.tensor(X)).reshape(-1), nl.tensor(y))
    loss.backward()
    opt.step()
    losses.append(loss.item())
gd = np.append(neuron.weight.detach().numpy().ravel(), neuron.bias.item())
print("closed form     :", closed_form.round(4))
print("gradient descent:", gd.round(4))

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(losses)
_ = ax.set(xlabel="step", ylabel="MSE", title="Gradient descent on linear regression")

# %% [markdown]
# ## Why not set the derivative to zero?
# For linear regression the derivative is linear in $\beta$, so "= 0" is a linear system with
# a formula. Put one sigmoid between the weights and the loss and $\nabla J(\theta) = 0$
# becomes a system of non-linear equations with no closed form; in a deep network it has
# many solutions (saddle points, local minima) and millions of unknowns. Gradient descent
# only needs to *evaluate* the gradient, which backpropagation does for any network. Even
# for linear regression, solving $X^TX$ costs $O(p^3)$ in the number of features, while a
# gradient step costs $O(np)$.
#
# Here is the logistic neuron's gradient at a few weights: it is a smooth non-linear function
# of $w$ — finding where it is zero means searching, which is what gradient descent does.

# %%
Xc, yc = blobs(n=100, k=2, noise=0.5, seed=1)
for w0 in (-1.0, 0.0, 1.0, 2.0):
    w = nl.tensor([[w0, w0]], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(
        (nl.tensor(Xc) @ w.T).reshape(-1), nl.tensor(yc).float()
    )
    loss.backward()
    print(f"w = ({w0}, {w0}): dJ/dw = {w.grad.numpy().round(4)}")
