"""The one place where a ridge solver is chosen and run.

``solver="auto"`` resolves as follows (:func:`plan_solver`, which :func:`solve_ridge` runs):

* sparse X: ``"cholesky"`` on the implicitly centered gram when p <= 4,000, else ``"cg"``;
* dense X with n < p: ``"cholesky"`` on the n x n kernel (the dual);
* dense X with n >= p: ``"cholesky"`` on the scaled centered gram, then an accuracy check.
  From LAPACK's condition estimate of the scaled system, the relative error of ``w`` is about
  ``err_w = eps / rcond``; the intercept's absolute error is about ``err_w |x_mean|.|w|``
  (recovering ``b`` from centered data cancels when the means are large), measured against
  ``|b| + sd(y)`` (a centered target's intercept near zero does not make it inaccurate). If
  either estimate exceeds ``10^-12`` the problem is re-solved by ``"refine"`` (QR with
  double-double iterative refinement, :func:`ridgeway.linalg.direct.solve_refined`), which
  reaches the accuracy the float64 data allow. Where only the intercept misses 12 digits of
  its own size, one corrected semi-normal-equations step from the data (:func:`polish`, two
  passes over X) restores them. Well-conditioned data never pay for refinement.

A solution that comes out non-finite (the gram or ``X'y`` overflowed: features beyond ~1e154,
targets beyond ~1e300), or whose column statistics left ``[SAFE_LOW, SAFE_HIGH]``, is
recomputed on ``X / c_x``, ``y / c_y`` with ``alpha / c_x^2`` (``c`` the largest absolute
values), which has the same minimizer up to the factors: ``w = (c_y / c_x) w'``,
``b = c_y b'``. The solvers that read X itself check its range first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .direct import (
    EPS,
    RidgeSolution,
    moments,
    solve_dual,
    solve_gram,
    solve_refined,
    solve_svd,
)
from .gram import GramStats
from .iterative import solve_iterative
from .spectral import RidgeSpectrum

SOLVERS = ("auto", "cholesky", "eigen", "svd", "cg", "lsqr", "refine")
ACCURACY_TARGET = 1e-12
SPARSE_GRAM_MAX_FEATURES = 4000


@dataclass(frozen=True)
class SolverPlan:
    """What :func:`solve_ridge` runs: the concrete method and how.

    Attributes
    ----------
    method : {"cholesky", "eigen", "svd", "cg", "lsqr", "refine"}
    dual : bool
        ``"cholesky"`` on the n x n kernel ``X D^-1 X'`` (n < p, every penalty factor > 0).
    check_accuracy : bool
        After the primal Cholesky, estimate the error from LAPACK's condition number and
        polish or re-solve by ``"refine"`` the targets that miss 12 digits (``"auto"``, dense).
    """

    method: str
    dual: bool = False
    check_accuracy: bool = False


def plan_solver(solver: str, X, penalty_factor: np.ndarray | None = None) -> SolverPlan:
    """Turn ``solver`` into the concrete plan for this X; errors name the incompatibility.

    See the module docstring for ``"auto"``. ``penalty_factor`` decides whether the dual is
    possible (an unpenalized feature has no dual) and whether ``"eigen"`` is.
    """
    sparse = sp.issparse(X)
    n, p = X.shape
    positive = penalty_factor is None or bool(np.all(penalty_factor > 0))
    if sparse and solver in ("svd", "refine"):
        raise ValueError(
            f"solver={solver!r} needs dense X; use 'cholesky', 'eigen', 'cg' or 'lsqr' for "
            "sparse input, or pass X.toarray()."
        )
    if solver == "eigen" and not positive:
        raise ValueError(
            "solver='eigen' needs strictly positive penalty factors; use solver='cholesky' "
            "for unpenalized features."
        )
    if solver == "auto" and sparse and p > SPARSE_GRAM_MAX_FEATURES:
        return SolverPlan("cg")
    if solver not in ("auto", "cholesky"):
        return SolverPlan(solver)
    dual = n < p and positive
    return SolverPlan("cholesky", dual=dual,
                      check_accuracy=solver == "auto" and not sparse and not dual)


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


def _intercept_errors(err_w: np.ndarray, stats: GramStats, sol: RidgeSolution):
    """``(err_b, err_b_own)``: estimated relative errors of each target's intercept.

    The absolute error of ``b = y_mean - x_mean.w`` is about ``err_w |x_mean|.|w|`` (the
    cancellation of recovering it from centered data). ``err_b`` measures it on the scale the
    intercept acts on, ``|b| + sd(y)``: a centered target's intercept near zero is not
    "inaccurate" for being near zero. ``err_b_own`` measures it against ``|b|`` alone.
    """
    shift = np.abs(stats.x_mean) @ np.abs(sol.coef)
    absb = np.abs(sol.intercept)
    spread = np.sqrt(np.maximum(np.diag(stats.yy), 0.0) / stats.weight_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        err_b = np.where(shift == 0, 0.0, err_w * shift / (absb + spread))
        err_b_own = np.where(shift == 0, 0.0, err_w * shift / absb)
    return err_b, err_b_own


def _residual_gradient(X, y2, s, x_mean, y_mean, coef, lam) -> np.ndarray:
    """``X_c'S(y_c - X_c w) - lam * w`` from the data (not the gram), in row chunks."""
    n, p = X.shape
    chunk = max(256, 2**22 // max(p, coef.shape[1], 1))
    g = -lam * coef
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        xc = np.subtract(X[rows], x_mean, dtype=np.float64)
        r = np.subtract(y2[rows], y_mean, dtype=np.float64)
        r -= xc @ coef
        r *= s[rows, None]
        g += xc.T @ r
    return g


def polish(X, y2, s, stats: GramStats, sol: RidgeSolution, alphas, penalty_factor,
           err_w: np.ndarray, inverse) -> tuple[RidgeSolution, np.ndarray]:
    """Check a centered solution's accuracy; correct the intercepts where that is cheap.

    Returns the solution, with one corrected semi-normal-equations step (Björck) for the
    targets whose intercept is estimated to have fewer than 12 correct digits of its own size
    while ``w`` is accurate: ``w += M^-1 (X_c'S(y_c - X_c w) - Lambda w)`` with the residual
    computed from the data, which brings ``w`` (and so ``b``) from the accuracy of the normal
    equations to about that of a QR solve, at the cost of two passes over X. ``inverse(alphas,
    rhs)`` applies ``M^-1`` with the factorization already made. Also returns the targets that
    still need ``"refine"`` (estimated error above ``10^-12`` on the scale that matters).
    """
    err_b, err_b_own = _intercept_errors(err_w, stats, sol)
    refine = np.maximum(err_w, err_b) > ACCURACY_TARGET
    need = np.flatnonzero(refine)
    cols = np.flatnonzero((err_b_own > ACCURACY_TARGET) & ~refine)
    if cols.size:
        t = sol.coef.shape[1]
        a = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (t,))[cols]
        pf = np.ones(X.shape[1]) if penalty_factor is None else penalty_factor
        coef, intercept = sol.coef.copy(), np.array(sol.intercept, dtype=np.float64)
        step = _residual_gradient(X, y2[:, cols], s, stats.x_mean, stats.y_mean[cols],
                                  coef[:, cols], pf[:, None] * a)
        coef[:, cols] += inverse(a, step)
        intercept[cols] = stats.y_mean[cols] - stats.x_mean @ coef[:, cols]
        sol = RidgeSolution(coef, intercept, sol.solver, sol.n_iter, sol.rcond)
    return sol, need


