"""Data augmentation: AutoAugment's operations and sub-policies on real photographs.

The images are the two photographs that scikit-learn ships (``load_sample_image``: a temple in
China and a flower), shrunk to 96×144. The first figure shows every AutoAugment operation of
:mod:`neuralab.data.transforms` at a weak, a medium and the strongest of its 10 magnitude bins;
the second reproduces the lecture's table: five sub-policies of the ImageNet policy (each two
(operation, probability, bin) steps), each applied to the same batch three times — the
probabilities make every pass different, which is the point of augmenting on the fly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "AutoAugment's operations and the lecture's sub-policies on real photographs"

SIZE = (96, 144)
BINS = (2, 5, 9)  # weak, medium, strongest of AutoAugment's 10 bins
#: The five sub-policies of the lecture's table.
LECTURE_POLICY = (
    (("ShearX", 0.9, 7), ("Invert", 0.2, 3)),
    (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
    (("ShearX", 0.9, 4), ("AutoContrast", 0.8, 3)),
    (("Invert", 0.9, 3), ("Equalize", 0.6, 3)),
    (("ShearY", 0.8, 5), ("AutoContrast", 0.7, 3)),
)


def photographs() -> np.ndarray:
    """scikit-learn's two sample photographs, resized to ``SIZE``: (2, 96, 144, 3) uint8."""
    from sklearn.datasets import load_sample_image

    from neuralab.data.transforms import resize

    return np.stack([resize(load_sample_image(f), SIZE) for f in ("china.jpg", "flower.jpg")])


def operation_gallery(image: np.ndarray) -> tuple[list[np.ndarray], list[str], dict]:
    """Each AutoAugment operation applied to ``image`` at the magnitudes of ``BINS`` (signed
    operations in the positive direction); returns pictures, their titles and the mean absolute
    pixel change per (operation, bin)."""
    from neuralab.data.transforms import apply_op, augmentation_space

    space = augmentation_space(10, SIZE)
    pictures, titles, change = [], [], {}
    for name, (table, _) in space.items():
        if name == "Identity":
            continue
        for b in BINS if table is not None else (None,):
            magnitude = 0.0 if b is None else float(table[b])
            result = apply_op(image, name, magnitude)
            pictures.append(result)
            titles.append(name if b is None else f"{name} {magnitude:.3g}")
            change[(name, b)] = float(np.abs(result.astype(np.float32) - image).mean())
    return pictures, titles, change


def policy_table(images: np.ndarray, passes: int = 3, seed: int = 0) -> list[list[np.ndarray]]:
    """Rows of the lecture's table: for each pass, the batch under each sub-policy in turn."""
    from neuralab.data.transforms import AutoAugment

    rng = np.random.default_rng(seed)
    subs = [AutoAugment([sub]) for sub in LECTURE_POLICY]
    return [[sub(images, rng=rng) for sub in subs] for _ in range(passes)]


def _draw_table(images: np.ndarray, rows: list[list[np.ndarray]], path: Path) -> Any:
    """Original and the five sub-policies as columns, one row per pass and image."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    n_rows = len(rows) * len(images)
    fig, axes = plt.subplots(n_rows, 6, figsize=(13, 1.5 * n_rows), layout="constrained")
    for r in range(n_rows):
        batch, k = divmod(r, len(images))
        for c, picture in enumerate([images[k], *(out[k] for out in rows[batch])]):
            axes[r, c].imshow(picture)
            axes[r, c].set_axis_off()
            if r == 0:
                steps = "\n".join(f"{n}, {p}, {m}" for n, p, m in LECTURE_POLICY[c - 1])
                axes[r, c].set_title(
                    "original" if c == 0 else f"sub-policy {c}\n{steps}", fontsize=8
                )
    fig.suptitle("The lecture's AutoAugment sub-policies, three passes over the same batch")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print how much each operation changes a photograph; draw the gallery and the table."""
    from neuralab.viz import plot_images

    figures = Figures(out)
    images = photographs()
    print(f"scikit-learn's sample photographs, resized to {SIZE[0]}×{SIZE[1]} RGB (uint8).")
    pictures, titles, change = operation_gallery(images[0])
    print(
        "Mean absolute pixel change (0-255) each AutoAugment operation makes, by bin "
        f"{'/'.join(map(str, BINS))} (— no magnitude):"
    )
    ops = dict.fromkeys(name for name, _ in change)
    rows = [
        [op, *(change.get((op, b), "—") for b in BINS)]
        if (op, None) not in change
        else [op, change[(op, None)], "—", "—"]
        for op in ops
    ]
    print(fmt_table(["operation", *(f"bin {b}" for b in BINS)], rows))
    table = policy_table(images, passes=2 if quick else 3)
    differ = [not np.array_equal(a, b) for a, b in zip(table[0], table[1])]
    print(
        f"The lecture's five sub-policies, {len(table)} passes over the same batch: "
        f"{sum(differ)} of 5 gave a different result on the second pass (each step fires "
        "only with its probability, so every epoch sees new versions of the images)."
    )
    figures.save(
        "augmentation_operations.png",
        lambda p: plot_images(
            [images[0], *pictures],
            ["original", *titles],
            ncols=7,
            path=p,
            title="AutoAugment's operations at bins 2, 5 and 9",
        ),
    )
    figures.save("augmentation_policies.png", lambda p: _draw_table(images, table, p))
    return {
        "change": change,
        "operations": list(ops),
        "passes_differ": differ,
        "figures": figures.paths,
    }
