"""The one place where a ridge solver is chosen and run.

``solver="auto"`` resolves as follows:

* sparse X: ``"cholesky"`` on the implicitly centered gram when p <= 4,000, else ``"cg"``;
* dense X with n < p: ``"cholesky"`` on the n x n kernel (the dual);
* dense X with n >= p: ``"cholesky"`` on the scaled centered gram, then an accuracy check.
  From LAPACK's condition estimate of the scaled system, the relative error of ``w`` is about
  ``err_w = eps / rcond`` and that of the intercept ``err_w |x_mean|.|w| / |b|`` (recovering
  ``b`` from centered data cancels when the means are large). If either estimate exceeds
  ``10^-12`` the problem is re-solved by ``"refine"`` (QR with double-double iterative
  refinement, :func:`ridgeway.linalg.direct.solve_refined`), which reaches the accuracy the
  float64 data allow. Well-conditioned data never pay for it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .direct import EPS, RidgeSolution, solve_dual, solve_gram, solve_refined, solve_svd
from .gram import GramStats
from .iterative import solve_iterative
from .spectral import RidgeSpectrum

SOLVERS = ("auto", "cholesky", "eigen", "svd", "cg", "lsqr", "refine")
ACCURACY_TARGET = 1e-12
SPARSE_GRAM_MAX_FEATURES = 4000


def resolve_solver(solver: str, X, penalty_factor: np.ndarray | None) -> str:
    """Turn ``solver`` into a concrete method for this X; errors name the incompatibility."""
    sparse = sp.issparse(X)
    _n, p = X.shape
    if solver == "auto":
        if sparse:
            return "cholesky" if p <= SPARSE_GRAM_MAX_FEATURES else "cg"
        return "cholesky"
    if sparse and solver in ("svd", "refine"):
        raise ValueError(
            f"solver={solver!r} needs dense X; use 'cholesky', 'eigen', 'cg' or 'lsqr' for "
            "sparse input, or pass X.toarray()."
        )
    return solver


def _dual_ok(X, penalty_factor) -> bool:
    return X.shape[0] < X.shape[1] and (penalty_factor is None or np.all(penalty_factor > 0))


def _scaled(X, penalty_factor):
    """``X D^-1/2`` for positive factors (the dual and the eigen solver fold pf into X)."""
    if penalty_factor is None:
        return X, None
    scale = np.sqrt(penalty_factor)
    if sp.issparse(X):
        return X @ sp.diags(1.0 / scale), scale
    return X / scale, scale


def _unscale(sol: RidgeSolution, scale) -> RidgeSolution:
    if scale is None:
        return sol
    return RidgeSolution(sol.coef / scale[:, None], sol.intercept, sol.solver, sol.n_iter,
                         sol.rcond)


def _estimated_error(sol: RidgeSolution, stats: GramStats, fit_intercept: bool) -> np.ndarray:
    """Estimated relative error of each target's coefficients and intercept, shape (t,)."""
    t = sol.coef.shape[1]
    if sol.rcond is None or sol.rcond <= 0:
        return np.full(t, np.inf)
    err_w = np.full(t, EPS / sol.rcond)
    if not fit_intercept:
        return err_w
    shift = np.abs(stats.x_mean) @ np.abs(sol.coef)
    with np.errstate(divide="ignore", invalid="ignore"):
        err_b = np.where(shift == 0, 0.0, err_w * shift / np.abs(sol.intercept))
    return np.maximum(err_w, err_b)


def _solve_eigen(X, y2, s, alphas, penalty_factor, fit_intercept) -> RidgeSolution:
    if penalty_factor is not None and np.any(penalty_factor <= 0):
        raise ValueError(
            "solver='eigen' needs strictly positive penalty factors; use solver='cholesky' "
            "for unpenalized features."
        )
    Xs, scale = _scaled(X, penalty_factor)
    spec = RidgeSpectrum.from_data(Xs, y2, s, fit_intercept=fit_intercept)
    return _unscale(spec.solution(alphas), scale)


