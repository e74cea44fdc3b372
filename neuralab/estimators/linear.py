"""The lecture's four one-neuron models, each an ``nn.Neuron`` trained by gradient descent.

One neuron ŷ = σ(wᵀx + b), four choices of activation σ and loss — the lecture's pairs:

=================== ========== ===================================== ==================
model               activation loss (labels y in {-1, +1} or {0, 1}) scikit-learn model
=================== ========== ===================================== ==================
Perceptron          identity   soft perceptron max(0, -y·ŷ)          Perceptron
LinearRegression    identity   squared error (ŷ - y)²                LinearRegression
LinearSVM           identity   hinge max(0, 1 - y·ŷ) + L2            LinearSVC
LogisticRegression  sigmoid    binary cross-entropy (logistic loss)  LogisticRegression
=================== ========== ===================================== ==================

With two classes (or one regression target) the network is literally one ``nn.Neuron``. With
K > 2 classes it is :class:`NeuronStack`, K such neurons side by side: one-vs-rest (neuron k
separates class k from the rest) for the Perceptron, the SVM and ``multi_class='ovr'`` logistic
regression, or K identity neurons whose scores feed a softmax and the cross-entropy
(multinomial logistic regression, scikit-learn's default).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.base import ClassifierMixin, RegressorMixin

from neuralab import nn
from neuralab.estimators.base import (
    NeuralClassifierMixin,
    NeuralEstimator,
    NeuralRegressorMixin,
    Rule,
    in_range,
)
from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.random import use_generator
from neuralab.tensor import Tensor, constant

__all__ = ["LinearRegression", "LinearSVM", "LogisticRegression", "NeuronStack", "Perceptron"]


class NeuronStack(Module):
    """K neurons side by side, (N, in_features) → (N, K): column k is σ(w_kᵀx + b_k).

    Row k of ``weight`` (K, in_features) is neuron k's weight vector w_k and ``bias[k]`` its
    bias b_k, drawn as ``nn.Neuron`` draws them, U(±1/√in_features). Keeping the K vectors in
    one matrix computes all K neurons in one matrix product, σ(x Wᵀ + b), and lets the optimizer
    update them in one step; the numbers are those of K separate ``nn.Neuron``s
    (:meth:`neurons` hands them out as such). σ is 'identity' or 'sigmoid'.
    """

    def __init__(
        self, in_features: int, n_neurons: int, activation: str = "identity", dtype: Any = None
    ) -> None:
        super().__init__()
        if activation not in ("identity", "sigmoid"):
            raise ValueError(
                f"NeuronStack: activation must be 'identity' or 'sigmoid', got {activation!r}"
            )
        self.in_features = in_features
        self.activation = activation
        neurons = [nn.Neuron(in_features, activation, dtype=dtype) for _ in range(n_neurons)]
        self.weight = nn.Parameter(constant(np.stack([n.weight.numpy() for n in neurons])))
        self.bias = nn.Parameter(constant(np.stack([n.bias.numpy() for n in neurons])))

    def forward(self, input: Tensor) -> Tensor:
        scores = F.linear(input, self.weight, self.bias)
        return F.sigmoid(scores) if self.activation == "sigmoid" else scores

    def neurons(self) -> list[nn.Neuron]:
        """The K neurons as separate ``nn.Neuron`` modules holding copies of their weights."""
        out = []
        for w, b in zip(self.weight.numpy(), self.bias.numpy()):
            with use_generator(np.random.default_rng(0)):  # the initial draws are overwritten
                neuron = nn.Neuron(self.in_features, self.activation, dtype=w.dtype)
            neuron.weight.data[...] = w
            neuron.bias.data[...] = b
            out.append(neuron)
        return out

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, n_neurons={len(self.bias)}, "
            f"activation={self.activation!r}"
        )


class _OneNeuronModel(NeuralEstimator):
    """A linear model: ``nn.Neuron`` for one output, a :class:`NeuronStack` for K outputs.

    ``coef_`` holds the neurons' weight vectors as rows, (K, n_features), and ``intercept_``
    their biases, (K,); a regressor keeps its single neuron's as (n_features,) and a scalar.
    """

    def _n_neurons(self) -> int:
        return 1

    def _activation(self) -> str:
        return "identity"

    def _new_network(self, n_features: int, dtype: np.dtype) -> Module:
        k = self._n_neurons()
        if k == 1:
            return nn.Neuron(n_features, self._activation(), dtype=dtype)
        return NeuronStack(n_features, k, self._activation(), dtype=dtype)

    def _read_weights(self, net: Module) -> None:
        k = self._n_neurons()
        self.coef_ = net.weight.numpy().reshape(k, -1).copy()
        self.intercept_ = net.bias.numpy().reshape(k).copy()

    def _write_weights(self, net: Module) -> None:
        net.weight.data[...] = np.reshape(self.coef_, net.weight.shape)
        net.bias.data[...] = np.reshape(self.intercept_, net.bias.shape)


class _LinearClassifier(NeuralClassifierMixin, _OneNeuronModel):
    """One neuron for two classes, one per class (one-vs-rest) for more."""

    def _n_neurons(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def decision_function(self, X: Any) -> np.ndarray:
        """The neurons' pre-activations wᵀx + b: (n_samples,) for two classes, else (n, K)."""
        X = self._validate_X(X)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores


