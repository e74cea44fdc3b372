"""L-BFGS: quasi-Newton steps from the last ``history_size`` gradient differences.

``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` closure calls) of
L-BFGS on all parameters as one flat vector, as torch.optim.LBFGS does: direction by the two-loop
recursion over stored (s, y) pairs, then either a fixed step ``lr`` (the first one scaled by
1/‖g‖₁) or a strong-Wolfe line search (``line_search_fn='strong_wolfe'``, see
:mod:`neuralab.optim._wolfe`). The closure must clear the gradients, compute the loss, call
``backward()`` and return the loss; ``step`` returns the loss of its first call.

The state lives in ``optimizer.state[first parameter]`` under torch's names: ``func_evals``,
``n_iter``, ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``,
``prev_loss``, ``al``; so a later ``step`` continues from the same curvature memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._wolfe import strong_wolfe
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant, enable_grad

_MEMORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss", "al")


class LBFGS(Optimizer):
    """L-BFGS (Nocedal): one parameter group, a closure per step (torch.optim.LBFGS)."""

    _checked = ("lr",)
    _state_like_params = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_iter * 5 // 4 if max_eval is None else max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn={group['line_search_fn']!r} is not supported (only "
                "'strong_wolfe' or None)"
            )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """LBFGS takes a single group; a second one is an error (as in torch)."""
        if self.param_groups:
            raise ValueError(
                "LBFGS doesn't support per-parameter options (parameter groups): pass all "
                "parameters in one group"
            )
        super().add_param_group(param_group)

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss of the first closure call."""

        def evaluate() -> Any:
            with enable_grad():
                return closure()

        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return orig_loss
        memory = {k: _arrays(state.get(k)) for k in _MEMORY}
        self._iterate(group, state, memory, evaluate, float(orig_loss), flat_grad)
        state.update({k: _tensors(v) for k, v in memory.items() if k != "al" or v is not None})
        return orig_loss

    def _iterate(
        self,
        group: dict[str, Any],
        state: dict[str, Any],
        memory: dict[str, Any],
        evaluate: Callable[[], Any],
        loss: float,
        flat_grad: np.ndarray,
    ) -> None:
        """The iterations of one step; ``memory`` (torch's state names) is updated in place."""
        lr, max_iter = scalar(group["lr"]), group["max_iter"]
        tolerance_change = group["tolerance_change"]
        current_evals = 1
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            first = state["n_iter"] == 1
            if first:
                memory.update(d=-flat_grad, old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                memory["d"] = self._direction(memory, flat_grad, group["history_size"])
            d = memory["d"]
            memory.update(prev_flat_grad=flat_grad, prev_loss=loss)
            t = memory["t"] = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if first else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break
            if group["line_search_fn"] is not None:
                max_ls = group["max_eval"] - current_evals
                found = self._search(evaluate, t, d, loss, flat_grad, gtd, max_ls)
                loss, flat_grad, t, evals = found
                memory["t"] = t
                self._add_step(t, d)
            else:
                self._add_step(t, d)
                evals = 0
                if n_iter != max_iter:  # the last iteration's loss is not needed
                    loss, evals = float(evaluate()), 1
                    flat_grad = self._flat_grad()
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == max_iter or current_evals >= group["max_eval"]:
                break
            if evals and np.abs(flat_grad).max() <= group["tolerance_grad"]:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - memory["prev_loss"]) < tolerance_change:
                break

    @staticmethod
    def _direction(memory: dict[str, Any], flat_grad: np.ndarray, history_size: int) -> Any:
        """-H·g by the two-loop recursion, after storing the newest pair (s, y) if it curves up."""
        y = flat_grad - memory["prev_flat_grad"]
        s = memory["d"] * memory["t"]
        ys = y.dot(s)
        dirs, stps, ro = memory["old_dirs"], memory["old_stps"], memory["ro"]
        if ys > 1e-10:
            if len(dirs) == history_size:  # forget the oldest pair
                del dirs[0], stps[0], ro[0]
            dirs.append(y)
            stps.append(s)
            ro.append(1.0 / ys)
            memory["H_diag"] = ys / y.dot(y)
        if memory["al"] is None:
            memory["al"] = [None] * history_size
        al = memory["al"]
        q = -flat_grad
        for i in range(len(dirs) - 1, -1, -1):
            al[i] = stps[i].dot(q) * ro[i]
            q += -al[i] * dirs[i]
        r = q * memory["H_diag"]
        for i in range(len(dirs)):
            r += (al[i] - dirs[i].dot(r) * ro[i]) * stps[i]
        return r

    def _flat_grad(self) -> np.ndarray:
        """All gradients as one vector (zeros for a parameter without one)."""
        return np.concatenate(
            [
                np.zeros(p._data.size, p._data.dtype) if p.grad is None else p.grad._data.ravel()
                for p in self._params
            ]
        )

    def _add_step(self, t: Any, d: np.ndarray) -> None:
        """θ ← θ + t·d, ``d`` cut into the parameters' shapes."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset : offset + n].reshape(p._data.shape)
            offset += n

    def _search(
        self,
        evaluate: Callable[[], Any],
        t: Any,
        d: np.ndarray,
        loss: float,
        flat_grad: np.ndarray,
        gtd: Any,
        max_ls: int,
    ) -> tuple[float, np.ndarray, Any, int]:
        """The strong-Wolfe search along ``d``; the parameters end where they started."""
        x = [p._data.copy() for p in self._params]

        def at(step: Any) -> tuple[float, np.ndarray]:
            return self._evaluate_at(evaluate, x, step, d)

        return strong_wolfe(at, t, d, loss, flat_grad, gtd, max_ls=max_ls)

    def _evaluate_at(
        self, evaluate: Callable[[], Any], x: list[np.ndarray], t: Any, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Loss and gradient at x + t·d; the parameters are put back to ``x`` afterwards."""
        self._add_step(t, d)
        loss = float(evaluate())
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p._data[...] = saved
        return loss, flat_grad


def _arrays(value: Any) -> Any:
    """State as the iterations use it: Tensors to arrays (lists element by element)."""
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    return value._data if isinstance(value, Tensor) else value


def _tensors(value: Any) -> Any:
    """State as it is kept: arrays wrapped as Tensors (lists element by element)."""
    if isinstance(value, list):
        return [_tensors(v) for v in value]
    return constant(value) if isinstance(value, np.ndarray) else value
