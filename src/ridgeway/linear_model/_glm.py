"""Scikit-learn compatible L2-penalized GLMs: logistic regression, linear SVM, Poisson.

Every estimator minimizes::

    sum_i s_i * loss(y_i, x_i . w + b) + alpha / 2 * ||w||^2

over the coefficients ``w`` and an unpenalized intercept ``b``; ``s_i`` are the sample weights
(times the class weights for classifiers). ``alpha`` is ``1 / C`` of scikit-learn's
``LogisticRegression`` and ``LinearSVC``. The estimators validate their input, encode the
target for the loss, call :func:`ridgeway.glm.solve` and store fitted attributes; nothing
numerical happens here.
"""

from __future__ import annotations

from functools import partial
from numbers import Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, d2_tweedie_score
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    check_alpha,
    check_finite,
    check_int,
    check_max_abs,
    check_sample_weight,
    validate_fit_data,
    validate_predict_X,
)
from ..exceptions import PredictionOverflowError
from ..glm import (
    GLMData,
    L2Penalty,
    LogisticLoss,
    MultinomialLoss,
    Objective,
    PoissonLoss,
    SquaredHingeLoss,
    resolve_solver,
    solve,
)
from ..glm.path import effective_df
from ..glm.solvers import SOLVERS
from ..linalg.solve import max_abs

__all__ = ["LinearSVC", "LogisticRegression", "PoissonRegressor"]

_NEWTON_MAX_ITER = 100
_LBFGS_MAX_ITER = 1000


#: scikit-learn solvers ridgeway does not have, and what to use instead.
_OTHER_SOLVERS = {
    "saga": "ridgeway fits L2 penalties only, for which solver='auto' (Newton or L-BFGS) "
    "replaces saga; for L1 or elastic-net penalties use scikit-learn's LogisticRegression",
    "sag": "use solver='auto' (Newton-Cholesky, Newton-CG or L-BFGS)",
    "liblinear": "use solver='auto' or 'newton-cg' (a trust-region Newton method like "
    "liblinear's; ridgeway never penalizes the intercept)",
}


