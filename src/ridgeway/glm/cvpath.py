"""Cross-validation paths of one-output GLMs in the eigenbasis of the design.

For a dense design with many more samples than features, the CV estimators fit each fold's
path (and the full-data path of approximate leave-one-out) in the basis ``Z = (X - m) V`` where
``V`` holds the eigenvectors of ``(X - m)' S (X - m)`` (``m`` the weighted feature means, ``S``
the sample weights). The penalty ``alpha/2 ||W||^2`` is invariant under ``W = V beta``, so each
fit minimizes the same objective::

    f(beta, c) = sum_i s_i loss(y_i, z_i . beta + c) + alpha / 2 * ||beta||^2

with ``W = V beta`` and ``b = c - m . W``. In that basis the data-term Hessian
``Z~' diag(a) Z~`` (``a_i`` the loss curvature, ``Z~ = [Z, 1]``) is nearly diagonal in its
coefficient block: its off-diagonal entries are sums of ``n`` terms of mixed sign. Keeping the
diagonal, the intercept row and the intercept column exactly (an "arrow" matrix) gives

* a preconditioner costing ``O(n p)`` to build and ``O(p)`` to apply (:class:`Arrow`), used as
  the initial inverse Hessian of an L-BFGS iteration (:func:`solve_basis`);
* leverages ``h_i = a_i z~_i' H~^{-1} z~_i`` in ``O(n p)`` per alpha instead of the
  ``O(n p^2)`` of an exact Hessian factorization (:func:`arrow_leverages`).

Accuracy of the approximate leverages: the leave-one-out correction changes the mean loss by
the optimism ``sum_i h_i g_i^2 / a_i / n``; a relative error ``e`` of the leverages changes the
approximate leave-one-out score by about ``e`` times the optimism. Against the exact leverages
of :func:`ridgeway.glm.alo_predictor`: 0.1-0.4% of the optimism on independent, AR(1)
``rho=0.9`` and shifted features at n/p = 100-1000, 0.6% with 7% positives at n=20,000 and
7% at n=3,000 (the tests bound it by 8% at n/p = 100). The engine uses exact leverages while
``n * n_params**2 <= EXACT_LEVERAGES``.

Stopping rule of the CV paths (``SCORE_RTOL``): a point of a CV curve only needs to be accurate
to well below its standard error, ``SE ~ sd(loss_i) / sqrt(n)`` over the scored rows. After
each step the first-order change it caused in the scored rows' mean loss,
``|sum_i w_i l'_i delta eta_i| / sum_i w_i``, divided by ``1 - r`` with ``r`` the contraction
of the gradient norm in that step, capped at 0.5 (the steps still to come, if they contract
alike), is compared with ``SCORE_RTOL * SE`` (``SE`` of one fold's mean: for ALO its rows are
grouped into the folds); a fit stops when it is below and the training gradient is within
``PATH_GRAD_TOL`` of zero relative to its value at zero (at the latest at ``1e-10`` or
``max_iter`` steps; a fit whose float32 line search stalls is finished in float64). Tested:
the mean CV curve within 2% of its standard error of a 1e-10 solve, the same alpha, on four
generators.

The folds' fits run in lock-step (:func:`run_together`): each fit is a generator that requests
its products with the design (``Z b``, ``Z' g``, ``(Z * Z)' c``) and one product with a column per
fold answers all, so the five folds cost one pass over ``Z`` per round instead of five.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..linalg._threads import small_dense
from ._objective import GLMData, Objective
from .path import alo_predictor, effective_df, fit_path
from .penalties import L2Penalty
from .solvers import solve

Array = np.ndarray

#: Elements of ``Z`` squared at a time for the products with ``Z * Z`` (512 KiB of float32).
SQUARE_BLOCK = 2**17


@dataclass(frozen=True)
class SpectralDesign:
    """The design in the eigenbasis of its weighted, centered gram (see the module docstring).

    Attributes
    ----------
    Z : ndarray of shape (n_samples, n_features), float32
        ``(X - mean) V``.
    V : ndarray of shape (n_features, n_features)
    mean : ndarray of shape (n_features,)
        Weighted feature means (zeros without an intercept).
    fit_intercept : bool
    eigenvalues : ndarray of shape (n_features,)
        Of the weighted centered gram (ascending).
    """

    Z: Array
    V: Array
    mean: Array
    fit_intercept: bool
    eigenvalues: Array

    @classmethod
    def build(cls, X: Array, sample_weight: Array, fit_intercept: bool) -> SpectralDesign:
        """Eigenbasis of ``(X - m)' S (X - m)``: one gram, one ``p x p`` eigensolve, one GEMM.

        ``Z`` is stored in float32: the paths only need held-out scores to a
        fraction of their standard error, and a float32 ``Z`` fits twice as much of the design
        in cache (matrix-vector products are memory-bound). The final fit at the chosen alpha
        is polished in float64 on the original ``X``.
        """
        w = np.asarray(sample_weight, dtype=np.float64)
        if fit_intercept:
            mean = (w @ X) / max(float(w.sum()), 1e-300)
        else:
            mean = np.zeros(X.shape[1])
        Xc = np.asarray(X, dtype=np.float32) - mean.astype(np.float32)
        if w.size and np.all(w == w[0]):  # equal weights: no weighted copy of the design
            gram = (Xc.T @ Xc).astype(np.float64) * w[0]
        else:
            scaled = Xc * np.sqrt(w).astype(np.float32)[:, None]
            gram = (scaled.T @ scaled).astype(np.float64)
            del scaled
        with small_dense(len(gram)):
            lam, V = scipy.linalg.eigh(gram, overwrite_a=True, check_finite=False)
        Z = Xc @ V.astype(np.float32)
        return cls(Z, V, mean, bool(fit_intercept), lam)

    def rank(self) -> int:
        """Numerical rank of the centered design."""
        lam = self.eigenvalues
        return int(np.sum(lam > 1e-10 * max(float(lam[-1]), 1e-300))) if lam.size else 0

    @property
    def n_features(self) -> int:
        return self.Z.shape[1]

    def to_theta(self, u: Array) -> Array:
        """Parameters ``[W; b]`` of shape (n_params, 1) from basis parameters ``[beta; c]``."""
        W = self.V @ u[: self.n_features]
        if not self.fit_intercept:
            return W[:, None]
        return np.concatenate([W, [u[-1] - self.mean @ W]])[:, None]

    def from_theta(self, theta: Array) -> Array:
        """Basis parameters ``[beta; c]`` from ``[W; b]`` (inverse of :meth:`to_theta`)."""
        W = theta[: self.n_features, 0]
        beta = self.V.T @ W
        if not self.fit_intercept:
            return beta
        return np.concatenate([beta, [theta[-1, 0] + self.mean @ W]])

    def products(self, kind: str, M: Array) -> Array:
        """One pass over the design for several vectors (the columns of ``M``): ``"Z"``:
        ``Z M``, ``"Z2"``: ``Z2 M`` (M of shape (p, m)); ``"ZT"``: ``Z' M``; ``"Z2T"``:
        ``Z2' M`` (M (n, m)), with ``Z2 = Z * Z``.

        ``Z2`` is not stored: its products square ``Z`` a block of rows at a time (a block
        small enough to stay in the core's cache), so the paths read only ``Z`` from memory
        and keep half the working set of a stored ``Z2`` in the shared cache.
        """
        M32 = M.astype(np.float32)
        if kind == "Z":
            return (self.Z @ M32).astype(np.float64)
        if kind == "ZT":
            return (self.Z.T @ M32).astype(np.float64)
        n, p = self.Z.shape
        rows = max(SQUARE_BLOCK // max(p, 1), 1)
        block = np.empty((min(rows, n), p), dtype=np.float32)
        out = np.zeros((p, M.shape[1])) if kind == "Z2T" else np.empty((n, M.shape[1]))
        for start in range(0, n, rows):
            Zb = self.Z[start:start + rows]
            sq = np.multiply(Zb, Zb, out=block[: len(Zb)])
            if kind == "Z2T":
                out += sq.T @ M32[start:start + rows]
            else:
                out[start:start + rows] = sq @ M32
        return out


@dataclass(frozen=True)
class ExactDesign:
    """The basis of a :class:`SpectralDesign` applied to the original float64 ``X``:
    ``Z beta = (X - m) V beta`` through ``X`` (for the final fit at the chosen alpha)."""

    X: Array
    base: SpectralDesign

    @property
    def n_features(self) -> int:
        return self.base.n_features

    @property
    def fit_intercept(self) -> bool:
        return self.base.fit_intercept

    def predictor(self, u: Array) -> Array:
        """Linear predictor ``(X - m) V beta + c`` in float64."""
        w = self.base.V @ u[: self.n_features]
        eta = self.X @ w - float(self.base.mean @ w)
        if self.fit_intercept:
            eta += u[-1]
        return eta

    def products(self, kind: str, M: Array) -> Array:
        """As :meth:`SpectralDesign.products`, in float64 through ``X`` (no ``"Z2T"``)."""
        if kind == "Z":
            W = self.base.V @ M
            return self.X @ W - self.base.mean @ W
        return self.base.V.T @ (self.X.T @ M - np.outer(self.base.mean, M.sum(axis=0)))

@dataclass(frozen=True)
class Arrow:
    """``[[diag(D), z], [z', s]]``: the arrow approximation of ``Z~' diag(a) Z~ + alpha J``.

    Without an intercept only ``diag(D)``. :meth:`solve` applies its inverse in ``O(p)`` by
    the Schur complement ``s - z' D^{-1} z``.
    """

    D: Array
    z: Array | None
    s: float

    data: Array
    total: float

    @classmethod
    def at(cls, design: SpectralDesign, curvature: Array, alpha: float) -> Arrow:
        return run(cls.build(design.fit_intercept, curvature, alpha), design)

    @classmethod
    def build(cls, fit_intercept: bool, curvature: Array, alpha: float):
        """Generator: requests ``Z2' c`` (and ``Z' c``), returns the arrow (see :func:`run`)."""
        data = yield ("Z2T", curvature)
        z = (yield ("ZT", curvature)) if fit_intercept else None
        return cls(data, z, 0.0, data, float(curvature.sum())).with_alpha(alpha)

    def with_alpha(self, alpha: float) -> Arrow:
        """The same data-term curvature with penalty ``alpha`` (``O(p)``)."""
        D = np.maximum(self.data + alpha, 1e-12 * max(float(np.max(self.data)) + alpha, 1e-300))
        if self.z is None:
            return Arrow(D, None, 0.0, self.data, self.total)
        s = self.total - float(np.sum(self.z * self.z / D))
        return Arrow(D, self.z, max(s, 1e-12 * max(self.total, 1e-300)), self.data, self.total)

    def df(self, alpha: float) -> float:
        """``tr(H~^{-1} H~_data) = sum_i a_i q_i`` less the intercept's one: the effective
        degrees of freedom, as :func:`~ridgeway.glm.path.effective_df`.

        Equal to the trace with the exact data-term Hessian, since ``H~^{-1}`` is nonzero only
        where ``H~_data`` is exact (diagonal, intercept row and column).
        """
        inv_diag = 1.0 / self.D
        if self.z is not None:
            inv_diag = inv_diag + (self.z / self.D) ** 2 / self.s
            return float(len(self.D) - alpha * np.sum(inv_diag))
        return float(len(self.D) - alpha * np.sum(inv_diag))

    def solve(self, r: Array) -> Array:
        if self.z is None:
            return r / self.D
        rb = r[:-1]
        c = (r[-1] - self.z @ (rb / self.D)) / self.s
        return np.concatenate([(rb - self.z * c) / self.D, [c]])


def arrow_leverages(design: SpectralDesign, arrows: list[Arrow]) -> Array:
    """``q_i = z~_i' H~^{-1} z~_i`` with the arrow Hessian ``H~`` (leverage ``h_i = a_i q_i``),
    one column per arrow: one product with ``Z2`` (and one with ``Z``) for all of them."""
    big = np.finfo(np.float32).max / (4 * design.n_features)
    inv = np.minimum(1.0 / np.column_stack([arrow.D for arrow in arrows]), big)
    q = design.products("Z2", inv)
    if arrows[0].z is not None:
        w = np.clip(np.column_stack([arrow.z for arrow in arrows]) * inv, -big, big)
        s = np.array([arrow.s for arrow in arrows])
        q += (1.0 - design.products("Z", w)) ** 2 / s
    return q


@dataclass
class _Memory:
    """L-BFGS pairs ``(s, y_data)``; the penalty's part ``alpha * J s`` is added at use, so the
    pairs stay valid when alpha changes along the path."""

    size: int
    steps: list
    grads: list

    def push(self, s: Array, y_data: Array) -> None:
        self.steps.append(s)
        self.grads.append(y_data)
        if len(self.steps) > self.size:
            self.steps.pop(0)
            self.grads.pop(0)

    def clear(self) -> None:
        self.steps.clear()
        self.grads.clear()

    def apply(self, g: Array, precond: Arrow, alpha: float, p: int) -> Array:
        """Two-loop recursion: approximate ``H^{-1} g`` with ``precond`` as initial inverse."""
        if not self.steps:
            return precond.solve(g)
        S, Y = np.array(self.steps), np.array(self.grads)
        Y[:, :p] += alpha * S[:, :p]
        sy = np.einsum("ij,ij->i", Y, S)
        keep = (sy > 0) & (sy > 1e-12 * np.linalg.norm(Y, axis=1) * np.linalg.norm(S, axis=1))
        S, Y, rhos = S[keep], Y[keep], 1.0 / sy[keep]
        q = g.copy()
        coefs = np.empty(len(rhos))
        for i in range(len(rhos) - 1, -1, -1):
            coefs[i] = rhos[i] * float(S[i] @ q)
            q -= coefs[i] * Y[i]
        r = precond.solve(q)
        for i in range(len(rhos)):
            r += S[i] * (coefs[i] - rhos[i] * float(Y[i] @ r))
        return r


@dataclass
class BasisFit:
    """Solution of one fit in the basis: parameters, linear predictor, iteration count, the
    data term's value and per-row gradient ``G`` there, and the arrow curvature with its
    per-row curvature ``a`` (set by :meth:`BasisProblem.path`; ``G`` and ``a`` are kept only
    by problems with ``keep_rows``, for the leave-one-out predictors)."""

    u: Array
    eta: Array
    n_iter: int
    converged: bool
    loss_value: float = np.nan
    G: Array | None = None
    arrow: Arrow | None = None
    a: Array | None = None


class BasisProblem:
    """One one-output GLM on a :class:`SpectralDesign`, with training and scored rows.

    ``train_weight`` are the sample weights of the fit (zero on held-out rows);
    ``score_weight`` are the weights of the rows whose mean loss the stopping rule protects
    (the held-out rows for k-fold, every row for leave-one-out).
    """

    def __init__(self, design, loss, y, train_weight, score_weight, memory: int = 8,
                 groups: int = 1, keep_rows: bool = False, ref: float | None = None):
        self.design, self.loss, self.y = design, loss, y[:, None]
        self.sw, self.score_w = train_weight, score_weight
        # leave-one-out scores every training row: the training gradient is the score's
        self.scores_training = score_weight is train_weight
        self.keep_rows = keep_rows
        self.p = design.n_features
        self.memory = _Memory(memory, [], [])
        if ref is None:
            zero = np.zeros(self.p + int(design.fit_intercept))
            _, g0, _ = run(self._gradient(zero, np.zeros(len(y)), 0.0), design)
            ref = max(float(np.max(np.abs(g0))), 1e-300)
        self.ref = ref
        self.scored = np.flatnonzero(score_weight > 0)
        self.se_rows = max(len(self.scored) / groups, 1.0)

    def _null_start(self) -> Array:
        eta = np.zeros(len(self.y))
        start = getattr(self.loss, "initial_intercept", None)
        if self.design.fit_intercept and callable(start):
            eta += float(np.ravel(start(self.y, self.sw))[0])
        return eta

    def standard_error(self, eta: Array) -> float:
        """``sd(loss_i) / sqrt(n / groups)`` over the scored rows: the standard error of one
        fold's mean loss (ALO: its rows form ``groups`` folds)."""
        rows = self.scored
        losses = self.loss.pointwise(self.y[rows, 0], eta[rows])
        return float(np.sqrt(_weighted_var(losses, self.score_w[rows]) / self.se_rows))

    def score_change(self, eta: Array, d_eta: Array, G: Array) -> float:
        """First-order change ``|sum_i w_i l'_i d_eta_i| / sum_i w_i`` of the scored rows' mean
        loss under the step ``d_eta`` (``G``: the training rows' ``s_i l'_i`` at ``eta``)."""
        rows = self.scored
        w = self.score_w[rows]
        if self.scores_training:
            g = G[rows]
        else:
            g = self.loss.gradient(self.y[rows], eta[rows, None], w)[1][:, 0]
        return abs(_dot(g, d_eta[rows])) / float(w.sum())

    def loss_gradient(self, eta: Array) -> tuple[float, Array]:
        """Data term ``sum_i s_i l_i`` and per-row ``G_i = s_i l'_i`` at ``eta``."""
        value, G = self.loss.gradient(self.y, eta[:, None], self.sw)
        return value, G[:, 0]

    def _gradient(self, u: Array, eta: Array, alpha: float, at_eta=None):
        """Generator: objective value, gradient and per-row ``G`` (one ``Z' G`` request).

        ``at_eta``: :meth:`loss_gradient` at ``eta`` when already known."""
        value, G = self.loss_gradient(eta) if at_eta is None else at_eta
        grad = np.empty_like(u)
        grad[: self.p] = (yield ("ZT", G)) + alpha * u[: self.p]
        if self.design.fit_intercept:
            grad[-1] = G.sum()
        return value + self._penalty(u, alpha), grad, G

    def _penalty(self, u: Array, alpha: float) -> float:
        beta = u[: self.p]
        return 0.5 * alpha * float(beta @ beta)

    def curvature(self, eta: Array) -> Array:
        """Per-sample curvature ``s_i l''(eta_i)`` of the training rows (zero elsewhere)."""
        return self.loss.hessian(self.y, eta[:, None], self.sw)[:, 0, 0]

    def _d_eta(self, direction: Array):
        """Generator: the linear predictor's change ``Z d_beta + d_c`` (one ``Z`` request)."""
        d_eta = yield ("Z", direction[: self.p])
        if self.design.fit_intercept:
            d_eta = d_eta + direction[-1]
        return d_eta

    def solve(self, alpha: float, u: Array, eta: Array, precond: Arrow, *, score_rtol,
              grad_tol: float, max_iter: int) -> BasisFit:
        """Preconditioned L-BFGS from ``(u, eta)`` (see the module docstring for the stops).

        ``score_rtol=None`` stops on the relative gradient ``grad_tol`` alone.
        """
        return run(self.solving(alpha, u, eta, precond, score_rtol=score_rtol,
                                grad_tol=grad_tol, max_iter=max_iter), self.design)

    def solving(self, alpha, u, eta, precond, *, score_rtol, grad_tol, max_iter, at_eta=None):
        """Generator form of :meth:`solve` (its design products are requested, see
        :func:`run`). ``at_eta``: :meth:`loss_gradient` at ``eta`` when known.

        Each line-search trial evaluates the loss with its gradient, so the accepted one (the
        first, nearly always) is not evaluated again for the gradient."""
        p = self.p
        value, grad, G = yield from self._gradient(u, eta, alpha, at_eta)
        floor = max(grad_tol if score_rtol is None else 1e-10, 1e-10) * self.ref
        eps = 16 * np.finfo(float).eps
        n_iter, converged = 0, False
        while n_iter < max_iter:
            if float(np.max(np.abs(grad))) <= floor:
                converged = True
                break
            direction = -self.memory.apply(grad, precond, alpha, p)
            slope = float(grad @ direction)
            if not slope < 0:
                self.memory.clear()
                direction = -precond.solve(grad)
                slope = float(grad @ direction)
            d_eta = yield from self._d_eta(direction)
            if not np.all(np.isfinite(d_eta)):  # an overflowing quasi-Newton step
                self.memory.clear()
                direction = -precond.solve(grad) / max(1.0, float(np.max(np.abs(grad))))
                slope = float(grad @ direction)
                d_eta = yield from self._d_eta(direction)
            t = 1.0
            for _ in range(30):
                at_trial = self.loss_gradient(eta + t * d_eta)
                trial = at_trial[0] + self._penalty(u + t * direction, alpha)
                if trial <= value + 1e-4 * t * slope + eps * abs(value):
                    break
                t *= 0.5
            else:
                break
            step, eta = t * direction, eta + t * d_eta
            u = u + step
            new_value, new_grad, G = yield from self._gradient(u, eta, alpha, at_trial)
            y_data = new_grad - grad
            y_data[:p] -= alpha * step[:p]
            if float(y_data @ step) + alpha * float(step[:p] @ step[:p]) > 0:
                self.memory.push(step, y_data)
            rate = min(float(np.linalg.norm(new_grad)) / max(float(np.linalg.norm(grad)),
                                                               1e-300), 0.5)
            value, grad = new_value, new_grad
            n_iter += 1
            if score_rtol is not None and float(np.max(np.abs(grad))) <= grad_tol * self.ref:
                # the steps still to come, if they contract like this one: change * r / (1 - r)
                change = self.score_change(eta, t * d_eta, G) / (1.0 - rate)
                if change <= score_rtol * self.standard_error(eta):
                    converged = True
                    break
        return BasisFit(u, eta, n_iter, converged, value - self._penalty(u, alpha), G)

    def tangent(self, fit: BasisFit, precond: Arrow, alpha: float, new_alpha: float):
        """Generator: first-order predictor of the solution at ``new_alpha`` (implicit function
        theorem), ``u - (new_alpha - alpha) H^{-1} [beta; 0]`` with the L-BFGS inverse Hessian."""
        rhs = np.zeros_like(fit.u)
        rhs[: self.p] = fit.u[: self.p]
        move = -(new_alpha - alpha) * self.memory.apply(rhs, precond, new_alpha, self.p)
        d_eta = yield from self._d_eta(move)
        return fit.u + move, fit.eta + d_eta

    def path(self, alphas: Array, *, score_rtol, grad_tol, max_iter,
             start: tuple[float, BasisFit] | None = None) -> list[BasisFit]:
        """Fits along decreasing ``alphas``, each warm-started by :meth:`tangent`."""
        return run(self.walking(alphas, score_rtol=score_rtol, grad_tol=grad_tol,
                                max_iter=max_iter, start=start), self.design)

    def walking(self, alphas, *, score_rtol, grad_tol, max_iter, start=None):
        """Generator form of :meth:`path`.

        ``start``: a solved ``(alpha, fit)`` to continue from (else the intercept-only model).
        The arrow preconditioner is rebuilt at each solution (two passes over ``Z``) and
        serves the predictor and the solve at the next alpha.
        """
        if start is None:
            u = np.zeros(self.p + int(self.design.fit_intercept))
            eta = self._null_start()
            if self.design.fit_intercept:
                u[-1] = eta[0]
            previous = None
        else:
            previous, fit0 = start
            u, eta = fit0.u, fit0.eta
        at_eta = None
        intercept = self.design.fit_intercept
        arrow = yield from Arrow.build(intercept, self.curvature(eta), float(alphas[0]))
        fits: list[BasisFit] = []
        for k, alpha in enumerate(alphas):
            precond = arrow.with_alpha(alpha)
            if k or previous is not None:
                last = fits[-1] if k else BasisFit(u, eta, 0, True)
                at_eta = (last.loss_value, last.G) if k else self.loss_gradient(eta)
                guess, guess_eta = yield from self.tangent(
                    last, precond, alphas[k - 1] if k else previous, alpha)
                at_guess = self.loss_gradient(guess_eta)
                # keep the predictor only where it helps (near-separable data: huge moves)
                if (at_guess[0] + self._penalty(guess, alpha)
                        < at_eta[0] + self._penalty(last.u, alpha)):
                    u, eta, at_eta = guess, guess_eta, at_guess
                if k and not self.keep_rows:
                    last.G = None
            fit = yield from self.solving(alpha, u, eta, precond, score_rtol=score_rtol,
                                          grad_tol=grad_tol, max_iter=max_iter, at_eta=at_eta)
            u, eta = fit.u, fit.eta
            curvature = self.curvature(eta)
            arrow = yield from Arrow.build(intercept, curvature, alpha)
            fit.arrow = arrow
            if self.keep_rows:
                fit.a = curvature
            fits.append(fit)
        if fits and not self.keep_rows:
            fits[-1].G = None
        return fits


def run(gen, design):
    """Drive one generator of this module, answering its design-product requests."""
    return run_together([gen], design)[0]


def run_together(gens: list, design) -> list:
    """Drive several generators in lock-step: at each round the requests of one kind from
    every generator are answered by one product with a column per request (one pass over the
    design for all the folds' fits). Returns the generators' return values."""
    results: list = [None] * len(gens)
    pending: dict[int, tuple] = {}
    for i, gen in enumerate(gens):
        try:
            pending[i] = next(gen)
        except StopIteration as stop:
            results[i] = stop.value
    while pending:
        answers: dict[int, Array] = {}
        for kind in {kind for kind, _ in pending.values()}:
            ids = [i for i, (k, _) in pending.items() if k == kind]
            out = design.products(kind, np.column_stack([pending[i][1] for i in ids]))
            for col, i in enumerate(ids):
                answers[i] = out[:, col]
        for i, answer in answers.items():
            try:
                pending[i] = gens[i].send(answer)
            except StopIteration as stop:
                results[i] = stop.value
                del pending[i]
    return results


def _dot(a: Array, b: Array) -> float:
    """``a . b`` for long vectors without BLAS (whose thread wake-ups cost more here)."""
    return float(np.einsum("i,i->", a, b))


def _weighted_var(values: Array, w: Array) -> float:
    total = max(float(w.sum()), 1e-300)
    mean = _dot(w, values) / total
    return _dot(w, (values - mean) ** 2) / total


# --------------------------------------------------------------------------------------------
# CV engines: held-out (k-fold) or leave-one-out (ALO) linear predictors along alpha
# --------------------------------------------------------------------------------------------

#: Stopping rule of the CV paths: each point of a fold's held-out mean loss within this
#: fraction of its standard error (see the module docstring).
SCORE_RTOL = 0.005
#: ... and the training gradient within this fraction of its value at zero.
PATH_GRAD_TOL = 1e-3
#: ALO leverages are exact (one Cholesky per alpha) up to this ``n * n_params**2``, else the
#: arrow approximation (see the module docstring).
EXACT_LEVERAGES = 2.5e8
#: The final fit at the chosen alpha runs on the float32 basis to this relative gradient
#: before its float64 iterations (each a pass over the float64 ``X``).
BASIS_REFIT_TOL = 1e-7
#: Relative gradient of the k-fold paths of the general engine (several outputs, sparse or
#: wide X); its leave-one-out path is solved to the estimator's ``tol`` (the final fit starts
#: there).
GENERAL_PATH_TOL = 1e-6


@dataclass
class CVPoint:
    """Everything the CV estimators need at one alpha.

    Attributes
    ----------
    held : list of ndarray
        k-fold: per fold, the held-out linear predictors ``(n_test, n_outputs)`` (outputs of
        every problem side by side). ALO: one ``(n_samples, n_outputs)`` array.
    thetas : list of list of ndarray
        Per fold (one entry for ALO), per problem, the parameters ``[W; b]``.
    n_iter : ndarray of shape (n_fits,)
        Solver iterations per fold (ALO: one).
    df : float
        Effective degrees of freedom: of the full-data fit (ALO) or the mean over the folds'
        training fits (k-fold), summed over problems.
    """

    held: list
    thetas: list
    n_iter: Array
    df: float


def use_spectral(datas, solver: str, max_features: int = 2000) -> bool:
    """The spectral engine applies to dense, one-output problems with ``n >= 2 p``."""
    d = datas[0]
    return (
        solver == "auto"
        and not d.is_sparse
        and all(x.n_outputs == 1 for x in datas)
        and d.n_features <= max_features
        and d.X.shape[0] >= 2 * d.n_params
    )


def _counts(rows: Array, n: int) -> Array:
    return np.bincount(rows, minlength=n).astype(np.float64)


class SpectralCV:
    """CV engine in the eigenbasis of the design (:class:`SpectralDesign`, module docstring).

    Fits are cached by alpha; a new batch of alphas starts from the nearest cached solution.
    """

    def __init__(self, X, datas, losses, folds, method: str, max_iter: int,
                 leverages: str = "auto"):
        sw = datas[0].sample_weight
        self.X, self.datas = X, datas
        n, P = X.shape[0], datas[0].n_params
        self.exact = leverages == "exact" or (leverages == "auto" and n * P * P <= EXACT_LEVERAGES)
        self.design = SpectralDesign.build(X, sw, datas[0].fit_intercept)
        self.method, self.folds, self.max_iter = method, folds, max_iter
        if method == "alo":
            groups = [(sw, sw)]
        else:
            groups = [(sw * _counts(tr, n), sw * _counts(te, n)) for tr, te in folds]
        n_groups = len(folds) if method == "alo" else 1
        self.arrow_loo = method == "alo" and not self.exact
        self.problems = [
            [BasisProblem(self.design, loss, d.y[:, 0], tw, scw, groups=n_groups,
                          keep_rows=self.arrow_loo)
             for d, loss in zip(datas, losses, strict=True)]
            for tw, scw in groups
        ]
        self.cache: dict[float, list[list[BasisFit]]] = {}

    def evaluate(self, alphas: Array) -> list[CVPoint]:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
        new = [a for a in alphas if a not in self.cache]
        if new:
            self._solve(np.array(new))
        loo = self._arrow_loo(alphas) if self.arrow_loo else [None] * len(alphas)
        return [self._point(a, held) for a, held in zip(alphas, loo, strict=True)]

    def _solve(self, alphas: Array) -> None:
        known = np.array(sorted(self.cache))
        above = known[known > alphas[0]]
        start = float(above.min()) if above.size else None
        gens, where = [], []
        for k, row in enumerate(self.problems):
            for j, prob in enumerate(row):
                begin = None if start is None else (start, self.cache[start][k][j])
                gens.append(prob.walking(alphas, score_rtol=SCORE_RTOL, grad_tol=PATH_GRAD_TOL,
                                         max_iter=self.max_iter, start=begin))
                where.append((k, j))
        fits = [[None] * len(row) for row in self.problems]
        for (k, j), result in zip(where, run_together(gens, self.design), strict=True):
            fits[k][j] = result
        for a, alpha in enumerate(alphas):
            for k, row in enumerate(fits):
                for j, path in enumerate(row):
                    if not path[a].converged:
                        self._polish(self.problems[k][j], path[a], alpha)
            self.cache[float(alpha)] = [[f[a] for f in row] for row in fits]

    def _polish(self, prob: BasisProblem, fit: BasisFit, alpha: float) -> None:
        """Finish a fit the float32 basis could not (its line search stalls, e.g. near
        separation) in float64 on the original rows, to ``GENERAL_PATH_TOL``."""
        rows = np.flatnonzero(prob.sw > 0)
        sub = GLMData(self.X[rows], prob.y[rows], prob.sw[rows], self.design.fit_intercept)
        res = solve(Objective(sub, prob.loss, L2Penalty(alpha)), "auto", tol=GENERAL_PATH_TOL,
                    max_iter=100, theta0=self.design.to_theta(fit.u))
        fit.u = self.design.from_theta(res.theta)
        fit.eta = ExactDesign(self.X, self.design).predictor(fit.u)
        fit.n_iter += res.n_iter
        fit.converged = res.converged
        if prob.keep_rows:
            fit.loss_value, fit.G = prob.loss_gradient(fit.eta)
            fit.a = prob.curvature(fit.eta)

    def _arrow_loo(self, alphas: Array) -> list[list[Array]]:
        """Per alpha, per problem: the approximate leave-one-out linear predictors
        ``eta_i + q_i G_i / (1 - a_i q_i)`` with the arrow leverages of every alpha computed
        together (:func:`arrow_leverages`)."""
        fits = [(alpha, f) for alpha in alphas for f in self.cache[float(alpha)][0]]
        q = arrow_leverages(self.design, [f.arrow.with_alpha(alpha) for alpha, f in fits])
        held = [f.eta + q[:, c] * f.G / np.maximum(1.0 - q[:, c] * f.a, 1e-12)
                for c, (_, f) in enumerate(fits)]
        m = len(self.problems[0])
        return [held[i * m:(i + 1) * m] for i in range(len(alphas))]

    def _point(self, alpha: float, loo: list[Array] | None) -> CVPoint:
        fits = self.cache[float(alpha)]
        thetas = [[self.design.to_theta(f.u) for f in row] for row in fits]
        n_iter = np.array([sum(f.n_iter for f in row) for row in fits])
        dfs, held = [], []
        for k, (row, probs) in enumerate(zip(fits, self.problems, strict=True)):
            df, etas = 0.0, []
            for j, (f, prob) in enumerate(zip(row, probs, strict=True)):
                arrow = f.arrow.with_alpha(alpha)
                df += arrow.df(alpha)
                if loo is not None:
                    etas.append(loo[j])
                elif self.method == "alo":
                    obj = Objective(self.datas[j], prob.loss, L2Penalty(alpha))
                    etas.append(alo_predictor(obj, thetas[k][j])[:, 0])
                else:
                    etas.append(f.eta[self.folds[k][1]])
            dfs.append(df)
            held.append(np.column_stack(etas))
        return CVPoint(held, thetas, n_iter, float(np.mean(dfs)))


def refit_exact(engine: SpectralCV, X: Array, datas, losses, alpha: float, point: CVPoint,
                tol: float, max_iter: int) -> list[Array]:
    """Parameters at ``alpha`` on all data to relative gradient ``tol`` in float64: the
    preconditioned L-BFGS of the paths, started from the mean of the CV solutions there with
    the arrow curvature of the closest CV fit, first on the float32 basis to
    ``BASIS_REFIT_TOL`` (as far as float32 goes), then on ``(X - m) V`` through ``X`` with
    the same L-BFGS memory."""
    exact = ExactDesign(X, engine.design)
    near = min(engine.cache, key=lambda a: abs(np.log(a) - np.log(alpha)))
    thetas = []
    for j, (d, loss) in enumerate(zip(datas, losses, strict=True)):
        start = np.mean([engine.design.from_theta(row[j]) for row in point.thetas], axis=0)
        precond = engine.cache[near][0][j].arrow.with_alpha(alpha)
        # the gradient at zero of the CV fit on all rows (ALO) is this problem's
        ref = engine.problems[0][j].ref if engine.method == "alo" else None
        y, sw = d.y[:, 0], d.sample_weight
        rough = BasisProblem(engine.design, loss, y, sw, sw, ref=ref)
        fit = rough.solve(alpha, start, run(rough._d_eta(start), engine.design), precond,
                          score_rtol=None, grad_tol=max(tol, BASIS_REFIT_TOL),
                          max_iter=max_iter)
        prob = BasisProblem(exact, loss, y, sw, sw, ref=rough.ref)
        prob.memory = rough.memory
        fit = prob.solve(alpha, fit.u, exact.predictor(fit.u), precond, score_rtol=None,
                         grad_tol=tol, max_iter=max_iter)
        thetas.append(engine.design.to_theta(fit.u))
    return thetas


class GeneralCV:
    """CV engine for any GLM problem: warm-started :func:`~ridgeway.glm.fit_path` per fold
    (k-fold) or on all data with exact :func:`~ridgeway.glm.alo_predictor` leverages."""

    def __init__(self, datas, losses, folds, method: str, solver: str, max_iter: int,
                 tol: float):
        self.datas, self.losses, self.folds = datas, losses, folds
        self.tol = tol if method == "alo" else max(tol, GENERAL_PATH_TOL)
        self.method, self.solver, self.max_iter = method, solver, max_iter
        self.train = [datas] if method == "alo" else [
            [d.subset(tr) for d in datas] for tr, _ in folds]
        self.cache: dict[float, list] = {}

    def evaluate(self, alphas: Array) -> list[CVPoint]:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
        new = np.array([a for a in alphas if a not in self.cache])
        if new.size:
            known = np.array(sorted(self.cache))
            above = known[known > new[0]]
            start = self.cache[float(above.min())] if above.size else None
            paths = [
                [fit_path(d, loss, L2Penalty(), new, solver=self.solver, tol=self.tol,
                          max_iter=self.max_iter,
                          theta0=None if start is None else _warm(start[k][j], d))
                 for j, (d, loss) in enumerate(zip(row, self.losses, strict=True))]
                for k, row in enumerate(self.train)
            ]
            for a, alpha in enumerate(new):
                self.cache[float(alpha)] = [[(p.theta(a), int(p.n_iter[a])) for p in row]
                                            for row in paths]
        points = []
        for alpha in alphas:
            entry = self.cache[float(alpha)]
            held, dfs = [], []
            for k, row in enumerate(entry):
                etas, df = [], 0.0
                for j, (theta, _) in enumerate(row):
                    train = self.train[k][j]
                    obj = Objective(train, self.losses[j], L2Penalty(alpha))
                    df += effective_df(obj, theta)
                    if self.method == "alo":
                        etas.append(alo_predictor(obj, theta))
                    else:
                        etas.append(self.datas[j].subset(self.folds[k][1]).predictor(theta))
                held.append(np.hstack(etas))
                dfs.append(df)
            thetas = [[t for t, _ in row] for row in entry]
            n_iter = np.array([sum(i for _, i in row) for row in entry])
            points.append(CVPoint(held, thetas, n_iter, float(np.mean(dfs))))
        return points


def _warm(theta: Array, data) -> Array:
    return theta if data.fit_intercept else theta[: data.n_features]
