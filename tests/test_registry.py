"""One registry per kind of named thing: lookups, aliases, errors, and every user reading it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralab as nl
from neuralab import models, nn, optim
from neuralab.data.registry import DATASETS
from neuralab.nn.registry import ACTIVATIONS, LOSSES
from neuralab.optim.registry import OPTIMIZERS, SCHEDULES
from neuralab.registry import Registry, UnknownNameError


def test_registry_names_aliases_and_forgiving_spelling():
    reg: Registry[int] = Registry("colour")
    reg.register("dark_red", 1, aliases=("maroon",))

    @reg.register("blue")
    def blue() -> int:
        return 2

    assert reg.names() == ["dark_red", "blue"] and len(reg) == 2
    assert reg.get("Dark-Red") == 1 and reg.get("maroon") == 1 and reg.get("blue") is blue
    assert reg.canonical("MAROON") == "dark_red" and reg.aliases("dark-red") == ("maroon",)
    assert "maroon" in reg and "green" not in reg and 3 not in reg
    reg.register("blue", blue)  # the same object again: a no-op
    with pytest.raises(ValueError, match="'blue' is already taken"):
        reg.register("blue", 5)
    reg.register("dark_red", 1)  # an equal object again: a no-op
    with pytest.raises(ValueError, match="'dark_red' is already taken"):
        reg.register("dark_red", 7)
    with pytest.raises(ValueError, match="'maroon' already names 'dark_red'"):
        reg.register("crimson", 3, aliases=("maroon",))


def test_unknown_name_lists_choices_and_suggests_close_ones():
    with pytest.raises(UnknownNameError) as err:
        ACTIVATIONS.get("rleu")
    message = str(err.value)
    assert message.startswith("unknown activation 'rleu'; did you mean relu")
    assert "choose one of: identity, sigmoid, tanh, relu" in message
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    assert "did you mean" not in str(pytest.raises(ValueError, DATASETS.get, "zzzz").value)


def test_dataset_spellings_of_cli_playground_and_python_are_one_set():
    for alias, canonical in [
        ("multi-gauss", "multi_gauss"), ("reg-gauss", "multi_gauss"), ("reg-plane", "plane"),
        ("checker", "checkerboard"), ("breast-cancer", "breast_cancer"),
        ("fashion-mnist", "fashion_mnist"),
    ]:  # fmt: skip
        assert DATASETS.canonical(alias) == canonical
        assert DATASETS.get(alias).function is getattr(nl.data, canonical)
    assert list(nl.data.PLAYGROUND_DATASETS) == [
        "circle", "xor", "gauss", "spiral", "plane", "multi_gauss"
    ]  # fmt: skip


def test_playground_generation_and_its_exported_call_agree():
    info = DATASETS.get("checker")
    source = info.source(n=300, noise=0.2, seed=4, k=3)
    assert source == "checkerboard(n=300, k=3, cells=4, noise=0.2, seed=4)"
    X, y = info.make(300, 0.2, 4, 3)
    X2, y2 = eval(source, {"checkerboard": nl.data.checkerboard})
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_schedule_code_and_exported_source_are_one_formula(name):
    schedule = SCHEDULES.get(name)
    exported = eval(f"lambda epoch: {schedule.source(decay=0.7, every=6)}", {"math": math})
    for epoch in range(0, 20):
        assert schedule.factor(epoch, 0.7, 6) == pytest.approx(exported(epoch), abs=0)
    assert (schedule.imports == "import math\n") == ("math." in schedule.formula)


def test_schedule_values():
    assert SCHEDULES.get("step").factor(25, 0.5, 10) == 0.25
    assert SCHEDULES.get("exponential").factor(5, 0.5, 10) == pytest.approx(math.sqrt(0.5))
    assert SCHEDULES.get("cosine").factor(5, 0.5, 10) == pytest.approx(0.5)
    assert SCHEDULES.get("cosine").factor(12, 0.5, 10) == pytest.approx(0.0)
    assert SCHEDULES.get("none").factor(99, 0.5, 10) == 1.0


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_optimizer_built_and_written_alike(name):
    choice = OPTIMIZERS.get(name)
    model = nn.Linear(2, 1)
    built = choice.build(model.parameters(), 0.05, weight_decay=0.01, momentum=0.8)
    written = eval(choice.source(0.05, weight_decay=0.01, momentum=0.8), {"optim": optim,
                                                                          "model": model})  # fmt: skip
    assert type(built) is type(written) is choice.cls
    for key in ("lr", "weight_decay", "momentum", "nesterov"):
        assert built.param_groups[0].get(key) == written.param_groups[0].get(key)
    assert built.param_groups[0]["weight_decay"] == 0.01


def test_activation_registry_serves_every_user():
    x = nl.tensor(np.linspace(-3, 3, 13, dtype=np.float32))
    for name in ACTIVATIONS.names():
        act = ACTIVATIONS.get(name)
        np.testing.assert_allclose(act.layer()(x).numpy(), act.function(x).numpy())
    # the zoo's MLP, the Neuron, the estimators and the playground's names
    assert isinstance(models.MLP(2, [3], 1, activation="leaky_relu").layers[2], nn.LeakyReLU)
    neuron = nn.Neuron(2, "logistic")
    nn.init.zeros_(neuron.bias)
    assert neuron(nl.zeros(1, 2)).item() == pytest.approx(0.5)  # σ(0)
    assert ACTIVATIONS.canonical("leakyrelu") == "leaky_relu"
    assert ACTIVATIONS.canonical("linear") == "identity"
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.Neuron(2, "swish")


@pytest.mark.filterwarnings("ignore:MLPClassifier")
def test_estimator_mlp_is_built_by_the_zoo_builder():
    from neuralab.estimators import MLPClassifier

    X, y = nl.data.blobs(n=60, k=3, seed=0)
    clf = MLPClassifier((5, 4), activation="logistic", max_iter=3, random_state=0).fit(X, y)
    kinds = [type(m).__name__ for m in clf.network()]
    assert kinds[:4] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier(activation="nope").fit(X, y)


def test_losses_by_name():
    out, target = nl.tensor([[0.2], [0.9]]), nl.tensor([[0.0], [1.0]])
    half = LOSSES.get("squared")(out, target).item()
    assert half == pytest.approx(0.5 * nn.functional.mse_loss(out, target).item())
    assert LOSSES.canonical("softmax_cross_entropy") == "cross_entropy"
    assert LOSSES.get("bce").module is nn.BCEWithLogitsLoss


def test_every_registered_model_is_importable_from_models():
    assert len(models.list_models()) >= 20
    for name in models.list_models():
        spec = models.MODELS.get(name)
        assert getattr(models, name) is spec.builder, name
        assert spec.task in models.TASKS
        assert spec.data.partition(":")[0] in DATASETS or spec.data in ("ring", "sorted_digits")
        assert name in models.__all__
