"""The L2 (Tikhonov) penalty of ridgeway's generalized linear models.

The penalty acts on the coefficients ``W`` of shape ``(n_features, n_outputs)`` only, never on
the intercept::

    penalty(W) = alpha / 2 * sum_k || Gamma (W[:, k] - w0[:, k]) ||^2

``Gamma`` is the identity by default, a vector of per-feature factors, or a general matrix of
shape ``(m, n_features)``; ``w0`` (default 0) is the point coefficients are shrunk towards.
For the multinomial model this is ``alpha / 2 * ||W||_F^2``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class L2Penalty:
    """``alpha / 2 * sum_k ||Gamma (W[:, k] - w0[:, k])||^2`` on the coefficients.

    Gradient ``alpha * Gamma' Gamma (W - w0)``; Hessian ``alpha * Gamma' Gamma`` (per output).

    Parameters
    ----------
    alpha : float
        Non-negative strength (``1 / C`` of scikit-learn's ``LogisticRegression``).
    gamma : None, ndarray of shape (n_features,) or (m, n_features)
        ``None`` is the identity, a vector gives per-feature factors, a matrix is general
        Tikhonov.
    w0 : None or ndarray of shape (n_features,) or (n_features, n_outputs)
        Prior mean of the coefficients; ``None`` is zero.
    """

    alpha: float = 1.0
    gamma: Array | None = None
    w0: Array | None = None

    def with_alpha(self, alpha: float) -> L2Penalty:
        """The same penalty with another strength (used along paths)."""
        return replace(self, alpha=float(alpha))

    @cached_property
    def _gram(self) -> Array | None:
        """``Gamma' Gamma`` as a vector (diagonal) or a matrix, ``None`` for the identity."""
        if self.gamma is None:
            return None
        g = np.asarray(self.gamma, dtype=np.float64)
        return g * g if g.ndim == 1 else g.T @ g

    def _shift(self, coef: Array) -> Array:
        if self.w0 is None:
            return coef
        w0 = np.asarray(self.w0, dtype=np.float64)
        return coef - (w0[:, None] if w0.ndim == 1 else w0)

    def _apply_gram(self, v: Array) -> Array:
        gram = self._gram
        if gram is None:
            return v
        return gram[:, None] * v if gram.ndim == 1 else gram @ v

    def value(self, coef: Array) -> float:
        """Penalty value for coefficients of shape ``(n_features, n_outputs)``."""
        d = self._shift(coef)
        return 0.5 * self.alpha * float(np.sum(d * self._apply_gram(d)))

    def gradient(self, coef: Array) -> Array:
        """``alpha * Gamma' Gamma (W - w0)``, same shape as ``coef``."""
        return self.alpha * self._apply_gram(self._shift(coef))

    def hessian_vp(self, v: Array) -> Array:
        """``alpha * Gamma' Gamma v`` for ``v`` of shape ``(n_features, n_outputs)``."""
        return self.alpha * self._apply_gram(v)

    def add_to_diagonal(self, hessian: Array, n_features: int) -> None:
        """Add ``alpha * Gamma' Gamma`` to the leading block of ``hessian`` in place."""
        gram = self._gram
        if gram is None or gram.ndim == 1:
            idx = np.arange(n_features)
            hessian[idx, idx] += self.alpha * (1.0 if gram is None else gram)
        else:
            hessian[:n_features, :n_features] += self.alpha * gram

    @property
    def is_diagonal(self) -> bool:
        """True when ``Gamma' Gamma`` is diagonal (identity or per-feature factors)."""
        gram = self._gram
        return gram is None or gram.ndim == 1

    @property
    def is_zero(self) -> bool:
        """True when the penalty adds no curvature (``alpha == 0`` or ``Gamma == 0``)."""
        if self.alpha == 0:
            return True
        gram = self._gram
        return gram is not None and not np.any(gram)
