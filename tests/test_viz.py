"""neuralab.viz: every figure renders to a valid PNG and shows what it claims (Agg backend)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuralab as nl  # noqa: E402
import neuralab.viz as viz  # noqa: E402
from neuralab import nn  # noqa: E402
from neuralab.data import blobs, circle, digits  # noqa: E402
from neuralab.train.callbacks import GradientStats  # noqa: E402
from neuralab.train.history import History  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_png(path, min_bytes=5_000):
    """The file is a decodable PNG of non-trivial size."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > min_bytes
    pixels = plt.imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.02  # not a blank canvas


def labelled_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def line(ax, label):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_matplotlib_is_imported_only_when_drawing_and_agg_without_display():
    code = (
        "import sys, neuralab, neuralab.viz as viz; print('matplotlib' in sys.modules); "
        "viz.plot_losses(); import matplotlib; print(matplotlib.get_backend().lower())"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "agg"]


# ----------------------------------------------------------------------------- learning curves


def test_plot_history_train_and_validation_with_best_epoch(tmp_path):
    history = History()
    val = [1.0, 0.6, 0.4, 0.35, 0.38, 0.45]
    for epoch, v in enumerate(val):
        logs = {"loss": 1 / (epoch + 1), "val_loss": v, "accuracy": 0.5 + 0.08 * epoch}
        history.on_epoch_end(epoch, {**logs, "val_accuracy": 0.5 + 0.05 * min(epoch, 3)})
    target = tmp_path / "deep" / "dir" / "history.png"
    fig = viz.plot_history(history, metrics=("loss", "accuracy"), path=target)
    assert_png(target)
    loss_ax, acc_ax = visible_axes(fig)
    assert loss_ax.get_title() == "loss" and loss_ax.get_xlabel() == "epoch"
    assert [ln.get_label() for ln in labelled_lines(loss_ax)] == [
        "train",
        "validation",
        "best validation (epoch 4)",
    ]
    np.testing.assert_allclose(line(loss_ax, "validation").get_ydata(), val)
    np.testing.assert_array_equal(line(loss_ax, "train").get_xdata(), np.arange(1, 7))
    # accuracy: higher is better; the first epoch reaching the maximum
    assert labelled_lines(acc_ax)[-1].get_label() == "best validation (epoch 4)"


def test_plot_history_accepts_a_dict_and_names_missing_metrics():
    fig = viz.plot_history({"loss": [3.0, 2.0, 1.0]}, metrics="loss")
    (ax,) = visible_axes(fig)
    assert [ln.get_label() for ln in labelled_lines(ax)] == ["train"]
    with pytest.raises(KeyError, match="'accuracy'.*it has \\['loss'\\]"):
        viz.plot_history({"loss": [1.0]}, metrics=("accuracy",))
    with pytest.raises(TypeError, match="History or a dict"):
        viz.plot_history([1.0, 2.0])


# ----------------------------------------------------------------------------- functions


def test_plot_activations_derivatives_come_from_autograd(tmp_path):
    fig = viz.plot_activations(path=tmp_path / "act.png")
    assert_png(tmp_path / "act.png")
    axes = {ax.get_title(): ax for ax in visible_axes(fig)}
    assert list(axes) == ["sigmoid", "tanh", "relu", "leaky_relu (negative_slope=0.1)", "gelu"]
    for ax in axes.values():
        assert len(labelled_lines(ax)) == 2
    expected = {  # name: (f(0), f'(0), f'(-2), f'(2))
        "sigmoid": (0.5, 0.25, 0.25 * (1 - math.tanh(1) ** 2), 0.25 * (1 - math.tanh(1) ** 2)),
        "tanh": (0.0, 1.0, 1 - math.tanh(2) ** 2, 1 - math.tanh(2) ** 2),
        "relu": (0.0, 0.0, 0.0, 1.0),
    }
    for name, (f0, d0, dm2, dp2) in expected.items():
        ax = axes[name]
        x = line(ax, f"{name}(x)").get_xdata()
        f, df = line(ax, f"{name}(x)").get_ydata(), line(ax, f"{name}'(x)").get_ydata()
        at = {v: int(np.argmin(np.abs(x - v))) for v in (-2.0, 0.0, 2.0)}
        assert abs(x[at[0.0]]) < 1e-9
        np.testing.assert_allclose(
            [f[at[0.0]], df[at[0.0]], df[at[-2.0]], df[at[2.0]]], [f0, d0, dm2, dp2], atol=1e-6
        )
    leaky = line(axes["leaky_relu (negative_slope=0.1)"], "leaky_relu'(x)").get_ydata()
    assert leaky[0] == pytest.approx(0.1) and leaky[-1] == pytest.approx(1.0)


