"""Solvers for L2-penalized GLMs: Newton-Cholesky, trust-region Newton-CG and L-BFGS.

Each solver minimizes ``f(theta) = sum_i s_i loss(y_i, x_i W + b) + alpha/2 ||Gamma(W - w0)||^2``
(see :mod:`ridgeway.glm._objective`). Every solver is a frozen dataclass that

* declares the loss operations it needs (``required``); :func:`check_compatible` turns a
  mismatch into "X is not compatible with Y: it must implement Z";
* stops when ``||grad f(theta)||_inf <= tol * ||grad f(0)||_inf`` (the gradient at zero
  coefficients and intercept), and otherwise warns with the norm reached;
* returns a :class:`FitResult`.

``solver="auto"`` is resolved in :func:`resolve_solver` and nowhere else.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
import scipy.optimize

from ..exceptions import ConvergenceWarning, SeparableDataError
from ..linalg._threads import small_dense
from ._objective import Objective

Array = np.ndarray
SOLVERS = ("auto", "newton-cholesky", "newton-cg", "lbfgs")
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class FitResult:
    """Result of one penalized GLM fit.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_outputs)
    intercept : ndarray of shape (n_outputs,)
        Zeros without an intercept.
    n_iter : int
        Outer iterations (Newton steps, trust-region steps or L-BFGS iterations).
    converged : bool
        Whether ``grad_norm <= tol``.
    grad_norm : float
        ``||grad f||_inf`` at the solution relative to ``||grad f(0)||_inf``.
    objective : float
        Objective value at the solution.
    curvature : ndarray or None
        Newton-Cholesky only: the last data-term Hessian, to start a nearby fit.
    eta : ndarray or None
        The linear predictor at the solution.
    """

    coef: Array
    intercept: Array
    n_iter: int
    converged: bool
    grad_norm: float
    objective: float
    curvature: Array | None = None
    eta: Array | None = None

    @property
    def theta(self) -> Array:
        """Coefficients with the intercept stacked as the last row."""
        return np.vstack([self.coef, self.intercept[None, :]])


def check_compatible(solver: Any, loss: Any) -> None:
    """Raise ``TypeError`` if ``loss`` lacks an operation that ``solver`` needs."""
    missing = [m for m in solver.required if not callable(getattr(loss, m, None))]
    if missing:
        raise TypeError(
            f"{type(solver).__name__} is not compatible with {type(loss).__name__}: it must "
            f"implement {', '.join(missing)}."
        )


def resolve_solver(solver: str, n_samples: int, n_params: int, n_outputs: int, sparse: bool) -> str:
    """Turn ``solver="auto"`` into a concrete solver name, by shape and sparsity.

    * sparse ``X``: ``"newton-cg"`` (Hessian-vector products keep ``X`` sparse);
    * dense with a small Hessian, ``n_params * n_outputs**2 <= 4000`` and ``n_samples >=
      n_params`` (or ``n_params * n_outputs <= 500``, where a Newton step is cheap whatever
      ``n``): ``"newton-cholesky"`` (a few Newton steps, each one weighted gram ``X'DX``);
    * otherwise (many outputs, wide or very large ``p``): ``"lbfgs"``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}.")
    if solver != "auto":
        return solver
    if sparse:
        return "newton-cg"
    if n_params * n_outputs**2 <= 4000 and (
        n_samples >= n_params or n_params * n_outputs <= 500
    ):
        return "newton-cholesky"
    return "lbfgs"


@dataclass
class _State:
    """Iteration state: parameters, objective, gradient and linear predictor."""

    theta: Array
    value: float
    grad: Array
    eta: Array
    grad_norm: float = np.inf
    n_iter: int = 0


def _setup(obj: Objective, theta0: Array | None) -> tuple[_State, float]:
    """Evaluate the start point and the reference gradient norm at zero."""
    ref = obj.gradient_norm_at_zero()
    theta = obj.zeros() if theta0 is None else np.array(theta0, dtype=np.float64)
    value, grad, eta = obj.value_gradient(theta)
    return _State(theta, value, grad, eta), (ref if ref > 0 else 1.0)


def _check_divergence(obj: Objective, state: _State) -> None:
    """Stop early when an unpenalized fit runs off to infinity."""
    if not obj.penalty.is_zero:
        return
    d = obj.data
    separates = getattr(obj.loss, "separates", None)
    if callable(separates) and separates(d.y, state.eta):
        raise SeparableDataError(
            "The data are perfectly separable: with alpha=0 the loss has no finite minimizer "
            "and the coefficients diverge. Use alpha > 0 (e.g. alpha=1e-3) or remove the "
            "separating features."
        )
    if not np.isfinite(state.value) or np.max(np.abs(state.theta)) > 1e10:
        raise SeparableDataError(
            "The coefficients diverge (|coef| > 1e10): with alpha=0 this loss has no finite "
            "minimizer on these data. Use alpha > 0."
        )