def check_glm_params(est: BaseEstimator) -> None:
    """Validate the hyperparameters shared by every GLM estimator (raises with the fix)."""
    if est.solver in _OTHER_SOLVERS:
        raise ValueError(f"solver={est.solver!r} is not available: {_OTHER_SOLVERS[est.solver]}.")
    if est.solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {est.solver!r}.")
    check_sklearn_keywords(est)
    if isinstance(est.tol, bool) or not isinstance(est.tol, Real) or not est.tol > 0:
        raise ValueError(f"tol must be a positive number, got {est.tol!r}.")
    if est.max_iter is not None:
        check_int(est.max_iter, "max_iter", minimum=1)
    if not isinstance(est.fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be True or False, got {est.fit_intercept!r}.")


def check_sklearn_keywords(est: BaseEstimator) -> None:
    """Accept scikit-learn's keywords where ridgeway honours them; refuse the others with the
    ridgeway way of getting the same (see docs/sklearn-compat.md)."""
    penalty = getattr(est, "penalty", "l2")
    if penalty not in ("l2", "deprecated"):
        raise ValueError(
            f"penalty={penalty!r} is not available: ridgeway fits L2 penalties only "
            "(penalty='l2'). For an unpenalized model use alpha=0; for L1 or elastic-net use "
            "scikit-learn's LogisticRegression(solver='saga')."
        )
    l1_ratio = getattr(est, "l1_ratio", None)
    if l1_ratio not in (None, 0, 0.0):
        raise ValueError(
            f"l1_ratio={l1_ratio!r} is not available: ridgeway fits L2 penalties only "
            "(l1_ratio=0). For L1 or elastic-net use scikit-learn's LogisticRegression."
        )
    if getattr(est, "dual", False) not in (False, "auto"):
        raise ValueError(
            "dual=True is not available: ridgeway solves the primal problem, whose Newton and "
            "L-BFGS solvers handle n_features > n_samples as well; remove dual=True."
        )
    if getattr(est, "warm_start", False):
        raise ValueError(
            "warm_start=True is not available: use the ...CV estimator, whose paths are "
            "warm-started along the alpha grid, or fit once per alpha."
        )
    if getattr(est, "intercept_scaling", 1) != 1:
        raise ValueError(
            "intercept_scaling only matters when the intercept is penalized (liblinear); "
            "ridgeway never penalizes it: remove intercept_scaling."
        )
    for name in ("n_jobs", "random_state"):
        value = getattr(est, name, None)
        if value is not None and not isinstance(value, (int, np.integer, np.random.RandomState,
                                                        np.random.Generator)):
            raise TypeError(f"{name} must be None or an integer, got {value!r}.")


def resolve_alpha(est: BaseEstimator, default: float = 1.0) -> float:
    """``alpha``, or ``1 / C`` (scikit-learn's keyword), or ``default``; not both."""
    alpha, C = est.alpha, getattr(est, "C", None)
    if alpha is not None and C is not None:
        raise ValueError(
            f"Pass either alpha={alpha!r} or C={C!r}, not both: C is scikit-learn's inverse "
            "penalty, alpha = 1 / C."
        )
    if C is not None:
        if isinstance(C, bool) or not isinstance(C, Real) or not C > 0:
            raise ValueError(f"C must be a positive number (alpha = 1 / C), got {C!r}.")
        return 1.0 / float(C)
    return check_scalar_alpha(default if alpha is None else alpha)


def max_iter_for(solver: str, max_iter: int | None) -> int:
    """``max_iter``, or the solver's default: 100 Newton steps or 1000 L-BFGS iterations."""
    if max_iter is not None:
        return max_iter
    return _LBFGS_MAX_ITER if solver == "lbfgs" else _NEWTON_MAX_ITER


#: Above this magnitude squares and cross-products of features overflow float64.
_MAX_ABS_X = 1e150


def validate_Xy(est: BaseEstimator, X, y, *, y_numeric: bool = False):
    """Validate ``(X, y)`` for fitting (:func:`ridgeway._validation.validate_fit_data`),
    computing in float64; also checks that the features' products stay in float64's range.

    Sets ``est._dtype`` to the input's floating dtype (float32 is kept for ``coef_``).
    """
    X, y = validate_fit_data(est, X, y, target="counts" if y_numeric else "labels")
    est._dtype = X.dtype
    X = X.astype(np.float64, copy=False)
    check_max_abs(X, max_abs(X), _MAX_ABS_X, getattr(est, "feature_names_in_", None))
    return X, y


def check_scalar_alpha(alpha) -> float:
    """A single non-negative finite ``alpha``."""
    if np.ndim(alpha) != 0:
        raise ValueError(f"alpha must be a single non-negative number, got {alpha!r}.")
    return float(check_alpha(alpha, name="alpha")[0])


def fit_glm(est: BaseEstimator, X, Y: np.ndarray, sw: np.ndarray, loss, alpha: float,
            theta0=None):
    """Resolve the solver (stored as ``est.solver_``) and minimize the penalized objective.

    Returns the fit and its effective degrees of freedom (:func:`ridgeway.glm.effective_df`).
    """
    data = GLMData(X, Y, sw, bool(est.fit_intercept))
    est.solver_ = resolve_solver(
        est.solver, X.shape[0], data.n_params, data.n_outputs, data.is_sparse
    )
    obj = Objective(data, loss, L2Penalty(alpha))
    fit = solve(obj, est.solver_, tol=est.tol, max_iter=max_iter_for(est.solver_, est.max_iter),
                theta0=theta0)
    return fit, effective_df(obj, fit.theta if data.fit_intercept else fit.coef, eta=fit.eta)


class GLMFitMixin:
    """``fit`` of every GLM estimator: validate, encode the target into one or more problems
    ``(Y, loss)`` (``_encode``), solve each, store the fitted attributes (``_store``)."""

    _y_numeric = False

    def fit(self, X, y, sample_weight=None):
        """Fit the model; ``sample_weight`` multiplies each sample's loss. Returns ``self``."""
        check_glm_params(self)
        alpha = resolve_alpha(self)
        X, y = validate_Xy(self, X, y, y_numeric=self._y_numeric)
        problems, sw = self._encode(y, sample_weight)
        self._store_fits([fit_glm(self, X, Y, sw, loss, alpha) for Y, loss in problems])
        return self

    def _store_fits(self, fits_df) -> None:
        """Store coefficients (in the input's dtype) and ``df_`` (summed over problems)."""
        self._store([fit for fit, _ in fits_df])
        self.df_ = float(sum(df for _, df in fits_df))
        dtype = getattr(self, "_dtype", np.float64)
        self.coef_ = np.asarray(self.coef_).astype(dtype, copy=False)
        if isinstance(self.intercept_, np.ndarray):
            self.intercept_ = self.intercept_.astype(dtype, copy=False)


def encode_classes(y, sample_weight, class_weight):
    """Classes, integer labels and the sample weights multiplied by the class weights."""
    check_classification_targets(y)
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"This classifier needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes[0]!r}."
        )
    sw = check_sample_weight(sample_weight, len(y_idx))
    if class_weight is not None:
        sw = sw * compute_class_weight(class_weight, classes=classes, y=y)[y_idx]
    return classes, y_idx, sw


