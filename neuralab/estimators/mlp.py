"""Multilayer perceptrons as scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor``.

The network is ``nn.Sequential``: for each hidden layer a ``nn.Linear``, the activation and,
when ``dropout > 0``, ``nn.Dropout``; then a ``nn.Linear`` output layer. The output and the loss
are the lecture's pairs again, one layer up: one logit with the binary cross-entropy for two
classes, K logits with the softmax cross-entropy for K classes, one identity output with the
squared error for regression. Training is :class:`~neuralab.estimators.base.NeuralEstimator`'s
loop (Adam on mini-batches of min(200, n) by default, as scikit-learn's MLPs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin

from neuralab import nn
from neuralab.estimators.base import (
    NeuralClassifierMixin,
    NeuralEstimator,
    NeuralRegressorMixin,
    Rule,
    in_range,
    is_int,
)
from neuralab.models.mlp import mlp_layers
from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.nn.registry import ACTIVATIONS
from neuralab.tensor import Tensor

__all__ = ["MLPClassifier", "MLPRegressor"]


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple (an int means one hidden layer)."""
    return (value,) if is_int(value) else tuple(value)


def _valid_sizes(value: Any) -> bool:
    if is_int(value):
        return value >= 1
    return isinstance(value, Sequence) and all(is_int(v) and v >= 1 for v in value)


class _BaseMLP(NeuralEstimator):
    """The multilayer perceptron: architecture, weights as ``coefs_``/``intercepts_``.

    ``coefs_[i]`` is layer i's weight matrix as scikit-learn lays it out, (fan_in, fan_out) —
    the transpose of ``nn.Linear.weight`` — and ``intercepts_[i]`` its bias.
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        dropout: float = 0.0,
        alpha: float = 1e-4,
        l1_ratio: float = 0.0,
        solver: str = "adam",
        learning_rate_init: float = 1e-3,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        batch_size: int | str | None = "auto",
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool | int = False,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    def _rules(self) -> list[Rule]:
        return [
            ("hidden_layer_sizes", _valid_sizes, "an int >= 1 or a sequence of them"),
            ("activation", lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS.describe()}"),
            ("dropout", in_range(0, 1, hi_open=True), "a number in [0, 1)"),
            ("alpha", in_range(0, np.inf), "a number >= 0"),
        ]

    def _penalty_scale(self, total_weight: float) -> float:
        return self.alpha

    def _n_outputs(self) -> int:
        return 1

    def _output_activation(self) -> str:
        return "identity"

    def _new_network(self, n_features: int, dtype: np.dtype) -> Module:
        hidden = _hidden_sizes(self.hidden_layer_sizes)
        sizes = (n_features, *hidden, self._n_outputs())
        layers = mlp_layers(sizes, self.activation, self.dropout, dtype=dtype)
        if self._n_outputs() == 1:
            layers.append(nn.Flatten(0))  # (N, 1) → (N,): one output per sample
        return nn.Sequential(*layers)

    @staticmethod
    def _linears(net: Module) -> list[nn.Linear]:
        return [m for m in net if isinstance(m, nn.Linear)]

    def _read_weights(self, net: Module) -> None:
        layers = self._linears(net)
        self.coefs_ = [layer.weight.numpy().T.copy() for layer in layers]
        self.intercepts_ = [layer.bias.numpy().copy() for layer in layers]
        self.n_layers_ = len(layers) + 1
        self.n_outputs_ = self._n_outputs()
        self.out_activation_ = self._output_activation()

    def _write_weights(self, net: Module) -> None:
        for layer, coef, intercept in zip(self._linears(net), self.coefs_, self.intercepts_):
            layer.weight.data[...] = np.asarray(coef).T
            layer.bias.data[...] = intercept


class MLPClassifier(ClassifierMixin, NeuralClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier (scikit-learn's ``MLPClassifier`` parameters).

    Hidden layers ``hidden_layer_sizes`` with ``activation`` (and ``dropout``), then one logit
    trained with the binary cross-entropy (two classes) or K logits with the softmax
    cross-entropy; penalty ``alpha``·[l1_ratio·‖W‖₁ + (1 - l1_ratio)/2·‖W‖₂²] on the weights.
    """

    def _n_outputs(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _output_activation(self) -> str:
        return "logistic" if len(self.classes_) == 2 else "softmax"

    def _encode(self, index: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return index.astype(dtype if len(self.classes_) == 2 else np.int64)

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        if output.ndim == 1:
            return F.binary_cross_entropy_with_logits(output, target, reduction="none")
        return F.cross_entropy(output, target, reduction="none")

    def decision_function(self, X: Any) -> np.ndarray:
        """The output layer's logits: (n_samples,) for two classes, else (n_samples, K)."""
        return self._forward(self._validate_X(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_classes): sigmoid or softmax of the logits."""
        logits = self.decision_function(X)
        if logits.ndim == 1:
            p = expit(logits)
            return np.stack([1 - p, p], axis=1)
        return softmax(logits, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class MLPRegressor(RegressorMixin, NeuralRegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor: one identity output trained on the squared error.

    Parameters are scikit-learn's ``MLPRegressor``'s (see ``MLPClassifier``); the target is
    one value per sample.
    """

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(output, target, reduction="none")
