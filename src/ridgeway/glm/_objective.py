"""Problem data and the penalized objective shared by every GLM solver.

The parameters are one array ``theta`` of shape ``(n_params, n_outputs)``: the coefficients
in the first ``n_features`` rows and, with an intercept, the intercept in the last row. The
objective is::

    f(theta) = sum_i s_i loss(y_i, x_i W + b) + penalty(W)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

Array = np.ndarray


@dataclass(frozen=True)
class GLMData:
    """Design matrix, encoded target and sample weights of one fit.

    Attributes
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
        The target as the loss expects it (``+1/-1``, one-hot rows, counts).
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    """

    X: Any
    y: Array
    sample_weight: Array
    fit_intercept: bool = True

    def __post_init__(self) -> None:
        # several outputs: column-major (n, K) arrays make the per-sample reductions over
        # the K outputs (softmax) contiguous passes, about twice as fast
        if self.y.ndim == 2 and self.y.shape[1] > 1 and not self.y.flags.f_contiguous:
            object.__setattr__(self, "y", np.asfortranarray(self.y))

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y.shape[1]

    @property
    def n_params(self) -> int:
        return self.n_features + int(self.fit_intercept)

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)

    def subset(self, rows: Array) -> GLMData:
        """The same problem restricted to ``rows`` (a CV training or test fold)."""
        return GLMData(self.X[rows], self.y[rows], self.sample_weight[rows], self.fit_intercept)

    def predictor(self, theta: Array) -> Array:
        """Linear predictor ``X W + b`` of shape (n_samples, n_outputs)."""
        p = self.n_features
        if sp.issparse(self.X) or theta.shape[1] == 1:
            eta = np.asarray(self.X @ theta[:p])
        else:
            eta = (theta[:p].T @ self.X.T).T  # column-major, see __post_init__
        if self.fit_intercept:
            eta += theta[p]
        return eta

    def back_project(self, g_eta: Array) -> Array:
        """``X~' G``: from per-sample derivatives (n, K) to parameter space (n_params, K)."""
        gw = np.asarray(self.X.T @ g_eta)
        if self.fit_intercept:
            return np.vstack([gw, g_eta.sum(axis=0, keepdims=True)])
        return gw

    def weighted_gram(self, a: Array, nonnegative: bool) -> Array:
        """``X~' diag(a) X~`` with ``X~ = [X, 1]`` when fitting an intercept."""
        X = self.X
        if sp.issparse(X):
            xtax = np.asarray((X.T @ X.multiply(a[:, None]).tocsr()).todense())
        elif nonnegative:
            xtax = _sqrt_weighted_gram(np.asarray(X, dtype=np.float64), np.sqrt(a))
        else:
            xtax = X.T @ (X * a[:, None])
        if not self.fit_intercept:
            return xtax
        xta = np.asarray(X.T @ a).ravel()
        p = self.n_features
        out = np.empty((p + 1, p + 1))
        out[:p, :p] = xtax
        out[:p, p] = xta
        out[p, :p] = xta
        out[p, p] = a.sum()
        return out


_GRAM_CHUNK = 2048


def _sqrt_weighted_gram(X: Array, r: Array) -> Array:
    """``Z'Z`` with ``Z = diag(r) X``: rows scaled a cache-sized chunk at a time into one
    buffer, each chunk's ``z'z`` added (numpy runs ``z.T @ z`` of one buffer as a syrk: half
    the flops of a product; no n x p copy).

    numpy's own BLAS, not scipy's: the two ship separate OpenBLAS pools, and calls that
    alternate between them make the threads of both spin against each other on few cores
    (an ALO ``LogisticRegressionCV`` fit ran 1.5x slower with this gram through scipy's
    ``dsyrk``).
    """
    n, p = X.shape
    out = np.zeros((p, p))
    if n == 0 or p == 0:
        return out
    buf = np.empty((min(n, _GRAM_CHUNK), p))
    for i in range(0, n, _GRAM_CHUNK):
        z = buf[: min(_GRAM_CHUNK, n - i)]
        np.multiply(X[i : i + _GRAM_CHUNK], r[i : i + _GRAM_CHUNK, None], out=z)
        out += z.T @ z
    return out


