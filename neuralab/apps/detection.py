"""Object detection the YOLO way: one network pass predicts every box, on a grid of cells.

YOLO (Redmon et al., 2016) splits the image into S×S cells; the cell holding an object's centre
predicts that object: an *objectness* score (is a centre here?), the box (centre offset inside the
cell, width and height) and the class scores. One forward pass gives all cells at once ("you only
look once"); non-maximum suppression then removes duplicate boxes. This miniature does the same:

- :func:`detection_scenes`: generated frames of circles, squares and triangles on textured
  backgrounds (drawn as :func:`neuralab.data.scenes` draws them) with their boxes and labels, in
  torchvision's target format ``{"boxes": (k, 4) x0 y0 x1 y1 pixels, "labels": (k,)}``;
- :class:`GridDetector`: a small CNN (conv–batch norm–ReLU–max pool stages) whose output map has
  one cell per ``stride`` pixels and ``5 + num_classes`` channels per cell;
- :func:`yolo_loss`: objectness BCE on every cell, box regression and class cross-entropy on the
  cells that hold an object;
- :func:`decode` and :meth:`GridDetector.detect`: output map → scored boxes, then per-class
  :func:`nms`;
- :func:`mean_average_precision`: VOC-style mAP at IoU 0.5 (all-point interpolated AP);
- :func:`train_detector`: Adam on freshly generated scenes, a new batch every step.

Box parametrisation, for the cell in row i, column j with output channels
(o, tx, ty, tw, th, c1..cC): centre ((j + σ(tx))·stride, (i + σ(ty))·stride), size
(stride·e^tw, stride·e^th), confidence σ(o)·max softmax(c), label argmax softmax(c).
Boxes are continuous pixel coordinates: a box (x0, y0, x1, y1) covers x0 ≤ x < x1, its area is
(x1 − x0)(y1 − y0) (no VOC "+1").
"""

from __future__ import annotations

import colorsys
import itertools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.data.scenes import SCENE_CLASSES, _background, _shape_mask
from neuralab.nn import functional as F
from neuralab.nn.utils import eval_mode
from neuralab.tensor import Tensor, constant

__all__ = [
    "CLASSES",
    "GridDetector",
    "average_precision",
    "average_precisions",
    "batched_nms",
    "box_iou",
    "decode",
    "detection_scenes",
    "encode_targets",
    "evaluate",
    "mean_average_precision",
    "nms",
    "train_detector",
    "yolo_loss",
]

CLASSES = SCENE_CLASSES[1:]
"""Class names by label: 0 circle, 1 square, 2 triangle."""

Target = dict[str, np.ndarray]

_PLACEMENT_TRIES = 30
_MAX_LOG_SIZE = 6.0  # tw, th are clipped here before exp when decoding (a box of e^6 cells)


# ----------------------------------------------------------------------------- data


def _place_shapes(
    image: np.ndarray, rng: np.random.Generator, grid: tuple, radius: tuple, max_objects: int
) -> tuple[list[list[int]], list[int]]:
    """Paint 1 to ``max_objects`` coloured shapes whose boxes do not touch into ``image``; their
    boxes and labels (a shape that finds no free place in a few tries is left out)."""
    xx, yy = grid
    size = xx.shape[0]
    boxes: list[list[int]] = []
    labels: list[int] = []
    for _ in range(rng.integers(1, max_objects + 1)):
        for _ in range(_PLACEMENT_TRIES):
            kind = int(rng.integers(1, len(SCENE_CLASSES)))
            r = rng.uniform(*radius)
            cx, cy = rng.uniform(r, size - r, 2)
            inside = _shape_mask(kind, cx, cy, r, rng.uniform(0, 2 * np.pi), xx, yy)
            rows, cols = np.nonzero(inside)
            if rows.size == 0:
                continue
            box = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
            if all(_apart(box, other) for other in boxes):
                break
        else:
            continue
        rgb = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.7, 1), rng.uniform(0.8, 1))
        image[:, inside] = np.asarray(rgb)[:, None]
        boxes.append(box)
        labels.append(kind - 1)
    return boxes, labels


