"""neuralab.estimators: one-neuron models and MLPs behind scikit-learn's estimator contract."""

import pickle
import warnings

import numpy as np
import pytest
import threadpoolctl
from scipy.special import expit, softmax
from sklearn import linear_model, neural_network, svm
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import neuralab as nl
from neuralab import nn
from neuralab.data import breast_cancer, iris, train_test_split
from neuralab.data.real import standard_scale
from neuralab.estimators import (
    LinearRegression,
    LinearSVM,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    NeuronStack,
    Perceptron,
)
from neuralab.random import generator


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny matrices: one BLAS thread avoids spinning workers on a shared machine."""
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def binary():
    """Two overlapping Gaussian classes in 3-D, labels 0/1, float64."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 1, (60, 3)), rng.normal(1, 1, (60, 3))])
    return X, np.repeat([0, 1], 60)


@pytest.fixture(scope="module")
def three():
    """Standardized iris: 150 × 4 float32, labels 0..2."""
    return iris(standardize=True)


@pytest.fixture(scope="module")
def regression():
    """y = Xw + 1 + noise on standardized float64 inputs."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 1 + 0.1 * rng.normal(size=80)


def quiet_fit(est, *args, **kwargs):
    """Fit, ignoring the ConvergenceWarning of a deliberately short run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


# ----------------------------------------------------------------------------- the networks


@pytest.mark.parametrize(
    "est, activation",
    [
        (Perceptron(), "identity"),
        (LinearSVM(), "identity"),
        (LogisticRegression(), "sigmoid"),
        (LinearRegression(), "identity"),
    ],
)
def test_binary_model_is_one_neuron(binary, est, activation):
    X, y = binary
    est = quiet_fit(est.set_params(random_state=0, max_iter=30), X, y)
    net = est.network()
    assert isinstance(net, nn.Neuron) and net.activation == activation
    out = net(nl.tensor(X, dtype=X.dtype)).numpy()
    np.testing.assert_allclose(net.weight.numpy(), np.ravel(est.coef_))
    if isinstance(est, LinearRegression):
        np.testing.assert_allclose(out, est.predict(X))
    elif isinstance(est, LogisticRegression):
        np.testing.assert_allclose(out, est.predict_proba(X)[:, 1])
        np.testing.assert_allclose(out, expit(est.decision_function(X)), rtol=1e-10)
    else:
        np.testing.assert_allclose(out, est.decision_function(X))


def test_multiclass_is_k_neurons(three):
    X, y = three
    est = quiet_fit(Perceptron(random_state=0, max_iter=30), X, y)
    net = est.network()
    assert isinstance(net, NeuronStack) and net.weight.shape == (3, 4)
    scores = est.decision_function(X)
    assert scores.shape == (150, 3)
    for k, neuron in enumerate(net.neurons()):  # one-vs-rest: neuron k scores class k
        assert isinstance(neuron, nn.Neuron)
        np.testing.assert_allclose(neuron(nl.tensor(X)).numpy(), scores[:, k], rtol=1e-5)
    np.testing.assert_array_equal(est.predict(X), scores.argmax(1))