def _solve_eigen(X, y2, s, alphas, penalty_factor, fit_intercept) -> RidgeSolution:
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

    Raises
    ------
    ValueError
        If the solution is not representable in float64 even after rescaling the data.

    Notes
    -----
    Data whose squares leave float64's range are solved rescaled (module docstring).
    """
    plan = plan_solver(solver, X, penalty_factor)
    kwargs = {"plan": plan, "fit_intercept": fit_intercept, "tol": tol, "max_iter": max_iter}
    if plan.method != "cholesky" and not sp.issparse(X) and (
            out_of_range_scale(X) != 1.0 or out_of_range_scale(y2) != 1.0):
        # these solvers read X itself, where squares can overflow to a finite wrong answer
        return _solve_rescaled(X, y2, sample_weight, alphas, penalty_factor, kwargs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sol = _solve_ridge(X, y2, sample_weight, alphas, penalty_factor, stats=stats,
                               **kwargs)
        except (np.linalg.LinAlgError, _OutOfRange):
            sol = None
    if sol is not None and is_finite(sol):
        for w in caught:  # the warnings of the attempt that is kept
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return sol
    return _solve_rescaled(X, y2, sample_weight, alphas, penalty_factor, kwargs)


def is_finite(sol: RidgeSolution) -> bool:
    """Whether every coefficient and intercept is finite."""
    return bool(np.all(np.isfinite(sol.coef)) and np.all(np.isfinite(sol.intercept)))


def max_abs(a) -> float:
    """Largest absolute value of a dense or sparse array (0 for an empty one)."""
    values = a.data if sp.issparse(a) else a
    if values.size == 0:
        return 0.0
    return float(max(np.max(values), -np.min(values)))


#: Largest absolute values outside [SAFE_LOW, SAFE_HIGH] make squares and cross products
#: over- or underflow float64 (with room for sums over many rows).
SAFE_LOW, SAFE_HIGH = 1e-100, 1e100


def out_of_range_scale(a) -> float:
    """``max |a|`` if it lies outside ``[SAFE_LOW, SAFE_HIGH]`` (divide by it), else 1."""
    c = max_abs(a)
    return c if (c > SAFE_HIGH or 0 < c < SAFE_LOW) else 1.0


def varies(X) -> bool:
    """Whether some column of X is not constant."""
    if sp.issparse(X):
        return bool(np.any(X.max(axis=0).toarray() != X.min(axis=0).toarray()))
    return bool(np.any(np.max(X, axis=0) != np.min(X, axis=0)))


class _OutOfRange(Exception):
    """The data's squares over- or underflow float64: solve the rescaled problem."""


