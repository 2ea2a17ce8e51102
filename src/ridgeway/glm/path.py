"""Regularization paths: one loop over a decreasing alpha grid with warm starts.

Along a path the objective is, for each ``alpha`` of the grid,
``sum_i s_i loss(y_i, x_i W + b) + alpha/2 ||Gamma (W - w0)||^2``; the solution at one alpha
starts the solver at the next (smaller) one, so each fit after the first costs a few steps.
:func:`alo_predictor` turns one fitted point of the path into approximate leave-one-out
linear predictors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._objective import GLMData, Objective
from .solvers import FitResult, inverse_factor, solve

Array = np.ndarray


@dataclass(frozen=True)
class PathResult:
    """Solutions along a grid of alphas, in decreasing order of alpha.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_alphas, n_features, n_outputs)
    intercepts : ndarray of shape (n_alphas, n_outputs)
    n_iter : ndarray of shape (n_alphas,)
    converged : ndarray of shape (n_alphas,), bool
    """

    alphas: Array
    coefs: Array
    intercepts: Array
    n_iter: Array
    converged: Array
    fit_intercept: bool = True

    def theta(self, index: int) -> Array:
        """Parameters at ``alphas[index]`` (the intercept as a last row when fitted)."""
        if not self.fit_intercept:
            return self.coefs[index]
        return np.vstack([self.coefs[index], self.intercepts[index][None, :]])


def fit_path(
    data: GLMData,
    loss: Any,
    penalty: Any,
    alphas: Array,
    *,
    solver: str = "auto",
    tol: float = 1e-8,
    max_iter: int = 100,
    theta0: Array | None = None,
) -> PathResult:
    """Fit ``sum_i s_i loss_i + alpha/2 ||Gamma (W - w0)||^2`` for each alpha, warm-started.

    Parameters
    ----------
    data : GLMData
    loss : a loss of :mod:`ridgeway.glm.losses`
    penalty : L2Penalty
        Its ``alpha`` is replaced by each value of the grid.
    alphas : ndarray
        The grid; it is walked from the largest to the smallest value.
    solver, tol, max_iter
        As in :func:`ridgeway.glm.solvers.solve`.
    theta0 : ndarray, optional
        Start of the first (largest) alpha.

    Returns
    -------
    PathResult
        Ordered by decreasing alpha.
    """
    alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
    fits: list[FitResult] = []
    theta, curvature, previous = theta0, None, None
    for alpha in alphas:
        obj = Objective(data, loss, penalty.with_alpha(alpha))
        if curvature is not None:
            theta = _predict(obj, theta, curvature, alpha - previous)
        fit = solve(obj, solver, tol=tol, max_iter=max_iter, theta0=theta, curvature=curvature)
        fits.append(fit)
        theta, curvature, previous = _warm_theta(fit, data.fit_intercept), fit.curvature, alpha
    return PathResult(
        alphas=alphas,
        coefs=np.stack([f.coef for f in fits]),
        intercepts=np.stack([f.intercept for f in fits]),
        n_iter=np.array([f.n_iter for f in fits]),
        converged=np.array([f.converged for f in fits]),
        fit_intercept=data.fit_intercept,
    )


def _predict(obj: Objective, theta: Array, curvature: Array, delta: float) -> Array:
    """First-order predictor along the path (implicit function theorem).

    At the previous solution ``grad f_prev = 0``, so the gradient of the new objective is
    ``delta * [Gamma'Gamma (W - w0); 0]``; one Newton step with the handed-over data-term
    Hessian ``C`` gives ``theta - delta * (C + alpha Gamma'Gamma)^{-1} [Gamma'Gamma (W - w0); 0]``.
    """
    P, K = theta.shape
    p = obj.data.n_features
    unit = np.zeros_like(theta)
    unit[:p] = obj.penalty.with_alpha(1.0).gradient(theta[:p])
    factor = inverse_factor(obj.penalized(curvature))
    g = unit.ravel(order="F")
    return theta - delta * (factor.T @ (factor @ g)).reshape((P, K), order="F")


def _warm_theta(fit: FitResult, fit_intercept: bool) -> Array:
    return fit.theta if fit_intercept else fit.coef


def alo_predictor(obj: Objective, theta: Array) -> Array:
    """Approximate leave-one-out linear predictors at a solution (Rahnama Rad & Maleki, 2020).

    With ``G_i = s_i dloss/deta_i``, curvature blocks ``A_i = s_i d^2loss/deta_i^2`` (K x K),
    the full Hessian ``H = sum_i J_i' A_i J_i + alpha Gamma'Gamma`` (intercept unpenalized) and
    ``Q_i = J_i H^{-1} J_i'``, one Newton step from the full-data solution without sample
    ``i``, made exact by Woodbury, gives::

        eta_{-i} = eta_i + (I - Q_i A_i)^{-1} Q_i G_i

    For one output this is ``eta_i + (g_i / l''_i) h_i / (1 - h_i)`` with leverage
    ``h_i = s_i l''_i x~_i' H^{-1} x~_i``. The cost is one Hessian and one triangular inverse,
    about one Newton step.

    Parameters
    ----------
    obj : Objective
    theta : ndarray of shape (n_params, n_outputs)
        The minimizer of ``obj``.

    Returns
    -------
    eta_loo : ndarray of shape (n_samples, n_outputs)
    """
    d = obj.data
    eta = d.predictor(theta)
    _, G = obj.loss.gradient(d.y, eta, d.sample_weight)
    A = obj.loss.hessian(d.y, eta, d.sample_weight)
    H = obj.hessian(eta)
    P, K = d.n_params, d.n_outputs
    inv_l = inverse_factor(H)
    Z = [d.predictor(inv_l[:, k * P : (k + 1) * P].T) for k in range(K)]
    if K == 1:
        q = np.einsum("ij,ij->i", Z[0], Z[0])
        denom = np.maximum(1.0 - q * A[:, 0, 0], 1e-12)
        return eta + (q * G[:, 0] / denom)[:, None]
    Q = np.empty((len(eta), K, K))
    for k in range(K):
        for m in range(k, K):
            Q[:, k, m] = Q[:, m, k] = np.einsum("ij,ij->i", Z[k], Z[m])
    lhs = np.eye(K)[None] - Q @ A
    rhs = Q @ G[:, :, None]
    try:
        step = np.linalg.solve(lhs, rhs)[:, :, 0]
    except np.linalg.LinAlgError:
        step = np.full(eta.shape, np.nan)
    bad = ~np.all(np.isfinite(step), axis=1)
    if bad.any():
        # leverage 1 in some direction (the fit interpolates the sample): the pseudo-inverse
        # keeps the correction finite, as the clamp does for one output
        step[bad] = (np.linalg.pinv(lhs[bad]) @ rhs[bad])[:, :, 0]
    return eta + step


def null_model_curvature(data: GLMData, loss: Any, max_dense: int = 2000) -> Array:
    """Spectrum of the coefficient curvature at the intercept-only model.

    With ``c_i`` the mean diagonal curvature ``trace(A_i) / K`` of sample ``i`` at the best
    constant predictor, returns the eigenvalues of ``X_c' diag(c) X_c`` (``X`` centered with
    weights ``c`` when fitting an intercept). For more than ``max_dense`` features (or sparse
    ``X``) only the diagonal of that matrix is returned, a cheap stand-in for its spectrum.
    Used to build data-driven alpha grids.
    """
    from .solvers import initial_theta

    obj = Objective(data, loss, None)
    theta = initial_theta(obj)
    eta = data.predictor(np.zeros((data.n_params, data.n_outputs)) if theta is None else theta)
    blocks = loss.hessian(data.y, eta, data.sample_weight)
    c = np.einsum("ikk->i", blocks) / data.n_outputs
    X = data.X
    xc = np.asarray(X.T @ c).ravel()
    total = max(float(c.sum()), 1e-300)
    if data.is_sparse or data.n_features > max_dense:
        diag = np.asarray(X.multiply(X).T @ c).ravel() if data.is_sparse else (X * X).T @ c
        return diag - (xc**2 / total if data.fit_intercept else 0.0)
    gram = GLMData(X, data.y, data.sample_weight, False).weighted_gram(c, nonnegative=True)
    if data.fit_intercept:
        gram = gram - np.outer(xc, xc) / total
    return np.linalg.eigvalsh(gram)


_DF_DENSE_PARAMS = 4000


def effective_df(obj: Objective, theta: Array, *, eta: Array | None = None, seed: int = 0,
                 n_probes: int = 8) -> float:
    """Effective degrees of freedom ``tr(H_data (H_data + alpha J)^{-1})`` at a solution,
    less the unpenalized intercepts (as ridge's ``df``: from the rank of the centered design at
    ``alpha = 0`` down to 0 as ``alpha`` grows).

    ``H_data = X~' A X~`` is the data-term Hessian at ``theta`` (``A`` the per-sample curvature
    blocks, ``X~ = [X, 1]``) and ``alpha J`` the penalty's Hessian (zero on the intercept, whose
    one degree of freedom per identified intercept is then subtracted). For the squared loss
    this is ``RidgeSpectrum.df``; at ``alpha = 0`` it is the number of identified coefficients.

    * up to 4000 parameters (times outputs): exactly, from the Hessian; when ``n_samples``
      exceeds ``max(2000, 2 * n_params)`` (one output) or ``max(500, n_params * n_outputs / 2)``
      (several), ``H_data`` is estimated on that many random rows (the trace is a mean over
      rows: its relative error is about ``1 / sqrt(rows)`` of the nonlinear part, 2-5%);
    * above: Hutchinson's estimator
      ``mean_k v_k' (H_data + alpha J)^{-1} H_data v_k`` with
      ``n_probes`` Rademacher vectors and conjugate gradients (relative standard error about
      ``sqrt(2 / n_probes)`` of the spread of the eigenvalue ratios).

    Parameters
    ----------
    obj : Objective
    theta : ndarray of shape (n_params, n_outputs)
        The minimizer of ``obj``.
    eta : ndarray of shape (n_samples, n_outputs), optional
        The linear predictor at ``theta`` when known (saves a pass over ``X``).
    seed : int
        Seed of the row sample and of the probes.
    n_probes : int
        Probes of the stochastic estimate.

    Returns
    -------
    float
    """
    d = obj.data
    P, K = d.n_params, d.n_outputs
    n = d.X.shape[0]
    eta = d.predictor(theta) if eta is None else eta
    rng = np.random.default_rng(seed)
    shift = getattr(obj.loss, "shift_invariant", False) and d.fit_intercept and K > 1
    intercepts = (K - int(shift)) if d.fit_intercept else 0
    if P * K <= _DF_DENSE_PARAMS:
        # rows of the Hessian sketch: its cost (rows * (P K)^2) stays a fraction of a fit's
        limit = max(2000, 2 * P) if K == 1 else max(500, P * K // 2)
        rows = None if n <= limit else np.sort(rng.choice(n, limit, replace=False))
        data_h = obj.loss_hessian(eta, rows)
        factor = inverse_factor(obj.penalized(data_h))
        if not obj.penalty.is_diagonal:
            return float(np.sum((factor @ data_h) * factor)) - intercepts
        # tr(H^-1 H_data) = P K - tr(H^-1 alpha J) - tr(H^-1 S), with S the rank-one term
        # penalized() adds along the common intercept shift (H^-1 S = 1 there)
        inv_diag = np.einsum("ij,ij->j", factor, factor).reshape((P, K), order="F")
        penalty_part = float(np.sum(obj.penalty.hessian_vp(np.ones((d.n_features, K)))
                                    * inv_diag[: d.n_features])) if obj.penalty.alpha else 0.0
        return float(P * K - penalty_part - int(shift)) - intercepts
    import scipy.sparse.linalg as spla

    hess = obj.loss.hessian_operator(d.y, eta, d.sample_weight)
    data_obj = Objective(d, obj.loss, obj.penalty.with_alpha(0.0))

    def data_vp(v: Array) -> Array:
        return data_obj.hessian_vp(hess, v)

    def full_vp(flat: Array) -> Array:
        v = flat.reshape((P, K), order="F")
        out = obj.hessian_vp(hess, v)
        if getattr(obj.loss, "shift_invariant", False) and d.fit_intercept and K > 1:
            out[-1] += v[-1].mean()  # definite along the common intercept shift, as penalized()
        return out.ravel(order="F")

    op = spla.LinearOperator((P * K, P * K), matvec=full_vp, dtype=np.float64)
    total = 0.0
    for _ in range(n_probes):
        v = rng.choice([-1.0, 1.0], size=(P, K))
        rhs = data_vp(v).ravel(order="F")
        x, _ = spla.cg(op, rhs, rtol=1e-3, maxiter=100)
        total += float(v.ravel(order="F") @ x)
    return total / n_probes - intercepts
