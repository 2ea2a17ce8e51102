"""L2-penalized GLMs on Dask: distributed Newton (or L-BFGS) with the p x p work on the client.

Every estimator minimizes the objective of its in-memory counterpart::

    sum_i s_i * loss(y_i, x_i W + b) + alpha / 2 * ||W||_F^2     (b unpenalized)

One *pass* sends the current parameters to every partition, which returns its rows' sum of
losses, gradient ``X~' G`` and (when asked) data-term Hessian ``X~' A X~``
(:class:`ridgeway.glm.Objective` on the block, penalty zero); the sums are tree-reduced on the
workers and the client adds the penalty and solves ``H d = -g`` (Cholesky). The Newton loop is
that of :class:`ridgeway.glm.solvers.NewtonCholesky`: Armijo backtracking on the exact
objective, the Hessian reused while a full step still contracts the gradient norm four-fold,
and the stopping rule ``||grad||_inf <= tol * ||grad at 0||_inf``; with many rows the Hessian
comes from every m-th row (see :func:`newton`), and ``fit`` starts from the in-memory fit
of a sample of the rows (:func:`sample_start`). Beyond ``4096`` parameters
(times outputs) scipy's L-BFGS runs on the client with distributed values and gradients.

k-fold CV runs the folds in lock-step: one pass evaluates every fold's parameters on its
training rows (and its held-out loss) at once, warm-started along the decreasing alpha grid.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.special import expit, softmax
from sklearn.base import is_classifier
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from ..exceptions import ConvergenceWarning, SeparableDataError
from ..glm import GLMData, L2Penalty, LogisticLoss, MultinomialLoss, Objective, PoissonLoss
from ..glm.cvpath import GENERAL_PATH_TOL, CVPoint
from ..glm.solvers import FitResult, NewtonCholesky, cholesky
from ..linear_model import LogisticRegression as _LogisticRegression
from ..linear_model import LogisticRegressionCV as _LogisticRegressionCV
from ..linear_model import PoissonRegressor as _PoissonRegressor
from ..linear_model._glm import check_glm_params, max_iter_for, resolve_alpha
from ..linear_model._glm_cv import NEAR_RANK, _score_curve
from ..selection import AlphaGrid, CVCurve, df_alpha_grid, log_grid
from ._blocks import check_block, check_n_folds, compute, dask, fold_ids, row_blocks
from ._blocks import tree_reduce as _tree_reduce
from ._ridge import _DaskLinearPredict

#: Newton (a p x p Hessian per partition) up to this many parameters times outputs.
NEWTON_MAX_PARAMS = 4096
#: Rows per parameter (times outputs) whose Hessian first preconditions Newton (every m-th
#: row; see ``newton``).
HESSIAN_ROWS_PER_PARAM = 2000
#: Rows per parameter of the sample (every m-th row) whose in-memory fit starts Newton in
#: ``fit``, when the data hold at least ``START_MIN_STRIDE`` times as many rows (see
#: ``sample_start``).
START_ROWS_PER_PARAM = 200
START_MIN_STRIDE = 20
NO_HESSIAN = 0
_MAX_DENSE = 2000


# ---------------------------------------------------------------------------- the target
@dataclass(frozen=True)
class Target:
    """How a partition's ``y`` becomes the loss's target, and the fitting weights.

    ``classes`` (classifiers): sorted labels; ``class_weight``: one multiplier per class.
    """

    loss: object
    fit_intercept: bool
    classes: np.ndarray | None = None
    class_weight: np.ndarray | None = None

    @property
    def n_outputs(self) -> int:
        return 1 if self.classes is None or len(self.classes) == 2 else len(self.classes)

    def encode(self, y, s):
        """``(Y, fitting weights, scoring weights)`` of one block."""
        s_raw = np.ones(len(y)) if s is None else s
        if self.classes is None:
            return np.asarray(y, dtype=np.float64).reshape(-1, 1), s_raw, s_raw
        idx = np.searchsorted(self.classes, y)
        K = len(self.classes)
        Y = (2.0 * idx - 1.0)[:, None] if K == 2 else np.eye(K)[idx]
        s_fit = s_raw if self.class_weight is None else s_raw * self.class_weight[idx]
        return Y, s_fit, s_raw


_ZERO = L2Penalty(0.0)


def _glm_block(part, start, x, y, s, fold, target: Target, n_folds, requests, check=True):
    """Per request ``(fold k or None, theta, stride)``: the block's sums on the rows of the
    request (all rows, or those not in fold k) ``[value, grad, H or None, held, weights]``.

    ``stride`` 0: no Hessian; 1: the Hessian of those rows; m > 1: that of those whose global
    position is a multiple of m (the same rows however X is partitioned). ``held`` is
    ``(held-out loss sum, held-out weight)`` for a fold request; ``weights`` the fitting
    weight of the rows and of those in H. A zero ``theta`` needs no product with ``X``.
    """
    if check:
        x, y, s, fold = check_block(start, x, y, s, fold, n_folds, partition=part)
    else:  # a later pass over the same (checked) blocks
        x = np.asarray(x, dtype=np.float64)
        s = None if s is None else np.asarray(s, dtype=np.float64)
    if x.shape[0] == 0:
        return None
    Y, s_fit, s_raw = target.encode(y, s)
    ids = None if n_folds is None else fold_ids(start, x.shape[0], fold, n_folds)
    data = GLMData(x, Y, s_fit, target.fit_intercept)
    train = {k: None if k is None else ids != k for k in dict.fromkeys(k for k, _, _ in requests)}
    values = _value_gradients(data, target.loss, [(theta, train[k]) for k, theta, _ in requests])
    return [_request_sums(data, s_raw, start, ids, target, req, train[req[0]], *vals)
            for req, vals in zip(requests, values, strict=True)]


def _request_sums(data: GLMData, s_raw, start, ids, target, request, train, value, grad, eta):
    """One request's ``[value, grad, H or None, held, weights]`` (see ``_glm_block``), from its
    value and gradient on its ``train`` rows (None: all) and its predictor ``eta`` on all."""
    k, _, stride = request
    weight = data.sample_weight if train is None else data.sample_weight[train]
    hess, in_h = None, 0.0
    sel = None
    if stride == 1 and weight.size:
        sel = slice(None) if train is None else train
    elif stride > 1:
        sel = np.arange((-start) % stride, data.X.shape[0], stride)
        if k is not None:
            sel = sel[ids[sel] != k]
        sel = sel if sel.size else None
    if sel is not None:
        sub = Objective(data.subset(sel), target.loss, _ZERO)
        hess, in_h = sub.loss_hessian(eta[sel]), float(sub.data.sample_weight.sum())
    held = None
    if k is not None:
        te = ~train
        held = np.array([target.loss.value(data.y[te], eta[te], s_raw[te]), s_raw[te].sum()])
    return [value, grad, hess, held, np.array([float(weight.sum()), in_h])]


_CHUNK_BYTES = 1 << 22


def _value_gradients(data: GLMData, loss, requests: list) -> list:
    """Per request ``(theta, train)``: the data term's value and gradient on the ``train``
    rows (a boolean mask; None: all rows) and the linear predictor on every row.

    A cache-sized chunk of rows at a time, so that X is read from memory once for all the
    requests (each one's products with the chunk, ``X_c theta`` and ``X_c' G``, meet it in
    cache); a fold's rows are selected in the loss's vectors (``G`` is zero on the held-out
    rows), never in X; a zero theta needs no product with X.
    """
    n = data.X.shape[0]
    rows = max(64, _CHUNK_BYTES // (8 * max(data.n_features, 1)))
    out = [[0.0, np.zeros_like(theta), np.empty(data.y.shape, order="F")]
           for theta, _ in requests]
    for i in range(0, n, rows):
        c = slice(i, i + rows)
        part = GLMData(data.X[c], data.y[c], data.sample_weight[c], data.fit_intercept)
        for acc, (theta, train) in zip(out, requests, strict=True):
            eta = part.predictor(theta) if theta.any() else np.zeros(part.y.shape)
            if train is None:
                value, g = loss.gradient(part.y, eta, part.sample_weight)
            else:
                t = train[c]
                value, g_t = loss.gradient(part.y[t], eta[t], part.sample_weight[t])
                g = np.zeros(eta.shape, order="F")
                g[t] = g_t
            acc[0] += value
            acc[1] += part.back_project(g)
            acc[2][c] = eta
    return [tuple(acc) for acc in out]


def _add(a, b):
    if a is None or b is None:
        return b if a is None else a
    return a + b


def _add_results(a, b):
    if a is None or b is None:
        return b if a is None else a
    return [[_add(u, v) for u, v in zip(ra, rb, strict=True)] for ra, rb in zip(a, b, strict=True)]


def first_stride(n: int, rows: int) -> int:
    """The stride ``m`` of about ``rows`` rows out of ``n``; 1 (all rows) below ``2 * rows``."""
    m = n // max(rows, 1)
    return m if m >= 2 else 1


class Passes:
    """Distributed evaluations of the data term over the partitions of one fit.

    ``stride``: a Newton step first takes its Hessian from every m-th row
    (:func:`first_stride` with ``HESSIAN_ROWS_PER_PARAM`` rows per parameter); ``refs``: the
    stopping rule's ``||grad at 0||_inf`` of each fold, once known.
    """

    def __init__(self, blocks, target: Target, n_folds: int | None = None):
        self.blocks, self.target, self.n_folds = blocks, target, n_folds
        self.count = 0
        n_params = (blocks.n_features + int(target.fit_intercept)) * target.n_outputs
        self.stride = first_stride(blocks.n_samples, HESSIAN_ROWS_PER_PARAM * n_params)
        self.refs: dict[int | None, float] = {}
        self._delayed = blocks.delayed()  # the same partitions every pass

    def run(self, requests):
        """Sums over all partitions for each request (see ``_glm_block``); a Hessian from a
        stride of the rows comes back scaled to the fitting weight of all of them."""
        delayed = dask.delayed
        requests = [(k, np.asarray(theta, dtype=np.float64), m) for k, theta, m in requests]
        reqs = delayed(requests, pure=True)
        check = self.count == 0  # the values are checked in the first pass only
        parts = [delayed(_glm_block)(b, start, x, y, s, f, self.target, self.n_folds, reqs,
                                     check)
                 for b, start, x, y, s, f in self._delayed]
        self.count += 1
        out = compute(_tree_reduce(parts, _add_results))
        for (_, _, m), res in zip(requests, out, strict=True):
            weight, in_h = res[4]
            if m > 1 and res[2] is not None and 0 < in_h != weight:
                res[2] = res[2] * (weight / in_h)
        return out

    def set_ref(self, fold: int | None, grad0: np.ndarray) -> None:
        """Keep ``||grad at 0||_inf`` of ``fold``'s data term (1 where it is zero)."""
        ref = float(np.max(np.abs(grad0))) if grad0.size else 0.0
        self.refs[fold] = ref if ref > 0 else 1.0

    def dummy(self) -> GLMData:
        """An empty problem of the right shape (the client's penalty and Hessian helpers)."""
        p, K = self.blocks.n_features, self.target.n_outputs
        return GLMData(np.empty((0, p)), np.empty((0, K)), np.empty(0), self.target.fit_intercept)


