# %% [markdown]
# # 3. Gradient descent and Exercise 5.1
#
# $\theta_{t+1} \leftarrow \theta_t - \alpha \nabla J(\theta_t)$. Exercise 5.1: three updates
# on $f(x) = x^2$ from $x_0 = 9$ with $\alpha = 0.1$ — the gradient comes from the engine's
# `backward()`.

# %%
import neuralab as nl
import neuralab.viz as viz

x = nl.tensor(9.0, requires_grad=True)
for t in range(3):
    loss = x**2
    loss.backward()  # x.grad = 2x
    with nl.no_grad():
        x -= 0.1 * x.grad
    x.grad = None
    print(f"x_{t + 1} = {x.item():.4f}")

# %% [markdown]
# Each step multiplies $x$ by $1 - 2\alpha$: 0.8 for $\alpha = 0.1$, so 7.2, 5.76, 4.608.
#
# ## The learning rate
# Small rates crawl, $\alpha = 0.9$ jumps across the minimum (factor −0.8) but closes in,
# and $\alpha = 1.1$ diverges (factor −1.2).

# %%
fig = viz.plot_gd_path(lambda t: t**2, 9.0, lr=[0.01, 0.1, 0.9, 1.1], steps=20)

# %% [markdown]
# ## Two parameters
# On the bowl $x_1^2 + 10x_2^2$ the steep direction limits the rate: above $2/20 = 0.1$ the
# steep coordinate diverges.

# %%
fig = viz.plot_gd_path(
    lambda t: t[..., 0] ** 2 + 10 * t[..., 1] ** 2, [8.0, 2.0], lr=[0.02, 0.09, 0.105], steps=30
)

# %% [markdown]
# ## The same with an optimizer
# `optim.SGD` does exactly the update above; schedules lower the rate as training goes on
# ("take smaller steps when the slope is getting small").

# %%
from neuralab import optim

x = nl.tensor(9.0, requires_grad=True)
opt = optim.SGD([x], lr=0.1)
for _ in range(3):
    opt.zero_grad()
    (x**2).backward()
    opt.step()
print("with optim.SGD:", round(x.item(), 4))
