"""neuralab.train.metrics against sklearn.metrics, and the rules that decode model outputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import neuralab as nl
from neuralab.train import metrics as M

RNG = np.random.default_rng(0)
MULTI_TRUE = RNG.integers(0, 4, 60)
MULTI_PRED = np.where(RNG.random(60) < 0.6, MULTI_TRUE, RNG.integers(0, 4, 60))
BIN_TRUE = RNG.integers(0, 2, 50)
BIN_PRED = np.where(RNG.random(50) < 0.7, BIN_TRUE, 1 - BIN_TRUE)
PM_TRUE, PM_PRED = 2 * BIN_TRUE - 1, 2 * BIN_PRED - 1

LABEL_CASES = {
    "multiclass": (MULTI_TRUE, MULTI_PRED),
    "binary01": (BIN_TRUE, BIN_PRED),
    "binary_pm1": (PM_TRUE, PM_PRED),
    "missing_class": (np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 0])),
}


@pytest.mark.parametrize("case", LABEL_CASES)
def test_accuracy_and_confusion_matrix_match_sklearn(case):
    t, p = LABEL_CASES[case]
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    labels = np.unique(t)[::-1]
    np.testing.assert_array_equal(
        M.confusion_matrix(t, p, labels=labels), skm.confusion_matrix(t, p, labels=labels)
    )


@pytest.mark.parametrize("case", LABEL_CASES)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "binary"])
def test_precision_recall_f1_match_sklearn(case, average):
    t, p = LABEL_CASES[case]
    if average == "binary" and np.union1d(t, p).size > 2:
        with pytest.raises(ValueError, match="two classes"):
            M.precision(t, p, average=average)
        return
    for ours, theirs in [
        (M.precision, skm.precision_score),
        (M.recall, skm.recall_score),
        (M.f1, skm.f1_score),
    ]:
        expected = theirs(t, p, average=average, zero_division=0.0)
        assert ours(t, p, average=average) == pytest.approx(expected), ours.__name__


def test_zero_division_and_pos_label():
    t, p = np.array([0, 0, 1]), np.array([0, 0, 0])  # nothing predicted positive
    assert M.precision(t, p) == skm.precision_score(t, p, zero_division=0.0) == 0.0
    assert M.precision(t, p, zero_division=1.0) == 1.0
    assert M.recall(t, p, pos_label=0) == pytest.approx(skm.recall_score(t, p, pos_label=0))
    with pytest.raises(ValueError, match="pos_label=5"):
        M.f1(t, np.array([0, 1, 1]), pos_label=5)
    with pytest.raises(ValueError, match="average"):
        M.f1(t, p, average="samples")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k):
    scores = RNG.standard_normal((40, 5))
    labels = RNG.integers(0, 5, 40)
    expected = skm.top_k_accuracy_score(labels, scores, k=k, labels=np.arange(5))
    assert M.top_k_accuracy(labels, scores, k=k) == pytest.approx(expected)
    with pytest.raises(ValueError, match="class indices"):
        M.top_k_accuracy(labels + 5, scores, k=k)


def test_regression_metrics_match_sklearn():
    t = RNG.standard_normal(30)
    p = t + 0.3 * RNG.standard_normal(30)
    assert M.mse(t, p) == pytest.approx(skm.mean_squared_error(t, p))
    assert M.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p))
    assert M.r2(t, p) == pytest.approx(skm.r2_score(t, p))
    t2, p2 = RNG.standard_normal((30, 3)), RNG.standard_normal((30, 3))
    assert M.r2(t2, p2) == pytest.approx(skm.r2_score(t2, p2))
    assert M.mse(t2, p2) == pytest.approx(skm.mean_squared_error(t2, p2))
    const = np.ones(5)
    assert M.r2(const, const) == skm.r2_score(const, const) == 1.0
    assert M.r2(const, const + 1) == skm.r2_score(const, const + 1) == 0.0
    # an (N, 1) column against (N,) values, Tensors accepted
    assert M.mse(nl.tensor(t.reshape(-1, 1)), p) == pytest.approx(skm.mean_squared_error(t, p))
    with pytest.raises(ValueError, match=r"\(30,\).*\(29,\)"):
        M.mae(t, p[:-1])


def test_decode_labels_rules():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0]])
    t, p, kind = M.decode_labels(scores, np.array([0, 1]))
    assert kind == "multiclass" and p.tolist() == [0, 2]
    t, p, _ = M.decode_labels(scores, np.eye(3)[[0, 2]])  # one-hot targets
    assert t.tolist() == [0, 2]
    out = np.array([[-0.2], [0.1], [0.7]])
    t, p, kind = M.decode_labels(out, np.array([-1.0, 1.0, 1.0]))  # ±1: threshold 0
    assert kind == "binary" and p.tolist() == [-1, 1, 1]
    _, p, _ = M.decode_labels(out, np.array([0.0, 1.0, 1.0]))  # {0, 1}: threshold 0.5
    assert p.tolist() == [0, 0, 1]
    _, p, _ = M.decode_labels(out, np.array([0.0, 1.0, 1.0]), from_logits=True)
    assert p.tolist() == [0, 1, 1]
    with pytest.raises(M.MetricNotApplicable, match="not class labels"):
        M.decode_labels(out, np.array([0.3, 1.7, 2.5]))
    with pytest.raises(M.MetricNotApplicable, match="one-hot"):
        M.decode_labels(scores, np.full((2, 3), 0.9))


def test_from_outputs_names():
    out = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]])
    y = np.array([1, 2, 0])
    assert M.from_outputs("accuracy")(y, out) == pytest.approx(1 / 3)
    assert M.from_outputs("top_2_accuracy")(y, out) == pytest.approx(2 / 3)
    assert M.from_outputs("top_k_accuracy")(y, out) == 1.0
    assert M.from_outputs("f1")(y, out) == pytest.approx(
        skm.f1_score(y, out.argmax(1), average="macro")
    )
    assert M.from_outputs("mse")(np.zeros(3), np.ones((3, 1))) == 1.0
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.from_outputs("acuracy")