class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """Shared prediction code of the linear classifiers.

    Every response method is ``_respond(linear predictor, method)``; the CV estimators score
    their held-out linear predictors through the same function.
    """

    _RESPONSES = ("predict", "decision_function")
    _score_metric = staticmethod(accuracy_score)  # ``score`` (ClassifierMixin's)

    def _linear_predictor(self, X) -> np.ndarray:
        X = validate_predict_X(self, X)
        if X.dtype != self.coef_.dtype:
            X = X.astype(np.float64)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def _respond(self, eta: np.ndarray, method: str) -> np.ndarray:
        """The output of ``method`` (one of ``_RESPONSES``) for linear predictors ``eta``."""
        scores = eta[:, 0] if eta.shape[1] == 1 else eta
        if method == "decision_function":
            return scores
        idx = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[idx]

    def decision_function(self, X) -> np.ndarray:
        """Linear predictor ``X w + b``: shape (n_samples,) for two classes, else (n, K)."""
        check_is_fitted(self)
        return self._respond(self._linear_predictor(X), "decision_function")

    def predict(self, X) -> np.ndarray:
        """Predicted class labels."""
        check_is_fitted(self)
        return self._respond(self._linear_predictor(X), "predict")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_SKLEARN_PARAMS_DOC = """
    penalty : {"l2"}, default="l2"
        scikit-learn's keyword; only ``"l2"`` is available (see docs/sklearn-compat.md).
    C : float or None, default=None
        scikit-learn's inverse penalty: ``alpha = 1 / C``. Give ``alpha`` or ``C``, not both.
    n_jobs : int or None, default=None
        Accepted for scikit-learn compatibility; the linear algebra uses BLAS threads.
    random_state : int or None, default=None
        Accepted for scikit-learn compatibility; fits are deterministic.
    dual, warm_start, l1_ratio, intercept_scaling, verbose
        scikit-learn's keywords, accepted at their defaults (``False, False, None, 1, 0``);
        other values raise an error saying what to use instead.

"""