# ---------------------------------------------------------------------------- Newton
@dataclass
class _Problem:
    """One fit (all rows, or the training rows of fold ``fold``) and its Newton state."""

    fold: int | None
    obj: Objective  # penalty and shapes only (empty data)
    theta: np.ndarray
    ref: float = 1.0
    value: float = np.inf
    grad: np.ndarray | None = None
    grad_norm: float = np.inf
    hess: np.ndarray | None = None
    fresh: bool = False
    step: np.ndarray | None = None
    t: float = 1.0
    keep: bool = False
    stride: int = 1
    held: np.ndarray | None = None
    n_iter: int = 0
    done: bool = False

    def full(self, theta, value, grad):
        p = self.obj.data.n_features
        pen = self.obj.penalty
        grad = grad.copy()
        grad[:p] += pen.gradient(theta[:p])
        return value + pen.value(theta[:p]), grad


def _direction(prob: _Problem) -> np.ndarray:
    P, K = prob.theta.shape
    H = prob.obj.penalized(prob.hess)
    L = cholesky(H)
    g = prob.grad.ravel(order="F")
    return -scipy.linalg.cho_solve((L, True), g).reshape((P, K), order="F")


def _first_pass(passes: Passes, problems: list[_Problem]) -> list:
    """Evaluate every problem at its start (with its Hessian) and set its ``ref``.

    The stopping rule's ``||grad at 0||_inf`` (penalty gradient zero there) is that of the
    start when the start is zero, else one more request at zero in the same pass (no product
    with ``X``); it is kept per fold for the later fits of the same ``passes``.
    """
    requests, zero_index = [(prob.fold, prob.theta, prob.stride) for prob in problems], {}
    for prob in problems:
        if prob.fold not in passes.refs and prob.fold not in zero_index and prob.theta.any():
            zero_index[prob.fold] = len(requests)
            requests.append((prob.fold, np.zeros_like(prob.theta), NO_HESSIAN))
    res = passes.run(requests)
    for j, prob in enumerate(problems):
        if prob.fold not in passes.refs:
            passes.set_ref(prob.fold, res[zero_index.get(prob.fold, j)][1])
        prob.ref = passes.refs[prob.fold]
    return res[: len(problems)]


