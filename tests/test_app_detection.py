"""The YOLO-style grid detector: scenes, IoU, NMS, mAP, the loss, training to mAP@0.5 >= 0.7,
saving, and the demo's per-frame lines. About 25 s of CPU on one core (the training)."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import neuralab as nl
from neuralab import demos
from neuralab.apps.detection import (
    CLASSES,
    GridDetector,
    average_precision,
    average_precisions,
    batched_nms,
    box_iou,
    decode,
    detection_scenes,
    encode_targets,
    evaluate,
    mean_average_precision,
    nms,
    train_detector,
    yolo_loss,
)
from neuralab.demos import detection as detection_demo
from neuralab.tensor import constant
from tests.oracle import compare

pytestmark = pytest.mark.xdist_group(
    "detection"
)  # one process: the module fixture trains the detector once

STEPS = 600  # the demo's full training; ~20 s CPU, mAP@0.5 about 0.97 (seeds 0, 1, 2)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained():
    """A detector trained like the demo's (one BLAS thread), and its loss on held-out scenes
    before and after training."""
    images, targets = detection_scenes(64, seed=99)
    with threadpool_limits(1, user_api="blas"):
        with nl.random.use_generator(np.random.default_rng(0)):
            model = GridDetector()
        model.eval()
        before = yolo_loss(model(constant(images)), targets, model.stride).item()
        train_detector(steps=STEPS, model=model)
        after = yolo_loss(model(constant(images)), targets, model.stride).item()
    return model, before, after


# ----------------------------------------------------------------------------- scenes


def test_scenes_shapes_boxes_and_determinism():
    images, targets = detection_scenes(40, size=32, max_objects=3, seed=5)
    assert images.shape == (40, 3, 32, 32) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    counts = [len(t["labels"]) for t in targets]
    assert min(counts) >= 1 and max(counts) == 3
    for t in targets:
        b = t["boxes"]
        assert b.dtype == np.float32 and t["labels"].dtype == np.int64
        assert set(t["labels"]) <= {0, 1, 2}
        assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 32).all() and (b[:, 2:] > b[:, :2]).all()
        iou = box_iou(b, b)
        assert np.allclose(iou, np.eye(len(b)))  # the boxes never overlap
    again, targets_again = detection_scenes(40, size=32, max_objects=3, seed=5)
    assert np.array_equal(images, again)
    assert all(np.array_equal(t["boxes"], u["boxes"]) for t, u in zip(targets, targets_again))
    with pytest.raises(ValueError, match="radius"):
        detection_scenes(2, size=32, radius=(0.5, 40))


def test_scene_boxes_are_tight_around_the_shapes():
    images, targets = detection_scenes(20, noise=0.0, seed=3)
    for image, t in zip(images, targets):
        for x0, y0, x1, y1 in t["boxes"].astype(int):
            inside = image[:, y0:y1, x0:x1]
            colour = inside.max(axis=0) - inside.min(axis=0)  # shapes are saturated colours
            # every edge row and column of the box touches the shape
            for edge in (colour[0], colour[-1], colour[:, 0], colour[:, -1]):
                assert edge.max() > 0.3


# ----------------------------------------------------------------------------- IoU and NMS


def test_box_iou_hand_values():
    a = [[0, 0, 2, 2], [0, 0, 4, 4]]
    b = [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]
    expected = [[1 / 7, 1.0, 0.0], [4 / 16, 4 / 16, 0.0]]
    assert np.allclose(box_iou(a, b), expected)
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_nms_hand_example():
    boxes = np.array(
        [[0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10], [20, 20, 30, 30], [0, 1, 10, 11]],
        np.float32,
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.95], np.float32)
    # IoUs: 4~0 90/110 = .82, 4~1 63/137 = .46, 4~2 36/164 = .22, 0~1 = 1~2 = 70/130 = .54;
    # box 3 overlaps nothing. Greedy at 0.5: 4 (best) drops 0; 1 survives (0, which would have
    # dropped it, is gone) and drops 2; 3 stays.
    assert nms(boxes, scores, 0.5).tolist() == [4, 1, 3]
    assert nms(boxes, scores, 0.7).tolist() == [4, 1, 2, 3]
    assert nms(boxes, scores, 0.3).tolist() == [4, 2, 3]
    assert nms(boxes, scores, 0.9).tolist() == [4, 0, 1, 2, 3]
    # an IoU equal to the threshold is kept (only IoU > threshold suppresses, as torchvision)
    assert nms([[0, 0, 2, 2], [1, 0, 3, 2]], [0.9, 0.8], 1 / 3).tolist() == [0, 1]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def test_batched_nms_keeps_overlapping_boxes_of_other_classes():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]]
    scores = [0.9, 0.8, 0.7]
    assert batched_nms(boxes, scores, [0, 0, 1], 0.5).tolist() == [0, 2]
    assert batched_nms(boxes, scores, [0, 1, 2], 0.5).tolist() == [0, 1, 2]


# ----------------------------------------------------------------------------- mAP


def test_average_precision_all_point_interpolation():
    # ranked: TP, FP, TP with 2 objects: recall .5 .5 1, precision 1 .5 2/3
    ap = average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3])
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    # the envelope lifts a dip: precision at recall .25 is replaced by the later 1.0
    assert average_precision([0.25, 0.5], [0.5, 1.0]) == pytest.approx(0.5)
    assert average_precision([], []) == 0.0


def _pred(boxes, scores, labels):
    return {
        "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
        "scores": np.asarray(scores, np.float32),
        "labels": np.asarray(labels, np.int64),
    }


def test_map_perfect_predictions_is_one():
    _, targets = detection_scenes(10, seed=1)
    perfect = [_pred(t["boxes"], np.ones(len(t["labels"])), t["labels"]) for t in targets]
    assert mean_average_precision(perfect, targets, 3) == 1.0


def test_map_known_case():
    circles = [[0, 0, 10, 10], [20, 20, 30, 30]]
    targets = [
        {"boxes": np.array(circles + [[0, 20, 10, 30]], np.float32), "labels": np.array([0, 0, 1])},
        {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)},
    ]
    predictions = [
        _pred(
            [[1, 1, 10, 10], [40, 40, 50, 50], [20, 20, 30, 31], [0, 20, 10, 30], [0, 21, 10, 30]],
            [0.9, 0.8, 0.7, 0.9, 0.8],
            [0, 0, 0, 1, 1],
        ),
        _pred([[0, 0, 5, 5]], [0.85], [2]),  # a triangle where there is none
    ]
    aps = average_precisions(predictions, targets, 3)
    # circles: TP (IoU .81), FP (nothing there), TP -> AP = .5 + .5 * 2/3
    # squares: TP then a duplicate of the same object (FP) -> AP 1; triangles: no truth -> NaN
    assert aps[0] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert aps[1] == pytest.approx(1.0)
    assert np.isnan(aps[2])
    assert mean_average_precision(predictions, targets, 3) == pytest.approx((5 / 6 + 1) / 2)
    # at IoU 0.9 the first circle (IoU 0.81) no longer counts
    assert average_precisions(predictions, targets, 3, iou_threshold=0.9)[0] == pytest.approx(
        0.5 * 1 / 3
    )
    missed = [_pred([], [], []), predictions[1]]
    assert average_precisions(missed, targets, 3)[0] == 0.0
    with pytest.raises(ValueError, match="2 targets"):
        mean_average_precision(predictions[:1], targets, 3)


# ----------------------------------------------------------------------------- targets, loss, decoding


def test_encode_targets_hand_example():
    targets = [{"boxes": np.array([[8, 8, 24, 16]], np.float32), "labels": np.array([2])}]
    obj, box, cls = encode_targets(targets, (4, 4), 8)
    assert obj.sum() == 1 and obj[0, 1, 2] == 1
    assert np.allclose(box[0, :, 1, 2], [0.0, 0.5, np.log(2), 0.0])
    assert cls[0, 1, 2] == 2 and (cls == -100).sum() == 15


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_yolo_loss_matches_torch_formula(dtype):
    _, targets = detection_scenes(4, seed=2)
    obj, box, cls = encode_targets(targets, (4, 4), 8)
    output = np.random.default_rng(0).normal(size=(4, 8, 4, 4)).astype(np.float32)

    def theirs(out):
        o, b = torch.tensor(obj, dtype=out.dtype), torch.tensor(box, dtype=out.dtype)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], o, reduction="sum")
        pred = torch.cat([out[:, 1:3].sigmoid(), out[:, 3:5]], 1)
        box_err = ((pred - b) ** 2 * o[:, None]).sum()
        ce = torch.nn.functional.cross_entropy(out[:, 5:], torch.tensor(cls), reduction="sum")
        return (bce + 5 * box_err + ce) / 4

    compare(lambda out: yolo_loss(out, targets, 8), theirs, [output], dtype=dtype)


def test_loss_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 8, 4, 4\) and 3 targets"):
        yolo_loss(nl.zeros(2, 8, 4, 4), [{}] * 3, 8)
    bad = [{"boxes": np.array([[4, 4, 4, 9]], np.float32), "labels": np.array([0])}]
    with pytest.raises(ValueError, match=r"image 0 .*x1 > x0.*\[\[4\.0, 4\.0, 4\.0, 9\.0\]\]"):
        encode_targets(bad, (4, 4), 8)
    with pytest.raises(ValueError, match=r"decode: .*\(2, 4, 4\)"):
        decode(np.zeros((2, 4, 4)), 8)
    with pytest.raises(ValueError, match=r"divisible by the stride 8.*\(1, 3, 30, 30\)"):
        GridDetector()(nl.zeros(1, 3, 30, 30))


def test_decode_hand_example():
    out = np.full((1, 8, 4, 4), -10.0, np.float32)
    out[0, 1:5] = 0.0
    out[0, 0, 1, 2] = 10.0  # an object in row 1, column 2
    out[0, 3:5, 1, 2] = np.log(2)  # twice a cell: 16 pixels
    out[0, 5:, 1, 2] = [0.0, 5.0, 0.0]  # a square
    (found,) = decode(out, stride=8)
    assert found["labels"].tolist() == [1]
    assert np.allclose(found["boxes"], [[12, 4, 28, 20]], atol=1e-5)
    expected = 1 / (1 + np.exp(-10)) * np.exp(5) / (np.exp(5) + 2)
    assert found["scores"][0] == pytest.approx(expected, rel=1e-5)
    assert found["boxes"].dtype == np.float32


# ----------------------------------------------------------------------------- training


def test_training_lowers_the_loss_and_reaches_map_07(trained):
    model, before, after = trained
    assert after < 0.3 * before, (before, after)
    images, targets = detection_scenes(300, seed=4321)
    assert evaluate(model, images, targets) >= 0.7


def test_whole_detector_save_load_round_trip(trained, tmp_path):
    model, _, _ = trained
    nl.save(model, tmp_path / "det.safetensors")
    loaded = nl.load(tmp_path / "det.safetensors")
    assert type(loaded) is GridDetector and not loaded.training
    images, _ = detection_scenes(8, seed=11)
    with nl.no_grad():
        assert np.array_equal(loaded(constant(images)).numpy(), model(constant(images)).numpy())
    for a, b in zip(loaded.detect(images), model.detect(images)):
        assert all(np.array_equal(a[k], b[k]) for k in ("boxes", "scores", "labels"))


def test_demo_prints_fps_and_objects_per_frame(trained, tmp_path):
    model, _, _ = trained
    nl.save({"model": model, "steps": STEPS}, tmp_path / detection_demo.MODEL_FILE)
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        result = demos.run("detection", tmp_path)
    printed = text.getvalue()
    assert result["loaded"]
    assert len(re.findall(r"^FPS: \d+$", printed, re.M)) == len(result["fps"]) == 8
    names = "|".join(CLASSES)
    objects = re.findall(rf"^({names}): (0\.\d\d|1\.00)$", printed, re.M)
    assert len(objects) == sum(len(o) for o in result["objects"]) >= 8
    assert result["map"] >= 0.7
    assert "mAP@0.5" in printed
    (figure,) = result["figures"]
    assert figure.read_bytes()[:8] == PNG
