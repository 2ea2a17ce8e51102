"""Per-sample losses of penalized generalized linear models.

Every loss acts on a linear predictor ``eta`` of shape ``(n_samples, n_outputs)`` and a target
``y`` of the same shape (encoded by the estimator: ``+1/-1`` for binary classifiers, one-hot
rows for the multinomial loss, counts for Poisson). With sample weights ``s`` the data term of
the objective is ``sum_i s_i * loss(y_i, eta_i)``.

A loss is a small frozen dataclass: the formula in its docstring, then the operations solvers
ask for:

``value(y, eta, sw)``
    ``sum_i s_i loss(y_i, eta_i)`` (a float).
``gradient(y, eta, sw)``
    ``(value, G)`` with ``G[i] = s_i * d loss / d eta_i`` (same shape as ``eta``).
``hessian(y, eta, sw)``
    Per-sample curvature blocks ``A[i] = s_i * d^2 loss / d eta_i^2`` of shape
    ``(n_samples, n_outputs, n_outputs)`` (a generalized Hessian for the squared hinge).
``hessian_operator(y, eta, sw)``
    A callable ``V -> A[i] @ V[i]`` (row by row), the Hessian-vector product.
``separates(y, eta)``
    Whether ``eta`` separates the data so that the unpenalized loss has no finite minimizer
    (only losses for which that can happen implement it).

Large margins are handled without overflow: ``log(1 + exp(t))`` is
``max(t, 0) + log1p(exp(-|t|))``, the softmax subtracts the row maximum, and no logarithm of
zero is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit, xlogy

Array = np.ndarray
HessianOperator = Callable[[Array], Array]


def _weighted_sum(values: Array, sw: Array) -> float:
    """``sum_i sw_i * sum_k values[i, k]`` (numpy loops, no BLAS thread wake-ups)."""
    return float(np.einsum("i,ik->", sw, values))


def _diagonal_blocks(h: Array) -> Array:
    """Curvature blocks ``(n, K, K)`` from per-output diagonal curvature ``h`` of shape (n, K)."""
    n, k = h.shape
    blocks = np.zeros((n, k, k))
    idx = np.arange(k)
    blocks[:, idx, idx] = h
    return blocks


@dataclass(frozen=True)
class LogisticLoss:
    """Binary logistic loss (negative Bernoulli log-likelihood with the logit link).

    For ``y in {-1, +1}`` and linear predictor ``eta``::

        loss(y, eta) = log(1 + exp(-y * eta))
        d loss / d eta = -y * expit(-y * eta) = expit(eta) - (y + 1) / 2
        d^2 loss / d eta^2 = expit(eta) * (1 - expit(eta))

    ``log(1 + exp(t))`` is computed as ``max(t, 0) + log1p(exp(-|t|))``: finite for any
    margin (and three times faster than numpy's ``logaddexp``).
    """

    def value(self, y: Array, eta: Array, sw: Array) -> float:
        return _weighted_sum(self.pointwise(y, eta), sw)

    def pointwise(self, y: Array, eta: Array) -> Array:
        """Unweighted per-sample losses (same shape as ``eta``)."""
        z = -y * eta
        return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))

    def gradient(self, y: Array, eta: Array, sw: Array) -> tuple[float, Array]:
        # one exp shared by value and derivative: with z = -y*eta and e = exp(-|z|),
        # log(1+exp(z)) = max(z, 0) + log1p(e) and expit(z) = [1 or e] / (1 + e)
        z = -y * eta
        e = np.exp(-np.abs(z))
        value = _weighted_sum(np.maximum(z, 0.0) + np.log1p(e), sw)
        sig = np.where(z >= 0, 1.0, e) / (1.0 + e)
        return value, (-y * sig) * sw[:, None]

    def _curvature(self, eta: Array, sw: Array) -> Array:
        p = expit(eta)
        return p * (1.0 - p) * sw[:, None]

    def hessian(self, y: Array, eta: Array, sw: Array) -> Array:
        return _diagonal_blocks(self._curvature(eta, sw))

    def hessian_operator(self, y: Array, eta: Array, sw: Array) -> HessianOperator:
        h = self._curvature(eta, sw)
        return lambda v: h * v

    def initial_intercept(self, y: Array, sw: Array) -> Array:
        """Log-odds of the weighted share of positives (the intercept-only optimum)."""
        share = np.clip(sw @ (y > 0) / sw.sum(), 1e-12, 1 - 1e-12)
        return np.log(share / (1 - share))

    def separates(self, y: Array, eta: Array) -> bool:
        """True if every sample lies strictly on its side: ``min_i y_i eta_i > 0``."""
        return bool(np.min(y * eta) > 0)


@dataclass(frozen=True)
class MultinomialLoss:
    """Multinomial (softmax) loss with all ``K`` classes parametrized.

    For a one-hot row ``y`` and linear predictors ``eta`` in ``R^K``, ``p = softmax(eta)``::

        loss(y, eta) = logsumexp(eta) - sum_k y_k eta_k
        d loss / d eta = p - y
        d^2 loss / d eta^2 = diag(p) - p p'

    The Hessian is singular along ``(1, ..., 1)``: the L2 penalty on the coefficients makes the
    problem identifiable, and the unpenalized intercepts are reported centered (summing to 0).
    """

    shift_invariant: ClassVar[bool] = True

    def initial_intercept(self, y: Array, sw: Array) -> Array:
        """Centered log class shares (the intercept-only optimum)."""
        log_share = np.log(np.clip(sw @ y / sw.sum(), 1e-12, None))
        return log_share - log_share.mean()

    def _log_softmax(self, eta: Array) -> tuple[Array, Array]:
        shifted = eta - np.max(eta, axis=1, keepdims=True)
        expd = np.exp(shifted)
        norm = expd.sum(axis=1, keepdims=True)
        return shifted - np.log(norm), expd / norm

    def value(self, y: Array, eta: Array, sw: Array) -> float:
        log_p, _ = self._log_softmax(eta)
        return -_weighted_sum(y * log_p, sw)

    def gradient(self, y: Array, eta: Array, sw: Array) -> tuple[float, Array]:
        # in place, few passes over the (n, K) arrays: this runs once per L-BFGS iteration
        e = eta - np.max(eta, axis=1, keepdims=True)
        own = np.einsum("ik,ik->i", y, e)
        np.exp(e, out=e)
        norm = e.sum(axis=1)
        value = float(sw @ (np.log(norm) - own))
        e *= (sw / norm)[:, None]
        e -= y * sw[:, None]
        return value, e

    def hessian(self, y: Array, eta: Array, sw: Array) -> Array:
        _, p = self._log_softmax(eta)
        blocks = -p[:, :, None] * p[:, None, :]
        idx = np.arange(p.shape[1])
        blocks[:, idx, idx] += p
        return blocks * sw[:, None, None]

    def hessian_operator(self, y: Array, eta: Array, sw: Array) -> HessianOperator:
        _, p = self._log_softmax(eta)
        ps = p * sw[:, None]

        def apply(v: Array) -> Array:
            return ps * v - ps * np.sum(p * v, axis=1, keepdims=True)

        return apply

    def separates(self, y: Array, eta: Array) -> bool:
        """True if for every sample its class has the strictly largest linear predictor."""
        own = np.sum(y * eta, axis=1)
        other = np.max(np.where(y > 0, -np.inf, eta), axis=1)
        return bool(np.min(own - other) > 0)


@dataclass(frozen=True)
class SquaredHingeLoss:
    """Squared hinge loss of the L2-loss linear SVM (liblinear's L2R_L2LOSS_SVC).

    For ``y in {-1, +1}``::

        loss(y, eta) = max(0, 1 - y * eta)^2
        d loss / d eta = -2 * y * max(0, 1 - y * eta)
        d^2 loss / d eta^2 = 2 * [y * eta < 1]     (generalized Hessian)

    The loss is once continuously differentiable; Newton methods use the generalized Hessian,
    as liblinear's TRON does.
    """

    def value(self, y: Array, eta: Array, sw: Array) -> float:
        slack = np.maximum(0.0, 1.0 - y * eta)
        return _weighted_sum(slack * slack, sw)

    def pointwise(self, y: Array, eta: Array) -> Array:
        """Unweighted per-sample losses (same shape as ``eta``)."""
        return np.maximum(0.0, 1.0 - y * eta) ** 2

    def gradient(self, y: Array, eta: Array, sw: Array) -> tuple[float, Array]:
        slack = np.maximum(0.0, 1.0 - y * eta)
        return _weighted_sum(slack * slack, sw), (-2.0 * y * slack) * sw[:, None]

    def _curvature(self, y: Array, eta: Array, sw: Array) -> Array:
        return 2.0 * (y * eta < 1.0) * sw[:, None]

    def hessian(self, y: Array, eta: Array, sw: Array) -> Array:
        return _diagonal_blocks(self._curvature(y, eta, sw))

    def hessian_operator(self, y: Array, eta: Array, sw: Array) -> HessianOperator:
        h = self._curvature(y, eta, sw)
        return lambda v: h * v


@dataclass(frozen=True)
class PoissonLoss:
    """Poisson loss with the log link: half the Poisson unit deviance.

    For a count ``y >= 0`` and ``mu = exp(eta)``::

        loss(y, eta) = y * log(y / mu) - y + mu = exp(eta) - y * eta + (y log y - y)
        d loss / d eta = exp(eta) - y
        d^2 loss / d eta^2 = exp(eta)

    The constant ``y log y - y`` (with ``0 log 0 = 0``) makes the loss zero at ``mu = y``, so
    ``2 * loss`` is scikit-learn's ``mean_poisson_deviance`` summand. The exponential is clipped
    at ``eta = 700`` to stay finite.
    """

    _MAX_ETA = 700.0

    def initial_intercept(self, y: Array, sw: Array) -> Array:
        """Log of the weighted mean count (the intercept-only optimum)."""
        return np.log(np.clip(sw @ y / sw.sum(), 1e-12, None))

    def _mu(self, eta: Array) -> Array:
        return np.exp(np.minimum(eta, self._MAX_ETA))

    def value(self, y: Array, eta: Array, sw: Array) -> float:
        return _weighted_sum(self.pointwise(y, eta), sw)

    def pointwise(self, y: Array, eta: Array) -> Array:
        """Unweighted per-sample losses (same shape as ``eta``)."""
        return self._mu(eta) - y * eta + (xlogy(y, y) - y)

    def gradient(self, y: Array, eta: Array, sw: Array) -> tuple[float, Array]:
        mu = self._mu(eta)
        value = _weighted_sum(mu - y * eta + (xlogy(y, y) - y), sw)
        return value, (mu - y) * sw[:, None]

    def hessian(self, y: Array, eta: Array, sw: Array) -> Array:
        return _diagonal_blocks(self._mu(eta) * sw[:, None])

    def hessian_operator(self, y: Array, eta: Array, sw: Array) -> HessianOperator:
        h = self._mu(eta) * sw[:, None]
        return lambda v: h * v
