"""Autoencoders and SegNet: an encoder squeezes the image, a decoder rebuilds what is asked for.

First ``models.conv_autoencoder`` learns to denoise the 8×8 digits: every training digit comes
with fresh Gaussian pixel noise and the target is the clean digit, so the 8×2×2 code must keep
the digit and drop the noise. Then ``models.segnet_scenes`` — the lecture's SegNet: convolutional
encoder, a decoder that upsamples with the encoder's max-pooling indices, a per-pixel softmax —
labels every pixel of generated 32×32 scenes as background, circle, square or triangle, scored by
the intersection over union of each class on scenes it never saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "a convolutional autoencoder denoises digits; SegNet segments shape scenes"

NOISE = 0.5


def denoiser(epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Train the autoencoder by :func:`neuralab.recipes.pixels.train_denoiser`; eight held-out
    digits denoised, clean and noisy, and the held-out errors."""
    from neuralab import train
    from neuralab.recipes.pixels import add_noise, digit_split, train_denoiser

    model, errors = train_denoiser(epochs, NOISE, verbose=2)
    clean = digit_split()[1][:8]
    noisy = add_noise(clean, NOISE, np.random.default_rng(1))
    return train.predict(model, noisy), clean, noisy, errors


def segmenter(epochs: int, scenes_per_epoch: int) -> tuple[np.ndarray, ...]:
    """Train SegNet by :func:`neuralab.recipes.pixels.train_segnet_scenes` (new scenes every
    epoch); six held-out scenes, their masks and predictions, and the IoU of each class on the
    200 held-out scenes."""
    from neuralab.recipes.pixels import held_out_scenes, train_segnet_scenes

    model, ious = train_segnet_scenes(epochs, scenes_per_epoch, verbose=2)
    images, masks = held_out_scenes(6)
    predicted = np.asarray(model.predict(images))
    return images.numpy(), masks, predicted, ious


def _draw_segmentation(images: Any, masks: Any, predicted: Any, path: Path) -> Any:
    """Rows: scene, true labels, SegNet's labels; six test scenes."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, axes = plt.subplots(3, 6, figsize=(10, 5.4), layout="constrained")
    for k in range(6):
        axes[0, k].imshow(np.clip(images[k].transpose(1, 2, 0), 0, 1))
        axes[1, k].imshow(masks[k], cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        axes[2, k].imshow(predicted[k], cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
    for ax in axes.flat:
        ax.set_axis_off()
    for r, title in enumerate(("scene", "true labels", "SegNet")):
        axes[r, 0].set_title(title, loc="left", fontsize=9)
    fig.suptitle("SegNet on held-out scenes (background, circle, square, triangle)")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the denoiser and SegNet; print the errors and IoUs; draw both."""
    from neuralab.data import SCENE_CLASSES
    from neuralab.viz import plot_images

    figures = Figures(out)
    epochs = 5 if quick else 40
    print(f"Denoising autoencoder on 1,438 digits, noise std {NOISE}, {epochs} epochs:")
    denoised, clean, noisy_test, errors = denoiser(epochs)
    print(
        f"  held-out MSE against the clean digits: noisy input {errors['noisy_mse']:.4f}, "
        f"denoised {errors['denoised_mse']:.4f} "
        f"({errors['denoised_mse'] / errors['noisy_mse']:.0%} of the noise left)."
    )
    shown = np.concatenate([noisy_test, denoised, clean])
    labels = ["noisy"] * 8 + ["denoised"] * 8 + ["clean"] * 8
    figures.save(
        "autoencoder_denoising.png",
        lambda p: plot_images(
            shown, labels, ncols=8, path=p, title="Noisy, denoised and clean test digits"
        ),
    )
    seg_epochs, per_epoch = (5, 64) if quick else (40, 128)
    print(f"SegNet, {seg_epochs} epochs of {per_epoch} new 32×32 scenes each:")
    images, masks, predicted, ious = segmenter(seg_epochs, per_epoch)
    print(fmt_table(["class", "IoU"], [[c, float(i)] for c, i in zip(SCENE_CLASSES, ious)]))
    print(f"  mean IoU {ious.mean():.3f} on 200 held-out scenes.")
    figures.save("segnet_scenes.png", lambda p: _draw_segmentation(images, masks, predicted, p))
    return {
        **errors,
        "iou": dict(zip(SCENE_CLASSES, map(float, ious))),
        "mean_iou": float(ious.mean()),
        "figures": figures.paths,
    }