def detection_scenes(
    n: int = 64,
    size: int = 32,
    max_objects: int = 3,
    noise: float = 0.05,
    seed: int | Sequence[int] | None = 0,
    radius: tuple[float, float] | None = None,
) -> tuple[np.ndarray, list[Target]]:
    """``n`` frames (n, 3, size, size) float32 in [0, 1] and, per frame, its objects'
    ``{"boxes": (k, 4) float32 x0 y0 x1 y1, "labels": (k,) int64}`` (label i = ``CLASSES[i]``).

    Each frame holds 1 to ``max_objects`` shapes whose boxes do not touch (a shape that cannot be
    placed apart from the others in a few tries is left out). A box is the tight box of the
    shape's pixels. Shape "radii" are uniform in ``radius`` pixels, by default (size/8, size/4).
    The same ``seed`` (an int or a sequence of ints, as ``np.random.SeedSequence`` takes) gives the
    same frames.
    """
    lo, hi = radius if radius is not None else (size / 8, size / 4)
    if size < 8 or not 1 <= lo <= hi <= size / 2:
        raise ValueError(
            f"detection_scenes: need size >= 8 and 1 <= radius min <= max <= size/2, got size "
            f"{size} and radius {(lo, hi)}"
        )
    if n < 0 or max_objects < 1 or noise < 0:
        raise ValueError(
            f"detection_scenes: need n >= 0, max_objects >= 1 and noise >= 0, got n={n}, "
            f"max_objects={max_objects}, noise={noise}"
        )
    rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty((n, 3, size, size), dtype=np.float32)
    targets = []
    for i in range(n):
        image = _background(rng, xx, yy)
        boxes, labels = _place_shapes(image, rng, (xx, yy), (lo, hi), max_objects)
        image += noise_rng.normal(0, noise, image.shape) if noise else 0
        images[i] = np.clip(image, 0, 1)
        targets.append(
            {
                "boxes": np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                "labels": np.asarray(labels, dtype=np.int64),
            }
        )
    return images, targets


def _apart(a: Sequence[float], b: Sequence[float], gap: float = 1.0) -> bool:
    """Whether boxes a and b are at least ``gap`` pixels apart along x or along y."""
    return a[0] >= b[2] + gap or b[0] >= a[2] + gap or a[1] >= b[3] + gap or b[1] >= a[3] + gap


# ----------------------------------------------------------------------------- model


