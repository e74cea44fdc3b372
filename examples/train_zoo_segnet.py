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
import time

from neuralab.data import SCENE_CLASSES
from neuralab.recipes.pixels import FreshScenes, held_out_scenes, train_segnet_scenes

__all__ = ["FreshScenes", "held_out_scenes", "train_segnet_scenes"]


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
