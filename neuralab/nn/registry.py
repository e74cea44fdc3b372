"""Activations and losses by name: the one table of each that every part of neuralab reads.

``ACTIVATIONS.get("relu")`` is an :class:`Activation` (the function, and the module class for a
``Sequential``); ``LOSSES.get("hinge")`` a :class:`Loss` (the function, and how a generated
script writes it). The MLP builder, the ``Neuron``, the estimators, the playground, its script
export, the plots and the ``neuralab`` command all look names up here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from neuralab.nn import functional as F
from neuralab.nn.layers import activation as A
from neuralab.nn.layers.containers import Identity
from neuralab.nn.module import Module
from neuralab.ops.elementwise import sign
from neuralab.registry import Registry
from neuralab.tensor import Tensor

__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "activation_layer"]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: its function and its module class (None if it has none)."""

    function: Callable[[Tensor], Tensor]
    module: type[Module] | None
    formula: str

    def layer(self) -> Module:
        """A fresh module computing this activation, for a ``Sequential``."""
        if self.module is None:
            raise ValueError(f"the activation {self.formula} has no module form")
        return self.module()


def _identity(z: Tensor) -> Tensor:
    return z


ACTIVATIONS: Registry[Activation] = Registry("activation")
for _name, _fn, _module, _formula, _aliases in (
    ("identity", _identity, Identity, "z", ("linear",)),
    ("sigmoid", F.sigmoid, A.Sigmoid, "1 / (1 + exp(−z))", ("logistic",)),
    ("tanh", F.tanh, A.Tanh, "tanh z", ()),
    ("relu", F.relu, A.ReLU, "max(0, z)", ()),
    ("leaky_relu", F.leaky_relu, A.LeakyReLU, "max(0.01·z, z)", ("leakyrelu",)),
    ("gelu", F.gelu, A.GELU, "z·Φ(z)", ()),
    ("elu", F.elu, A.ELU, "z if z > 0 else exp(z) − 1", ()),
    ("selu", F.selu, A.SELU, "λ·elu(z; α)", ()),
    ("silu", F.silu, A.SiLU, "z·σ(z)", ()),
    ("softplus", F.softplus, A.Softplus, "log(1 + exp z)", ()),
    ("sign", sign, A.Sign, "sign z", ("step",)),
):
    ACTIVATIONS.register(_name, Activation(_fn, _module, _formula), aliases=_aliases)


def activation_layer(name: str) -> Module:
    """A fresh activation module by name ('relu', 'tanh', ...; see ``ACTIVATIONS``)."""
    return ACTIVATIONS.get(name).layer()


@dataclass(frozen=True)
class Loss:
    """A loss ``fn(output, target)``, the module class for it, and its formula."""

    function: Callable[[Tensor, Tensor], Tensor]
    module: type[Module] | None
    formula: str
    source: str  # Python that defines ``loss_fn`` in a generated script

    def __call__(self, output: Tensor, target: Tensor) -> Tensor:
        return self.function(output, target)


def _half_mse(output: Tensor, target: Tensor) -> Tensor:
    """½(ŷ − y)² averaged: the TensorFlow Playground's squared loss."""
    return 0.5 * F.mse_loss(output, target)


LOSSES: Registry[Loss] = Registry("loss")


def _register_losses() -> None:
    from neuralab.nn.layers import loss as L

    half_source = (
        'def loss_fn(out, target):\n    """½(ŷ − y)², the Playground\'s loss."""\n'
        "    return 0.5 * F.mse_loss(out, target)"
    )
    for name, fn, module, formula, source, aliases in (
        ("mse", F.mse_loss, L.MSELoss, "(ŷ − y)²", "loss_fn = F.mse_loss", ("mean_squared",)),
        ("squared", _half_mse, None, "½(ŷ − y)²", half_source, ("half_mse",)),
        ("l1", F.l1_loss, L.L1Loss, "|ŷ − y|", "loss_fn = F.l1_loss", ("mae",)),
        ("huber", F.huber_loss, L.HuberLoss, "Huber(ŷ − y)", "loss_fn = F.huber_loss", ()),
        ("cross_entropy", F.cross_entropy, L.CrossEntropyLoss, "−log softmax(z)_y",
         "loss_fn = F.cross_entropy", ("softmax_cross_entropy", "categorical_cross_entropy")),
        ("binary_cross_entropy", F.binary_cross_entropy_with_logits, L.BCEWithLogitsLoss,
         "−[t·log σ(z) + (1−t)·log(1−σ(z))]",
         "loss_fn = F.binary_cross_entropy_with_logits", ("bce", "bce_with_logits")),
        ("hinge", F.hinge_loss, L.HingeLoss, "max(0, 1 − y·ŷ)", "loss_fn = F.hinge_loss", ()),
        ("logistic", F.logistic_loss, L.LogisticLoss, "log(1 + exp(−y·ŷ))",
         "loss_fn = F.logistic_loss", ()),
        ("perceptron", F.perceptron_loss, L.PerceptronLoss, "max(0, −y·ŷ)",
         "loss_fn = F.perceptron_loss", ()),
    ):  # fmt: skip
        LOSSES.register(name, Loss(fn, module, formula, source), aliases=aliases)


_register_losses()