def _finalize(obj: Objective, state: _State, tol: float, name: str) -> FitResult:
    p = obj.data.n_features
    theta = state.theta
    intercept = theta[p].copy() if obj.data.fit_intercept else np.zeros(theta.shape[1])
    if getattr(obj.loss, "shift_invariant", False):
        intercept -= intercept.mean()
    converged = state.grad_norm <= tol
    if not converged:
        warnings.warn(
            f"{name} did not converge in {state.n_iter} iterations: the relative gradient norm "
            f"reached {state.grad_norm:.3g} > tol={tol:.3g}. Increase max_iter, scale the "
            "features, or increase alpha.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return FitResult(
        theta[:p].copy(), intercept, state.n_iter, bool(converged), state.grad_norm, state.value,
        eta=state.eta,
    )


def _armijo(obj: Objective, state: _State, step: Array, slope: float) -> tuple[float, Array]:
    """Backtracking line search on the objective.

    Returns the step length (0 if no decrease was found) and the linear predictor there.
    """
    d_eta = obj.data.predictor(step)
    slack = 16 * _EPS * abs(state.value)
    t = 1.0
    for _ in range(40):
        eta = state.eta + t * d_eta
        value = obj.value(state.theta + t * step, eta)
        if value <= state.value + 1e-4 * t * slope + slack:
            return t, eta
        t *= 0.5
    return 0.0, state.eta


def cholesky(H: Array) -> Array:
    """Lower Cholesky factor of a symmetric positive (semi)definite matrix.

    numpy's LAPACK only (alternating numpy's and scipy's OpenBLAS builds in a hot loop costs
    more than the factorization). A semidefinite ``H`` gets a growing diagonal jitter.
    """
    scale = max(float(np.max(np.abs(np.diag(H)))), 1e-300)
    for jitter in (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4):
        try:
            return np.linalg.cholesky(H + (jitter * scale) * np.eye(len(H)) if jitter else H)
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("The Hessian is not positive semidefinite.")