class GridDetector(nn.Module):
    """A single-shot grid detector: images (N, C, H, W) → a map (N, 5 + num_classes, H/s, W/s).

    ``stages`` conv–BN–ReLU–max-pool stages (widths ``width``, 2·width, 4·width, ...) take the
    image down by ``stride = 2**stages``; a 3×3 conv–BN–ReLU and a 1×1 conv then give each cell
    its objectness logit, box (tx, ty, tw, th) and class logits (see the module docstring).
    """

    def __init__(
        self, num_classes: int = 3, in_channels: int = 3, width: int = 16, stages: int = 3
    ) -> None:
        super().__init__()
        if num_classes < 1 or in_channels < 1 or width < 1 or stages < 1:
            raise ValueError(
                f"GridDetector: num_classes, in_channels, width and stages must be >= 1, got "
                f"{num_classes}, {in_channels}, {width}, {stages}"
            )
        self.num_classes = num_classes
        self.stride = 2**stages
        layers: list[nn.Module] = []
        channels = in_channels
        for i in range(stages):
            layers += _conv_bn_relu(channels, width * 2**i)
            layers.append(nn.MaxPool2d(2))
            channels = width * 2**i
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            *_conv_bn_relu(channels, channels), nn.Conv2d(channels, 5 + num_classes, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        """The raw output map (N, 5 + num_classes, H / stride, W / stride)."""
        if x.ndim != 4 or x.shape[2] % self.stride or x.shape[3] % self.stride:
            raise ValueError(
                f"GridDetector: expected images (N, C, H, W) with H and W divisible by the "
                f"stride {self.stride}, got shape {tuple(x.shape)}"
            )
        return self.head(self.features(x))

    def detect(
        self,
        images: Any,
        score_threshold: float = 0.05,
        iou_threshold: float = 0.5,
        batch_size: int = 256,
    ) -> list[Target]:
        """Detections per image, ``{"boxes", "scores", "labels"}`` (best first), in eval mode."""
        images = np.asarray(images.numpy() if isinstance(images, Tensor) else images, np.float32)
        found: list[Target] = []
        with eval_mode(self):
            for start in range(0, len(images), batch_size):
                out = self(constant(images[start : start + batch_size]))
                found += decode(out, self.stride, score_threshold, iou_threshold)
        return found


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


# ----------------------------------------------------------------------------- loss


def encode_targets(
    targets: Sequence[Target], grid: tuple[int, int], stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell training targets: objectness (N, S, S) float32, box (N, 4, S, S) float32 as
    (σ(tx), σ(ty), tw, th) should be, and class (N, S, S) int64 (-100 where no object).

    An object belongs to the cell holding its box centre; if two centres share a cell, the larger
    box wins.
    """
    rows, cols = grid
    n = len(targets)
    obj = np.zeros((n, rows, cols), np.float32)
    box = np.zeros((n, 4, rows, cols), np.float32)
    cls = np.full((n, rows, cols), -100, np.int64)
    for k, target in enumerate(targets):
        b = np.asarray(target["boxes"], np.float64).reshape(-1, 4)
        if len(b) != len(target["labels"]) or (b[:, 2:] <= b[:, :2]).any():
            raise ValueError(
                f"encode_targets: image {k} needs one label per box and boxes x0 y0 x1 y1 with "
                f"x1 > x0 and y1 > y0, got {len(target['labels'])} labels and boxes {b.tolist()}"
            )
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        for idx in np.argsort(area, kind="stable"):  # larger boxes written last, so they win
            x0, y0, x1, y1 = b[idx]
            cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
            i, j = min(max(int(cy), 0), rows - 1), min(max(int(cx), 0), cols - 1)
            obj[k, i, j] = 1.0
            box[k, :, i, j] = (
                cx - j,
                cy - i,
                np.log((x1 - x0) / stride),
                np.log((y1 - y0) / stride),
            )
            cls[k, i, j] = target["labels"][idx]
    return obj, box, cls


def yolo_loss(
    output: Tensor, targets: Sequence[Target], stride: int, box_weight: float = 5.0
) -> Tensor:
    """YOLO's sum-squared-style loss per image: objectness BCE summed over all cells, plus
    ``box_weight`` × squared box error and class cross-entropy summed over the object cells,
    averaged over the batch."""
    n, channels, rows, cols = output.shape
    if channels < 6 or len(targets) != n:
        raise ValueError(
            f"yolo_loss: expected an output map (N, 5 + classes, S, S) and N targets, got shape "
            f"{tuple(output.shape)} and {len(targets)} targets"
        )
    obj, box, cls = encode_targets(targets, (rows, cols), stride)
    obj, box = obj.astype(output.numpy().dtype), box.astype(output.numpy().dtype)  # float64 stays
    loss = F.binary_cross_entropy_with_logits(output[:, 0], constant(obj), reduction="sum")
    if obj.any():
        xy, wh = output[:, 1:3].sigmoid(), output[:, 3:5]
        err = (xy - constant(box[:, :2])) ** 2 + (wh - constant(box[:, 2:])) ** 2
        loss = loss + box_weight * (err * constant(obj[:, None])).sum()
        loss = loss + F.cross_entropy(output[:, 5:], constant(cls), reduction="sum")
    return loss / n


# ----------------------------------------------------------------------------- decoding, NMS


def box_iou(a: Any, b: Any) -> np.ndarray:
    """Intersection over union of every box in ``a`` (n, 4) with every box in ``b`` (m, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: Any, scores: Any, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression (torchvision's ``nms``): indices of the boxes kept, best first.

    Take the highest-scoring box, drop every other box overlapping it with IoU > ``iou_threshold``,
    repeat with the best box left.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"nms: {len(boxes)} boxes but {len(scores)} scores")
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    keep = []
    suppressed = np.zeros(len(boxes), bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return np.asarray(keep, np.int64)


def batched_nms(boxes: Any, scores: Any, labels: Any, iou_threshold: float) -> np.ndarray:
    """NMS within each label separately (boxes of different classes never suppress each other)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    # torchvision's trick: shift each class's boxes to its own region so no two classes overlap
    shift = (labels * (boxes.max() - boxes.min() + 1))[:, None]
    return nms(boxes + shift, scores, iou_threshold)


def decode(
    output: Tensor | np.ndarray,
    stride: int,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
) -> list[Target]:
    """Output map (N, 5 + C, S, S) → per image ``{"boxes" (k, 4), "scores" (k,), "labels" (k,)}``:
    the cells whose confidence σ(objectness)·max class probability exceeds ``score_threshold``,
    after per-class NMS at ``iou_threshold``, best first."""
    out = np.asarray(output.numpy() if isinstance(output, Tensor) else output)
    if out.ndim != 4 or out.shape[1] < 6:
        raise ValueError(
            f"decode: expected an output map (N, 5 + classes, S, S), got shape {out.shape}"
        )
    n, _, rows, cols = out.shape
    cells_y, cells_x = np.mgrid[0:rows, 0:cols]
    logits = out[:, 5:]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    score = _sigmoid(out[:, 0]) * probs.max(axis=1)
    label = probs.argmax(axis=1)
    cx = (cells_x + _sigmoid(out[:, 1])) * stride
    cy = (cells_y + _sigmoid(out[:, 2])) * stride
    w = stride * np.exp(np.minimum(out[:, 3], _MAX_LOG_SIZE))
    h = stride * np.exp(np.minimum(out[:, 4], _MAX_LOG_SIZE))
    all_boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
    found = []
    for k in range(n):
        sel = score[k] > score_threshold
        boxes, scores, labels = all_boxes[k][sel], score[k][sel], label[k][sel]
        keep = batched_nms(boxes, scores, labels, iou_threshold)
        found.append(
            {
                "boxes": boxes[keep].astype(out.dtype),
                "scores": scores[keep].astype(out.dtype),
                "labels": labels[keep].astype(np.int64),
            }
        )
    return found


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow warnings


# ----------------------------------------------------------------------------- mAP


def average_precision(recall: Any, precision: Any) -> float:
    """Area under the precision–recall curve, all-point interpolated (PASCAL VOC 2010 onwards).

    ``recall`` (non-decreasing) and ``precision`` are the values after each ranked detection.
    Precision is first made monotone (each point gets the best precision at any higher recall),
    then summed over the recall steps.
    """
    r = np.concatenate([[0.0], np.asarray(recall, np.float64), [1.0]])
    p = np.concatenate([[0.0], np.asarray(precision, np.float64), [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def average_precisions(
    predictions: Sequence[Target],
    targets: Sequence[Target],
    num_classes: int,
    iou_threshold: float = 0.5,
) -> np.ndarray:
    """AP of each class (num_classes,), NaN for a class with no ground-truth object.

    VOC matching: over all images, a class's detections are taken best score first; each is a
    true positive if its best-overlapping ground-truth box of that class (same image) has
    IoU ≥ ``iou_threshold`` and is not yet claimed by a better detection, else a false positive.
    """
    if len(predictions) != len(targets):
        raise ValueError(
            f"average_precisions: {len(predictions)} predictions but {len(targets)} targets; "
            "give one of each per image"
        )
    aps = np.full(num_classes, np.nan)
    for c in range(num_classes):
        truths = [
            np.asarray(t["boxes"]).reshape(-1, 4)[np.asarray(t["labels"]) == c] for t in targets
        ]
        total = sum(len(t) for t in truths)
        if total == 0:
            continue
        found = [
            (float(s), k, b)
            for k, p in enumerate(predictions)
            for b, s, lab in zip(np.asarray(p["boxes"]).reshape(-1, 4), p["scores"], p["labels"])
            if lab == c
        ]
        found.sort(key=lambda d: -d[0])
        claimed = [np.zeros(len(t), bool) for t in truths]
        hits = np.zeros(len(found))
        for d, (_, k, b) in enumerate(found):
            if len(truths[k]) == 0:
                continue
            iou = box_iou(b, truths[k])[0]
            best = int(iou.argmax())
            if iou[best] >= iou_threshold and not claimed[k][best]:
                claimed[k][best] = True
                hits[d] = 1
        tp = np.cumsum(hits)
        recall = tp / total
        precision = tp / np.arange(1, len(found) + 1)
        aps[c] = average_precision(recall, precision)
    return aps


def mean_average_precision(
    predictions: Sequence[Target],
    targets: Sequence[Target],
    num_classes: int,
    iou_threshold: float = 0.5,
) -> float:
    """mAP: the mean of :func:`average_precisions` over the classes that have ground truth."""
    aps = average_precisions(predictions, targets, num_classes, iou_threshold)
    if np.isnan(aps).all():
        raise ValueError("mean_average_precision: the targets hold no object of any class")
    return float(np.nanmean(aps))


# ----------------------------------------------------------------------------- training


def evaluate(
    model: GridDetector, images: Any, targets: Sequence[Target], iou_threshold: float = 0.5
) -> float:
    """mAP@``iou_threshold`` of ``model`` on ``images`` and their ``targets``."""
    predictions = model.detect(images, score_threshold=0.01)
    return mean_average_precision(predictions, targets, model.num_classes, iou_threshold)


def train_detector(
    steps: int = 600,
    batch_size: int = 32,
    lr: float = 3e-3,
    size: int = 32,
    width: int = 16,
    max_objects: int = 3,
    seed: int = 0,
    model: GridDetector | None = None,
    log_every: int = 0,
    verbose: int = 0,
) -> GridDetector:
    """Train a :class:`GridDetector` (a new one, or ``model``) with Adam on ``steps`` batches of
    freshly generated scenes (batch t from seed (seed, 1, t)), the learning rate decaying by
    cosine annealing to 0. Prints the loss every ``log_every`` steps (0: never). Runs on
    :class:`~neuralab.train.Trainer` (``verbose`` as in ``fit``)."""
    from neuralab import optim
    from neuralab.random import use_generator
    from neuralab.train import LambdaCallback, LearningRateScheduler, Trainer

    if model is None:
        with use_generator(np.random.default_rng(seed)):
            model = GridDetector(len(CLASSES), 3, width)
    opt = optim.Adam(model.parameters(), lr=lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    callbacks = [LearningRateScheduler(schedule, interval="batch")]
    if log_every:
        start = time.process_time()

        def report(batch: int, logs: dict[str, float]) -> None:
            if (batch + 1) % log_every == 0:
                print(
                    f"  step {batch + 1}/{steps}  loss {trainer.step_logs['loss']:.3f}  "
                    f"({time.process_time() - start:.0f} s CPU)",
                    flush=True,
                )

        callbacks.append(LambdaCallback(on_train_batch_end=report))
    scenes = (
        detection_scenes(batch_size, size, max_objects, seed=(seed, 1, step))
        for step in itertools.count()
    )
    batches = ((constant(images), targets) for images, targets in scenes)
    trainer = Trainer(
        model, lambda out, targets: yolo_loss(out, targets, model.stride), opt,
        callbacks=callbacks, metrics=(), verbose=verbose, name="train_detector",
    )  # fmt: skip
    trainer.fit(batches, epochs=1 if steps else 0, steps_per_epoch=max(steps, 1))
    return model.eval()
