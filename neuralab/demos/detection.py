"""Object detection, YOLO's idea in miniature: one pass of a CNN finds every object in a frame.

The lecture shows YOLO running on video, printing each frame's speed and objects ("FPS: 31 /
Objects: elephant: 0.31 ..."). Here a :class:`~neuralab.apps.detection.GridDetector` learns to
find circles, squares and triangles in generated 32×32 frames (a 4×4 grid of cells, each cell
predicting objectness, a box and class scores), is scored by mAP@0.5 on held-out frames, then
runs over a stream of new frames printing the same lines. The trained model is saved in the
output folder and reused by the next run (if it was trained for at least as many steps).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures

SUMMARY = "a YOLO-style grid detector: per-frame FPS and objects, mAP@0.5 on held-out scenes"

MODEL_FILE = "detector.safetensors"
"""The trained detector inside the output folder: ``{"model": GridDetector, "steps": int}``."""

SCORE_THRESHOLD = 0.25  # darknet's default for showing a detection
HELD_OUT_SEED, STREAM_SEED = 2024, 7
_KEYS = ("boxes", "scores", "labels")


def _trained(out: Path, steps: int) -> tuple[Any, bool]:
    """The detector saved in ``out`` if it had ``steps`` or more steps of training, else a newly
    trained one (then saved); and whether it was loaded."""
    import neuralab as nl
    from neuralab.apps.detection import GridDetector, train_detector

    path = out / MODEL_FILE
    if path.is_file():
        try:
            saved = nl.load(path)
        except nl.io.LoadError as e:
            print(f"  ({path} could not be loaded, training anew: {e})")
        else:
            if (
                isinstance(saved, dict)
                and isinstance(saved.get("model"), GridDetector)
                and saved.get("steps", 0) >= steps
            ):
                print(f"Loaded the detector trained for {saved['steps']} steps from {path}.")
                return saved["model"], True
    print(
        f"Training a grid detector for {steps} steps of 32 fresh scenes each "
        f"(delete {path} to retrain; it is reused next time):"
    )
    model = train_detector(steps=steps, log_every=max(steps // 4, 1))
    out.mkdir(parents=True, exist_ok=True)
    nl.save({"model": model, "steps": steps}, path)
    print(f"  saved: {path}")
    return model, False


def _draw(frames: np.ndarray, found: list[dict], truths: list[dict], path: Path) -> Any:
    """The frames with their detections (coloured boxes, class and confidence) and the true
    boxes (white, dashed)."""
    from matplotlib.patches import Rectangle

    from neuralab.apps.detection import CLASSES
    from neuralab.viz._figure import finish, grid_shape, pyplot

    plt = pyplot()
    rows, cols = grid_shape(len(frames), 4)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), layout="constrained")
    colours = ("tab:red", "tab:blue", "tab:green")
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if k >= len(frames):
            continue
        ax.imshow(frames[k].transpose(1, 2, 0), extent=(0, frames.shape[3], frames.shape[2], 0))
        for x0, y0, x1, y1 in truths[k]["boxes"]:
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="w", ls="--"))
        for (x0, y0, x1, y1), score, label in zip(*(found[k][key] for key in _KEYS)):
            c = colours[label % len(colours)]
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=c, lw=2))
            ax.text(x0, y0, f"{CLASSES[label]} {score:.2f}", color="w", fontsize=8,
                    va="bottom", bbox={"fc": c, "ec": "none", "pad": 1})  # fmt: skip
        ax.set_title(f"frame {k + 1}", fontsize=9)
    fig.suptitle("Grid detector: detections (solid) and true boxes (dashed)")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train (or load) the detector, report its held-out mAP@0.5, then run it over a stream of
    new frames printing per frame its FPS and objects; draw the frames with their boxes."""
    from neuralab.apps.detection import CLASSES, average_precisions, detection_scenes

    figures = Figures(out)
    steps, n_held_out, n_frames = (150, 100, 4) if quick else (600, 500, 8)
    model, loaded = _trained(Path(out), steps)
    images, targets = detection_scenes(n_held_out, seed=HELD_OUT_SEED)
    aps = average_precisions(model.detect(images, score_threshold=0.01), targets, len(CLASSES))
    per_class = ", ".join(f"{name} {ap:.2f}" for name, ap in zip(CLASSES, aps))
    map50 = float(np.nanmean(aps))
    print(f"mAP@0.5 on {n_held_out} held-out scenes: {map50:.3f} (AP: {per_class})\n")

    frames, truths = detection_scenes(n_frames, seed=STREAM_SEED)
    fps, found = [], []
    for k in range(n_frames):
        began = time.perf_counter()
        detections = model.detect(frames[k : k + 1], score_threshold=SCORE_THRESHOLD)[0]
        fps.append(1.0 / (time.perf_counter() - began))
        found.append(detections)
        truth = ", ".join(CLASSES[label] for label in truths[k]["labels"])
        print(f"frame {k + 1}/{n_frames} (in it: {truth})")
        print(f"FPS: {fps[-1]:.0f}")
        print("Objects:")
        for score, label in zip(detections["scores"], detections["labels"]):
            print(f"{CLASSES[label]}: {score:.2f}")
        print()
    print(
        f"One forward pass per frame finds every object: {np.median(fps):.0f} frames per second "
        f"(median) on this CPU, with NumPy."
    )
    figures.save("detection_frames.png", lambda p: _draw(frames, found, truths, p))
    objects = [
        [(CLASSES[label], float(score)) for score, label in zip(d["scores"], d["labels"])]
        for d in found
    ]
    return {
        "map": map50,
        "ap": dict(zip(CLASSES, aps.tolist())),
        "fps": fps,
        "objects": objects,
        "loaded": loaded,
        "figures": figures.paths,
    }
