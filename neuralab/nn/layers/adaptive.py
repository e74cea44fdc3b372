"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. ("Efficient softmax
approximation for GPUs"), for very many classes with a skewed frequency.

The frequent classes (the shortlist, below ``cutoffs[0]``) and one entry per rarer cluster share
the head's softmax; a class in a cluster gets the head's log-probability of its cluster plus its
log-probability within the cluster, from a tail of two bias-free linear maps through
``in_features // div_value**(i+1)`` features. Parameters, their names (``head``,
``tail.<i>.<0|1>``) and their initialization are torch's, so state dicts copy across.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn.layers.containers import ModuleList, Sequential
from neuralab.nn.layers.linear import Linear
from neuralab.nn.module import Module
from neuralab.ops.shape import cat
from neuralab.tensor import Tensor, as_array, constant

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of the targets (and their mean negative, the loss) under an adaptive
    softmax: ``forward(input, target)`` gives ``(output, loss)``; ``log_prob`` the full
    distribution; ``predict`` the most likely class."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        factory = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, **factory),
                    Linear(hidden, size, bias=False, **factory),
                )
            )

    def reset_parameters(self) -> None:
        """Initialize every linear map again, as at construction."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Any) -> _ASMoutput:
        """(log-probability of each target, their mean negative) for (N, in_features) input and
        (N,) targets, or (in_features,) input and a 0-d target."""
        batched = _check_shapes(input_, target_)
        input = input_ if batched else input_.unsqueeze(0)
        target = as_array(target_).reshape(-1)
        output, head_column = self._cluster_log_probs(input, target)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, constant(head_column[:, None])).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _cluster_log_probs(self, input: Tensor, target: np.ndarray) -> tuple[Tensor, np.ndarray]:
        """Each row's log-probability within its target's cluster (0 in the shortlist), and the
        head column it adds: the target itself in the shortlist, else its cluster's entry."""
        output = input.new_zeros(len(target))
        head_column = target.astype(np.int64)
        bounds = [0, *self.cutoffs]
        used = 0
        for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
            rows = np.flatnonzero((target >= low) & (target < high))
            used += rows.size
            if rows.size == 0 or i == 0:
                continue
            head_column[rows] = self.shortlist_size + i - 1
            picked = constant(rows)
            cluster = F.log_softmax(self.tail[i - 1](input.index_select(0, picked)), dim=1)
            local = cluster.gather(1, constant((target[rows] - low)[:, None].astype(np.int64)))
            output = output.index_copy(0, picked, local.squeeze(1))
        if used != len(target):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{target.min()}, {target.max()}] were found. (AdaptiveLogSoftmaxWithLoss)"
            )
        return output, head_column

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """Log-probabilities of all n_classes from the input and the head's output."""
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """(N, n_classes) log-probabilities of every class for (N, in_features) input."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row: the head's argmax, unless that is a cluster, whose
        rows then take the argmax of the full distribution (as ``log_prob(input).argmax(1)``)."""
        head_output = self.head(input)
        output = as_array(head_output.argmax(dim=1)).copy()
        outside = output >= self.shortlist_size
        if outside.any():
            rows = constant(np.flatnonzero(outside))
            full = self._get_full_log_prob(
                input.index_select(0, rows), head_output.index_select(0, rows)
            )
            output[outside] = as_array(full.argmax(dim=1))
        return constant(output)


def _check_cutoffs(cutoffs: list[Any], n_classes: int) -> None:
    """Raise torch's ValueError unless ``cutoffs`` are unique increasing ints in [1, n_classes)."""
    if len(cutoffs) == 0:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    if (
        cutoffs != sorted(cutoffs)
        or min(cutoffs) <= 0
        or max(cutoffs) > n_classes - 1
        or len(set(cutoffs)) != len(cutoffs)
        or any(int(c) != c for c in cutoffs)
    ):
        raise ValueError(
            "cutoffs should be a sequence of unique, positive integers sorted in an increasing "
            f"order, where each value is between 1 and n_classes-1 (got cutoffs={cutoffs} "
            f"with n_classes={n_classes})"
        )


def _check_shapes(input: Tensor, target: Any) -> bool:
    """Raise torch's RuntimeError for mismatched input and target; whether they are batched."""
    t = as_array(target)
    if t.ndim == 1:
        if input.shape[0] != t.shape[0]:
            raise RuntimeError(
                "Input and target should have the same size in the batch dimension. "
                f"(input {tuple(input.shape)}, target {t.shape})"
            )
        if input.ndim != 2:
            raise RuntimeError(
                "1D target tensor expects 2D input tensors, but found inputs with size "
                f"{tuple(input.shape)}"
            )
    elif t.ndim == 0:
        if input.ndim != 1:
            raise RuntimeError(
                "0D target tensor expects 1D input tensors, but found inputs with size "
                f"{tuple(input.shape)}"
            )
    else:
        raise RuntimeError(
            f"0D or 1D target tensor expected, multi-target not supported (got shape {t.shape})"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target must hold integers, got {t.dtype}")
    return t.ndim == 1
