"""L1-penalized linear classifiers by accelerated proximal gradient (FISTA), on a path.

For a binary logistic, multinomial or squared-hinge model this minimizes, over ``W`` (one
column per class, or one column for two classes) and an unpenalized intercept ``b``::

    1/n * sum_i loss(y_i, x_i W + b) + lam * ||W||_1

by FISTA with adaptive restart, warm-started down a decreasing grid of ``lam``. The features
are expected standardized, so one step size ``1/L`` serves the whole path. Arrays in, arrays
out: nothing here imports scikit-learn.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax

__all__ = ["l1_loss_grad", "l1_path"]


def l1_loss_grad(loss: str, Y: np.ndarray, eta: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean loss and its gradient with respect to ``eta`` (both over n rows)."""
    n = len(Y)
    if loss == "logistic":
        m = Y * eta
        return float(-log_expit(m).sum() / n), -Y * expit(-m) / n
    if loss == "squared_hinge":
        r = np.maximum(0.0, 1.0 - Y * eta)
        return float((r ** 2).sum() / n), -2.0 * Y * r / n
    lse = logsumexp(eta, axis=1)
    value = float((lse - (Y * eta).sum(axis=1)).sum() / n)
    return value, (softmax(eta, axis=1) - Y) / n


def _lipschitz(X: np.ndarray, loss: str) -> float:
    """A bound of the gradient's Lipschitz constant of the mean loss in ``(W, b)``."""
    n = X.shape[0]
    sigma2 = np.linalg.norm(X, 2) ** 2 + n  # ||[X, 1]||_2^2 <= ||X||^2 + n
    return {"logistic": 0.25, "squared_hinge": 2.0, "multinomial": 0.5}[loss] * sigma2 / n


def _fista(X, Y, loss, lam, W, b, step, tol, max_iter):
    def smooth(W, b):
        value, g = l1_loss_grad(loss, Y, X @ W + b)
        return value, X.T @ g, g.sum(axis=0)

    V, c, t = W.copy(), b.copy(), 1.0
    for it in range(max_iter):
        _, gW, gb = smooth(V, c)
        Z = V - step * gW
        W_new = np.sign(Z) * np.maximum(np.abs(Z) - step * lam, 0.0)
        b_new = c - step * gb
        dW, db = W_new - W, b_new - b
        if np.sum(dW * (V - W_new)) + np.sum(db * (c - b_new)) > 0:  # restart
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        V = W_new + (t - 1.0) / t_new * dW
        c = b_new + (t - 1.0) / t_new * db
        W, b, t = W_new, b_new, t_new
        change = max(np.max(np.abs(dW), initial=0.0), np.max(np.abs(db), initial=0.0))
        if change <= tol * max(1.0, np.max(np.abs(W), initial=0.0)):
            return W, b, it + 1
    return W, b, max_iter


def _intercept_only(Y: np.ndarray, loss: str) -> np.ndarray:
    if loss == "multinomial":
        freq = np.clip(Y.mean(axis=0), 1e-12, None)
        return np.log(freq) - np.log(freq).mean()
    if loss == "logistic":
        p = np.clip((Y[:, 0] > 0).mean(), 1e-12, 1 - 1e-12)
        return np.array([np.log(p / (1 - p))])
    return np.array([Y[:, 0].mean()])  # squared hinge: least squares on +-1 (all active)


def l1_path(X: np.ndarray, Y: np.ndarray, loss: str, lams: np.ndarray | None = None, *,
            n_lams: int = 10, ratio: float = 1e-2, tol: float = 1e-6, max_iter: int = 2000
            ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The L1 path on a decreasing grid of ``lam``, each point warm-started from the last.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    Y : ndarray of shape (n, k)
        ``+-1`` in one column (logistic, squared hinge) or one-hot (multinomial).
    loss : {"logistic", "squared_hinge", "multinomial"}
    lams : ndarray, optional
        Default: ``n_lams`` values from ``lam_max`` down to ``ratio * lam_max``.
    tol : float
        Stop when no coefficient moves by more than ``tol`` (relative to the largest).

    Returns
    -------
    lams : ndarray
    fits : list of (W, b)
    """
    b0 = _intercept_only(Y, loss)
    W = np.zeros((X.shape[1], Y.shape[1]))
    if lams is None:
        _, g = l1_loss_grad(loss, Y, np.broadcast_to(b0, Y.shape))
        lam_max = float(np.max(np.abs(X.T @ g))) or 1.0
        lams = np.geomspace(lam_max, lam_max * ratio, n_lams)
    step = 1.0 / _lipschitz(X, loss)
    fits, b = [], b0.copy()
    for lam in lams:
        W, b, _ = _fista(X, Y, loss, float(lam), W, b, step, tol, max_iter)
        fits.append((W.copy(), b.copy()))
    return np.asarray(lams), fits