def inverse_factor(H: Array) -> Array:
    """``L^{-1}`` for the Cholesky factor ``L`` of ``H``, so that ``H^{-1} g = M' (M g)``.

    Reused for several (chord) steps, each then costs two small matrix-vector products
    instead of two triangular solves through LAPACK. The inverse of the triangle
    (``dtrtri``, p^3/3 flops) costs a fifth of a general solve against the identity.
    """
    with small_dense(len(H)):  # small p x p work: one thread (see ridgeway.linalg._threads)
        inv, info = scipy.linalg.lapack.dtrtri(cholesky(H), lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("The Cholesky factor of the Hessian is singular.")
    return inv


@dataclass(frozen=True)
class NewtonCholesky:
    """Damped Newton with the Hessian factorized by Cholesky (p up to a few thousand).

    Each step solves ``H d = -g`` with ``H = X~' A X~ + alpha Gamma'Gamma`` and backtracks on
    the objective (Armijo). Forming ``X~' A X~`` (one weighted gram per output pair) is the
    cost unit, so:

    * the data-term Hessian is reused while it still contracts the gradient norm by
      ``reuse_below`` per full step (a chord step costs one gradient), else recomputed;
    * with many more samples than parameters (``n > 2 * sketch_rows``, ``sketch_rows =
      sketch_factor * n_params * n_outputs``) it is estimated from a random subset of
      ``sketch_rows`` rows (sub-sampled Newton); after three sketches in a row fail to
      contract, the exact Hessian is used for the rest of the fit;
    * along a path, the previous alpha's data-term Hessian starts the next fit
      (``FitResult.curvature``).

    Only the direction is approximate: gradient, line search and stopping rule are exact, so
    the solution is the same. A singular ``H`` (alpha = 0, collinear columns) gets a jitter.
    """

    required: ClassVar[tuple[str, ...]] = ("value", "gradient", "hessian")
    reuse_below: float = 0.25
    sketch_factor: int = 50

    def solve(
        self,
        obj: Objective,
        theta0: Array | None,
        tol: float,
        max_iter: int,
        curvature: Array | None = None,
    ) -> FitResult:
        state, ref = _setup(obj, theta0)
        P, K = obj.data.n_params, obj.data.n_outputs
        n = obj.data.X.shape[0]
        sketch = self.sketch_factor * P * K
        failures = 0 if n > 2 * sketch else 3
        rng = np.random.default_rng(0)
        state.grad_norm = float(np.max(np.abs(state.grad))) / ref
        loss_h, fresh, chol, rows = curvature, False, None, None
        while state.grad_norm > tol and state.n_iter < max_iter:
            if loss_h is None:
                rows = None if failures >= 3 else np.sort(rng.choice(n, sketch, replace=False))
                loss_h, fresh, chol = obj.loss_hessian(state.eta, rows), True, None
            g = state.grad.ravel(order="F")
            if chol is None:
                chol = inverse_factor(obj.penalized(loss_h))
            step = -(chol.T @ (chol @ g)).reshape((P, K), order="F")
            t, eta = _armijo(obj, state, step, float(g @ step.ravel(order="F")))
            if t == 0.0 and not (fresh and rows is None):
                loss_h, failures = None, failures + (1 if fresh else 0)
                continue
            state.n_iter += 1
            if t == 0.0:
                break
            before = state.grad_norm
            _take_step(obj, state, t * step, ref, eta)
            contracted = t == 1.0 and state.grad_norm <= self.reuse_below * before
            if fresh and rows is not None:
                failures = 0 if contracted else failures + 1
            if not contracted:
                loss_h = None
            fresh = False
        result = _finalize(obj, state, tol, "Newton-Cholesky")
        return replace(result, curvature=loss_h)


def _take_step(
    obj: Objective, state: _State, step: Array, ref: float, eta: Array | None = None
) -> None:
    """Move to ``theta + step`` (with its linear predictor ``eta`` when known)."""
    state.theta = state.theta + step
    state.value, state.grad, state.eta = obj.value_gradient(state.theta, eta)
    state.grad_norm = float(np.max(np.abs(state.grad))) / ref
    _check_divergence(obj, state)


def _steihaug_cg(hvp, g: Array, radius: float, rtol: float, max_cg: int):
    """Approximately minimize ``g'd + d'Hd/2`` subject to ``||d|| <= radius`` (Steihaug-Toint).

    Returns the step, the predicted decrease ``-(g'd + d'Hd/2)`` and the CG iteration count.
    """
    d = np.zeros_like(g)
    r = -g
    direction = r.copy()
    rr = float(np.vdot(r, r))
    stop = rtol * np.sqrt(rr)
    for it in range(1, max_cg + 1):  # noqa: B007 (returned)
        hd = hvp(direction)
        curv = float(np.vdot(direction, hd))
        if curv <= 0:
            d = _to_boundary(d, direction, radius)
            break
        step = rr / curv
        if np.linalg.norm(d + step * direction) >= radius:
            d = _to_boundary(d, direction, radius)
            break
        d = d + step * direction
        r = r - step * hd
        rr_new = float(np.vdot(r, r))
        if np.sqrt(rr_new) <= stop:
            break
        direction = r + (rr_new / rr) * direction
        rr = rr_new
    predicted = -(float(np.vdot(g, d)) + 0.5 * float(np.vdot(d, hvp(d))))
    return d, predicted, it


def _to_boundary(d: Array, direction: Array, radius: float) -> Array:
    """``d + tau * direction`` with ``tau >= 0`` such that ``||.|| = radius``."""
    a = float(np.vdot(direction, direction))
    b = 2 * float(np.vdot(d, direction))
    c = float(np.vdot(d, d)) - radius**2
    tau = (-b + np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
    return d + tau * direction


@dataclass(frozen=True)
class NewtonCG:
    """Trust-region Newton-CG (liblinear's TRON): Hessian-vector products only.

    Each outer step solves the trust-region subproblem by truncated conjugate gradients
    (Steihaug-Toint) to relative accuracy ``min(0.5, sqrt(||g|| / ||g0||))``, compares actual
    to predicted decrease and grows or shrinks the radius. Suited to sparse or large ``p``.
    """

    required: ClassVar[tuple[str, ...]] = ("value", "gradient", "hessian_operator")
    max_cg: int = 500

    def solve(
        self,
        obj: Objective,
        theta0: Array | None,
        tol: float,
        max_iter: int,
        curvature: Array | None = None,
    ) -> FitResult:
        state, ref = _setup(obj, theta0)
        d = obj.data
        state.grad_norm = float(np.max(np.abs(state.grad))) / ref
        radius = float(np.linalg.norm(state.grad))
        while state.grad_norm > tol and state.n_iter < max_iter:
            op = obj.loss.hessian_operator(d.y, state.eta, d.sample_weight)
            rtol = min(0.5, np.sqrt(state.grad_norm))
            step, predicted, _ = _steihaug_cg(
                lambda v, op=op: obj.hessian_vp(op, v), state.grad, radius, rtol, self.max_cg
            )
            value = obj.value(state.theta + step)
            actual = state.value - value
            state.n_iter += 1
            noise = 16 * _EPS * abs(state.value)
            rho = 1.0 if abs(predicted) <= noise else actual / predicted
            step_norm = float(np.linalg.norm(step))
            if rho < 0.25:
                radius = 0.25 * step_norm
            elif rho > 0.75 and step_norm >= 0.99 * radius:
                radius = 4.0 * radius
            if rho > 1e-4 or (actual >= -noise and abs(predicted) <= noise):
                _take_step(obj, state, step, ref)
            if radius < 1e-14 * (1.0 + float(np.linalg.norm(state.theta))):
                break
        return _finalize(obj, state, tol, "Newton-CG")


@dataclass(frozen=True)
class LBFGS:
    """Limited-memory BFGS (scipy's L-BFGS-B, no bounds): values and gradients only."""

    required: ClassVar[tuple[str, ...]] = ("value", "gradient")
    memory: int = 10

    def solve(
        self,
        obj: Objective,
        theta0: Array | None,
        tol: float,
        max_iter: int,
        curvature: Array | None = None,
    ) -> FitResult:
        state, ref = _setup(obj, theta0)
        shape = state.theta.shape

        def fun(x: Array) -> tuple[float, Array]:
            value, grad, _ = obj.value_gradient(x.reshape(shape))
            return value, grad.ravel()

        res = scipy.optimize.minimize(
            fun,
            state.theta.ravel(),
            jac=True,
            method="L-BFGS-B",
            options={
                "maxiter": max_iter,
                "maxfun": 2 * max_iter + 20,
                "maxcor": self.memory,
                "maxls": 50,
                "gtol": tol * ref,
                "ftol": 0.0,
            },
        )
        theta = res.x.reshape(shape)
        state.value, state.grad, state.eta = obj.value_gradient(theta)
        state.theta = theta
        state.n_iter = int(res.nit)
        state.grad_norm = float(np.max(np.abs(state.grad))) / ref
        _check_divergence(obj, state)
        return _finalize(obj, state, tol, "L-BFGS")


_REGISTRY = {"newton-cholesky": NewtonCholesky, "newton-cg": NewtonCG, "lbfgs": LBFGS}


def get_solver(name: str) -> Any:
    """The solver object for a concrete (already resolved) name."""
    if name not in _REGISTRY:
        raise ValueError(f"solver must be one of {sorted(_REGISTRY)}, got {name!r}.")
    return _REGISTRY[name]()


def solve(
    obj: Objective,
    solver: str = "auto",
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    theta0: Array | None = None,
    curvature: Array | None = None,
) -> FitResult:
    """Minimize ``sum_i s_i loss(y_i, x_i W + b) + alpha/2 ||Gamma (W - w0)||^2``.

    Parameters
    ----------
    obj : Objective
        Data, loss and penalty.
    solver : {"auto", "newton-cholesky", "newton-cg", "lbfgs"}
    tol : float
        Stop when ``||grad||_inf <= tol * ||grad at 0||_inf``.
    max_iter : int
        Maximum outer iterations.
    theta0 : ndarray of shape (n_params, n_outputs), optional
        Warm start.
    curvature : ndarray, optional
        A data-term Hessian near ``theta0`` (``FitResult.curvature`` of a nearby fit); used
        by Newton-Cholesky, ignored by the other solvers.

    Returns
    -------
    FitResult
    """
    d = obj.data
    name = resolve_solver(solver, d.X.shape[0], d.n_params, d.n_outputs, d.is_sparse)
    kernel = get_solver(name)
    check_compatible(kernel, obj.loss)
    if theta0 is None:
        theta0 = initial_theta(obj)
    result = kernel.solve(obj, theta0, tol, max_iter, curvature=curvature)
    check_finite_result(obj, result)
    return result


def check_finite_result(obj: Objective, result: FitResult) -> None:
    """Raise ``ValueError`` if a fit produced non-finite coefficients, with the likely cause."""
    if np.all(np.isfinite(result.coef)) and np.all(np.isfinite(result.intercept)):
        return
    d = obj.data
    X = d.X.data if d.is_sparse else d.X
    scale = float(np.max(np.abs(X))) if X.size else 0.0
    raise ValueError(
        "The fit produced non-finite coefficients: the problem is not representable in "
        f"float64 at this scale (largest |X| = {scale:.3g}, alpha = {obj.penalty.alpha:.3g}, "
        f"largest sample weight = {float(np.max(d.sample_weight)):.3g}). Standardize the "
        "features of X, rescale sample_weight, or choose alpha between 1e-10 and 1e10 times "
        "the scale of X'X."
    )


def initial_theta(obj: Objective) -> Array | None:
    """Zero coefficients with the loss's best constant as intercept, when it offers one."""
    start = getattr(obj.loss, "initial_intercept", None)
    d = obj.data
    if not (d.fit_intercept and callable(start)):
        return None
    theta = obj.zeros()
    theta[-1] = start(d.y, d.sample_weight)
    return theta