def solve_ridge(
    X,
    y2: np.ndarray,
    sample_weight: np.ndarray,
    alphas: np.ndarray,
    penalty_factor: np.ndarray | None = None,
    *,
    solver: str = "auto",
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int | None = None,
    stats: GramStats | None = None,
) -> RidgeSolution:
    """Solve ``min 1/2 sum_i s_i (y_i - x_i.w - b)^2 + alpha/2 sum_j pf_j w_j^2`` per target.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, p)
    y2 : ndarray of shape (n, t)
    sample_weight : ndarray of shape (n,)
    alphas : ndarray of shape (1,) or (t,)
    penalty_factor : ndarray of shape (p,), optional
    solver : str
        One of ``SOLVERS``; see the module docstring for ``"auto"``.
    fit_intercept : bool
    tol, max_iter
        For the iterative solvers.
    stats : GramStats, optional
        Precomputed statistics of ``(X, y2, sample_weight)``, reused by the primal Cholesky.

    Returns
    -------
    RidgeSolution
    """
    method = resolve_solver(solver, X, penalty_factor)
    if method in ("cg", "lsqr"):
        return solve_iterative(X, y2, sample_weight, alphas, penalty_factor, method=method,
                               fit_intercept=fit_intercept, tol=tol, max_iter=max_iter)
    if method == "eigen":
        return _solve_eigen(X, y2, sample_weight, alphas, penalty_factor, fit_intercept)
    if method == "svd":
        return solve_svd(X, y2, sample_weight, alphas, penalty_factor,
                         fit_intercept=fit_intercept)
    if method == "refine":
        return _refine_or_fallback(X, y2, sample_weight, alphas, penalty_factor, fit_intercept)
    if _dual_ok(X, penalty_factor):
        Xs, scale = _scaled(X, penalty_factor)
        return _unscale(solve_dual(Xs, y2, sample_weight, alphas, fit_intercept=fit_intercept),
                        scale)
    if stats is None:
        stats = GramStats.from_arrays(X, y2, sample_weight)
    sol = solve_gram(stats, alphas, penalty_factor, fit_intercept=fit_intercept)
    if solver == "auto" and not sp.issparse(X):
        need = np.flatnonzero(_estimated_error(sol, stats, fit_intercept) > ACCURACY_TARGET)
        if need.size:
            cols_alpha = alphas if np.size(alphas) == 1 else np.asarray(alphas)[need]
            refined = solve_refined(np.asarray(X, dtype=np.float64), y2[:, need],
                                    sample_weight, cols_alpha, penalty_factor,
                                    fit_intercept=fit_intercept)
            if refined is not None:
                return _merge(sol, refined, need)
    return sol


def _merge(sol: RidgeSolution, refined: RidgeSolution, cols: np.ndarray) -> RidgeSolution:
    """``sol`` with the targets ``cols`` replaced by ``refined``'s."""
    if cols.size == sol.coef.shape[1]:
        return refined
    coef, intercept = sol.coef.copy(), np.array(sol.intercept, dtype=np.float64, copy=True)
    coef[:, cols] = refined.coef
    intercept[cols] = refined.intercept
    return RidgeSolution(coef, intercept, "cholesky+refine", refined.n_iter, sol.rcond)


def _refine_or_fallback(X, y2, s, alphas, penalty_factor, fit_intercept) -> RidgeSolution:
    X = np.asarray(X, dtype=np.float64)
    sol = solve_refined(X, y2, s, alphas, penalty_factor, fit_intercept=fit_intercept)
    if sol is not None:
        return sol
    if penalty_factor is None or np.all(penalty_factor > 0):
        return solve_svd(X, y2, s, alphas, penalty_factor, fit_intercept=fit_intercept)
    return solve_gram(GramStats.from_arrays(X, y2, s), alphas, penalty_factor,
                      fit_intercept=fit_intercept)