def _stats_out_of_range(stats: GramStats, X) -> bool:
    """Whether the column means and spreads say the squares left float64's range."""
    spread = np.sqrt(np.max(np.diag(stats.xx), initial=0.0) / stats.weight_sum)
    size = max(float(np.max(np.abs(stats.x_mean), initial=0.0)), float(spread))
    if not np.isfinite(size) or size > SAFE_HIGH:
        return True
    return spread < SAFE_LOW and varies(X)


def _penalty_dominated(X, y2, s, alphas, penalty_factor, fit_intercept) -> RidgeSolution:
    """``w = X_c'S y_c / (alpha pf)``: the solution when alpha / c_x^2 overflows (exact to
    a relative ``c_x^2 / alpha``, below 1e-300 there), computed in X's own units."""
    if penalty_factor is not None and np.any(penalty_factor <= 0):
        raise ValueError(
            "alpha is too large for these features' scale to keep unpenalized features "
            "(penalty_factor 0) in float64; rescale X (e.g. StandardScaler).")
    stats = GramStats.from_arrays(X, y2, s)
    _xx, xy, x_mean, y_mean = moments(stats, fit_intercept)
    pf = np.ones(X.shape[1]) if penalty_factor is None else penalty_factor
    lam = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (y2.shape[1],))
    coef = xy / pf[:, None] / lam[None, :]
    return RidgeSolution(coef, y_mean - x_mean @ coef, "cholesky")