def test_plot_activations_accepts_callables_and_rejects_unknown_names():
    fig = viz.plot_activations(["sigmoid", lambda x: x * x])
    (_, square) = visible_axes(fig)
    x = line(square, "<lambda>(x)").get_xdata()
    np.testing.assert_allclose(line(square, "<lambda>'(x)").get_ydata(), 2 * x, atol=1e-12)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        viz.plot_activations(["swish"])


def test_plot_losses_five_margin_losses_from_functional(tmp_path):
    fig = viz.plot_losses(path=tmp_path / "losses.png")
    assert_png(tmp_path / "losses.png")
    (ax,) = visible_axes(fig)
    lines = {ln.get_label().split(" (")[0].split(" max")[0].split(" log")[0].split(" −")[0]: ln
             for ln in labelled_lines(ax)}  # fmt: skip
    assert list(lines) == ["squared", "logistic", "hinge", "cross-entropy", "soft perceptron"]
    m = lines["hinge"].get_xdata()
    i0, i1, im2 = (int(np.argmin(np.abs(m - v))) for v in (0.0, 1.0, -2.0))
    value = {name: ln.get_ydata() for name, ln in lines.items()}
    assert value["squared"][i1] == pytest.approx(0) and value["squared"][i0] == pytest.approx(1)
    assert value["hinge"][i0] == pytest.approx(1) and value["hinge"][i1] == pytest.approx(0)
    assert value["soft perceptron"][im2] == pytest.approx(2)
    assert value["soft perceptron"][i0] == pytest.approx(0)
    assert value["logistic"][i0] == pytest.approx(math.log(2))
    np.testing.assert_allclose(value["cross-entropy"], value["logistic"], rtol=1e-9, atol=1e-12)
    assert "margin" in ax.get_xlabel()


# ----------------------------------------------------------------------------- gradients


def test_plot_gradient_norms_log_scale_one_line_per_layer(tmp_path):
    stats = GradientStats()
    stats.norms = {"0": [1e-5, 2e-5, 4e-5], "2": [1e-2, 1e-2, 2e-2], "4": [0.5, 0.4, 0.3]}
    fig = viz.plot_gradient_norms(stats, path=tmp_path / "norms.png")
    assert_png(tmp_path / "norms.png")
    (ax,) = visible_axes(fig)
    assert ax.get_yscale() == "log"
    assert [ln.get_label() for ln in labelled_lines(ax)] == ["0", "2", "4"]
    np.testing.assert_allclose(line(ax, "0").get_ydata(), [1e-5, 2e-5, 4e-5])
    fig = viz.plot_gradient_norms({"fc": [1.0, 0.5]})
    assert len(labelled_lines(fig.axes[0])) == 1
    with pytest.raises(ValueError, match="non-empty"):
        viz.plot_gradient_norms({})


def test_descent_path_uses_autograd_gradients():
    xs = viz.descent_path(lambda x: x**2, 2.0, 0.1, 5)
    assert xs.dtype == np.float64
    np.testing.assert_allclose(xs, 2.0 * 0.8 ** np.arange(6))
    pts = viz.descent_path(lambda p: p[0] ** 2 + 10 * p[1] ** 2, [1.0, 1.0], 0.01, 3)
    np.testing.assert_allclose(pts[:, 1], 0.8 ** np.arange(4))
    np.testing.assert_allclose(pts[:, 0], 0.98 ** np.arange(4))
    with pytest.raises(ValueError, match="one-element Tensor"):
        viz.descent_path(lambda x: x.reshape(1).repeat(2), 1.0, 0.1, 1)


def test_plot_gd_path_1d_converges_oscillates_diverges(tmp_path):
    rates = [0.1, 0.9, 1.1]
    fig = viz.plot_gd_path(lambda x: x**2, 2.0, rates, steps=8, path=tmp_path / "gd.png")
    assert_png(tmp_path / "gd.png")
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == [
        "lr = 0.1: converges",
        "lr = 0.9: oscillates",
        "lr = 1.1: diverges",
    ]
    for ax, lr in zip(axes, rates):
        iterates = line(ax, "iterates")
        expected = 2.0 * (1 - 2 * lr) ** np.arange(9)
        np.testing.assert_allclose(iterates.get_xdata(), expected, rtol=1e-12)
        np.testing.assert_allclose(iterates.get_ydata(), expected**2, rtol=1e-12)
        curve = line(ax, "f(x)")
        assert curve.get_xdata().min() <= expected.min() and curve.get_xdata().max() >= 2.0


