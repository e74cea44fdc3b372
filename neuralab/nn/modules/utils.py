"""torch.nn.modules.utils: the argument helpers layer code imports (_pair, _single, ...) and
``consume_prefix_in_state_dict_if_present``."""

from __future__ import annotations

from neuralab.nn.layers._params import _ntuple, _pair, _quadruple, _single, _triple

__all__ = [
    "_ntuple",
    "_pair",
    "_quadruple",
    "_reverse_repeat_tuple",
    "_single",
    "_triple",
    "consume_prefix_in_state_dict_if_present",
]


def _reverse_repeat_tuple(t: tuple, n: int) -> tuple:
    """Reverse ``t`` and repeat each element ``n`` times: conv padding in F.pad's order."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Strip ``prefix`` (e.g. 'module.' from a DataParallel checkpoint) from the keys, in place."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix) :]] = state_dict.pop(key)
