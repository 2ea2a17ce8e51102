"""Every input check of ridgeway, in one place.

Each function raises ``ValueError`` or ``TypeError`` with a message that names the problem
and, where it is known, the row, the column and the fix. Kernels assume their inputs went
through here; estimators and the command call these functions and nothing else to validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

FLOAT_DTYPES = (np.float64, np.float32)


def _column_label(j: int, feature_names: Sequence[str] | None) -> str:
    if feature_names is not None and j < len(feature_names):
        return f"column {feature_names[j]!r} (index {j})"
    return f"column {j}"


def check_finite(
    a: np.ndarray | sp.spmatrix,
    name: str = "X",
    feature_names: Sequence[str] | None = None,
) -> None:
    """Raise ``ValueError`` naming the first row and column that holds NaN or infinity.

    Parameters
    ----------
    a : ndarray or sparse matrix
        Array of any shape (1-D arrays are treated as one column).
    name : str
        The name of the argument, used in the message.
    feature_names : sequence of str, optional
        Column names used in the message.
    """
    values = a.data if sp.issparse(a) else np.asarray(a)
    if values.dtype.kind not in "fc":
        return
    with np.errstate(invalid="ignore", over="ignore"):
        if np.isfinite(np.sum(values)):
            return
        if np.all(np.isfinite(values)):
            return
    dense = a.tocoo() if sp.issparse(a) else None
    if dense is not None:
        bad = np.flatnonzero(~np.isfinite(dense.data))[0]
        row, col, value = dense.row[bad], dense.col[bad], dense.data[bad]
    else:
        arr = np.asarray(a)
        idx = np.argwhere(~np.isfinite(arr.reshape(arr.shape[0], -1) if arr.ndim else arr))[0]
        row = int(idx[0])
        col = int(idx[1]) if len(idx) > 1 else 0
        value = arr.reshape(arr.shape[0], -1)[row, col]
    kind = "NaN" if np.isnan(value) else "inf"
    count = int(np.sum(~np.isfinite(values)))
    where = f"row {int(row)}"
    if np.ndim(a) == 2 and np.shape(a)[1] > 1:
        where += f", {_column_label(int(col), feature_names)}"
    raise ValueError(
        f"Input {name} contains {kind} (first at {where}; {count} non-finite value(s) in all). "
        "Remove or impute missing values before fitting, e.g. with "
        "sklearn.impute.SimpleImputer."
    )


def _to_float(a, name: str, dtype, copy: bool = False):
    arr = np.asarray(a)
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "M":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"Input {name} has a non-numeric entry ({exc}). Encode categorical columns "
                "(e.g. with sklearn.preprocessing.OneHotEncoder) before fitting."
            ) from None
    if arr.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: input {name} is complex; ridgeway fits real-valued "
            "data only."
        )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    if dtype is None:
        target = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
    else:
        target = dtype
    return np.array(arr, dtype=target, copy=copy) if copy else arr.astype(target, copy=False)


def check_X(
    X,
    *,
    accept_sparse: bool = True,
    dtype=None,
    name: str = "X",
    feature_names: Sequence[str] | None = None,
    min_samples: int = 1,
):
    """Validate a feature matrix and return it as a float array or CSR/CSC matrix.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    accept_sparse : bool
        Whether CSR/CSC input is accepted (other sparse formats are converted to CSR).
    dtype : numpy dtype, optional
        Force this dtype; by default float32 stays float32 and anything else becomes float64.
    name : str
        Name used in messages.
    feature_names : sequence of str, optional
        Column names used in messages.
    min_samples : int
        Fewest rows accepted.

    Returns
    -------
    X : ndarray or sparse matrix, 2-D, floating
    """
    if sp.issparse(X):
        if not accept_sparse:
            raise TypeError(
                f"Sparse input {name} is not supported here; pass a dense array "
                "(X.toarray()) or use a solver that accepts sparse data."
            )
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        if X.dtype not in FLOAT_DTYPES or (dtype is not None and X.dtype != dtype):
            X = X.astype(dtype or np.float64)
    else:
        if hasattr(X, "dtypes") and hasattr(X, "columns"):
            kinds = zip(X.columns, X.dtypes, strict=True)
            non_numeric = [str(c) for c, t in kinds if getattr(t, "kind", "O") not in "biuf"]
            if non_numeric:
                raise ValueError(
                    f"Input {name} has non-numeric column(s) {non_numeric}. Encode them "
                    "(e.g. OneHotEncoder) or drop them before fitting."
                )
        X = _to_float(X, name, dtype)
        if X.ndim == 1:
            raise ValueError(
                f"Expected a 2-D array for {name}, got a 1-D array of shape {X.shape}. "
                "Reshape your data with X.reshape(-1, 1) for a single feature or "
                "X.reshape(1, -1) for a single sample."
            )
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D array for {name}, got {X.ndim} dimensions.")
    n, p = X.shape
    if n == 0:
        raise ValueError(f"Input {name} is empty: found 0 sample(s) (shape {X.shape}).")
    if p == 0:
        raise ValueError(
            f"Input {name} has 0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required."
        )
    if n < min_samples:
        raise ValueError(
            f"Input {name} has n_samples = {n}{' (1 sample is too few)' if n == 1 else ''}; "
            f"at least {min_samples} samples are needed to fit."
        )
    check_finite(X, name, feature_names)
    return X


def check_y(y, n_samples: int, *, dtype=np.float64, name: str = "y", multi_output: bool = True):
    """Validate a numeric target: finite, of length ``n_samples``, 1-D or 2-D.

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    """
    if y is None:
        raise ValueError(
            f"This estimator requires y to be passed, but the target {name} is None."
        )
    if sp.issparse(y):
        y = y.toarray()
    y = _to_float(y, name, dtype)
    if y.ndim == 0:
        raise ValueError(f"Input {name} must be an array, got the scalar {y!r}.")
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        y = y[:, 0]
    if y.ndim > 2 or (y.ndim == 2 and not multi_output):
        raise ValueError(f"Input {name} must be 1-D, got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has {n_samples} "
            f"row(s) but {name} has {y.shape[0]}."
        )
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError(f"Input {name} has 0 target columns.")
    check_finite(y, name)
    return y


def column_names(X) -> list[str] | None:
    """Column names of a data frame (all strings), else None."""
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        names = list(X.columns)
        if all(isinstance(c, str) for c in names):
            return names
    return None


#: How scikit-learn's ``validate_data`` is asked to read X (ridgeway checks finiteness itself).
_SKLEARN_ARRAY = {"accept_sparse": ("csr", "csc"), "dtype": FLOAT_DTYPES,
                  "ensure_all_finite": False}


def validate_fit_data(estimator, X, y, *, target: str = "continuous", min_samples: int = 1):
    """Validate ``(X, y)`` for fitting and record ``n_features_in_`` and ``feature_names_in_``.

    X always goes through :func:`check_X` (messages name the row and column of a bad value).
    ``target``: ``"continuous"`` checks y by :func:`check_y` (1-D or 2-D, finite);
    ``"labels"`` and ``"counts"`` (1-D, numeric for counts) by scikit-learn's
    ``validate_data``, whose messages its estimator checks expect of classifiers.

    Returns
    -------
    X, y
    """
    from sklearn.utils.validation import validate_data

    check_choice(target, "target", ("continuous", "labels", "counts"))
    names = column_names(X)
    X = check_X(X, feature_names=names, min_samples=min_samples)
    if target == "continuous":
        y = check_y(y, X.shape[0])
        validate_data(estimator, X, y, skip_check_array=True, reset=True)
    else:
        X, y = validate_data(estimator, X, y, reset=True, y_numeric=target == "counts",
                             **_SKLEARN_ARRAY)
    if names is not None:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    return X, y


def validate_predict_X(estimator, X):
    """Validate X at predict time against the fitted feature count and names; finite."""
    from sklearn.utils.validation import check_is_fitted, validate_data

    check_is_fitted(estimator)
    X = validate_data(estimator, X, reset=False, **_SKLEARN_ARRAY)
    check_finite(X, "X", getattr(estimator, "feature_names_in_", None))
    return X


def check_max_abs(X, largest: float, limit: float,
                  feature_names: Sequence[str] | None = None) -> None:
    """An error naming the row and column of the largest ``|X|`` (``largest``, computed by
    the caller) if it exceeds ``limit``."""
    if not largest > limit:
        return
    if isinstance(X, np.ndarray):
        row, col = np.unravel_index(int(np.argmax(np.abs(X))), X.shape)
    else:
        coo = X.tocoo()
        k = int(np.argmax(np.abs(coo.data)))
        row, col = int(coo.row[k]), int(coo.col[k])
    column = repr(str(feature_names[col])) if feature_names is not None else f"{col}"
    raise ValueError(
        f"X has a value of {X[row, col]:.3g} (row {row}, column {column}): products of "
        f"features above {limit:.0e} overflow float64. Rescale or standardize that "
        "column of X."
    )


def check_sample_weight(sample_weight, n_samples: int, dtype=np.float64) -> np.ndarray:
    """Return sample weights as a float array of length ``n_samples``.

    ``None`` gives ones; a scalar is broadcast. Weights must be finite and non-negative with a
    positive sum.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, Real):
        sw = np.full(n_samples, float(sample_weight), dtype=dtype)
    else:
        sw = _to_float(sample_weight, "sample_weight", dtype)
        if sw.ndim != 1:
            raise ValueError(
                f"Sample weights must be 1D array or scalar: sample_weight has shape "
                f"{sw.shape}; pass one weight per sample."
            )
        if sw.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight.shape == ({sw.shape[0]},), expected ({n_samples},): one weight "
                "per sample."
            )
    if not np.all(np.isfinite(sw)):
        row = int(np.flatnonzero(~np.isfinite(sw))[0])
        raise ValueError(f"sample_weight contains a non-finite value (NaN or inf) at row {row}.")
    if np.any(sw < 0):
        row = int(np.flatnonzero(sw < 0)[0])
        raise ValueError(f"Negative values in sample_weight are invalid (row {row}: {sw[row]}).")
    if not np.sum(sw) > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    return sw