def test_plot_gd_path_2d_over_contours(tmp_path):
    def bowl(p):
        return p[..., 0] ** 2 + 10 * p[..., 1] ** 2

    fig = viz.plot_gd_path(bowl, [-4.0, 1.5], [0.02, 0.09], steps=30, path=tmp_path / "gd2.png")
    assert_png(tmp_path / "gd2.png")
    (ax,) = visible_axes(fig)
    paths = [ln for ln in labelled_lines(ax) if ln.get_label().startswith("lr = ")]
    assert len(paths) == 2 and len(paths[0].get_xdata()) == 31
    assert paths[1].get_label().startswith("lr = 0.09 (f: 38.5 → ")
    assert len(ax.collections) >= 1  # the contour lines
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        viz.plot_gd_path(bowl, [1.0, 2.0, 3.0], 0.1)


# ----------------------------------------------------------------------------- classifiers


def _train(model, X, y, loss_fn, steps, lr=0.05):
    opt = nl.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = nl.tensor(X), nl.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(Xt), yt)
        loss.backward()
        opt.step()
    return model


def test_plot_decision_boundary_of_a_trained_tiny_model(tmp_path):
    X, y = circle(200, seed=0)
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Dropout(0.1), nn.Linear(8, 1))
    bce = nn.functional.binary_cross_entropy_with_logits
    _train(model, X, (y + 1) / 2, lambda out, t: bce(out[:, 0], t), steps=150)
    model.train()
    fig = viz.plot_decision_boundary(model, X, y, path=tmp_path / "db.png", resolution=80)
    assert_png(tmp_path / "db.png")
    assert model.training and all(m.training for m in model.modules())  # mode restored
    ax = fig.axes[0]
    assert ax.get_title().startswith("Decision boundary (accuracy")
    assert float(ax.get_title().split("accuracy ")[1].rstrip("%)")) > 95
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class -1", "class 1"]
    # the logit is split at 0: a closed boundary line around the disc, so both classes show
    boundary = [c for c in ax.collections if list(getattr(c, "levels", [])) == [0.0]]
    assert len(boundary) == 1 and len(boundary[0].get_paths()[0].vertices) > 10
    verts = np.concatenate([p.vertices for p in boundary[0].get_paths()])
    radius = np.hypot(verts[:, 0], verts[:, 1])
    assert 2.0 < radius.mean() < 4.0
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_plot_decision_boundary_probabilities_multiclass_and_labels():
    X, y = blobs(150, k=3, seed=0)
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X, y)
    fig = viz.plot_decision_boundary(clf, X, y, resolution=60)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    assert ax.get_title().endswith("(accuracy 100.0%)")
    # a label-returning callable on {-1, +1} data, and a probability (threshold 0.5)
    Xc, yc = circle(100, seed=1)
    inside = lambda A: np.where(np.hypot(A[:, 0], A[:, 1]) < 3, 1, -1)  # noqa: E731
    assert (
        viz.plot_decision_boundary(inside, Xc, yc, resolution=40)
        .axes[0]
        .get_title()
        .endswith("(accuracy 100.0%)")
    )
    proba = lambda A: 1 / (1 + np.exp(np.hypot(A[:, 0], A[:, 1]) - 3))  # noqa: E731
    fig = viz.plot_decision_boundary(proba, Xc, yc, resolution=40)
    assert fig.axes[0].get_title().endswith("(accuracy 100.0%)")
    with pytest.raises(ValueError, match=r"X of shape \(N, 2\).*\(5, 3\)"):
        viz.plot_decision_boundary(inside, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="single score per point separates 2 classes"):
        viz.plot_decision_boundary(lambda A: A[:, 0], X, y, resolution=10)


def test_plot_confusion_matrix_from_predictions_and_matrix(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2, 2, 2, 1])
    names = ["cat", "dog", "bird"]
    fig = viz.plot_confusion_matrix((y_true, y_pred), labels=names, path=tmp_path / "cm.png")
    assert_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    expected = np.array([[1, 1, 0], [1, 2, 0], [0, 1, 3]])
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in expected.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert ax.get_title() == "Confusion matrix (accuracy 66.7%)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    fig = viz.plot_confusion_matrix(expected, normalize=True)
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array().sum(axis=1), 1)
    with pytest.raises(ValueError, match="2 labels for a 3x3 matrix"):
        viz.plot_confusion_matrix(expected, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"class indices 0..1, got also \[2\]"):
        viz.plot_confusion_matrix((y_true, y_pred), labels=["a", "b"])


