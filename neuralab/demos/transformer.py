"""Transformers and the Vision Transformer: an image read as a sequence of patches.

``models.vit_digits`` cuts each 8×8 digit into sixteen 2×2 patches, embeds each linearly, adds
a learned position embedding, prepends a class token and runs two pre-norm Transformer encoder
layers of four attention heads; the class token's output is classified (the lecture's ViT
figure). It is trained on the digits with AdamW. The figures show the patches and how similar
the learned position embeddings of the 16 patches are to each other (nothing tells the model
which patches are neighbours; on 16 tiny patches it learns little such structure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures
from neuralab.demos._zoo import train_on_digits_and_report

SUMMARY = "a tiny Vision Transformer learns the digits from 2×2 patches"


def draw_patches(image: np.ndarray, patch: int, path: Path | None = None) -> Any:
    """One image (C, H, W) cut into ``patch``×``patch`` patches: the image with the cuts drawn,
    and the patches in the order the encoder reads them as tokens."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    side = image.shape[-1] // patch
    fig = plt.figure(figsize=(11, 2.6), layout="constrained")
    grid = fig.add_gridspec(side, side * side + side + 1)
    whole = fig.add_subplot(grid[:, :side])
    whole.imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
    for k in range(1, side):
        whole.axhline(k * patch - 0.5, color="tab:red")
        whole.axvline(k * patch - 0.5, color="tab:red")
    whole.set(xticks=[], yticks=[], title="image and its patches")
    for k in range(side * side):
        r, c = divmod(k, side)
        ax = fig.add_subplot(grid[side // 2 - 1 : side // 2 + 1, side + 1 + k])
        ax.imshow(
            image[0, r * patch : (r + 1) * patch, c * patch : (c + 1) * patch],
            cmap="gray_r",
            vmin=0,
            vmax=1,
        )
        ax.set(xticks=[], yticks=[])
        ax.set_title(str(k + 1), fontsize=7)
    fig.suptitle(
        f"The image as a sequence of {side * side} patches of {patch}×{patch} "
        "(the class token goes first)"
    )
    return finish(fig, path)


def draw_positions(embedding: np.ndarray, path: Path | None = None) -> Any:
    """Cosine similarity of each patch's position embedding with every other, on the 4×4 grid."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    e = embedding / np.linalg.norm(embedding, axis=1, keepdims=True)
    similarity = e @ e.T
    side = int(np.sqrt(len(e)))
    fig, axes = plt.subplots(side, side, figsize=(6, 6), layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.imshow(similarity[k].reshape(side, side), cmap="viridis", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"patch {k + 1}", fontsize=8)
    fig.suptitle("Learned position embeddings: similarity of each patch to all others")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train vit_digits, print its accuracy and how position embeddings relate to distance."""
    from neuralab.data import digits

    figures = Figures(out)
    epochs = 4 if quick else 40
    print(
        "vit_digits (2×2 patches, width 64, 2 encoder layers of 4 heads) on 1,438 digits, "
        f"AdamW, {epochs} epochs:"
    )
    model, accuracy = train_on_digits_and_report("vit_digits", epochs)
    positions = model.pos_embedding.detach().numpy()[0, 1:]
    e = positions / np.linalg.norm(positions, axis=1, keepdims=True)
    grid = np.array([divmod(k, 4) for k in range(16)])
    distance = np.abs(grid[:, None] - grid[None]).sum(-1)
    near, far = (e @ e.T)[distance == 1].mean(), (e @ e.T)[distance >= 4].mean()
    print(
        f"  position embeddings: mean cosine similarity {near:.2f} between neighbouring "
        f"patches, {far:.2f} between patches 4 or more steps apart."
    )
    first = digits(layout="image")[0][0]
    figures.save("transformer_patches.png", lambda p: draw_patches(first, 2, p))
    figures.save("transformer_positions.png", lambda p: draw_positions(positions, p))
    return {
        "accuracy": accuracy,
        "neighbour_similarity": float(near),
        "far_similarity": float(far),
        "figures": figures.paths,
    }
