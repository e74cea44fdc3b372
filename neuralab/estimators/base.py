"""What every estimator shares: scikit-learn's contract around one gradient-descent loop.

Each estimator is a neuralab network — one ``nn.Neuron``, K of them, or a multilayer
perceptron — trained by gradient descent with ``neuralab.optim``. :class:`NeuralEstimator`
holds everything the models have in common:

- hyper-parameters stored untouched by ``__init__`` and checked at ``fit`` time;
- input validation with scikit-learn's ``validate_data`` (``n_features_in_``, NaN/inf, sparse
  rejection), sample weights;
- one training loop: epochs of full-batch (``batch_size=None``) or shuffled mini-batch steps
  on the weighted mean loss plus an elastic-net penalty on the weights, ``loss_curve_``, the
  stopping rule on the training loss (``tol``, ``n_iter_no_change``) or on the loss of a held-out
  validation split (``early_stopping``, ``validation_fraction``), ``warm_start`` and
  ``partial_fit``.

The fitted state lives in NumPy arrays (``coef_``/``intercept_`` or ``coefs_``/``intercepts_``,
plus the optimizer's state dict): each call that needs the network builds it from them. So a
fitted estimator pickles, clones and deep-copies like any scikit-learn estimator, and setting
``coef_`` by hand changes its predictions, as in scikit-learn.

Computation follows the input's dtype: float32 data train in float32 (the default of neuralab),
float64 data in float64, integers become float32. Randomness (initial weights, shuffling,
dropout, the validation split) comes from ``random_state`` only; neuralab's global generator is
left as it was (:func:`neuralab.random.use_generator`).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neuralab import optim
from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.optim.registry import OPTIMIZERS
from neuralab.random import use_generator
from neuralab.tensor import Tensor, constant
from neuralab.train import (
    Callback,
    DivergenceDetector,
    EarlyStopping,
    History,
    LambdaCallback,
    Trainer,
    TrainingDiverged,
)

__all__ = ["NeuralClassifierMixin", "NeuralEstimator", "NeuralRegressorMixin"]

Rule = tuple[str, Callable[[Any], bool], str]


# ----------------------------------------------------------------------------- parameter rules


def is_int(value: Any) -> bool:
    """True for an integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def in_range(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> Callable:
    """A predicate: a real number in the interval from lo to hi (ends closed unless open)."""

    def ok(v: Any) -> bool:
        if not is_real(v) or np.isnan(v):
            return False
        return (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)

    return ok


def _positive_int(v: Any) -> bool:
    return is_int(v) and v >= 1


def _batch_size(v: Any) -> bool:
    return v is None or v == "auto" or _positive_int(v)


_COMMON_RULES: list[Rule] = [
    ("solver", lambda v: v in ("sgd", "adam"), "'sgd' or 'adam'"),
    ("learning_rate_init", in_range(0, np.inf, lo_open=True), "a number > 0"),
    ("momentum", in_range(0, 1), "a number in [0, 1]"),
    ("nesterovs_momentum", lambda v: isinstance(v, bool), "True or False"),
    ("batch_size", _batch_size, "None (full batch), 'auto' (min(200, n)) or an int >= 1"),
    ("max_iter", _positive_int, "an int >= 1"),
    ("tol", in_range(0, np.inf), "a number >= 0"),
    ("n_iter_no_change", _positive_int, "an int >= 1"),
    ("early_stopping", lambda v: isinstance(v, bool), "True or False"),
    ("validation_fraction", in_range(0, 1, lo_open=True, hi_open=True), "a number in (0, 1)"),
    ("shuffle", lambda v: isinstance(v, bool), "True or False"),
    ("l1_ratio", in_range(0, 1), "a number in [0, 1]"),
    ("warm_start", lambda v: isinstance(v, bool), "True or False"),
]


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: np.dtype) -> np.ndarray:
    """Sample weights as a (n_samples,) array of ``dtype``: all ones when None; >= 0, not all 0."""
    if sample_weight is None:
        return np.ones(n_samples, dtype)
    if is_real(sample_weight):
        return np.full(n_samples, sample_weight, dtype)
    sw = np.asarray(sample_weight, dtype=dtype)
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, got {sw.shape}"
        )
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must hold finite, non-negative numbers")
    if not np.any(sw > 0):
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return sw


