"""``functional_call`` (a module run on other tensors) and ``stack_module_state`` (an ensemble's
stacked parameters), as torch.func's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.tensor import (
    Tensor,
    constant,
)


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """``module(*args, **kwargs)`` with the named tensors in place of its parameters and buffers
    (dotted names, as ``named_parameters()``), put back afterwards. A tensor given for one of
    several names of a tied weight stands for all of them (``tie_weights``); ``strict``
    requires a tensor for every parameter and buffer."""
    dicts = parameter_and_buffer_dicts
    dicts = [dicts] if isinstance(dicts, Mapping) else list(dicts)
    given: dict[str, Tensor] = {}
    for d in dicts:
        repeated = sorted(set(given) & set(d))
        if repeated:
            raise ValueError(f"functional_call: {repeated} given in more than one dict")
        given.update(d)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, _with_ties(module, given) if tie_weights else given, strict):
        return module(*args, **(kwargs or {}))


def _with_ties(module: Module, given: dict[str, Tensor]) -> dict[str, Tensor]:
    """``given`` plus every other name of a tied parameter or buffer that it replaces."""
    names: dict[int, list[str]] = {}
    members = [
        *module.named_parameters(remove_duplicate=False),
        *module.named_buffers(remove_duplicate=False),
    ]
    for name, t in members:
        names.setdefault(id(t), []).append(name)
    out = dict(given)
    for name, t in members:
        for other in names[id(t)]:
            if other in given and name not in given:
                out[name] = given[other]
    return out


@contextlib.contextmanager
def _swapped(module: Module, tensors: dict[str, Tensor], strict: bool) -> Iterator[None]:
    """Put ``tensors`` into the module's registries for the block, then restore them."""
    known = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    known |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    unexpected, missing = sorted(set(tensors) - known), sorted(known - set(tensors))
    if unexpected or (strict and missing):
        raise RuntimeError(
            f"functional_call: unexpected key(s) {unexpected}"
            + (f", missing key(s) {missing}" if strict and missing else "")
        )
    saved = []
    try:
        for name, t in tensors.items():
            owner, _, leaf = name.rpartition(".")
            sub = module.get_submodule(owner)
            table = sub._parameters if leaf in sub._parameters else sub._buffers
            saved.append((table, leaf, table[leaf]))
            table[leaf] = t
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


# --- stack_module_state ------------------------------------------------------------------------
def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and the buffers of same-class models, each name's tensors stacked along a
    new first dimension, for ``vmap`` over ``functional_call`` (a model ensemble). Each stacked
    tensor is a new leaf, requiring grad when the models' tensors do, for an optimizer.
    neuralab has no 'meta' device: take ``copy.deepcopy(models[0])`` as the base model, whose
    own tensors ``functional_call`` never reads (one model's memory is the only cost)."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    if any(m.training != models[0].training for m in models):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    params = _stacked([dict(m.named_parameters()) for m in models], "parameter")
    buffers = _stacked([dict(m.named_buffers()) for m in models], "buffer")
    return params, buffers


def _stacked(tables: list[dict[str, Tensor]], kind: str) -> dict[str, Tensor]:
    """Per name, the models' tensors (one table per model) stacked into a new leaf tensor."""
    first = tables[0]
    for i, table in enumerate(tables[1:], 1):
        if set(table) != set(first):
            odd = sorted(set(table) ^ set(first))
            raise KeyError(f"stack_module_state: models 0 and {i} differ in {kind}s {odd}")
        for name, t in table.items():
            ref = first[name]
            if (tuple(t.shape), t.dtype) != (tuple(ref.shape), ref.dtype):
                raise RuntimeError(
                    f"stack_module_state: {kind} {name!r} is {ref.dtype} of shape "
                    f"{tuple(ref.shape)} in model 0 but {t.dtype} of shape {tuple(t.shape)} in "
                    f"model {i}"
                )
            if t.requires_grad != ref.requires_grad:
                raise RuntimeError(
                    f"stack_module_state: Expected {name} from each model to have the same "
                    ".requires_grad"
                )
    return {
        name: constant(np.stack([table[name]._data for table in tables])).requires_grad_(
            ref.requires_grad
        )
        for name, ref in first.items()
    }
