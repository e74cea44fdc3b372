"""scikit-learn estimators built from neuralab networks: the lecture's lessons as tools.

The four one-neuron models — :class:`Perceptron`, :class:`LinearRegression`,
:class:`LinearSVM`, :class:`LogisticRegression` — are each one ``nn.Neuron`` (K of them for K
classes) trained by gradient descent with the lecture's pair of activation and loss;
:class:`MLPClassifier` and :class:`MLPRegressor` are multilayer perceptrons. All follow the
scikit-learn estimator contract (``fit``/``predict``/``score``, ``partial_fit``,
``warm_start``, ``sample_weight``) and work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``. See docs/estimators.md.
"""

from neuralab.estimators.linear import (
    LinearRegression,
    LinearSVM,
    LogisticRegression,
    NeuronStack,
    Perceptron,
)
from neuralab.estimators.mlp import MLPClassifier, MLPRegressor

__all__ = [
    "LinearRegression",
    "LinearSVM",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    "NeuronStack",
    "Perceptron",
]