# ----------------------------------------------------------------------------- the estimator


class NeuralEstimator(BaseEstimator):
    """Base of the estimators: hyper-parameters, validation, the training loop, partial_fit.

    A subclass defines the network and its loss through these hooks:

    - ``_new_network(n_features, dtype)``: a freshly initialized module;
    - ``_read_weights(net)`` / ``_write_weights(net)``: fitted arrays from / into the module;
    - ``_targets(y, dtype)``: the training target array for the loss (a classifier first sets
      or checks ``classes_`` in ``_fit_classes(y, sw, resume, incremental, classes)``);
    - ``_per_sample_loss(output, target)``: the loss of each sample, shape (N,);
    - ``_penalty_scale(total_weight)``: the strength λ of the penalty
      λ·[l1_ratio·‖w‖₁ + (1 - l1_ratio)/2·‖w‖₂²] added to the mean loss;
    - ``_rules()``: the checks of its own hyper-parameters.
    """

    _default_batch_size = 200  # batch_size='auto' means min(200, n_samples), as in scikit-learn

    def _store_params(self, params: dict[str, Any]) -> None:
        """Store each ``__init__`` argument unchanged (scikit-learn's rule for ``__init__``)."""
        for name, value in params.items():
            if name != "self":
                setattr(self, name, value)

    # --- hooks ---------------------------------------------------------------------------
    def _new_network(self, n_features: int, dtype: np.dtype) -> Module:
        raise NotImplementedError

    def _read_weights(self, net: Module) -> None:
        raise NotImplementedError

    def _write_weights(self, net: Module) -> None:
        raise NotImplementedError

    def _targets(self, y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        raise NotImplementedError

    def _per_sample_loss(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def _penalty_scale(self, total_weight: float) -> float:
        raise NotImplementedError

    def _rules(self) -> list[Rule]:
        return []

    def _learning_rate(self, X: np.ndarray, sw: np.ndarray) -> float:
        """The step size for training on (X, sw): ``learning_rate_init``."""
        return self.learning_rate_init

    # --- checks --------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise ValueError naming the first hyper-parameter outside its allowed values."""
        rules = {name: (ok, allowed) for name, ok, allowed in _COMMON_RULES + self._rules()}
        for name, (ok, allowed) in rules.items():  # a class's own rule replaces a common one
            value = getattr(self, name)
            if not ok(value):
                raise ValueError(
                    f"{type(self).__name__}: invalid {name}={value!r}; it must be {allowed}"
                )

    def _validate_X(self, X: Any) -> np.ndarray:
        """Check a fitted estimator's input and cast it to the dtype it was trained in."""
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=self._dtype)

    # --- fitting -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralEstimator:
        """Train on (X, y) for up to ``max_iter`` epochs (continuing if ``warm_start``)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None
    ) -> NeuralEstimator:
        self._check_params()
        resume = (incremental or self.warm_start) and hasattr(self, "_dtype")
        X, y = validate_data(
            self,
            X,
            y,
            reset=not resume,
            dtype=self._dtype if resume else (np.float32, np.float64),
            y_numeric=not is_classifier(self),
        )
        if not resume:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            self._rng = np.random.default_rng(seed)
        sw = check_sample_weight(sample_weight, len(X), X.dtype)
        if is_classifier(self):
            self._fit_classes(y, sw, resume, incremental, classes)
        target = self._targets(y, X.dtype)
        with use_generator(self._rng):
            net = self._new_network(X.shape[1], X.dtype)
            if resume:
                self._write_weights(net)
            else:
                self._start_training()
            self._train(net, X, target, sw, y if is_classifier(self) else None, incremental)
        self._read_weights(net)
        self._dtype = X.dtype  # set last: only a completed fit can be resumed
        return self

    def _start_training(self) -> None:
        """Reset the record of training (a fit from scratch or a first partial_fit)."""
        self.loss_curve_: list[float] = []
        self.validation_loss_curve_: list[float] | None = None
        self.best_loss_ = np.inf
        self.best_validation_loss_: float | None = None
        self.n_iter_ = 0
        self.t_ = 0
        self._optimizer_state: dict[str, Any] | None = None

    def _new_optimizer(self, net: Module, lr: float, incremental: bool) -> optim.Optimizer:
        params = list(net.parameters())
        name = self.solver  # scikit-learn's 'sgd' takes momentum, with or without Nesterov's
        if name == "sgd" and self.momentum > 0:
            name = "nesterov" if self.nesterovs_momentum else "momentum"
        opt = OPTIMIZERS.get(name).build(params, lr, momentum=self.momentum)
        if incremental and self._optimizer_state is not None:
            opt.load_state_dict(self._optimizer_state)
            for group in opt.param_groups:
                group["lr"] = lr
        return opt

    def _penalty(self, total_weight: float) -> optim.ElasticNet | None:
        """λ·[l1_ratio·‖w‖₁ + (1 - l1_ratio)/2·‖w‖₂²] on the weights (never the biases)."""
        lam = self._penalty_scale(total_weight)
        l1, l2 = lam * self.l1_ratio, lam * (1 - self.l1_ratio) / 2
        if l1 + l2 == 0:
            return None
        return optim.ElasticNet(l1 + l2, alpha=l2 / (l1 + l2))

    def _validation_split(
        self, n: int, stratify: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the training and the held-out part for early stopping."""
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        try:
            return train_test_split(
                np.arange(n),
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=stratify,
            )
        except ValueError as err:
            raise ValueError(
                f"{type(self).__name__}: cannot hold out validation_fraction="
                f"{self.validation_fraction} of {n} samples for early stopping: {err}"
            ) from err

    def _batches(self, n: int) -> list[np.ndarray | None]:
        """One epoch's index arrays (None: the whole set in its order, full-batch descent)."""
        size = self.batch_size
        if size == "auto":
            size = min(self._default_batch_size, n)
        if size is None or size >= n:
            return [None]
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        return [order[i : i + size] for i in range(0, n, size)]

    def _mean_loss(self, net: Module, X: Tensor, target: Tensor, weight: np.ndarray) -> Tensor:
        """The weighted mean loss, Σ wᵢ·lossᵢ / Σ wᵢ."""
        per = self._per_sample_loss(net(X), target)
        return (per * constant(weight / weight.sum())).sum()

    def _train(
        self,
        net: Module,
        X: np.ndarray,
        target: np.ndarray,
        sw: np.ndarray,
        stratify: np.ndarray | None,
        incremental: bool,
    ) -> None:
        """Run the epochs through the Trainer: one for partial_fit, else until the stopping
        rule (:class:`~neuralab.train.EarlyStopping`, scikit-learn's rule) or ``max_iter``."""
        early = self.early_stopping and not incremental
        val = None
        if early:
            train, held_out = self._validation_split(len(X), stratify)
            val = (constant(X[held_out]), constant(target[held_out]), sw[held_out])
            X, target, sw = X[train], target[train], sw[train]
            if not np.any(val[2] > 0):
                raise ValueError(
                    f"{type(self).__name__}: the sample weights of the validation split are all "
                    "zero; use a different random_state or validation_fraction"
                )
        if float(sw.sum()) <= 0:
            raise ValueError("sample_weight: the training samples' weights are all zero")
        opt = self._new_optimizer(net, self._learning_rate(X, sw), incremental)
        if not incremental:  # each fit is a new run of the stopping rule (warm_start too)
            self.best_loss_ = np.inf
            if early:
                self.best_validation_loss_ = np.inf
                self.validation_loss_curve_ = self.validation_loss_curve_ or []
        trainer = _EstimatorTrainer(self, net, opt, self._penalty(float(sw.sum())), val)
        trainer.callbacks += self._callbacks(early, incremental)
        history = trainer.fit(_Batches(self, X, target, sw), 1 if incremental else self.max_iter)
        self._record_history(history, len(X), early)
        if not incremental and history.stopped_reason is None:
            warnings.warn(
                f"{type(self).__name__}: gradient descent reached max_iter={self.max_iter} "
                f"epochs and the loss still improves by more than tol={self.tol}; raise "
                "max_iter or tol",
                ConvergenceWarning,
                stacklevel=4,
            )
        self._optimizer_state = opt.state_dict()

    def _callbacks(self, early: bool, incremental: bool) -> list[Callback]:
        """scikit-learn's stopping rule as EarlyStopping, and its verbose lines."""
        callbacks: list[Callback] = []
        if not incremental:  # stop after n_iter_no_change epochs without a tol improvement
            callbacks.append(
                EarlyStopping(
                    monitor="val_loss" if early else "loss",
                    min_delta=self.tol,
                    patience=self.n_iter_no_change + 1,
                    restore_best_weights=early,
                    best_of="all",
                )
            )
        if self.verbose:
            start = self.n_iter_

            def say(epoch: int, logs: dict[str, float]) -> None:
                message = f"Iteration {start + epoch + 1}, loss = {logs['loss']:.8f}"
                if "val_loss" in logs:
                    message += f", validation loss = {logs['val_loss']:.8f}"
                print(message)

            callbacks.append(LambdaCallback(on_epoch_end=say))
        return callbacks

    def _record_history(self, history: History, n_samples: int, early: bool) -> None:
        """The scikit-learn attributes from the run's History: curves, counts, best losses."""
        losses = history.history.get("loss", [])
        self.n_iter_ += len(losses)
        self.t_ += n_samples * len(losses)
        self.loss_curve_.extend(losses)
        self.best_loss_ = min([self.best_loss_, *losses])
        if early:
            scores = history.history.get("val_loss", [])
            self.validation_loss_curve_.extend(scores)
            self.best_validation_loss_ = min([self.best_validation_loss_, *scores])

    def network(self) -> Module:
        """A new neuralab module holding the fitted weights: the network that ``predict`` runs.

        ``nn.Neuron`` for the one-neuron models with two classes or one target,
        ``NeuronStack`` for K classes, ``nn.Sequential`` for the MLPs; in evaluation mode.
        Changing it does not change the estimator.
        """
        check_is_fitted(self)
        with use_generator(np.random.default_rng(0)):  # the initial draws are overwritten
            net = self._new_network(self.n_features_in_, self._dtype)
        self._write_weights(net)
        return net.eval()

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """The fitted network's output on validated ``X`` (evaluation mode, no graph)."""
        net = self.network()
        with eval_mode(net):
            return net(constant(X)).numpy()


class _Batches:
    """An estimator's epochs of (inputs, targets, weights): the whole set (full-batch descent)
    or shuffled mini-batches, drawn anew at each pass."""

    def __init__(
        self, estimator: NeuralEstimator, X: np.ndarray, target: np.ndarray, sw: np.ndarray
    ) -> None:
        self.estimator, self.X, self.target, self.sw = estimator, X, target, sw
        self.whole = (constant(X), constant(target), sw)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, np.ndarray]]:
        for idx in self.estimator._batches(len(self.X)):
            if idx is None:
                yield self.whole
            else:
                yield constant(self.X[idx]), constant(self.target[idx]), self.sw[idx]


