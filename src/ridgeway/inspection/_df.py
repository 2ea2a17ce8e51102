"""Effective degrees of freedom of a fitted L2 GLM at its solution.

For ``sum_i s_i loss(y_i, eta_i) + alpha/2 ||w||^2`` with an unpenalized intercept the
effective degrees of freedom are the trace of the penalized hat matrix of the last Newton
(IRLS) step at the solution, with the intercept profiled out::

    df = tr( S (S + alpha I)^{-1} ) = sum_j sigma_j^2 / (sigma_j^2 + alpha),
    S  = A_w' (I - P_b) A_w,

where ``A = H^{1/2} [X, 1]`` is the square root of the data term's Hessian (``H`` holds
``s_i * loss''(eta_i)``; per row a K x K block for the multinomial loss), ``A_w`` its columns of
the coefficients and ``P_b`` the projection onto its intercept columns. For one response this
is ``tr(X_c' H X_c (X_c' H X_c + alpha I)^{-1})`` with ``H``-weighted centering, and for the
squared loss (``H = s``) exactly ridge's ``sum d_j / (d_j + alpha)``. Like ridge's df it does
not count the intercept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, softmax

__all__ = ["glm_df"]

#: largest square-root design (entries) formed for the multinomial loss
_MAX_ENTRIES = 20_000_000


def _trace(A_w: np.ndarray, A_b: np.ndarray, alpha: float) -> float:
    if A_b.shape[1]:
        q, r = np.linalg.qr(A_b)
        keep = np.abs(np.diag(r)) > 1e-12 * max(1.0, np.abs(r).max())
        q = q[:, keep]
        A_w = A_w - q @ (q.T @ A_w)
    if A_w.shape[0] < A_w.shape[1]:
        ev = np.linalg.eigvalsh(A_w @ A_w.T)
    else:
        ev = np.linalg.eigvalsh(A_w.T @ A_w)
    ev = np.clip(ev, 0.0, None)
    if alpha == 0:
        return float(np.sum(ev > 1e-10 * max(ev.max(initial=0.0), 1e-300)))
    return float(np.sum(ev / (ev + alpha)))


def _binary(X: np.ndarray, h: np.ndarray, alpha: float, intercept: bool) -> float:
    root = np.sqrt(np.clip(h, 0.0, None))
    A_w = X * root[:, None]
    A_b = root[:, None] if intercept else np.empty((len(h), 0))
    return _trace(A_w, A_b, alpha)


def glm_df(kind: str, est: Any, X: np.ndarray, y: np.ndarray | None = None,
           sample_weight: np.ndarray | None = None) -> float | None:
    """Effective degrees of freedom of a fitted ridgeway GLM (see the module docstring).

    Parameters
    ----------
    kind : {"ridge", "logistic", "poisson", "svm"}
    est : fitted estimator with ``coef_``, ``intercept_`` and ``alpha`` (or ``alpha_``)
    X : ndarray of shape (n, p)
        The training design the model was fitted on.
    y : ndarray of shape (n,), optional
        The training labels (needed for the SVM: ``loss'' = 2`` on the rows inside the margin).
    sample_weight : ndarray of shape (n,), optional

    Returns
    -------
    float or None
        ``None`` where the multinomial square-root design would be too large to form.
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    alpha = float(getattr(est, "alpha_", None) or getattr(est, "alpha", 0.0) or 0.0)
    intercept = bool(getattr(est, "fit_intercept", True))
    coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
    b = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
    eta = X @ coef.T + b
    if kind == "ridge":
        return _binary(X, s, alpha, intercept)
    if kind == "poisson":
        return _binary(X, s * np.exp(eta[:, 0]), alpha, intercept)
    if kind == "svm":  # squared hinge: loss'' = 2 on the rows inside the margin
        classes = np.asarray(est.classes_)
        y = np.asarray(y)
        pairs = [(eta[:, 0], classes[-1])] if len(classes) == 2 else [
            (eta[:, k], c) for k, c in enumerate(classes)]
        return float(sum(_binary(X, s * 2.0 * (np.where(y == c, 1.0, -1.0) * e < 1.0),
                                 alpha, intercept) for e, c in pairs))
    if eta.shape[1] == 1:  # binary logistic
        p = expit(eta[:, 0])
        return _binary(X, s * p * (1 - p), alpha, intercept)
    K, (n, d) = eta.shape[1], X.shape
    if n * K * K * (d + 1) > _MAX_ENTRIES:
        return None
    P = softmax(eta, axis=1)
    # per row, H_i = diag(p) - p p' = R' R with R = diag(sqrt p) (I - 1 p')
    R = np.sqrt(P)[:, :, None] * (np.eye(K)[None] - P[:, None, :])
    R *= np.sqrt(s)[:, None, None]
    A_w = np.einsum("ikl,ij->iklj", R, X).reshape(n * K, K * d)
    A_b = R.reshape(n * K, K) if intercept else np.empty((n * K, 0))
    return _trace(A_w, A_b, alpha)