def newton(passes: Passes, problems: list[_Problem], tol: float, max_iter: int) -> None:
    """Newton-Cholesky for several problems in lock-step (one pass per iteration for all).

    With many rows the Hessian of each step comes from every m-th row (``passes.stride``, by
    global position), scaled to all rows: a preconditioner only, since the gradient, the
    Armijo test and the stopping rule are exact (the same optimum). A fresh one is formed at
    every trial point (it costs a tenth of a full one or less). A step that fails to halve
    the gradient norm, or near the optimum (Newton decrement ``-g'd`` at most the number of
    parameters) to contract it four-fold, halves ``m``, down to the full Hessian (``m = 1``),
    which is then reused while a full step still contracts four-fold; a step along which no
    decrease is found switches to it at once.
    """
    for prob in problems:
        prob.stride = passes.stride
    for prob, (value, grad, hess, held, _) in zip(problems, _first_pass(passes, problems),
                                                  strict=True):
        prob.value, prob.grad = prob.full(prob.theta, value, grad)
        prob.held = held
        _set_hessian(prob, hess)
        prob.grad_norm = float(np.max(np.abs(prob.grad))) / prob.ref
        prob.done = prob.grad_norm <= tol
    while True:
        active = [prob for prob in problems if not prob.done]
        if not active:
            break
        requests = []
        for prob in active:
            if prob.hess is None:
                requests.append((prob.fold, prob.theta, prob.stride))
                continue
            if prob.step is None:
                prob.step, prob.t = _direction(prob), 1.0
            requests.append((prob.fold, prob.theta + prob.t * prob.step,
                             NO_HESSIAN if prob.keep else prob.stride))
        for prob, (value, grad, hess, held, _) in zip(active, passes.run(requests), strict=True):
            if prob.hess is None:
                _set_hessian(prob, hess)
                continue
            _update(prob, value, grad, hess, held, tol, max_iter)
    for prob in problems:
        if not prob.obj.penalty.is_zero:
            continue
        if not np.all(np.isfinite(prob.theta)) or np.max(np.abs(prob.theta)) > 1e10:
            raise SeparableDataError(
                "The coefficients diverge (|coef| > 1e10): with alpha=0 this loss has no "
                "finite minimizer on these data. Use alpha > 0 (e.g. alpha=1e-3).")


