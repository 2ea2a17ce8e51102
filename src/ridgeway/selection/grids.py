"""Alpha grids: log-spaced, data-driven (spanning the effective degrees of freedom), or given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_alphas, check_choice


def log_grid(alpha_min: float, alpha_max: float, n_alphas: int = 100) -> np.ndarray:
    """``n_alphas`` log-spaced values from ``alpha_max`` down to ``alpha_min`` (descending)."""
    return np.geomspace(alpha_max, alpha_min, n_alphas)


def df_alpha_grid(eigenvalues: np.ndarray, n_alphas: int = 100, tail: float = 0.01) -> np.ndarray:
    """A data-driven ridge grid that spans effective degrees of freedom from ~rank to ~0.

    With ``d_j`` the eigenvalues of the (weighted, centered) gram ``X'SX``, the effective degrees
    of freedom are ``df(alpha) = sum_j d_j / (d_j + alpha)``. The grid runs log-spaced from

    * ``alpha_max = sum_j d_j / tail``, where ``df <= tail`` (all coefficients shrunk ~to 0),
    * ``alpha_min = tail * min_j d_j`` over the non-zero eigenvalues, where every direction keeps
      at least ``1 / (1 + tail)`` of its least-squares size, so ``df >= rank / (1 + tail)``.

    ``alpha_min`` is floored at ``1e-12 * max_j d_j`` so the grid stays in the range float64 can
    resolve. Returned in decreasing order, as a path is walked.

    Parameters
    ----------
    eigenvalues : ndarray
        Eigenvalues of the centered gram (or squared singular values of centered X).
    n_alphas : int
        Length of the grid.
    tail : float
        How close to the ends (df = rank and df = 0) the grid reaches.
    """
    d = np.asarray(eigenvalues, dtype=np.float64)
    d_max = float(np.max(d)) if d.size else 0.0
    if d_max <= 0:
        return log_grid(1e-3, 1e3, n_alphas)
    positive = d[d > d_max * 1e-12]
    alpha_max = float(np.sum(positive)) / tail
    alpha_min = max(tail * float(np.min(positive)), 1e-12 * d_max)
    return log_grid(alpha_min, alpha_max, n_alphas)


@dataclass(frozen=True)
class AlphaGrid:
    """What a ``...CV`` estimator's ``alphas`` asks for, resolved once.

    Attributes
    ----------
    values : ndarray or None
        The candidates given (validated, in the order given); None: the data-driven grid.
    auto : bool
        ``alphas="auto"``: the data-driven grid, widened while the best alpha sits on an
        edge, then refined continuously (:func:`ridgeway.selection.search_alpha`).
    """

    values: np.ndarray | None = None
    auto: bool = False


def check_alpha_grid(alphas) -> AlphaGrid:
    """Resolve ``alphas`` (array-like, None or "auto") into an :class:`AlphaGrid`."""
    if alphas is None:
        return AlphaGrid()
    if isinstance(alphas, str):
        check_choice(alphas, "alphas", ("auto",))
        return AlphaGrid(auto=True)
    return AlphaGrid(check_alphas(alphas))
