"""Train SegNet on the generated segmentation scenes and print the mean IoU it reaches.

    python examples/train_zoo_segnet.py [--epochs 120]

``segnet_scenes`` (3 stages of widths 16, 32, 64, two conv layers each) learns to label every
pixel of 32×32 scenes as background, circle, square or triangle. Every epoch is 128 scenes never
seen before (``scenes(seed=1000 + epoch)``), so the model cannot memorise them; the mean IoU over
the four classes is measured on 200 held-out scenes (seed 1). Adam (3e-3) with a cosine decay,
batches of 4, pixel-wise softmax cross-entropy, seed 0. tests/test_models_vision.py runs the same
function and checks the mean IoU that docs/models/segnet.md quotes.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator

import numpy as np

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import SCENE_CLASSES, scenes
from neuralab.models.segnet import SegNet, iou_per_class

SIZE = 32


class FreshScenes:
    """Training data for ``fit`` that never repeats: each pass is ``n`` new scenes, in batches."""

    def __init__(self, n: int, batch_size: int, first_seed: int = 1000) -> None:
        self.n, self.batch_size, self.next_seed = n, batch_size, first_seed

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[nl.Tensor, nl.Tensor]]:
        images, masks = scenes(self.n, SIZE, seed=self.next_seed)
        self.next_seed += 1
        for i in range(0, self.n, self.batch_size):
            yield (
                nl.tensor(images[i : i + self.batch_size]),
                nl.tensor(masks[i : i + self.batch_size]),
            )


def held_out_scenes() -> tuple[nl.Tensor, np.ndarray]:
    """The 200 scenes (seed 1) every SegNet score in the docs is measured on: images, masks."""
    images, masks = scenes(200, SIZE, seed=1)
    return nl.tensor(images), masks


def train_segnet_scenes(
    epochs: int = 120,
    scenes_per_epoch: int = 128,
    batch_size: int = 4,
    seed: int = 0,
    verbose: int = 0,
) -> tuple[SegNet, np.ndarray]:
    """Train ``segnet_scenes`` on fresh scenes; return it and its IoU of each class
    (``SCENE_CLASSES``) on the held-out ones, whose mean is the mean IoU."""
    nl.manual_seed(seed)
    model = models.get_model("segnet_scenes")
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    data = FreshScenes(scenes_per_epoch, batch_size)
    train.fit(
        model, nn.CrossEntropyLoss(), optimizer, data, epochs=epochs, scheduler=schedule,
        metrics=(), verbose=verbose,
    )  # fmt: skip
    images, masks = held_out_scenes()
    return model, iou_per_class(model.predict(images), masks, len(SCENE_CLASSES))


def main() -> None:
    """Command line: prints each epoch and the final held-out mean IoU."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=120, help="epochs of 128 new scenes each")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    start = time.process_time()
    model, ious = train_segnet_scenes(args.epochs, seed=args.seed, verbose=2)
    per_class = ", ".join(f"{name} {iou:.3f}" for name, iou in zip(SCENE_CLASSES, ious))
    print(
        f"segnet_scenes: {model.num_parameters():,} parameters, mean IoU {ious.mean():.3f} on 200 "
        f"held-out 32×32 scenes ({per_class}; {time.process_time() - start:.1f} s CPU)"
    )


if __name__ == "__main__":
    main()