def _set_hessian(prob: _Problem, hess) -> None:
    """A Hessian at the current point (None: no row in its stride; use them all)."""
    if hess is None and prob.stride > 1:
        prob.stride = 1
    prob.hess, prob.fresh = hess, hess is not None


def _update(prob: _Problem, value, grad, hess, held, tol, max_iter) -> None:
    """Armijo test of the trial point; accept and move, or halve the step."""
    trial = prob.theta + prob.t * prob.step
    value, grad = prob.full(trial, value, grad)
    slope = float(prob.grad.ravel() @ prob.step.ravel())
    slack = 16 * np.finfo(np.float64).eps * abs(prob.value)
    if value <= prob.value + 1e-4 * prob.t * slope + slack:
        before = prob.grad_norm
        prob.theta, prob.value, prob.grad, prob.held = trial, value, grad, held
        prob.grad_norm = float(np.max(np.abs(grad))) / prob.ref
        prob.n_iter += 1
        contracted = prob.t == 1.0 and prob.grad_norm <= 0.25 * before
        if prob.stride > 1:
            slow = prob.grad_norm > 0.5 * before
            if slow or (not contracted and -slope <= prob.theta.size):
                prob.stride //= 2
            _set_hessian(prob, hess)
        elif not contracted:  # the Hessian at this point (None if it was not asked: next pass)
            prob.hess, prob.fresh, prob.keep = hess, hess is not None, False
        else:
            prob.fresh, prob.keep = False, True
        prob.step = None
        prob.done = prob.grad_norm <= tol or prob.n_iter >= max_iter
        return
    prob.t *= 0.5
    if prob.t < 2.0**-40:
        if prob.fresh and prob.stride == 1:  # no decrease along an exact Newton direction
            prob.done = True
        else:
            prob.stride = 1
            prob.hess, prob.step, prob.keep = None, None, False


def lbfgs(passes: Passes, prob: _Problem, tol: float, max_iter: int) -> None:
    """scipy's L-BFGS-B on the client, each value and gradient one distributed pass."""
    shape = prob.theta.shape
    if prob.fold not in passes.refs:
        passes.set_ref(prob.fold, passes.run([(prob.fold, np.zeros(shape), NO_HESSIAN)])[0][1])
    prob.ref = passes.refs[prob.fold]
    seen = {}

    def fun(flat):
        theta = flat.reshape(shape)
        value, grad, _, held, _ = passes.run([(prob.fold, theta, NO_HESSIAN)])[0]
        value, grad = prob.full(theta, value, grad)
        seen[flat.tobytes()] = (value, grad, held)
        return value, grad.ravel()

    res = scipy.optimize.minimize(
        fun, prob.theta.ravel(), jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "maxfun": 2 * max_iter + 20, "maxcor": 10, "maxls": 50,
                 "gtol": tol * prob.ref, "ftol": 0.0})
    prob.theta = res.x.reshape(shape)
    if res.x.tobytes() not in seen:
        fun(res.x)
    prob.value, prob.grad, prob.held = seen[res.x.tobytes()]
    prob.grad_norm = float(np.max(np.abs(prob.grad))) / prob.ref
    prob.n_iter = int(res.nit)


def _warn_unconverged(prob: _Problem, tol: float, name: str) -> None:
    if prob.grad_norm > tol:
        warnings.warn(
            f"{name} did not converge in {prob.n_iter} iterations: the relative gradient norm "
            f"reached {prob.grad_norm:.3g} > tol={tol:.3g}. Increase max_iter, scale the "
            "features, or increase alpha.", ConvergenceWarning, stacklevel=4)