class _MarginClassifier(_LinearClassifier):
    """Identity neurons trained on a margin loss of labels in {-1, +1} (one-vs-rest for K)."""

    @staticmethod
    def _margin_loss(output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def _encode(self, index: np.ndarray, dtype: np.dtype) -> np.ndarray:
        if len(self.classes_) == 2:
            return (2 * index - 1).astype(dtype)
        return np.where(index[:, None] == np.arange(len(self.classes_)), 1, -1).astype(dtype)

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        loss = self._margin_loss(output, target, reduction="none")
        return loss.sum(1) if loss.ndim == 2 else loss


_POSITIVE = in_range(0, np.inf, lo_open=True)
_C_RULE: Rule = ("C", _POSITIVE, "a number > 0")
_ALPHA_RULE: Rule = ("alpha", in_range(0, np.inf), "a number >= 0")


class Perceptron(ClassifierMixin, _MarginClassifier):
    """Rosenblatt's perceptron: one identity ``nn.Neuron`` on the soft perceptron loss.

    Minimizes the mean of max(0, -y·(wᵀx + b)) over the training set (labels y = ±1), plus
    ``alpha``·[l1_ratio·‖w‖₁ + (1 - l1_ratio)/2·‖w‖₂²]: only misclassified points pull on w.
    More than two classes: one neuron per class, one-vs-rest, as scikit-learn's Perceptron.
    Defaults: full-batch gradient descent with Nesterov momentum; scale the inputs first.
    """

    def __init__(
        self,
        *,
        alpha: float = 0.0,
        l1_ratio: float = 0.0,
        solver: str = "sgd",
        learning_rate_init: float = 0.1,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        batch_size: int | str | None = None,
        max_iter: int = 1000,
        tol: float = 1e-5,
        n_iter_no_change: int = 50,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool | int = False,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    _margin_loss = staticmethod(F.perceptron_loss)

    def _rules(self) -> list[Rule]:
        return [_ALPHA_RULE]

    def _penalty_scale(self, total_weight: float) -> float:
        return self.alpha


class LinearSVM(ClassifierMixin, _MarginClassifier):
    """The linear support vector machine: one identity ``nn.Neuron`` on the hinge loss + L2.

    Minimizes C·Σ max(0, 1 - y·(wᵀx + b)) + [(1 - l1_ratio)/2·‖w‖₂² + l1_ratio·‖w‖₁], scaled
    by 1/(C·Σ sample weights) into a mean loss plus a penalty: the objective of scikit-learn's
    ``LinearSVC(loss='hinge')``. More than two classes: one-vs-rest, as LinearSVC.
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        l1_ratio: float = 0.0,
        solver: str = "sgd",
        learning_rate_init: float = 0.1,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        batch_size: int | str | None = None,
        max_iter: int = 1000,
        tol: float = 1e-5,
        n_iter_no_change: int = 50,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool | int = False,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    _margin_loss = staticmethod(F.hinge_loss)

    def _rules(self) -> list[Rule]:
        return [_C_RULE]

    def _penalty_scale(self, total_weight: float) -> float:
        return 1.0 / (self.C * total_weight)


class LogisticRegression(ClassifierMixin, _LinearClassifier):
    """Logistic regression: one sigmoid ``nn.Neuron`` on the binary cross-entropy.

    p = σ(wᵀx + b) is the probability of the second class; the loss is
    -[t·log p + (1 - t)·log(1 - p)] for t in {0, 1}, which equals the logistic loss
    log(1 + exp(-y·(wᵀx + b))) for y = 2t - 1. Regularization as scikit-learn's: C·Σ loss +
    (1 - l1_ratio)/2·‖w‖₂² + l1_ratio·‖w‖₁, scaled to a mean loss plus a penalty.

    More than two classes: ``multi_class='multinomial'`` (the default, as scikit-learn's) uses K
    identity neurons whose scores go through a softmax and the cross-entropy; ``'ovr'`` trains K
    sigmoid neurons one-vs-rest and normalizes their probabilities to sum to 1.
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        l1_ratio: float = 0.0,
        multi_class: str = "multinomial",
        solver: str = "sgd",
        learning_rate_init: float = 0.1,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        batch_size: int | str | None = None,
        max_iter: int = 1000,
        tol: float = 1e-5,
        n_iter_no_change: int = 50,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool | int = False,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    def _rules(self) -> list[Rule]:
        multi = ("multi_class", lambda v: v in ("multinomial", "ovr"), "'multinomial' or 'ovr'")
        return [_C_RULE, multi]

    def _penalty_scale(self, total_weight: float) -> float:
        return 1.0 / (self.C * total_weight)

    def _softmax(self) -> bool:
        return len(self.classes_) > 2 and self.multi_class == "multinomial"

    def _activation(self) -> str:
        return "identity" if self._softmax() else "sigmoid"

    def _encode(self, index: np.ndarray, dtype: np.dtype) -> np.ndarray:
        if len(self.classes_) == 2:
            return index.astype(dtype)
        if self._softmax():
            return index.astype(np.int64)
        return (index[:, None] == np.arange(len(self.classes_))).astype(dtype)

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self._softmax():
            return F.cross_entropy(output, target, reduction="none")
        loss = F.binary_cross_entropy(output, target, reduction="none")
        return loss.sum(1) if loss.ndim == 2 else loss

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, (n_samples, n_classes), from the neurons' outputs."""
        out = self._forward(self._validate_X(X))
        if out.ndim == 1:  # one sigmoid neuron: p of the second class
            return np.stack([1 - out, out], axis=1)
        if self._softmax():
            return softmax(out, axis=1)
        return out / out.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def _largest_eigenvalue(X: np.ndarray, p: np.ndarray, iterations: int = 50) -> float:
    """λ_max of X̃ᵀ diag(p) X̃ with X̃ = [X, 1], by power iteration (X̃ is never formed)."""
    X = X.astype(np.float64, copy=False)
    v = np.full(X.shape[1] + 1, 1 / np.sqrt(X.shape[1] + 1))
    lam = 0.0
    for _ in range(iterations):
        z = p * (X @ v[:-1] + v[-1])
        u = np.append(X.T @ z, z.sum())
        lam = float(v @ u)  # the Rayleigh quotient of the unit vector v
        v = u / np.linalg.norm(u)
    return lam


class LinearRegression(RegressorMixin, NeuralRegressorMixin, _OneNeuronModel):
    """Least squares: one identity ``nn.Neuron`` on the squared error (ŷ - y)².

    Minimizes the weighted mean of (wᵀx + b - y)² plus
    ``alpha``·[l1_ratio·‖w‖₁ + (1 - l1_ratio)/2·‖w‖₂²]: ordinary least squares for alpha = 0
    (the default), ridge, lasso or the elastic net otherwise. ``coef_`` is (n_features,),
    ``intercept_`` a scalar.

    ``learning_rate_init='auto'`` (the default) takes the step 1/L, L the largest curvature of
    the loss, 2·λ_max(X̃ᵀWX̃/Σw) + alpha·(1 - l1_ratio) for X̃ = [X, 1] (found by power
    iteration): gradient descent is stable at any input scale, where a fixed step diverges once
    the inputs are large (L grows with their square). A number is used as the step itself.
    """

    def __init__(
        self,
        *,
        alpha: float = 0.0,
        l1_ratio: float = 0.0,
        solver: str = "sgd",
        learning_rate_init: float | str = "auto",
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        batch_size: int | str | None = None,
        max_iter: int = 1000,
        tol: float = 1e-5,
        n_iter_no_change: int = 50,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool | int = False,
        warm_start: bool = False,
    ) -> None:
        self._store_params(locals())

    def _rules(self) -> list[Rule]:
        auto = ("learning_rate_init", lambda v: v == "auto" or _POSITIVE(v), "'auto' or > 0")
        return [_ALPHA_RULE, auto]

    def _penalty_scale(self, total_weight: float) -> float:
        return self.alpha

    def _learning_rate(self, X: np.ndarray, sw: np.ndarray) -> float:
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        curvature = 2 * _largest_eigenvalue(X, sw / sw.sum()) + self.alpha * (1 - self.l1_ratio)
        return 1.0 / curvature

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(output, target, reduction="none")

    def _read_weights(self, net: Module) -> None:
        self.coef_ = net.weight.numpy().copy()
        self.intercept_ = float(net.bias.numpy())
