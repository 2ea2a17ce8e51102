"""Krylov ridge solvers (CG, LSQR) for sparse or very large X, with implicit centering.

Both minimize ``1/2 ||S^1/2 (y_c - X_c w)||^2 + 1/2 sum_j alpha pf_j w_j^2`` without forming
``X_c = X - 1 x_mean'``: the operator applies ``v -> S^1/2 (X v - 1 (x_mean'v))`` and its
adjoint ``u -> X'S^1/2 u - x_mean (1'S^1/2 u)``, so sparse X stays sparse.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..exceptions import ConvergenceWarning
from .direct import RidgeSolution, _alpha_groups


def centered_operator(X, s: np.ndarray, x_mean: np.ndarray) -> spla.LinearOperator:
    """LinearOperator for ``S^1/2 (X - 1 x_mean')`` (n x p)."""
    root = np.sqrt(s)
    n, p = X.shape

    def matvec(v):
        v = np.ravel(v)
        return root * (np.asarray(X @ v).ravel() - x_mean @ v)

    def rmatvec(u):
        u = np.ravel(u) * root
        return np.asarray(X.T @ u).ravel() - x_mean * u.sum()

    return spla.LinearOperator((n, p), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)


def _prepare(X, y2, s, fit_intercept):
    W = float(np.sum(s))
    if fit_intercept:
        x_mean = np.asarray(s @ X).ravel() / W
        y_mean = s @ y2 / W
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(y2.shape[1])
    return x_mean, y_mean


def solve_iterative(
    X: np.ndarray | sp.spmatrix,
    y2: np.ndarray,
    s: np.ndarray,
    alphas,
    penalty_factor: np.ndarray | None = None,
    *,
    method: str = "cg",
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int | None = None,
) -> RidgeSolution:
    """Solve ridge by CG on the normal equations or by LSQR with damping ``sqrt(alpha)``.

    ``"cg"``: ``(A'A + alpha diag(pf)) w = A'b`` with ``A = S^1/2 X_c``, ``b = S^1/2 y_c``.
    ``"lsqr"``: ``min ||A D^-1/2 v - b||^2 + alpha ||v||^2`` with ``w = D^-1/2 v`` (needs all
    ``pf > 0``). ``tol`` is the relative residual tolerance of the solver.
    """
    x_mean, y_mean = _prepare(X, y2, s, fit_intercept)
    op = centered_operator(X, s, x_mean)
    p = X.shape[1]
    pf = np.ones(p) if penalty_factor is None else penalty_factor
    if method == "lsqr" and np.any(pf <= 0):
        raise ValueError(
            "solver='lsqr' needs strictly positive penalty factors; use solver='cg' or "
            "'cholesky' for unpenalized features."
        )
    rhs = np.sqrt(s)[:, None] * (y2 - y_mean)
    coef = np.empty((p, y2.shape[1]))
    iters = 0
    for alpha, cols in _alpha_groups(alphas, y2.shape[1]):
        for j in cols:
            if method == "lsqr":
                scale = np.sqrt(pf)
                scaled = spla.LinearOperator(
                    op.shape, matvec=lambda v, sc=scale: op.matvec(v / sc),
                    rmatvec=lambda u, sc=scale: op.rmatvec(u) / sc, dtype=np.float64,
                )
                out = spla.lsqr(scaled, rhs[:, j], damp=np.sqrt(alpha), atol=tol, btol=tol,
                                iter_lim=max_iter)
                coef[:, j] = out[0] / scale
                iters = max(iters, int(out[2]))
                if out[1] == 7:  # istop 7: the iteration limit was reached
                    warnings.warn(
                        f"LSQR did not reach tol={tol:g} in {int(out[2])} iterations; increase "
                        "max_iter or use solver='cholesky'.", ConvergenceWarning, stacklevel=3,
                    )
            else:
                normal = spla.LinearOperator(
                    (p, p), matvec=lambda v, a=alpha: op.rmatvec(op.matvec(v)) + a * pf * v,
                    dtype=np.float64,
                )
                count = [0]
                w, info = spla.cg(normal, op.rmatvec(rhs[:, j]), rtol=tol, atol=0.0,
                                  maxiter=max_iter, callback=lambda _, c=count: c.__setitem__(
                                      0, c[0] + 1))
                if info > 0:
                    warnings.warn(
                        f"CG did not reach rtol={tol:g} in {info} iterations; increase max_iter "
                        "or use solver='cholesky'.", ConvergenceWarning, stacklevel=3,
                    )
                coef[:, j] = w
                iters = max(iters, count[0])
    return RidgeSolution(coef, y_mean - x_mean @ coef, method, iters)