def _effective_df(prob: _Problem) -> float:
    """``tr(H_data (H_data + alpha J)^-1)`` less the intercepts, from the last data Hessian
    (from a stride of the rows when one was used; NaN when none was formed: L-BFGS)."""
    if prob.hess is None:
        return float("nan")
    d = prob.obj.data
    K = d.n_outputs
    H = prob.obj.penalized(prob.hess)
    shift = getattr(prob.obj.loss, "shift_invariant", False) and d.fit_intercept and K > 1
    intercepts = (K - int(shift)) if d.fit_intercept else 0
    return float(np.trace(scipy.linalg.solve(H, prob.hess, assume_a="pos"))) - intercepts


def _fit_result(prob: _Problem, tol: float) -> FitResult:
    p = prob.obj.data.n_features
    theta = prob.theta
    intercept = theta[p].copy() if prob.obj.data.fit_intercept else np.zeros(theta.shape[1])
    if getattr(prob.obj.loss, "shift_invariant", False):
        intercept -= intercept.mean()
    return FitResult(theta[:p].copy(), intercept, prob.n_iter, prob.grad_norm <= tol,
                     prob.grad_norm, prob.value)


# ---------------------------------------------------------------------------- first pass
def _target_block(part, start, x, y, s, classify: bool, stride: int = 0):
    """``[summary, sample]``: labels with their counts and weights (classifiers) or the
    weighted count sums; and ``(x, y, s)`` of the rows whose global position is a multiple
    of ``stride`` (None for ``stride`` 0)."""
    sample = None
    if stride:
        sel = np.arange((-start) % stride, len(y), stride)
        sample = (np.asarray(x)[sel], np.asarray(y)[sel],
                  None if s is None else np.asarray(s, dtype=np.float64)[sel])
    return [_summary(part, start, y, s, classify), sample]


def _summary(part, start, y, s, classify: bool):
    start_stop = (start, start + len(y))
    y = np.asarray(y)
    s = None if s is None else np.asarray(s, dtype=np.float64)
    if classify:
        labels, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        w = counts.astype(np.float64) if s is None else np.bincount(inverse.ravel(), s,
                                                                     len(labels))
        return {lab: np.array([c, wt]) for lab, c, wt in zip(labels, counts, w, strict=True)}
    y = y.astype(np.float64)
    bad = ~np.isfinite(y) | (y < 0)
    if bad.any():
        r = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"Poisson regression needs finite counts >= 0; partition {part} (rows "
            f"{start_stop[0]}-{start_stop[1] - 1}) has {float(y.ravel()[r])!r} at row {start + r}.")
    sw = np.ones(len(y)) if s is None else s
    return np.array([sw @ y.ravel(), sw.sum()])


def _merge_counts(a, b):
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = out[k] + v if k in out else v
        return out
    return a + b


def _concat(a, b):
    if a is None or b is None:
        return b if a is None else a
    return tuple(None if u is None else np.concatenate([u, v]) for u, v in zip(a, b, strict=True))


def _merge_summaries(a, b):
    return [_merge_counts(a[0], b[0]), _concat(a[1], b[1])]


def target_summary(blocks, classify: bool, stride: int = 0):
    """The target's summary (see ``_target_block``) and the sample of every ``stride``-th
    row (None for ``stride`` 0), in one pass."""
    delayed = dask.delayed
    parts = [delayed(_target_block)(b, start, x, y, s, classify, stride)
             for b, start, x, y, s, _ in blocks.delayed()]
    return compute(_tree_reduce(parts, _merge_summaries))


def sample_start(sample, target: Target, alpha: float, start: np.ndarray,
                 total_weight: float) -> np.ndarray:
    """Newton's start from a sample of the rows: the in-memory fit of
    ``(W / W_sample) sum_{i in sample} s_i loss_i + alpha/2 ||W||^2`` (``W`` the fitting
    weight of all rows), whose error shrinks like ``sqrt(params / sample rows)``; it skips
    the damped steps that Newton takes from ``start``, far from the optimum.

    Only the start changes: the distributed Newton that follows has the same gradient, line
    search and stopping rule, so the same optimum. ``start`` is kept when the sample is
    empty, lacks a class (its intercept would run off), holds values the first pass will
    refuse (it names them), or its fit fails.
    """
    x, y, s = sample
    if x.shape[0] == 0 or not np.all(np.isfinite(x)):
        return start
    if target.classes is not None and len(np.unique(y)) < len(target.classes):
        return start
    Y, s_fit, _ = target.encode(y, s)
    if not (np.all(np.isfinite(s_fit)) and np.all(s_fit >= 0) and s_fit.sum() > 0):
        return start
    data = GLMData(np.asarray(x, dtype=np.float64), Y, s_fit * (total_weight / s_fit.sum()),
                   target.fit_intercept)
    obj = Objective(data, target.loss, L2Penalty(alpha))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = NewtonCholesky().solve(obj, start, 1e-6, 50)
    except (SeparableDataError, np.linalg.LinAlgError):
        return start
    theta = res.theta if target.fit_intercept else res.coef
    return theta if res.converged and np.all(np.isfinite(theta)) else start