class _EstimatorTrainer(Trainer):
    """The estimators' step: the weighted mean loss plus the elastic-net penalty; the held-out
    loss for early stopping; divergence raised as a ValueError (scikit-learn's way)."""

    def __init__(
        self,
        estimator: NeuralEstimator,
        net: Module,
        opt: optim.Optimizer,
        penalty: optim.ElasticNet | None,
        val: tuple[Tensor, Tensor, np.ndarray] | None,
    ) -> None:
        super().__init__(net, optimizer=opt, metrics=(), verbose=0, name=type(estimator).__name__)
        self.estimator, self.penalty, self.val = estimator, penalty, val
        curve = getattr(estimator, "loss_curve_", None)
        self.divergence["loss"] = DivergenceDetector(reference=curve[0] if curve else None)

    def train_step(self, batch: tuple[Tensor, Tensor, np.ndarray]) -> dict[str, float] | None:
        xb, tb, wb = batch
        if not np.any(wb > 0):
            return None
        loss = self.estimator._mean_loss(self.model, xb, tb, wb)
        if self.penalty is not None:
            loss = loss + self.penalty(self.model)
        value = self.optimize(loss)
        self.record(weight=float(wb.sum()))
        return {"loss": value}

    def validate(self) -> dict[str, float]:
        if self.val is None:
            return {}
        with eval_mode(self.model):
            return {"loss": self.estimator._mean_loss(self.model, *self.val).item()}

    def recover(self, d: TrainingDiverged, last_good: tuple) -> None:
        est = self.estimator
        raise ValueError(
            f"{self.name}: gradient descent diverged (epoch {est.n_iter_ + d.epoch + 1}: "
            f"{d.what}); scale the inputs (e.g. StandardScaler) or lower "
            f"learning_rate_init={est.learning_rate_init}"
        ) from d