def _solve_rescaled(X, y2, s, alphas, penalty_factor, kwargs) -> RidgeSolution:
    cx, cy = max_abs(X) or 1.0, max_abs(y2) or 1.0
    with np.errstate(over="ignore"):
        scaled_alphas = np.asarray(alphas, dtype=np.float64) / cx / cx
    if not np.all(np.isfinite(scaled_alphas)):
        return _penalty_dominated(X, y2, s, alphas, penalty_factor, kwargs["fit_intercept"])
    Xs = X * (1.0 / cx) if sp.issparse(X) else np.divide(X, cx, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            sol = _solve_ridge(Xs, y2 / cy, s, scaled_alphas, penalty_factor, **kwargs)
        except np.linalg.LinAlgError:
            sol = None
        if sol is not None:
            sol = RidgeSolution(sol.coef / cx * cy, sol.intercept * cy, sol.solver,
                                sol.n_iter, sol.rcond)
    if sol is None or not is_finite(sol):
        raise ValueError(
            f"The ridge solution is not representable in float64 for this data (largest "
            f"|x| = {cx:.3g}, largest |y| = {cy:.3g}, alpha up to {np.max(alphas):.3g}): the "
            "coefficients would overflow. Rescale X and y (e.g. "
            "sklearn.preprocessing.StandardScaler, or divide y by a constant and multiply "
            "the coefficients back)."
        )
    return sol


def _solve_ridge(X, y2, sample_weight, alphas, penalty_factor, *, plan: SolverPlan,
                 fit_intercept, tol, max_iter, stats=None) -> RidgeSolution:
    """Run ``plan`` (the rescaling of :func:`solve_ridge` is done by the caller)."""
    method = plan.method
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
    if plan.dual:
        Xs, scale = _scaled(X, penalty_factor)
        return _unscale(solve_dual(Xs, y2, sample_weight, alphas, fit_intercept=fit_intercept),
                        scale)
    if stats is None:
        stats = GramStats.from_arrays(X, y2, sample_weight)
    if _stats_out_of_range(stats, X):
        raise _OutOfRange
    sol = solve_gram(stats, alphas, penalty_factor, fit_intercept=fit_intercept)
    if not plan.check_accuracy:
        return sol
    t = y2.shape[1]
    err_w = np.full(t, np.inf if not sol.rcond or sol.rcond <= 0 else EPS / sol.rcond)
    if not fit_intercept:
        return refine_where(X, y2, sample_weight, alphas, penalty_factor, fit_intercept, sol,
                            np.flatnonzero(err_w > ACCURACY_TARGET))

    def inverse(a, rhs):
        return solve_gram(stats, a, penalty_factor, rhs=rhs).coef

    sol, need = polish(X, y2, sample_weight, stats, sol, alphas, penalty_factor, err_w, inverse)
    return refine_where(X, y2, sample_weight, alphas, penalty_factor, fit_intercept, sol, need)


def refine_where(X, y2, s, alphas, penalty_factor, fit_intercept, sol: RidgeSolution,
                 need: np.ndarray) -> RidgeSolution:
    """``sol`` with the targets ``need`` re-solved by ``"refine"`` (where that is possible)."""
    if not need.size:
        return sol
    cols_alpha = alphas if np.size(alphas) == 1 else np.asarray(alphas)[need]
    refined = solve_refined(np.asarray(X, dtype=np.float64), y2[:, need], s, cols_alpha,
                            penalty_factor, fit_intercept=fit_intercept)
    return sol if refined is None else _merge(sol, refined, need)


def _merge(sol: RidgeSolution, refined: RidgeSolution, cols: np.ndarray) -> RidgeSolution:
    """``sol`` with the targets ``cols`` replaced by ``refined``'s."""
    if cols.size == sol.coef.shape[1]:
        return refined
    coef, intercept = sol.coef.copy(), np.array(sol.intercept, dtype=np.float64, copy=True)
    coef[:, cols] = refined.coef
    intercept[cols] = refined.intercept
    return RidgeSolution(coef, intercept, f"{sol.solver}+{refined.solver}", refined.n_iter,
                         sol.rcond)


def _refine_or_fallback(X, y2, s, alphas, penalty_factor, fit_intercept) -> RidgeSolution:
    X = np.asarray(X, dtype=np.float64)
    sol = solve_refined(X, y2, s, alphas, penalty_factor, fit_intercept=fit_intercept)
    if sol is not None:
        return sol
    if penalty_factor is None or np.all(penalty_factor > 0):
        return solve_svd(X, y2, s, alphas, penalty_factor, fit_intercept=fit_intercept)
    return solve_gram(GramStats.from_arrays(X, y2, s), alphas, penalty_factor,
                      fit_intercept=fit_intercept)


def solve_from_spectrum(spectrum: RidgeSpectrum, X, y2, sample_weight, alphas,
                        stats: GramStats | None) -> RidgeSolution:
    """The ridge solution at ``alphas`` (one per target, or one) from a spectrum already made.

    This is RidgeCV's final refit: no new factorization where the eigendecomposition answers as
    accurately. In the dual (n < p) it always does. In the primal it does when no direction was
    dropped; with the spectral condition number ``(d_1 + alpha) / (d_p + alpha)`` the estimated
    error is checked as in :func:`solve_ridge` (the intercept corrected by one step where only
    it misses 12 digits), and targets that need more go through :func:`solve_ridge`.
    """
    t = y2.shape[1]
    alphas = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (t,))
    sol = spectrum.solution(alphas)
    if spectrum.dual_basis is not None:
        return sol
    d = spectrum.eigenvalues
    if stats is None or d.size < X.shape[1] or sp.issparse(X):
        return solve_ridge(X, y2, sample_weight, alphas, fit_intercept=spectrum.fit_intercept,
                           stats=stats)
    with np.errstate(divide="ignore"):
        err_w = EPS * (d[0] + alphas) / (d[-1] + alphas)
    if spectrum.fit_intercept:
        sol, need = polish(X, y2, sample_weight, stats, sol, alphas, None, err_w,
                           spectrum.inverse)
    else:
        need = np.flatnonzero(err_w > ACCURACY_TARGET)
    if not need.size:
        return sol
    redo = solve_ridge(X, y2[:, need], sample_weight, alphas[need],
                       fit_intercept=spectrum.fit_intercept, stats=stats.columns(need))
    return _merge(sol, redo, need)
