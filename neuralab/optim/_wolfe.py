"""The strong-Wolfe line search LBFGS uses (``line_search_fn='strong_wolfe'``).

Along a direction ``d`` from the point ``x`` it looks for a step ``t`` with sufficient decrease
(Armijo: f(x + t·d) ≤ f(x) + c1·t·gᵀd) and a small slope (|g(x + t·d)ᵀd| ≤ c2·|gᵀd|): first it
brackets such a step, extrapolating by cubic interpolation, then zooms into the bracket. This is
Nocedal & Wright's algorithm 3.5/3.6 with the safeguards of minFunc's ``WolfeLineSearch``, step
for step as torch runs it. Scalars stay NumPy scalars of the parameters' dtype, so comparisons
round as torch's 0-d tensors do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# (step, loss, flat gradient, directional derivative) of one evaluated point
Point = list[Any]
Evaluate = Callable[[Any], tuple[float, np.ndarray]]


def cubic_minimum(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple[Any, Any] | None = None
) -> Any:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to
    ``bounds`` (default: between x1 and x2); their midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(at, low), high)
    return (low + high) / 2.0


def strong_wolfe(
    evaluate: Evaluate,
    t: Any,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, Any, int]:
    """Search along ``d`` from loss ``f``, gradient ``g``, slope ``gtd``; ``evaluate(t)`` gives
    loss and flat gradient at ``x + t·d``. Returns (loss, gradient, step, evaluations)."""
    with np.errstate(all="ignore"):  # degenerate brackets divide by zero, as torch does silently
        start = [0, f, g, gtd]
        bracket, done, calls = _bracket(evaluate, start, t, d, c1, c2, max_ls)
        if not done:
            calls = _zoom(evaluate, start, bracket, d, c1, c2, tolerance_change, max_ls, calls)
        low = 0 if bracket[0][1] <= bracket[-1][1] else 1
        t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, calls


def _probe(evaluate: Evaluate, t: Any, d: np.ndarray) -> Point:
    f_new, g_new = evaluate(t)
    return [t, f_new, g_new, g_new.dot(d)]


def _bracket(
    evaluate: Evaluate, start: Point, t: Any, d: np.ndarray, c1: float, c2: float, max_ls: int
) -> tuple[list[Point], bool, int]:
    """Step forward until an interval must hold a Wolfe point (or one is found: ``done``)."""
    _, f, _, gtd = start
    prev, new = start, _probe(evaluate, t, d)
    for ls_iter in range(max_ls):
        t, f_new, _, gtd_new = new
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            return [prev, new], False, ls_iter + 1
        if abs(gtd_new) <= -c2 * gtd:
            return [new], True, ls_iter + 1
        if gtd_new >= 0:
            return [prev, new], False, ls_iter + 1
        bounds = (t + 0.01 * (t - prev[0]), t * 10)
        step = cubic_minimum(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=bounds)
        prev, new = new, _probe(evaluate, step, d)
    return [start, new], False, max_ls + 1  # out of evaluations: keep the start and the last


def _zoom(
    evaluate: Evaluate,
    start: Point,
    bracket: list[Point],
    d: np.ndarray,
    c1: float,
    c2: float,
    tolerance_change: float,
    max_ls: int,
    calls: int,
) -> int:
    """Shrink ``bracket`` (in place) around a Wolfe point; returns the evaluations made so far."""
    _, f, _, gtd = start
    d_norm = np.abs(d).max()
    stuck = False
    low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
    while calls - 1 < max_ls:
        (t0, f0, _, gtd0), (t1, f1, _, gtd1) = bracket
        if abs(t1 - t0) * d_norm < tolerance_change:
            break
        t = cubic_minimum(t0, f0, gtd0, t1, f1, gtd1)
        t, stuck = _keep_off_edges(t, max(t0, t1), min(t0, t1), stuck)
        new = _probe(evaluate, t, d)
        calls += 1
        if new[1] > f + c1 * t * gtd or new[1] >= bracket[low][1]:
            bracket[high] = new
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
            continue
        if abs(new[3]) <= -c2 * gtd:
            bracket[low] = new
            break
        if new[3] * (bracket[high][0] - bracket[low][0]) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    return calls


def _keep_off_edges(t: Any, top: Any, bottom: Any, stuck: bool) -> tuple[Any, bool]:
    """Move a trial step within 10% of the bracket's ends inward, once it keeps landing there."""
    eps = 0.1 * (top - bottom)
    if not min(top - t, t - bottom) < eps:
        return t, False
    if stuck or t >= top or t <= bottom:
        return (top - eps if abs(t - top) < abs(t - bottom) else bottom + eps), False
    return t, True