def check_alpha(alpha, n_targets: int | None = None, name: str = "alpha") -> np.ndarray:
    """Return a non-negative finite penalty as a float64 array (scalar -> shape (1,)).

    Parameters
    ----------
    alpha : float or array-like
        One value, or one value per target.
    n_targets : int, optional
        If given, an array ``alpha`` must have this length.
    """
    if isinstance(alpha, (str, bytes)) or alpha is None:
        raise TypeError(f"{name} must be a non-negative number, got {alpha!r}.")
    try:
        arr = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a non-negative number, got {alpha!r}.") from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {np.shape(alpha)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {alpha!r}.")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got {alpha!r}.")
    if n_targets is not None and arr.size not in (1, n_targets):
        raise ValueError(
            f"Number of targets and number of penalties do not correspond: {name} has "
            f"{arr.size} value(s) but y has {n_targets} target(s). Pass one {name} or one "
            "per target."
        )
    return arr


def check_alphas(alphas, name: str = "alphas") -> np.ndarray:
    """Validate a grid of candidate penalties: 1-D, finite, non-negative, not empty."""
    arr = check_alpha(alphas, name=name)
    return arr


def check_penalty_factor(penalty_factor, n_features: int) -> np.ndarray | None:
    """Validate per-feature penalty factors (glmnet's ``penalty.factor``): non-negative, finite."""
    if penalty_factor is None:
        return None
    pf = check_alpha(penalty_factor, name="penalty_factor")
    if pf.size == 1:
        pf = np.full(n_features, pf[0])
    if pf.size != n_features:
        raise ValueError(
            f"penalty_factor has {pf.size} value(s) but X has {n_features} feature(s); give "
            "one non-negative factor per feature."
        )
    return pf