# ----------------------------------------------------------------------------- images


def test_plot_images_grayscale_nchw_and_rgb_nhwc(tmp_path):
    X, y = digits()
    gray = nl.tensor(X[:10].reshape(10, 1, 8, 8))
    fig = viz.plot_images(gray, labels=y[:10], ncols=5, path=tmp_path / "digits.png")
    assert_png(tmp_path / "digits.png")
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(shown) == 10
    assert [ax.get_title() for ax in shown] == [str(v) for v in y[:10]]
    assert shown[0].get_images()[0].get_array().shape == (8, 8)
    rgb = np.random.default_rng(0).integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    fig = viz.plot_images(rgb)
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 3 and images[0].get_array().shape == (12, 12, 3)
    np.testing.assert_array_equal(images[1].get_array(), rgb[1])
    # a list of images of different sizes; a normalized float image is rescaled to [0, 1]
    fig = viz.plot_images([np.ones((5, 7), np.float32), np.linspace(-2, 2, 48).reshape(3, 4, 4)])
    arrays = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    assert arrays[0].shape == (5, 7) and arrays[1].shape == (4, 4, 3)
    assert arrays[1].min() == 0 and arrays[1].max() == 1
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        viz.plot_images(rgb, labels=["a", "b"])


def test_plot_filters_rgb_and_per_channel_grid(tmp_path):
    nl.manual_seed(0)
    fig = viz.plot_filters(nn.Conv2d(3, 16, 5).weight, path=tmp_path / "filters.png")
    assert_png(tmp_path / "filters.png")
    mosaic = fig.axes[0].get_images()[0].get_array()
    assert mosaic.shape == (2 * 6 - 1, 8 * 6 - 1, 3) and fig.axes[0].get_title().startswith("16")
    fig = viz.plot_filters(nn.Conv2d(4, 6, 3).weight, path=tmp_path / "kernels.png")
    assert_png(tmp_path / "kernels.png", min_bytes=2_000)
    ax = fig.axes[0]
    assert ax.get_images()[0].get_array().shape == (6 * 4 - 1, 4 * 4 - 1)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("input channel", "output channel (filter)")
    assert any(a.get_label() == "<colorbar>" for a in fig.axes)
    with pytest.raises(ValueError, match=r"got shape \(3, 3\)"):
        viz.plot_filters(np.zeros((3, 3)))


def test_plot_feature_maps_one_tile_per_channel(tmp_path):
    X, _ = digits()
    nl.manual_seed(0)
    with nl.no_grad():
        maps = nn.functional.relu(nn.Conv2d(1, 10, 3)(nl.tensor(X[:1].reshape(1, 1, 8, 8))))
    fig = viz.plot_feature_maps(maps, ncols=5, path=tmp_path / "maps.png")
    assert_png(tmp_path / "maps.png", min_bytes=2_000)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(c) for c in range(10)]
    assert ax.get_images()[0].get_array().shape == (2 * 7 - 1, 5 * 7 - 1)
    assert ax.get_title() == "Feature maps: 10 channels of 6×6"
    fig = viz.plot_feature_maps(maps.numpy()[0], per_map=False)
    assert any(a.get_label() == "<colorbar>" for a in fig.axes)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        viz.plot_feature_maps(np.zeros((2, 3, 4, 4)))


def test_plot_augmentations_original_then_seeded_versions(tmp_path):
    image = np.zeros((3, 16, 16), np.float32)
    image[0, 4:12, 4:12] = 1.0

    def shift(x, rng=None):
        return np.roll(x, int(rng.integers(1, 8)), axis=2)

    fig = viz.plot_augmentations(image, shift, n=5, rng=0, path=tmp_path / "aug.png")
    assert_png(tmp_path / "aug.png", min_bytes=2_000)
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in shown] == [
        "original",
        *(f"augmented {i}" for i in range(1, 6)),
    ]
    np.testing.assert_array_equal(shown[0].get_images()[0].get_array(), image.transpose(1, 2, 0))
    again = viz.plot_augmentations(image, shift, n=5, rng=0)
    for a, b in zip(shown, [ax for ax in again.axes if ax.get_images()]):
        np.testing.assert_array_equal(a.get_images()[0].get_array(), b.get_images()[0].get_array())
    fig = viz.plot_augmentations(image[0], np.fliplr, n=2)  # no rng keyword: called plainly
    assert fig.get_suptitle() == "Augmentations by fliplr"
