"""Fully connected layers: ``Linear`` (y = x Wᵀ + b), ``Bilinear`` (y = x₁ᵀ A x₂ + b) and the
lecture's single ``Neuron``."""

from __future__ import annotations

import math
from typing import Any

from neuralab.nn import functional as F
from neuralab.nn import init
from neuralab.nn.layers._params import (
    check_factory,
    check_float_dtype,
    create_weight_and_bias,
    empty_parameter,
    reset_weight_and_bias,
)
from neuralab.nn.module import Module
from neuralab.nn.registry import ACTIVATIONS
from neuralab.tensor import Tensor

__all__ = ["Bilinear", "Linear", "Neuron", "NonDynamicallyQuantizableLinear"]


class Linear(Module):
    """Affine map y = x Wᵀ + b over the last dimension, W of shape (out_features, in_features).

    Initialized like torch: W ~ kaiming_uniform_(a=√5), i.e. U(±1/√in_features), and
    b ~ U(±1/√in_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, "Linear")
        self.in_features = in_features
        self.out_features = out_features
        create_weight_and_bias(self, (out_features, in_features), bias, out_features, dtype)

    def reset_parameters(self) -> None:
        """Redraw the weight and bias from torch's default distributions."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name torch gives MultiheadAttention's ``out_proj`` (same behaviour)."""


class Bilinear(Module):
    """y_k = x₁ᵀ A_k x₂ + b_k for two inputs (*, in1_features) and (*, in2_features).

    ``weight`` is (out_features, in1_features, in2_features); weight and bias are initialized
    U(±1/√in1_features), like torch.
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, "Bilinear")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        weight_shape = (out_features, in1_features, in2_features)
        create_weight_and_bias(self, weight_shape, bias, out_features, dtype)

    def reset_parameters(self) -> None:
        """Redraw weight and bias from U(±1/√in1_features)."""
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Neuron(Module):
    """The artificial neuron ŷ = σ(wᵀx + b): one weight vector, one bias, one activation.

    ``weight`` has shape (in_features,) — the vector w of the lecture — and ``bias`` is a 0-d
    scalar b. An input of shape (N, in_features) gives an output of shape (N,): one score per
    sample, the shape of the label vector y, so margin losses such as ``perceptron_loss(ŷ, y)``
    and ``hinge_loss`` apply directly. A single sample of shape (in_features,) gives a 0-d output.
    The activation σ is named: 'identity' (linear/SVM score), 'sigmoid' (logistic regression),
    'tanh', 'relu', 'leaky_relu', or 'sign' (the perceptron's step; it has no gradient, so train
    on the 'identity' score and predict with 'sign'). Initialization equals
    ``Linear(in_features, 1)``'s: w and b ~ U(±1/√in_features).
    """

    def __init__(self, in_features: int, activation: str = "identity", dtype: Any = None) -> None:
        super().__init__()
        check_float_dtype(dtype, "Neuron")
        self.in_features = in_features
        self.activation = activation
        if activation not in ACTIVATIONS:
            raise ValueError(f"Neuron: {ACTIVATIONS.unknown(activation)}")
        self._sigma = ACTIVATIONS.get(activation).function
        self.weight = empty_parameter((in_features,), dtype)
        self.bias = empty_parameter((), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw w and b from U(±1/√in_features), like ``Linear(in_features, 1)``."""
        bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if input.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Neuron: input of shape {input.shape} does not fit in_features="
                f"{self.in_features} (expected (N, {self.in_features}) or ({self.in_features},))"
            )
        return self._sigma(input @ self.weight + self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, activation={self.activation!r}"