def _null_curvature_block(start, x, y, s, target: Target, theta):
    """``(X'c, X' diag(c) X or its diagonal, sum c)`` with ``c`` the curvature at ``theta``."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:
        return None
    Y, s_fit, _ = target.encode(np.asarray(y), None if s is None else np.asarray(s, float))
    eta = np.broadcast_to(theta[-1] if target.fit_intercept else 0.0, Y.shape)
    c = np.einsum("ikk->i", target.loss.hessian(Y, np.array(eta), s_fit)) / Y.shape[1]
    gram = (x * x).T @ c if x.shape[1] > _MAX_DENSE else (x * c[:, None]).T @ x
    return [x.T @ c, gram, c.sum()]


# ---------------------------------------------------------------------------- estimators
class _DaskGLM:
    """Shared ``fit`` pieces of the Dask GLMs (mixed in before the in-memory estimator)."""

    def _target(self, blocks, stride: int = 0) -> tuple[Target, tuple | None]:
        """The fit's target and the sample of every ``stride``-th row (None for 0)."""
        fit_intercept = bool(self.fit_intercept)
        summary, sample = target_summary(blocks, is_classifier(self), stride)
        if not is_classifier(self):
            if not summary[0] > 0:
                raise ValueError("y is zero everywhere: Poisson regression needs at least one "
                                 "positive count.")
            self._means = summary
            return Target(PoissonLoss(), fit_intercept), sample
        classes = np.array(sorted(summary))
        if len(classes) < 2:
            raise ValueError(
                f"This classifier needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {classes[0]!r}.")
        counts = np.array([summary[c][0] for c in classes])
        weights = np.array([summary[c][1] for c in classes])
        cw = None
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            cw = counts.sum() / (len(classes) * counts)
        elif self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=classes)
        self.classes_ = classes
        self._class_fit_weight = weights * (1.0 if cw is None else cw)
        loss = LogisticLoss() if len(classes) == 2 else MultinomialLoss()
        return Target(loss, fit_intercept, classes, cw), sample

    def _start(self, target: Target, p: int) -> np.ndarray:
        """Zero coefficients and the loss's intercept-only optimum (as in memory)."""
        K = target.n_outputs
        theta = np.zeros((p + int(target.fit_intercept), K))
        if not target.fit_intercept:
            return theta
        if target.classes is None:
            sy, sw = self._means
            theta[-1] = np.log(max(sy / sw, 1e-12))
        elif K == 1:
            w = self._class_fit_weight
            theta[-1] = target.loss.initial_intercept(np.array([[-1.0], [1.0]]), w)
        else:
            theta[-1] = target.loss.initial_intercept(np.eye(K), self._class_fit_weight)
        return theta

    def _solver(self, p: int, target: Target) -> str:
        if self.solver == "newton-cg":
            raise ValueError("solver='newton-cg' needs the rows in memory; on Dask use 'auto', "
                             "'newton-cholesky' or 'lbfgs'.")
        if self.solver != "auto":
            return self.solver
        P = p + int(target.fit_intercept)
        return "newton-cholesky" if P * target.n_outputs <= NEWTON_MAX_PARAMS else "lbfgs"

    def _problem(self, passes: Passes, alpha: float, theta, fold=None) -> _Problem:
        return _Problem(fold, Objective(passes.dummy(), passes.target.loss, L2Penalty(alpha)),
                        np.array(theta, dtype=np.float64))

    def _solve(self, passes, problems, tol, max_iter):
        if self.solver_ == "lbfgs":
            for prob in problems:
                lbfgs(passes, prob, tol, max_iter)
        else:
            newton(passes, problems, tol, max_iter)

    def fit(self, X, y, sample_weight=None):
        """Fit on Dask data.

        Parameters
        ----------
        X : dask.array or dask.dataframe of shape (n_samples, n_features)
            Any chunking along the rows.
        y : dask.array, dask Series or ndarray of shape (n_samples,)
        sample_weight : dask.array or ndarray of shape (n_samples,), optional

        Returns
        -------
        self
        """
        check_glm_params(self)
        alpha = resolve_alpha(self)
        blocks = row_blocks(X, y, sample_weight)
        if blocks.y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {blocks.y.shape}.")
        self._set_features(blocks)
        P = blocks.n_features + int(bool(self.fit_intercept))
        stride = blocks.n_samples // (START_ROWS_PER_PARAM * P)
        target, sample = self._target(blocks, stride if stride >= START_MIN_STRIDE else 0)
        self.solver_ = self._solver(blocks.n_features, target)
        passes = Passes(blocks, target)
        start = self._start(target, blocks.n_features)
        if sample is not None and self.solver_ == "newton-cholesky":
            total = self._means[1] if target.classes is None else self._class_fit_weight.sum()
            start = sample_start(sample, target, alpha, start, float(total))
        prob = self._problem(passes, alpha, start)
        max_iter = max_iter_for(self.solver_, self.max_iter)
        self._solve(passes, [prob], self.tol, max_iter)
        _warn_unconverged(prob, self.tol, self.solver_)
        self._store_fits([(_fit_result(prob, self.tol), _effective_df(prob))])
        self.n_passes_ = passes.count
        return self


