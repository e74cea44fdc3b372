"""Norm penalties added to the loss: L1, L2 and the elastic net, as the lecture defines them.

A penalty is a differentiable function of the parameters; add it to the data loss and its
gradient reaches ``.grad`` through autograd with the rest::

    penalty = optim.L2(1e-4)
    loss = criterion(model(x), y) + penalty(model)
    loss.backward()

The lecture's definitions (no factor 1/2 anywhere)::

    L1(λ)            = λ‖θ‖₁                          gradient λ·sign(θ)   (0 at θ = 0)
    L2(λ)            = λ‖θ‖₂²                         gradient 2λ·θ
    ElasticNet(λ, α) = λ[(1 - α)‖θ‖₁ + α‖θ‖₂²]        α = 0 is L1(λ), α = 1 is L2(λ)

Which parameters: called on a Module, only the weights are penalised (see
:func:`regularized_parameters`); called on an iterable of tensors, all of them are; called on
``named_parameters()`` pairs, the biases (by name, as there) are skipped.

Penalty versus the optimizers' ``weight_decay``: SGD(weight_decay=wd) adds wd·θ to the
gradient, the gradient of (wd/2)‖θ‖₂², so for plain SGD it equals adding L2(wd/2) to the loss
(but it also decays biases and norm weights unless those are put in a group with
weight_decay=0). For Adam it is not the same thing as AdamW: Adam's weight_decay (like an L2
penalty) enters the moment estimates and is rescaled per coordinate, while AdamW's decoupled
decay shrinks θ ← θ·(1 - lr·wd) directly. See docs/regularization.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.tensor import Tensor, constant

__all__ = ["ElasticNet", "L1", "L2", "regularized_parameters"]


def _is_norm_layer(module: Module) -> bool:
    """BatchNorm*, LayerNorm, GroupNorm, InstanceNorm, ... (decided by the class name)."""
    return "Norm" in type(module).__name__


def _is_bias(name: str) -> bool:
    """Whether a (dotted) parameter name is a bias's: its last part starts or ends with 'bias'."""
    leaf = name.rsplit(".", 1)[-1]
    return leaf.startswith("bias") or leaf.endswith("bias")


def regularized_parameters(module: Module) -> Iterator[Tensor]:
    """The weights a penalty applies to: every parameter except biases and norm-layer parameters.

    A parameter is skipped when it is a bias (its own name starts or ends with ``bias``:
    ``bias``, ``out_bias``, the RNNs' ``bias_ih_l0``) or when it belongs to a normalisation
    layer (a module whose class name contains ``Norm``: BatchNorm, LayerNorm, GroupNorm, ...;
    their 1-D scale and shift set the output's scale, and shrinking them is not regularisation).
    Shared parameters are returned once. Use it also for optimizer groups, e.g.
    ``AdamW([{"params": weights}, {"params": others, "weight_decay": 0}])``.
    """
    seen: set[int] = set()
    for _, mod in module.named_modules():
        if _is_norm_layer(mod):
            continue
        for name, p in mod._parameters.items():
            if p is None or id(p) in seen or _is_bias(name):
                continue
            seen.add(id(p))
            yield p


def _select(params: Module | Iterable[Any]) -> list[Tensor]:
    """The tensors to penalise (rules in the module docstring)."""
    if isinstance(params, Module):
        return list(regularized_parameters(params))
    if isinstance(params, Tensor):
        return [params]
    chosen = []
    for item in params:
        if isinstance(item, tuple):
            name, p = item
            if _is_bias(name):
                continue
        else:
            p = item
        if not isinstance(p, Tensor):
            raise TypeError(
                f"penalty: expected Tensors or (name, Tensor) pairs, got {type(p).__name__}"
            )
        chosen.append(p)
    return chosen


class ElasticNet:
    """λ[(1 - α)‖θ‖₁ + α‖θ‖₂²] over the chosen parameters, a scalar Tensor to add to the loss."""

    def __init__(self, lam: float, alpha: float = 0.5) -> None:
        if not lam >= 0:
            raise ValueError(f"{type(self).__name__}: lam={lam!r} must be >= 0")
        if not 0 <= alpha <= 1:
            raise ValueError(f"{type(self).__name__}: alpha={alpha!r} must be in [0, 1]")
        self.lam = float(lam)
        self.alpha = float(alpha)

    def __call__(self, params: Module | Iterable[Any]) -> Tensor:
        """The penalty of a model (weights only) or of the given parameters."""
        l1 = self.lam * (1.0 - self.alpha)
        l2 = self.lam * self.alpha
        total: Tensor | None = None
        for p in _select(params):
            terms = []
            if l1 != 0:
                terms.append(l1 * p.abs().sum())
            if l2 != 0:
                terms.append(l2 * (p * p).sum())
            for term in terms:
                total = term if total is None else total + term
        if total is None:  # no parameters, or lam = 0
            return constant(np.zeros((), dtype=np.float32))
        return total

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lam={self.lam}, alpha={self.alpha})"


class L1(ElasticNet):
    """λ‖θ‖₁ (lasso): pushes weights to exactly zero; gradient λ·sign(θ)."""

    def __init__(self, lam: float) -> None:
        super().__init__(lam, alpha=0.0)

    def __repr__(self) -> str:
        return f"L1(lam={self.lam})"


class L2(ElasticNet):
    """λ‖θ‖₂² (ridge, no 1/2 factor): gradient 2λ·θ; for SGD equals weight_decay=2λ."""

    def __init__(self, lam: float) -> None:
        super().__init__(lam, alpha=1.0)

    def __repr__(self) -> str:
        return f"L2(lam={self.lam})"