def test_logistic_multinomial_and_ovr(three):
    X, y = three
    soft = quiet_fit(LogisticRegression(random_state=0, max_iter=50), X, y)
    assert soft.network().activation == "identity"
    np.testing.assert_allclose(
        soft.predict_proba(X), softmax(soft.decision_function(X), axis=1), rtol=1e-5
    )
    ovr = quiet_fit(LogisticRegression(multi_class="ovr", random_state=0, max_iter=50), X, y)
    p = expit(ovr.decision_function(X))
    np.testing.assert_allclose(ovr.predict_proba(X), p / p.sum(1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(np.log(ovr.predict_proba(X)), ovr.predict_log_proba(X))


def test_neuron_stack_rejects_other_activations():
    with pytest.raises(ValueError, match="'identity' or 'sigmoid'.*'relu'"):
        NeuronStack(3, 2, activation="relu")


# ----------------------------------------------------------------------------- the losses


def _lecture_loss(name, z, y, w, C, n):
    """The lecture's loss of scores z for labels y (0/1), in NumPy, plus the L2 term."""
    s = 2 * y - 1
    l2 = (w @ w) / (2 * C * n)
    if name == "Perceptron":
        return np.maximum(0, -s * z).mean()
    if name == "LinearSVM":
        return np.maximum(0, 1 - s * z).mean() + l2
    if name == "LogisticRegression":
        p = expit(z)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean() + l2
    return ((z - y) ** 2).mean()


@pytest.mark.parametrize("cls", [Perceptron, LinearSVM, LogisticRegression, LinearRegression])
def test_loss_is_the_lecture_pair(binary, cls):
    """loss_curve_[0] is the mean loss at the initial weights; a tiny step barely moves them."""
    X, y = binary
    est = quiet_fit(cls(random_state=3, max_iter=1, learning_rate_init=1e-12, momentum=0), X, y)
    w, b = np.ravel(est.coef_), np.ravel(est.intercept_)[0]
    expected = _lecture_loss(cls.__name__, X @ w + b, y, w, C=1.0, n=len(y))
    np.testing.assert_allclose(est.loss_curve_[0], expected, rtol=1e-9)


def test_ridge_penalty_matches_scikit_learn(regression):
    """mean (ŷ - y)² + alpha/2·‖w‖² is Ridge(alpha·n/2) on the sum of squares."""
    X, y = regression
    ours = LinearRegression(alpha=0.5, random_state=0, tol=0, max_iter=3000)
    quiet_fit(ours, X, y)
    ridge = linear_model.Ridge(alpha=0.5 * len(y) / 2).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ridge.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ridge.intercept_, atol=1e-6)


def test_linear_regression_auto_step_handles_unscaled_inputs():
    """The step 1/L adapts to the inputs' scale; a fixed step diverges with a clear error."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 50, size=(100, 3))
    y = X @ np.array([0.3, -0.2, 0.1]) + 5
    est = quiet_fit(LinearRegression(random_state=0), X, y)
    assert est.score(X, y) > 0.95  # stable, if slow: uncentered inputs are ill-conditioned
    with pytest.raises(ValueError, match="diverged.*learning_rate_init=1.0"):
        LinearRegression(learning_rate_init=1.0, random_state=0).fit(X, y)


# ----------------------------------------------------------------------------- the contract


def test_string_labels(three):
    X, y = three
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    for est in (LinearSVM(max_iter=200), MLPClassifier(hidden_layer_sizes=(10,), max_iter=100)):
        est = quiet_fit(est.set_params(random_state=0), X, names)
        assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
        assert set(est.predict(X)) <= set(names) and est.score(X, names) > 0.8
    two = np.where(y == 0, "no", "yes")
    est = LogisticRegression(random_state=0).fit(X, two)
    assert est.predict(X).dtype.kind == "U" and est.score(X, two) == 1.0


def test_sample_weight(binary):
    X, y = binary
    plain = LogisticRegression(random_state=0).fit(X, y)
    heavy = LogisticRegression(random_state=0).fit(X, y, sample_weight=np.where(y == 1, 10, 1))
    assert (heavy.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    # an integer weight is the same as repeating the sample (full-batch gradient descent)
    sw = np.arange(len(y)) % 3
    weighted = LinearSVM(random_state=0).fit(X, y, sample_weight=sw)
    repeated = LinearSVM(random_state=0).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="all weights are zero"):
        LinearSVM().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"shape \(120,\)"):
        LinearSVM().fit(X, y, sample_weight=np.ones(5))


def test_warm_start_continues(three):
    X, y = three
    est = quiet_fit(LogisticRegression(random_state=0, max_iter=10), X, y)
    first = list(est.loss_curve_)
    quiet_fit(est.set_params(warm_start=True), X, y)
    assert est.n_iter_ == 20 and est.loss_curve_[:10] == first
    assert est.loss_curve_[10] < first[-1]  # picks up where it stopped
    quiet_fit(est.set_params(warm_start=False), X, y)
    assert est.n_iter_ == 10 and est.loss_curve_ == first  # a cold fit starts over


def test_partial_fit_is_fit_one_epoch_at_a_time(three):
    X, y = three
    fitted = quiet_fit(LogisticRegression(random_state=0, max_iter=5, tol=0), X, y)
    stepped = LogisticRegression(random_state=0)
    with pytest.raises(ValueError, match="classes="):
        stepped.partial_fit(X, y)
    for _ in range(5):  # the momentum buffer carries over between calls
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(stepped.coef_, fitted.coef_)
    assert stepped.loss_curve_ == fitted.loss_curve_ and stepped.n_iter_ == 5
    with pytest.raises(ValueError, match="features"):
        stepped.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        stepped.partial_fit(X, np.full(150, 7))
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        reg.partial_fit(X, X[:, 0])
    assert reg.n_iter_ == 3 and reg.t_ == 450


def test_loss_curve_decreases(regression, binary):
    X, y = regression
    est = LinearRegression(momentum=0, random_state=0).fit(X, y)  # plain GD, step 1/L
    assert np.all(np.diff(est.loss_curve_) <= 1e-12)
    Xb, yb = binary
    mlp = MLPClassifier((16,), learning_rate_init=0.01, random_state=0, max_iter=60)
    quiet_fit(mlp, Xb, yb)
    assert len(mlp.loss_curve_) == 60 and mlp.loss_curve_[-1] < 0.5 * mlp.loss_curve_[0]


def test_early_stopping(three):
    X, y = three
    est = MLPClassifier(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        learning_rate_init=0.05,
        random_state=0,
        max_iter=500,
    ).fit(X, y)
    curve = est.validation_loss_curve_
    assert len(curve) == len(est.loss_curve_) == est.n_iter_ < 500
    assert est.best_validation_loss_ == min(curve) and curve[-1] > min(curve)
    assert LogisticRegression().fit(X, y).validation_loss_curve_ is None


def test_pipeline_grid_search_cross_val_score():
    X, y = breast_cancer()  # raw features: the pipeline scales them
    pipe = make_pipeline(StandardScaler(), LogisticRegression(random_state=0))
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_["logisticregression__C"] in (0.01, 1.0) and grid.best_score_ > 0.95
    mlp = make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=100, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(mlp, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.93


def test_reproducible_and_leaves_global_generator_alone(three):
    X, y = three
    nl.manual_seed(5)
    before = generator().bit_generator.state
    a = quiet_fit(MLPClassifier((8,), dropout=0.3, max_iter=5, random_state=7), X, y)
    assert generator().bit_generator.state == before
    b = quiet_fit(MLPClassifier((8,), dropout=0.3, max_iter=5, random_state=7), X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    c = quiet_fit(MLPClassifier((8,), dropout=0.3, max_iter=5, random_state=8), X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_dtype_follows_the_input(binary):
    X, y = binary
    for dtype in (np.float32, np.float64):
        est = LogisticRegression(random_state=0).fit(X.astype(dtype), y)
        assert est.coef_.dtype == dtype and est.predict_proba(X).dtype == dtype
    est = LinearRegression(random_state=0).fit(np.round(X * 10).astype(np.int64), y)
    assert est.coef_.dtype == np.float32  # integers train in neuralab's default float32


def test_pickle_roundtrip(three):
    X, y = three
    est = quiet_fit(MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    copy.partial_fit(X, y)
    est.partial_fit(X, y)
    np.testing.assert_array_equal(copy.coefs_[0], est.coefs_[0])


@pytest.mark.parametrize(
    "est, message",
    [
        (LogisticRegression(C=0), "invalid C=0"),
        (LinearSVM(solver="lbfgs"), "invalid solver='lbfgs'"),
        (Perceptron(batch_size=0), "invalid batch_size=0"),
        (LinearRegression(learning_rate_init="fast"), "invalid learning_rate_init='fast'"),
        (MLPClassifier(hidden_layer_sizes=(10, 0)), r"invalid hidden_layer_sizes=\(10, 0\)"),
        (MLPRegressor(activation="swish"), "invalid activation='swish'"),
        (MLPClassifier(dropout=1.0), "invalid dropout=1.0"),
    ],
)
def test_invalid_hyperparameters(three, est, message):
    X, y = three
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)


def test_one_class_is_an_error(three):
    X, _ = three
    with pytest.raises(ValueError, match="at least 2 classes"):
        LinearSVM().fit(X, np.zeros(150, int))


def test_mlp_options(three, capsys):
    X, y = three
    est = quiet_fit(
        MLPClassifier(
            hidden_layer_sizes=(8, 4),
            activation="tanh",
            dropout=0.1,
            alpha=1e-3,
            l1_ratio=0.5,
            solver="sgd",
            learning_rate_init=0.1,
            batch_size=32,
            max_iter=3,
            verbose=True,
            random_state=0,
        ),
        X,
        y,
    )
    assert [c.shape for c in est.coefs_] == [(4, 8), (8, 4), (4, 3)]
    assert est.n_layers_ == 4 and est.out_activation_ == "softmax"
    assert isinstance(est.network()[1], nn.Tanh) and isinstance(est.network()[2], nn.Dropout)
    assert capsys.readouterr().out.startswith("Iteration 1, loss = ")
    binary = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0), X, y == 0)
    assert binary.out_activation_ == "logistic" and binary.decision_function(X).shape == (150,)


def test_linear_model_with_adam(regression):
    X, y = regression
    est = quiet_fit(LinearRegression(solver="adam", learning_rate_init=0.05, random_state=0), X, y)
    assert est.score(X, y) > 0.99


# ----------------------------------------------------------------------------- quality

MARGIN = 0.02  # no worse than scikit-learn by more than 2 percentage points

PAIRS = [
    (Perceptron(), linear_model.Perceptron()),
    (LinearSVM(), svm.LinearSVC(loss="hinge", max_iter=100_000)),
    (LogisticRegression(), linear_model.LogisticRegression(max_iter=10_000)),
    (MLPClassifier(), neural_network.MLPClassifier()),
]


@pytest.mark.parametrize("load", [iris, breast_cancer], ids=["iris", "breast_cancer"])
@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[type(o).__name__ for o, _ in PAIRS])
def test_quality_matches_scikit_learn(load, ours, theirs):
    """Test accuracy on the split of bench/estimators.py, seed 0, against scikit-learn's."""
    X_train, X_test, y_train, y_test = train_test_split(*load(), ratio=0.5, seed=0)
    X_train, X_test = standard_scale(X_train), standard_scale(X_test, fit=X_train)
    scores = []
    for est in (ours, theirs):
        est.set_params(random_state=0)
        scores.append(quiet_fit(est, X_train, y_train).score(X_test, y_test))
    assert scores[0] >= scores[1] - MARGIN, scores


def test_linear_regression_quality_matches_scikit_learn():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.5, seed=0)
    X_train, X_test = standard_scale(X_train), standard_scale(X_test, fit=X_train)
    ours = LinearRegression(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    theirs = linear_model.LinearRegression().fit(X_train, y_train).score(X_test, y_test)
    assert abs(ours - theirs) < MARGIN