@dataclass(frozen=True)
class Objective:
    """``sum_i s_i loss(y_i, eta_i) + penalty(W)`` for one data set, loss and penalty."""

    data: GLMData
    loss: Any
    penalty: Any

    def zeros(self) -> Array:
        return np.zeros((self.data.n_params, self.data.n_outputs))

    def value(self, theta: Array, eta: Array | None = None) -> float:
        d = self.data
        if eta is None:
            eta = d.predictor(theta)
        return self.loss.value(d.y, eta, d.sample_weight) + self.penalty.value(
            theta[: d.n_features]
        )

    def value_gradient(self, theta: Array, eta: Array | None = None) -> tuple[float, Array, Array]:
        """Objective value, its gradient (n_params, n_outputs) and the linear predictor."""
        d = self.data
        if eta is None:
            eta = d.predictor(theta)
        lval, g_eta = self.loss.gradient(d.y, eta, d.sample_weight)
        grad = d.back_project(g_eta)
        coef = theta[: d.n_features]
        grad[: d.n_features] += self.penalty.gradient(coef)
        return lval + self.penalty.value(coef), grad, eta

    def hessian_vp(self, hess_op, v: Array) -> Array:
        """Hessian-vector product given the loss's operator at the current point."""
        d = self.data
        hv = d.back_project(hess_op(d.predictor(v)))
        hv[: d.n_features] += self.penalty.hessian_vp(v[: d.n_features])
        return hv

    def gradient_norm_at_zero(self) -> float:
        """``||grad f(0)||_inf``, the reference of the relative stopping rule."""
        d = self.data
        zero = self.zeros()
        _, g_eta = self.loss.gradient(d.y, np.zeros((d.X.shape[0], d.n_outputs)), d.sample_weight)
        grad = d.back_project(g_eta)
        grad[: d.n_features] += self.penalty.gradient(zero[: d.n_features])
        return float(np.max(np.abs(grad))) if grad.size else 0.0

    def loss_hessian(self, eta: Array, rows: Array | None = None) -> Array:
        """Hessian of the data term, output by output: block ``(k, l)`` is ``X~' diag(A_kl) X~``.

        Indexing follows ``theta.ravel(order="F")`` (all parameters of output 0 first). With
        ``rows``, the unbiased estimate ``n / len(rows) * sum_{i in rows} ...`` (a sketch).
        """
        d = self.data
        blocks = self.loss.hessian(d.y, eta, d.sample_weight)
        if rows is not None:
            blocks = blocks[rows] * (d.X.shape[0] / len(rows))
            d = GLMData(d.X[rows], d.y[rows], d.sample_weight[rows], d.fit_intercept)
        P, K = d.n_params, d.n_outputs
        if K == 1:
            return d.weighted_gram(np.ascontiguousarray(blocks[:, 0, 0]), nonnegative=True)
        H = np.empty((P * K, P * K))
        for k in range(K):
            for m in range(k, K):
                blk = d.weighted_gram(np.ascontiguousarray(blocks[:, k, m]), nonnegative=k == m)
                H[k * P : (k + 1) * P, m * P : (m + 1) * P] = blk
                H[m * P : (m + 1) * P, k * P : (k + 1) * P] = blk.T
        return H

    def penalized(self, loss_hessian: Array) -> Array:
        """Full Hessian: the data-term Hessian plus ``alpha Gamma'Gamma`` in each output block.

        For a shift-invariant loss (softmax) with intercepts, a rank-one term along the null
        direction "same constant added to every intercept" makes it definite without changing
        Newton steps (the gradient is orthogonal to that direction).
        """
        d = self.data
        P, K = d.n_params, d.n_outputs
        H = loss_hessian.copy()
        for k in range(K):
            view = H[k * P : (k + 1) * P, k * P : (k + 1) * P]
            self.penalty.add_to_diagonal(view, d.n_features)
        if getattr(self.loss, "shift_invariant", False) and d.fit_intercept and K > 1:
            rows = np.arange(K) * P + P - 1
            H[np.ix_(rows, rows)] += np.mean(np.diag(H)[rows])
        return H

    def hessian(self, eta: Array) -> Array:
        """Full Hessian of the objective at the linear predictor ``eta``."""
        return self.penalized(self.loss_hessian(eta))
