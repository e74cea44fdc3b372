"""neuralab.estimators pass scikit-learn's estimator checks (``check_estimator``).

Checks that do not run here are skipped by scikit-learn itself, for the environment: pandas is
not installed (``check_sample_weights_pandas_series``, ``check_classifier_data_not_an_array`` /
``check_regressor_data_not_an_array``) and SCIPY_ARRAY_API is unset (``check_array_api_input``).
No check is marked as an expected failure; docs/estimators.md lists the skipped ones.
"""

import pytest
import threadpoolctl
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuralab.estimators import (
    LinearRegression,
    LinearSVM,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    Perceptron,
)

ESTIMATORS = [
    Perceptron(),
    LinearSVM(),
    LogisticRegression(),
    LinearRegression(),
    MLPClassifier(),
    MLPRegressor(),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_contract(estimator, check):
    with threadpoolctl.threadpool_limits(1):  # tiny matrices: spinning BLAS threads only cost
        check(estimator)