def check_int(value, name: str, minimum: int = 1) -> int:
    """Check that ``value`` is an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of ``choices`` and say which ones exist otherwise."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}.")
    return value




#: scikit-learn ``Ridge(solver=...)`` names ridgeway cannot honour, and what to use instead.
UNSUPPORTED_RIDGE_SOLVERS = {
    "sag": "stochastic average gradient is not implemented; solver='auto' (a direct solve, "
           "exact and usually faster) or solver='cg' / 'lsqr' for very large sparse X",
    "saga": "SAGA is not implemented; solver='auto' (a direct solve, exact and usually "
            "faster) or solver='cg' / 'lsqr' for very large sparse X",
    "lbfgs": "scikit-learn uses L-BFGS only for positive=True, which ridgeway does not have; "
             "solver='auto' for the unconstrained problem",
}
#: scikit-learn solver names that mean one of ridgeway's.
RIDGE_SOLVER_ALIASES = {"sparse_cg": "cg"}


def check_ridge_solver(solver, choices: Sequence[str]) -> str:
    """Resolve ``solver`` (ridgeway's names or scikit-learn's) to one of ``choices``."""
    if isinstance(solver, str) and solver in UNSUPPORTED_RIDGE_SOLVERS:
        raise ValueError(
            f"solver={solver!r} is a scikit-learn solver ridgeway does not have: "
            f"{UNSUPPORTED_RIDGE_SOLVERS[solver]}."
        )
    solver = RIDGE_SOLVER_ALIASES.get(solver, solver) if isinstance(solver, str) else solver
    return check_choice(solver, "solver", choices)


def check_not_positive(positive) -> None:
    """scikit-learn's ``positive=True`` (non-negative coefficients) is not available."""
    if positive:
        raise ValueError(
            "positive=True (non-negative coefficients) is not supported: ridgeway solves the "
            "unconstrained L2 problem in closed form. Use positive=False, or scikit-learn's "
            "Ridge(positive=True) / scipy.optimize.nnls for the constrained problem."
        )


def check_store_cv_results(store_cv_results) -> None:
    """scikit-learn's ``store_cv_results=True`` (per-sample LOO values) is not available."""
    if store_cv_results:
        raise ValueError(
            "store_cv_results=True (scikit-learn's per-sample array of LOO errors) is not "
            "supported: ridgeway always stores cv_results_ as a dict of per-alpha scores "
            "(mean_test_score, std_test_score, ...). For per-sample leave-one-out residuals use "
            "ridgeway.RidgeSpectrum.from_data(X, y).loo_blocks(X, y, alphas=...). Pass "
            "store_cv_results=False."
        )


def check_positive_weights(sample_weight: np.ndarray, cv_mode: str) -> None:
    """Cross-validation needs at least two rows with positive weight."""
    positive = int(np.count_nonzero(sample_weight > 0))
    if positive < 2:
        raise ValueError(
            f"Cross-validation needs at least 2 samples with positive sample_weight; got "
            f"{positive} ({cv_mode}: a held-out row is predicted from the others). Give more "
            "rows a positive weight, or fit Ridge with a fixed alpha."
        )
