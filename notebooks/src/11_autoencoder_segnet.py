# %% [markdown]
# # 11. Autoencoders and SegNet
#
# An autoencoder squeezes its input through a small code and rebuilds it. Trained to rebuild
# the *clean* digit from a noisy one, it learns to denoise. SegNet, an encoder–decoder of
# convolutions, outputs a class for every pixel: segmentation. Both are trained briefly here
# (10 epochs; 8 epochs of 128 new scenes) — `neuralab demo autoencoder` trains longer.

# %%
import numpy as np

import neuralab.viz as viz
from neuralab.data import SCENE_CLASSES
from neuralab.demos import autoencoder

denoised, clean, noisy, errors = autoencoder.denoiser(epochs=10)
print(errors)
fig = viz.plot_images(
    np.concatenate([noisy[:8], denoised[:8], clean[:8]]),
    ["noisy"] * 8 + ["denoised"] * 8 + ["clean"] * 8,
    ncols=8,
)

# %% [markdown]
# ## SegNet on shape scenes
# The decoder upsamples with the max-pooling indices remembered by the encoder. This short
# run (8 epochs) learns the background and only begins on the shapes (mean IoU below 0.4);
# `neuralab demo autoencoder` (40 epochs) and `examples/train_zoo_segnet.py` (120 epochs)
# train it properly.

# %%
images, masks, predicted, ious = autoencoder.segmenter(epochs=8, scenes_per_epoch=128)
for name, iou in zip(SCENE_CLASSES, ious):
    print(f"{name:>10}: IoU {iou:.3f}")
print(f"mean IoU {ious.mean():.3f}")

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(3, 5, figsize=(9, 5.5))
for k in range(5):
    axes[0, k].imshow(np.clip(images[k].transpose(1, 2, 0), 0, 1))
    axes[1, k].imshow(masks[k], cmap="tab10", vmin=0, vmax=9)
    axes[2, k].imshow(predicted[k], cmap="tab10", vmin=0, vmax=9)
for ax in axes.flat:
    ax.set_axis_off()
axes[0, 0].set_title("scene", loc="left")
axes[1, 0].set_title("truth", loc="left")
_ = axes[2, 0].set_title("SegNet", loc="left")