class _DaskClassifier(_DaskLinearPredict):

    def decision_function(self, X):
        """Linear predictor ``X w + b`` (dask array): (n,) for two classes, else (n, K)."""
        check_is_fitted(self)
        scores = self._dask_X(X).astype(np.float64) @ np.asarray(self.coef_, np.float64).T
        scores = scores + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels (dask array)."""
        scores = self.decision_function(X)
        classes = self.classes_
        if scores.ndim == 1:
            return scores.map_blocks(lambda s: classes[(s > 0).astype(int)], dtype=classes.dtype)
        return scores.map_blocks(lambda s: classes[np.argmax(s, axis=1)], drop_axis=1,
                                 dtype=classes.dtype)

    def predict_proba(self, X):
        """Class probabilities (dask array of shape (n_samples, n_classes))."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return scores.map_blocks(lambda s: np.column_stack([1 - expit(s), expit(s)]),
                                     new_axis=1, chunks=(scores.chunks[0], (2,)),
                                     dtype=np.float64)
        return scores.map_blocks(lambda s: softmax(s, axis=1), dtype=np.float64)


class LogisticRegression(_DaskGLM, _DaskClassifier, _LogisticRegression):
    """:class:`ridgeway.LogisticRegression` on Dask arrays and data frames.

    Minimizes ``sum_i s_i * loss(y_i, x_i W + b) + alpha / 2 * ||W||_F^2`` (logistic loss for
    two classes, softmax otherwise; ``s_i`` the sample weight times the class weight;
    ``alpha = 1 / C``), the same objective and parameters as in memory. ``solver="auto"`` is
    distributed Newton-Cholesky up to 4096 parameters (times classes), else L-BFGS;
    ``"newton-cg"`` needs the rows in memory. ``predict``, ``predict_proba`` and
    ``decision_function`` return dask arrays. ``df_`` comes from the data Hessian of the
    last Newton step (from every m-th row when there are more than 4,000 rows per parameter;
    NaN with L-BFGS); ``n_passes_`` counts the passes over the data. With 4,000 rows or more
    per parameter, Newton starts from the in-memory fit of a sample of the rows (every m-th
    row, 200 per parameter; :func:`sample_start`): the same optimum in fewer passes.
    """


class PoissonRegressor(_DaskGLM, _DaskLinearPredict, _PoissonRegressor):
    """:class:`ridgeway.PoissonRegressor` on Dask arrays and data frames.

    Minimizes ``sum_i s_i (y_i log(y_i / mu_i) - y_i + mu_i) + alpha / 2 * ||w||^2`` with
    ``mu_i = exp(x_i . w + b)``, as in memory. ``predict`` returns the expected counts as a
    dask array. Fitted as :class:`LogisticRegression` is (distributed Newton, started from a
    sample's fit on large data).
    """

    def predict(self, X):
        """Expected counts ``exp(X w + b)`` (dask array)."""
        return np.exp(super().predict(X))