# ----------------------------------------------------------------------------- task mixins


class NeuralRegressorMixin:
    """Regression targets: a float vector in the training dtype; ``partial_fit``, ``predict``."""

    def _targets(self, y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return np.asarray(y, dtype=dtype)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralEstimator:
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted target of each sample, shape (n_samples,)."""
        return self._forward(self._validate_X(X))


class NeuralClassifierMixin:
    """Class labels of any type (``classes_``): encoding, ``partial_fit``, ``predict``.

    The training target is built by ``_encode(y_index, dtype)`` from each sample's index into
    ``classes_``; ``predict`` maps ``decision_function`` back to labels: its sign for two
    classes, its argmax for more.
    """

    def _encode(self, index: np.ndarray, dtype: np.dtype) -> np.ndarray:
        raise NotImplementedError

    def _fit_classes(
        self, y: np.ndarray, sw: np.ndarray, resume: bool, incremental: bool, classes: Any
    ) -> None:
        """Set ``classes_`` (a fresh fit) or check ``classes`` against them (a resumed one);
        every label of ``y`` must be among them."""
        check_classification_targets(y)
        name = type(self).__name__
        if not resume:
            if incremental and classes is None:
                raise ValueError(
                    f"{name}.partial_fit: pass classes= (every label the data will ever hold) "
                    "on the first call"
                )
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            weighted = self.classes_ if incremental else np.unique(y[sw > 0])
            if len(weighted) < 2:
                raise ValueError(
                    f"{name} needs samples of at least 2 classes, but the data (with positive "
                    f"sample weight) holds only one class: {weighted.tolist()}"
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"{name}.partial_fit: classes={np.unique(classes).tolist()} differ from the "
                f"classes of the first call, {self.classes_.tolist()}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"{name}: labels {unknown.tolist()[:10]} are not among the classes "
                f"{self.classes_.tolist()} this estimator was first fitted with"
            )

    def _targets(self, y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return self._encode(np.searchsorted(self.classes_, y), dtype)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> NeuralEstimator:
        """One epoch over (X, y); ``classes`` (all labels) is required on the first call."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted label of each sample, from ``classes_``."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
