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

from numbers import Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_alpha, check_finite, check_int, check_sample_weight
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
from ..glm.solvers import SOLVERS

__all__ = ["LinearSVC", "LogisticRegression", "PoissonRegressor"]

_NEWTON_MAX_ITER = 100
_LBFGS_MAX_ITER = 1000


def check_glm_params(est: BaseEstimator) -> None:
    """Validate the hyperparameters shared by every GLM estimator (raises with the fix)."""
    if est.solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {est.solver!r}.")
    if isinstance(est.tol, bool) or not isinstance(est.tol, Real) or not est.tol > 0:
        raise ValueError(f"tol must be a positive number, got {est.tol!r}.")
    if est.max_iter is not None:
        check_int(est.max_iter, "max_iter", minimum=1)
    if not isinstance(est.fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be True or False, got {est.fit_intercept!r}.")


def max_iter_for(solver: str, max_iter: int | None) -> int:
    """``max_iter``, or the solver's default: 100 Newton steps or 1000 L-BFGS iterations."""
    if max_iter is not None:
        return max_iter
    return _LBFGS_MAX_ITER if solver == "lbfgs" else _NEWTON_MAX_ITER


_CHECK_ARRAY = {"accept_sparse": ("csr", "csc"), "dtype": np.float64, "ensure_all_finite": False}


def validate_X(est: BaseEstimator, X, *, reset: bool):
    """Scikit-learn's ``validate_data`` (feature names, ``n_features_in_``), then ridgeway's
    finiteness check, which names the first bad row and column."""
    X = validate_data(est, X, reset=reset, **_CHECK_ARRAY)
    check_finite(X, "X", getattr(est, "feature_names_in_", None))
    return X


def validate_Xy(est: BaseEstimator, X, y, *, y_numeric: bool = False):
    """:func:`validate_X` for fitting: also checks ``y`` (required, one per row)."""
    X, y = validate_data(est, X, y, reset=True, y_numeric=y_numeric, **_CHECK_ARRAY)
    check_finite(X, "X", getattr(est, "feature_names_in_", None))
    return X, y


def check_scalar_alpha(alpha) -> float:
    """A single non-negative finite ``alpha``."""
    if np.ndim(alpha) != 0:
        raise ValueError(f"alpha must be a single non-negative number, got {alpha!r}.")
    return float(check_alpha(alpha, name="alpha")[0])


def fit_glm(est: BaseEstimator, X, Y: np.ndarray, sw: np.ndarray, loss, alpha: float):
    """Resolve the solver (stored as ``est.solver_``) and minimize the penalized objective."""
    data = GLMData(X, Y, sw, bool(est.fit_intercept))
    est.solver_ = resolve_solver(
        est.solver, X.shape[0], data.n_params, data.n_outputs, data.is_sparse
    )
    obj = Objective(data, loss, L2Penalty(alpha))
    return solve(obj, est.solver_, tol=est.tol, max_iter=max_iter_for(est.solver_, est.max_iter))


class GLMFitMixin:
    """``fit`` of every GLM estimator: validate, encode the target into one or more problems
    ``(Y, loss)`` (``_encode``), solve each, store the fitted attributes (``_store``)."""

    _y_numeric = False

    def fit(self, X, y, sample_weight=None):
        """Fit the model; ``sample_weight`` multiplies each sample's loss. Returns ``self``."""
        check_glm_params(self)
        alpha = check_scalar_alpha(self.alpha)
        X, y = validate_Xy(self, X, y, y_numeric=self._y_numeric)
        problems, sw = self._encode(y, sample_weight)
        self._store([fit_glm(self, X, Y, sw, loss, alpha) for Y, loss in problems])
        return self


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
    """Shared prediction code of the linear classifiers."""

    def _linear_predictor(self, X) -> np.ndarray:
        X = validate_X(self, X, reset=False)
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def decision_function(self, X) -> np.ndarray:
        """Linear predictor ``X w + b``: shape (n_samples,) for two classes, else (n, K)."""
        check_is_fitted(self)
        scores = self._linear_predictor(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Predicted class labels."""
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


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
    alpha : float, default=1.0
        Non-negative penalty strength. ``alpha=0`` is unpenalized maximum likelihood and
        raises on perfectly separable data (no finite solution).
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

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Centered (summing to zero) for more than two classes.
    n_iter_ : int
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

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def _encode(self, y, sample_weight):
        self.classes_, y_idx, sw = encode_classes(y, sample_weight, self.class_weight)
        return [logistic_target(y_idx, len(self.classes_))], sw

    def _store(self, fits) -> None:
        self.coef_, self.intercept_ = fits[0].coef.T, fits[0].intercept
        self.n_iter_ = fits[0].n_iter

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


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
    alpha : float, default=1.0
        Non-negative penalty strength.
    fit_intercept : bool, default=True
    class_weight : dict, "balanced" or None, default=None
    solver : {"auto", "newton-cholesky", "newton-cg", "lbfgs"}, default="auto"
    tol : float, default=1e-8
        Relative gradient-norm tolerance.
    max_iter : int or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (n_problems,)
    solver_ : str
    n_features_in_ : int
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def _encode(self, y, sample_weight):
        self.classes_, y_idx, sw = encode_classes(y, sample_weight, self.class_weight)
        return [(Y, SquaredHingeLoss()) for Y in ovr_targets(y_idx, len(self.classes_))], sw

    def _store(self, fits) -> None:
        self.coef_ = np.vstack([f.coef.T for f in fits])
        self.intercept_ = np.concatenate([f.intercept for f in fits])
        self.n_iter_ = np.array([f.n_iter for f in fits])


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

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    solver_ : str
    n_features_in_ : int
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    _y_numeric = True

    def _encode(self, y, sample_weight):
        y = check_counts(y)
        return [(y[:, None], PoissonLoss())], check_sample_weight(sample_weight, len(y))

    def _store(self, fits) -> None:
        self.coef_ = fits[0].coef[:, 0]
        self.intercept_ = float(fits[0].intercept[0])
        self.n_iter_ = fits[0].n_iter

    def predict(self, X) -> np.ndarray:
        """Expected counts ``exp(X w + b)``."""
        check_is_fitted(self)
        return np.exp(self._linear_predictor(X)[:, 0])

    def _linear_predictor(self, X) -> np.ndarray:
        X = validate_X(self, X, reset=False)
        return np.asarray(X @ self.coef_)[:, None] + self.intercept_

    def score(self, X, y, sample_weight=None) -> float:
        """D^2, the fraction of Poisson deviance explained (1 is perfect)."""
        from sklearn.metrics import d2_tweedie_score

        return d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight, power=1)

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