class LogisticRegressionCV(_DaskGLM, _DaskClassifier, _LogisticRegressionCV):
    """:class:`ridgeway.LogisticRegressionCV` on Dask arrays and data frames (k-fold).

    For each candidate alpha the model minimizes ``sum_i s_i loss_i + alpha/2 ||W||_F^2``.
    The folds (``cv=k``) are a hash of each row's global position
    (:func:`ridgeway.linalg.fold_of`), or the ``fold`` column given to ``fit``; all
    folds are fitted in lock-step (one pass per Newton iteration for every fold), warm-started
    down the decreasing alpha grid, and scored with the mean held-out log-loss
    (``scoring="neg_log_loss"``, the only scoring available on Dask). ``method="kfold"`` only.
    ``cv_results_``, ``scores_``, ``coefs_paths_`` have the in-memory layout.
    """

    def _check_dask_cv(self) -> tuple[int, AlphaGrid]:
        asked = self._check_cv_params()
        if self.method != "kfold":
            raise ValueError("On Dask only method='kfold' is available.")
        if self.scoring != self._native_scoring:
            raise ValueError(
                f"On Dask the CV score is the held-out {self._native_scoring!r}, computed in "
                f"the partitions; got scoring={self.scoring!r}.")
        return check_n_folds(self.cv), asked

    def fit(self, X, y, sample_weight=None, *, fold=None):
        """Select alpha by k-fold CV, then fit on all data.

        Parameters
        ----------
        X : dask.array or dask.dataframe of shape (n_samples, n_features)
        y : dask.array, dask Series or ndarray of shape (n_samples,)
        sample_weight : dask.array or ndarray of shape (n_samples,), optional
        fold : dask.array or ndarray of int of shape (n_samples,), optional
            The fold (0 .. cv - 1) of each row; default: the position hash.

        Returns
        -------
        self
        """
        n_folds, asked = self._check_dask_cv()
        blocks = row_blocks(X, y, sample_weight, fold)
        if blocks.y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {blocks.y.shape}.")
        self._set_features(blocks)
        target, _ = self._target(blocks)
        self.solver_ = self._solver(blocks.n_features, target)
        passes = Passes(blocks, target, n_folds)
        start = self._start(target, blocks.n_features)
        grid, rank = self._dask_grid(blocks, target, start, asked)
        max_iter = max_iter_for(self.solver_, self.max_iter)
        path_tol = max(self.tol, GENERAL_PATH_TOL)
        cache: dict[float, tuple] = {}

        def curve(alphas):
            alphas = np.asarray(alphas, dtype=np.float64)
            new = np.sort([a for a in alphas if float(a) not in cache])[::-1]
            for alpha in new:
                above = [a for a in cache if a > alpha]
                thetas = cache[min(above)][0] if above else [start] * n_folds
                probs = [self._problem(passes, alpha, thetas[k], k) for k in range(n_folds)]
                self._solve(passes, probs, path_tol, max_iter)
                cache[float(alpha)] = ([p.theta for p in probs], probs)
            points, scores = [], np.empty((n_folds, len(alphas)))
            for a, alpha in enumerate(alphas):
                thetas, probs = cache[float(alpha)]
                for k, prob in enumerate(probs):
                    scores[k, a] = -prob.held[0] / prob.held[1]
                points.append(CVPoint(None, [[t] for t in thetas],
                                      np.array([p.n_iter for p in probs]),
                                      float(np.mean([_effective_df(p) for p in probs]))))
            return points, scores

        fitted: dict[float, CVPoint] = {}

        def evaluate(alphas: np.ndarray) -> CVCurve:
            points, scores = curve(alphas)
            fitted.update(zip(np.asarray(alphas).tolist(), points, strict=True))
            return _score_curve(np.asarray(alphas, dtype=np.float64), scores)

        found = self._search(evaluate, grid, asked)
        grid_points = [fitted[a] for a in found.curve.alphas.tolist()]
        self._store_search(found, grid_points)
        best = fitted[self.alpha_]
        outputs = (target.n_outputs - 1) if target.n_outputs > 1 else 1
        self.rank_ = rank * outputs
        self.almost_unpenalized_ = bool(best.df >= NEAR_RANK * self.rank_)
        theta0 = np.mean([row[0] for row in best.thetas], axis=0)
        final = Passes(blocks, target)
        prob = self._problem(final, self.alpha_, theta0)
        self._solve(final, [prob], self.tol, max_iter)
        _warn_unconverged(prob, self.tol, self.solver_)
        self._store_fits([(_fit_result(prob, self.tol), _effective_df(prob))])
        self._store_cv_attributes(-found.curve.splits[:, :, 0], grid_points)
        self.n_passes_ = passes.count + final.count
        return self

    def _dask_grid(self, blocks, target: Target, start, asked: AlphaGrid
                   ) -> tuple[np.ndarray, int]:
        """The grid (decreasing) and the design's rank, as ``GLMCVMixin._grid`` in memory:
        from the curvature-weighted centered gram at the intercept-only model."""
        delayed = dask.delayed
        parts = [delayed(_null_curvature_block)(s0, x, y, s, target, start)
                 for _, s0, x, y, s, _ in blocks.delayed()]
        xc, gram, total = compute(_tree_reduce(parts, _add_results_flat))
        total = max(float(total), 1e-300)
        p = blocks.n_features
        if p > _MAX_DENSE:
            d = gram - (xc**2 / total if target.fit_intercept else 0.0)
            top = float(np.sum(np.maximum(d, 0)))
            rank = int(min(blocks.n_samples - int(target.fit_intercept), p))
            grid = (log_grid(top * 1e-6, top / 0.01, self.n_alphas) if top > 0
                    else log_grid(1e-3, 1e3, self.n_alphas))
        else:
            if target.fit_intercept:
                gram = gram - np.outer(xc, xc) / total
            d = np.linalg.eigvalsh(gram)
            rank = int(np.sum(d > 1e-10 * max(float(np.max(d)), 1e-300))) if d.size else 0
            grid = df_alpha_grid(d, n_alphas=self.n_alphas, tail=0.01)
        if asked.values is None:
            return grid, rank
        return np.sort(asked.values)[::-1], rank


def _add_results_flat(a, b):
    if a is None or b is None:
        return b if a is None else a
    return [u + v for u, v in zip(a, b, strict=True)]