class LogisticRegression(GLMFitMixin, _LinearClassifier):
    """L2-penalized logistic regression, binary or multinomial.

    Minimizes over ``w`` (one column per class for more than two classes) and an unpenalized
    intercept ``b``::

        sum_i s_i * loss(y_i, x_i W + b) + alpha / 2 * ||W||_F^2

    with the logistic loss ``log(1 + exp(-y eta))`` for two classes and the softmax loss
    ``logsumexp(eta) - eta_{y_i}`` with all ``K`` classes parametrized otherwise. ``s_i`` is
    the sample weight times the class weight. ``alpha = 1 / C`` of scikit-learn's
    ``LogisticRegression``.

    Parameters
    ----------
    alpha : float or None, default=None
        Non-negative penalty strength; ``None`` means 1 (or ``1 / C`` when ``C`` is given).
        ``alpha=0`` is unpenalized maximum likelihood and raises on perfectly separable data
        (no finite solution).
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    class_weight : dict, "balanced" or None, default=None
        Per-class weights multiplying the sample weights.
    solver : {"auto", "newton-cholesky", "newton-cg", "lbfgs"}, default="auto"
        "auto" picks Newton-Cholesky for dense data with a small Hessian, trust-region
        Newton-CG for sparse data and L-BFGS otherwise; the choice is stored in ``solver_``.
    tol : float, default=1e-8
        Stop when the gradient's max-norm falls below ``tol`` times its value at zero.
    max_iter : int or None, default=None
        Maximum iterations; ``None`` means 100 Newton steps or 1000 L-BFGS iterations.
    %(sklearn)s
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of ``X`` (float32 is kept). For more than two classes the coefficients of
        each feature sum to zero over the classes (the softmax is unchanged by a common shift).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Centered (summing to zero) for more than two classes.
    n_iter_ : ndarray of shape (1,)
        Solver iterations (scikit-learn's layout).
    df_ : float
        Effective degrees of freedom ``tr(H_data (H_data + alpha J)^{-1})`` at the solution
        (``H_data`` the data-term Hessian, ``J`` the identity on the coefficients and zero on
        the intercept, so an intercept counts 1). See :func:`ridgeway.glm.effective_df`.
    solver_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgeway.linear_model._glm import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = LogisticRegression(alpha=1.0).fit(X, [0, 0, 1, 1])
    >>> clf.predict([[0.2], [2.8]]).tolist()
    [0, 1]
    """

    __doc__ = __doc__.replace("    %(sklearn)s\n", _SKLEARN_PARAMS_DOC.lstrip("\n"))

    def __init__(
        self,
        alpha: float | None = None,
        *,
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
        penalty: str = "l2",
        C: float | None = None,
        n_jobs: int | None = None,
        random_state=None,
        dual: bool = False,
        warm_start: bool = False,
        l1_ratio: float | None = None,
        intercept_scaling: float = 1,
        verbose: int = 0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.penalty = penalty
        self.C = C
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dual = dual
        self.warm_start = warm_start
        self.l1_ratio = l1_ratio
        self.intercept_scaling = intercept_scaling
        self.verbose = verbose

    def _encode(self, y, sample_weight):
        self.classes_, y_idx, sw = encode_classes(y, sample_weight, self.class_weight)
        return [logistic_target(y_idx, len(self.classes_))], sw

    def _store(self, fits) -> None:
        coef, intercept = fits[0].coef.T, fits[0].intercept
        if coef.shape[0] > 1:  # softmax: remove the common shift over classes
            coef = coef - coef.mean(axis=0, keepdims=True)
        self.coef_, self.intercept_ = coef, intercept
        self.n_iter_ = np.array([fits[0].n_iter])

    _RESPONSES = (*_LinearClassifier._RESPONSES, "predict_proba", "predict_log_proba")

    def _respond(self, eta: np.ndarray, method: str) -> np.ndarray:
        if method not in ("predict_proba", "predict_log_proba"):
            return super()._respond(eta, method)
        scores = super()._respond(eta, "decision_function")
        if scores.ndim == 1:
            p = expit(scores)
            p = np.column_stack([1 - p, p])
        else:
            p = softmax(scores, axis=1)
        if method == "predict_proba":
            return p
        with np.errstate(divide="ignore"):
            return np.log(p)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), in the dtype of ``coef_``."""
        check_is_fitted(self)
        return self._respond(self._linear_predictor(X), "predict_proba")

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        check_is_fitted(self)
        return self._respond(self._linear_predictor(X), "predict_log_proba")


def logistic_target(y_idx: np.ndarray, n_classes: int):
    """Target and loss: ``+1/-1`` with the logistic loss, or one-hot with the softmax loss."""
    if n_classes == 2:
        return (2.0 * y_idx - 1.0)[:, None], LogisticLoss()
    return np.eye(n_classes)[y_idx], MultinomialLoss()


class LinearSVC(GLMFitMixin, _LinearClassifier):
    """Linear support vector classifier with the squared hinge loss and an L2 penalty.

    For each binary problem (one per class, one-vs-rest, for more than two classes) minimizes::

        sum_i s_i * max(0, 1 - y_i (x_i . w + b))^2 + alpha / 2 * ||w||^2

    with ``y_i in {-1, +1}`` and the intercept ``b`` unpenalized (unlike liblinear, which
    penalizes it). ``alpha = 1 / C`` of scikit-learn's ``LinearSVC(loss="squared_hinge")``.

    Parameters
    ----------
    alpha : float or None, default=None
        Non-negative penalty strength; ``None`` means 1 (or ``1 / C`` when ``C`` is given).
    fit_intercept : bool, default=True
    class_weight : dict, "balanced" or None, default=None
    solver : {"auto", "newton-cholesky", "newton-cg", "lbfgs"}, default="auto"
    tol : float, default=1e-8
        Relative gradient-norm tolerance.
    max_iter : int or None, default=None
    %(sklearn)s
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of ``X``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Most iterations over the one-vs-rest problems (scikit-learn's layout).
    df_ : float
        Effective degrees of freedom summed over the one-vs-rest problems, with the generalized
        Hessian of the squared hinge (see :func:`ridgeway.glm.effective_df`).
    solver_ : str
    n_features_in_ : int
    """

    __doc__ = __doc__.replace("    %(sklearn)s\n", _SKLEARN_PARAMS_DOC.lstrip("\n"))

    def __init__(
        self,
        alpha: float | None = None,
        *,
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
        penalty: str = "l2",
        C: float | None = None,
        n_jobs: int | None = None,
        random_state=None,
        dual: bool | str = False,
        warm_start: bool = False,
        l1_ratio: float | None = None,
        intercept_scaling: float = 1,
        verbose: int = 0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.penalty = penalty
        self.C = C
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dual = dual
        self.warm_start = warm_start
        self.l1_ratio = l1_ratio
        self.intercept_scaling = intercept_scaling
        self.verbose = verbose

    def _encode(self, y, sample_weight):
        self.classes_, y_idx, sw = encode_classes(y, sample_weight, self.class_weight)
        return [(Y, SquaredHingeLoss()) for Y in ovr_targets(y_idx, len(self.classes_))], sw

    def _store(self, fits) -> None:
        self.coef_ = np.vstack([f.coef.T for f in fits])
        self.intercept_ = np.concatenate([f.intercept for f in fits])
        self.n_iter_ = int(max(f.n_iter for f in fits))


def ovr_targets(y_idx: np.ndarray, n_classes: int) -> list[np.ndarray]:
    """``+1/-1`` targets: one for two classes (positive = second class), else one per class."""
    if n_classes == 2:
        return [(2.0 * y_idx - 1.0)[:, None]]
    return [np.where(y_idx == k, 1.0, -1.0)[:, None] for k in range(n_classes)]


class PoissonRegressor(GLMFitMixin, RegressorMixin, BaseEstimator):
    """L2-penalized Poisson regression with the log link.

    Minimizes::

        sum_i s_i * (y_i log(y_i / mu_i) - y_i + mu_i) + alpha / 2 * ||w||^2,
        mu_i = exp(x_i . w + b)

    i.e. half the Poisson deviance, summed (not averaged). scikit-learn's
    ``PoissonRegressor(alpha=a)`` averages the deviance over the sample weights, so it equals
    this model with ``alpha = a * sum_i s_i``.

    Parameters
    ----------
    alpha : float, default=1.0
        Non-negative penalty strength.
    fit_intercept : bool, default=True
    solver : {"auto", "newton-cholesky", "newton-cg", "lbfgs"}, default="auto"
    tol : float, default=1e-8
    max_iter : int or None, default=None
    warm_start, verbose
        scikit-learn's keywords, accepted at their defaults (``False, 0``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        In the dtype of ``X``.
    intercept_ : float
    n_iter_ : int
    df_ : float
        Effective degrees of freedom (see :func:`ridgeway.glm.effective_df`).
    solver_ : str
    n_features_in_ : int

    Notes
    -----
    :meth:`predict` raises :class:`ridgeway.PredictionOverflowError` (naming the rows) when
    ``exp(x . w + b)`` would overflow float64 (linear predictor above ~709), rather than
    returning ``inf``.
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
        warm_start: bool = False,
        verbose: int = 0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    _y_numeric = True

    def _encode(self, y, sample_weight):
        y = check_counts(y)
        return [(y[:, None], PoissonLoss())], check_sample_weight(sample_weight, len(y))

    def _store(self, fits) -> None:
        self.coef_ = fits[0].coef[:, 0]
        self.intercept_ = float(fits[0].intercept[0])
        self.n_iter_ = int(fits[0].n_iter)

    _RESPONSES = ("predict",)
    _score_metric = staticmethod(partial(d2_tweedie_score, power=1))  # ``score``

    def predict(self, X) -> np.ndarray:
        """Expected counts ``exp(X w + b)``; raises if one would overflow (see Notes)."""
        check_is_fitted(self)
        return self._respond(self._linear_predictor(X), "predict")

    def _respond(self, eta: np.ndarray, method: str) -> np.ndarray:
        """``exp(eta)`` (``method="predict"``, the only response of a count model)."""
        eta = eta[:, 0]
        limit = np.log(np.finfo(eta.dtype).max)
        if np.any(eta > limit):
            rows = np.flatnonzero(eta > limit)
            raise PredictionOverflowError(
                f"The predicted count exp(x . coef_ + intercept_) overflows "
                f"{eta.dtype} for {len(rows)} row(s) of X (first: row {int(rows[0])}, linear "
                f"predictor {float(eta[rows[0]]):.4g} > {limit:.4g}): these rows lie far "
                "outside the range of the training data.",
                rows,
            )
        return np.exp(eta)

    def _linear_predictor(self, X) -> np.ndarray:
        X = validate_predict_X(self, X)
        if X.dtype != self.coef_.dtype:
            X = X.astype(np.float64)
        return np.asarray(X @ self.coef_)[:, None] + self.intercept_

    def score(self, X, y, sample_weight=None) -> float:
        """D^2, the fraction of Poisson deviance explained (1 is perfect)."""
        return self._score_metric(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.positive_only = True
        return tags


def check_counts(y) -> np.ndarray:
    """Finite, non-negative Poisson targets with a positive sum."""
    y = np.asarray(y, dtype=np.float64)
    check_finite(y, "y")
    if np.any(y < 0):
        row = int(np.flatnonzero(y < 0)[0])
        raise ValueError(
            f"Some value(s) of y are negative, which is not allowed for Poisson regression "
            f"(first at row {row}: {y[row]!r}). Counts must be >= 0."
        )
    if not np.sum(y) > 0:
        raise ValueError(
            "y is zero everywhere: Poisson regression needs at least one positive count."
        )
    return y
