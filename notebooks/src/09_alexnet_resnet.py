# %% [markdown]
# # 9. AlexNet and ResNet
#
# AlexNet (2012) made CNNs win ImageNet: five convolutions, three fully connected layers, ReLU,
# dropout, trained on GPUs. ResNet (2016) went far deeper thanks to **residual connections**:
# each block adds its input to its output, so the gradient has a short path back.

# %%
import numpy as np

from neuralab import models
from neuralab.demos import alexnet, resnet

counts, params = alexnet.paper_neurons()
print(f"alexnet_paper: {params:,} parameters")
for layer, ours, paper in zip(
    ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"],
    counts,
    alexnet.PAPER_NEURONS,
):
    print(f"{layer:>5}: {ours:>7,} neurons (paper's caption: {paper:,})")

# %% [markdown]
# The caption's 253,440 for conv1 does not match 55×55×96 = 290,400: a known slip in the paper.
#
# ## Residual against plain
# Two 20-layer networks, the same convolutions, no batch normalization, the same SGD; one has
# shortcuts. 60 steps of 64 digits each (the full demo, `neuralab demo resnet`, runs 150).

# %%
runs = {name: resnet.sgd_losses(name == "residual", steps=60) for name in ("residual", "plain")}
for name, (losses, grad) in runs.items():
    print(
        f"{name:>8}: gradient at the first conv {grad:.2e}, loss {losses[0]:.3f} → "
        f"{np.mean(losses[-10:]):.3f}"
    )

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (losses, _) in runs.items():
    ax.plot(losses, label=name)
ax.axhline(np.log(10), ls=":", color="gray", label="chance (ln 10)")
ax.set(xlabel="SGD step", ylabel="training loss", title="20 layers: residual against plain")
_ = ax.legend()

# %% [markdown]
# ## The block itself

# %%
net = models.resnet_cifar(20, in_channels=1, width=8)
print(net.layer1[0])
