"""The search over an alpha grid: score it, widen it while the best sits on an edge, pick by a
rule, refine continuously. Shared by every ``...CV`` estimator of ridgeway.

The estimator supplies ``evaluate(alphas) -> CVCurve`` (a loss, lower is better, for any
alphas) and the starting grid; :func:`search_alpha` returns the curve over the final grid and
the chosen alpha(s).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from ..exceptions import AlphaEdgeWarning
from .rules import check_rule, edge_warning, select_alpha


@dataclass(frozen=True)
class CVCurve:
    """Cross-validated loss over a grid of alphas (lower is better).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    mean : ndarray of shape (n_alphas, t)
        Mean loss per alpha and target.
    std_error : ndarray of shape (n_alphas, t) or None
        Standard error of the mean loss (``std / sqrt(K)`` over folds, or over samples for LOO);
        None for GCV, which has no sampling spread.
    splits : ndarray of shape (K, n_alphas, t) or None
        Per-fold losses for k-fold modes.
    """

    alphas: np.ndarray
    mean: np.ndarray
    std_error: np.ndarray | None
    splits: np.ndarray | None

    def column(self, j: int | None):
        """Mean loss and its standard error for target ``j`` (or averaged over targets)."""
        if j is not None or self.mean.shape[1] == 1:
            j = j or 0
            sem = None if self.std_error is None else self.std_error[:, j]
            return self.mean[:, j], sem
        mean = self.mean.mean(axis=1)
        if self.splits is not None:
            per_fold = self.splits.mean(axis=2)
            return mean, per_fold.std(axis=0) / np.sqrt(per_fold.shape[0])
        sem = None if self.std_error is None else self.std_error.mean(axis=1)
        return mean, sem


Evaluate = Callable[[np.ndarray], CVCurve]


@dataclass(frozen=True)
class SearchSpec:
    """How :func:`search_alpha` searches.

    Attributes
    ----------
    rule : {"min", "1se"}
    per_target : bool
        One alpha per column of the curve, else one for the target-averaged loss.
    auto : bool
        Widen the grid by three decades at a time (``widen_points`` new alphas a side, at most
        ``widen_rounds`` times) while a best alpha sits on its edge; with ``rule="min"``, then
        refine by a bounded search on ``log(alpha)`` between the best grid point's neighbours
        (``refine_xatol``, ``refine_maxiter``). Without it, a choice on the edge of a grid of
        three or more alphas warns (:class:`~ridgeway.exceptions.AlphaEdgeWarning`).
    """

    rule: str = "min"
    per_target: bool = False
    auto: bool = False
    widen_points: int = 20
    widen_rounds: int = 6
    refine_xatol: float = 1e-6
    refine_maxiter: int = 500


@dataclass(frozen=True)
class SearchResult:
    """The curve over the final grid and the choice.

    Attributes
    ----------
    curve : CVCurve
    alpha : float or ndarray of shape (t,)
        The chosen alpha (one per target with ``per_target``), refined where asked.
    loss : float or ndarray of shape (t,)
        The mean loss there.
    """

    curve: CVCurve
    alpha: float | np.ndarray
    loss: float | np.ndarray


def search_alpha(evaluate: Evaluate, grid: np.ndarray, spec: SearchSpec, *,
                 x_scale: float = 1.0) -> SearchResult:
    """Score ``grid`` by ``evaluate``, widen it (``spec.auto``), choose and refine.

    ``x_scale``: the alphas are those of X divided by it; an edge warning shows them in the
    units of X (``alpha * x_scale * x_scale``, in that order: ``x_scale**2`` may overflow).
    """
    check_rule(spec.rule)
    curve = evaluate(np.asarray(grid, dtype=np.float64))
    if spec.auto:
        curve = _widen(curve, evaluate, spec)
    targets = range(curve.mean.shape[1]) if spec.per_target else [None]
    chosen, best = [], []
    for j in targets:
        mean, sem = curve.column(j)
        pick = select_alpha(curve.alphas, mean, sem, rule=spec.rule)
        alpha, value = curve.alphas[pick.index], mean[pick.index]
        if spec.auto and spec.rule == "min":
            alpha, value = _refine_min(curve.alphas, pick.index, evaluate, j, value, spec)
        elif not spec.auto:
            message = edge_warning(curve.alphas * x_scale * x_scale, pick.index)
            if message:
                warnings.warn(message, AlphaEdgeWarning, stacklevel=4)
        chosen.append(alpha)
        best.append(value)
    if spec.per_target:
        return SearchResult(curve, np.array(chosen), np.array(best))
    return SearchResult(curve, chosen[0], best[0])


def _widen(curve: CVCurve, evaluate: Evaluate, spec: SearchSpec) -> CVCurve:
    """Extend the grid by 3 decades on a side while a best alpha sits on that edge."""
    n = spec.widen_points + 1
    for _ in range(spec.widen_rounds):
        grid = curve.alphas
        means = curve.mean if spec.per_target else curve.mean.mean(axis=1, keepdims=True)
        best = np.argmin(np.where(np.isfinite(means), means, np.inf), axis=0)
        lo_edge = np.any(grid[best] == grid.min())
        hi_edge = np.any(grid[best] == grid.max())
        extra = []
        if hi_edge:
            extra.append(np.geomspace(grid.max() * 1e3, grid.max(), n)[:-1])
        if lo_edge and grid.min() > 1e-300:
            extra.append(np.geomspace(grid.min(), grid.min() * 1e-3, n)[1:])
        if not extra:
            break
        curve = merge_curves(curve, evaluate(np.concatenate(extra)))
    return curve


def merge_curves(a: CVCurve, b: CVCurve) -> CVCurve:
    """The two curves as one over the union of their alphas, in decreasing order."""
    order = np.argsort(np.concatenate([a.alphas, b.alphas]))[::-1]

    def cat(x, y, axis=0):
        return None if x is None else np.concatenate([x, y], axis=axis).take(order, axis=axis)

    return CVCurve(cat(a.alphas, b.alphas), cat(a.mean, b.mean),
                   cat(a.std_error, b.std_error), cat(a.splits, b.splits, axis=1))


def _refine_min(alphas, index, evaluate: Evaluate, j, value, spec: SearchSpec):
    """Bounded 1-D search of the CV loss on log(alpha) between the grid neighbours of index."""
    order = np.argsort(alphas)
    pos = int(np.flatnonzero(order == index)[0])
    lo = np.log(alphas[order[max(pos - 1, 0)]])
    hi = np.log(alphas[order[min(pos + 1, len(alphas) - 1)]])
    if not hi > lo:
        return alphas[index], value

    def f(log_alpha):
        mean = evaluate(np.array([np.exp(log_alpha)])).mean[0]
        return float(mean[j] if j is not None else mean.mean())

    res = minimize_scalar(f, bounds=(lo, hi), method="bounded",
                          options={"xatol": spec.refine_xatol, "maxiter": spec.refine_maxiter})
    if res.fun < value:
        return float(np.exp(res.x)), float(res.fun)
    return alphas[index], value


def representable_only(evaluate: Evaluate, fx: float) -> Evaluate:
    """``evaluate`` restricted to the alphas (on X / fx) that float64 holds in X's units."""
    def restricted(alphas):
        with np.errstate(over="ignore"):
            original = alphas * fx * fx
        keep = np.isfinite(original) & ((original > 0) | (alphas == 0))
        if not np.any(keep):
            check_representable_alphas(alphas[:1], fx)
        return evaluate(alphas[keep])

    return restricted


def check_representable_alphas(chosen, fx: float):
    """Alphas chosen on X / fx, in the units of X; an error if float64 cannot hold them."""
    with np.errstate(over="ignore"):
        alpha = np.asarray(chosen, dtype=np.float64) * fx * fx
    if not np.all(np.isfinite(alpha)) or np.any((alpha == 0) & (np.asarray(chosen) > 0)):
        raise ValueError(
            f"The alpha chosen for this data is not representable in float64 (X has entries "
            f"up to {fx:.3g} in absolute value, so the alphas that matter are of order "
            f"{fx:.3g}^2). Rescale X (e.g. sklearn.preprocessing.StandardScaler, or divide it "
            "by a constant c and multiply the chosen alpha by c^2 yourself).")
    return alpha if np.ndim(chosen) else float(alpha)
