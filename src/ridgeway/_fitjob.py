"""The main job of the command, as a function: read, check, preprocess, select alpha, assess.

:func:`run_fit` takes :class:`FitOptions` and returns a :class:`FitOutcome` holding everything
the command prints and the report draws. It writes no file; the command does that. All the
numbers come from the estimators and :mod:`ridgeway.inspection`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ._preprocess import Preprocessor
from .exceptions import AlphaEdgeWarning, ConvergenceWarning
from .inspection import (
    coefficient_table,
    error_reduction_l1,
    error_reduction_unregularized,
    generalization_gap,
    model_metrics,
    primary_error,
)
from .io import (
    DataError,
    check_columns,
    check_missing,
    column_kind,
    float_values,
    inexact_integers,
    missing_target,
    read_note,
    read_table,
)
from .persistence import SavedModel

__all__ = ["FitOptions", "FitOutcome", "Progress", "parse_alphas", "parse_cv", "run_fit"]

MODELS = ("ridge", "logistic", "poisson", "svm")


class Progress:
    """Progress reporting interface of :func:`run_fit` (this one does nothing)."""

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a stage (``total`` steps, or an indeterminate one)."""

    def advance(self, steps: int = 1) -> None:
        """Mark steps of the current stage done."""


@dataclass
class FitOptions:
    """Options of ``ridgeway fit`` (see ``ridgeway fit --help``)."""

    data: Path | None = None
    target: str | None = None
    model: str | None = None
    cv: str | None = None
    alphas: str | None = None
    selection: str = "min"
    test_size: float = 0.2
    standardize: bool = True
    drop: list[str] = field(default_factory=list)
    impute: str = "none"
    extras: bool = True
    random_state: int = 0
    sep: str | None = None
    drop_missing_target: bool = False


@dataclass
class FitOutcome:
    """What :func:`run_fit` found (all arrays on the standardized scale)."""

    saved: SavedModel
    cv_estimator: Any
    source: str
    n_rows: int
    decision: str
    cv_label: str
    feature_names: list[str]
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_metrics: dict[str, float]
    test_metrics: dict[str, float]
    df: float | None
    notes: list[str] = field(default_factory=list)
    reductions: list[Any] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Model kind."""
        return self.saved.kind

    @property
    def alpha(self) -> float:
        """The chosen alpha."""
        return float(self.cv_estimator.alpha_)

    @property
    def gap(self):
        """Train vs held-out rows (empty without a held-out split)."""
        return generalization_gap(self.train_metrics, self.test_metrics)

    @property
    def coefficients(self):
        """The coefficient table sorted by standardized magnitude."""
        pre = self.saved.preprocessor
        coef = np.asarray(self.saved.estimator.coef_, dtype=float)
        if pre.scale is not None:
            return coefficient_table(coef, self.feature_names, np.asarray(pre.scale))
        sd = self.X_train.std(axis=0)
        sd[sd == 0] = 1.0
        return coefficient_table(coef * sd, self.feature_names, sd)


#: above this many training rows the GLMs default to approximate LOO instead of 5 folds
GLM_ALO_ROWS = 100_000


def parse_cv(text: str | None, kind: str, n_train: int = 0) -> tuple[Any, str, str]:
    """``--cv`` -> (cv argument, method, label).

    Defaults: exact LOO for ridge; for the GLMs 5 folds, or approximate LOO (one path on all
    the data) above :data:`GLM_ALO_ROWS` training rows.
    """
    if text is None:
        text = "loo" if kind == "ridge" else ("alo" if n_train > GLM_ALO_ROWS else "5")
    text = text.strip().lower()
    if text.isdigit():
        k = int(text)
        if k < 2:
            raise ValueError(f"--cv needs at least 2 folds, got {k}.")
        return k, "kfold", f"{k}-fold CV"
    if kind == "ridge":
        if text in ("loo", "alo"):
            return None, "loo", "exact leave-one-out (one eigendecomposition)"
        if text == "gcv":
            return "gcv", "gcv", "generalized cross-validation (GCV)"
    elif text == "alo":
        return 5, "alo", "approximate leave-one-out (ALO)"
    elif text in ("loo", "gcv"):
        raise ValueError(f"--cv {text} is for ridge only; use --cv alo (approximate "
                         "leave-one-out) or a number of folds for this model.")
    raise ValueError(f"--cv must be a number of folds, loo, gcv or alo; got {text!r}.")


def parse_alphas(text: str | None) -> Any:
    """``--alphas``: None (data-driven grid), ``auto`` or comma-separated positive numbers."""
    if text is None or text.strip().lower() in ("", "grid"):
        return None
    if text.strip().lower() == "auto":
        return "auto"
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--alphas must be 'auto' or comma-separated numbers, got {text!r}."
                         ) from None
    if not values or any(not np.isfinite(v) for v in values):
        raise ValueError(f"--alphas must be finite numbers, got {text!r}.")
    if any(v < 0 for v in values):
        raise ValueError(f"--alphas {text}: negative alphas are invalid (alpha >= 0 is the "
                         "penalty strength; 0 fits without penalty).")
    return np.array(values)


def _load(options: FitOptions) -> tuple[pa.Table, str, str]:
    swallowed = [c for c in options.drop if Path(c).suffix and Path(c).is_file()]
    if options.data is None and swallowed:
        raise DataError(f"--drop took the file name {swallowed[0]!r} as a column; put DATA "
                        "before --drop (ridgeway fit DATA --target COL --drop COL ...).")
    if options.data is None:
        from .datasets import demo_path

        path, target = demo_path("regression")
        return read_table(path), options.target or target, f"bundled demo data ({path.name})"
    table = read_table(options.data, sep=options.sep)
    if options.target is None:
        raise DataError(f"--target is required with a data file; columns are: "
                        f"{', '.join(table.column_names[:12])}.")
    table, dropped = missing_target(table, options.target, options.drop_missing_target)
    notes = [n for n in (read_note(table),) if n]
    if dropped:
        notes.append(f"{dropped} rows with a missing target dropped")
    return table, options.target, str(options.data) + (f" ({'; '.join(notes)})" if notes else "")


def choose_model(table: pa.Table, target: str, requested: str | None) -> tuple[str, str]:
    """The model kind and the sentence that explains the choice."""
    col = table.column(target)
    kind = column_kind(col)
    if kind not in ("numeric", "bool", "categorical"):
        raise DataError(f"target {target!r} has type {col.type}, which ridgeway cannot model.")
    n_unique = len(col.unique().drop_null())
    numeric = kind in ("numeric", "bool")
    if requested is not None:
        if requested in ("ridge", "poisson") and not numeric:
            raise DataError(f"target {target!r} is not numeric (text values such as "
                            f"{col.drop_null()[0].as_py()!r}); --model {requested} needs numbers."
                            " Use --model logistic or svm.")
        return requested, f"{requested} (as asked with --model)"
    if not numeric:
        return "logistic", (f"logistic: target {target!r} holds text ({n_unique} classes); "
                            "use --model svm for a linear SVM")
    if n_unique == 2:
        return "logistic", (f"logistic: target {target!r} takes 2 values; "
                            "use --model ridge to treat it as a number")
    return "ridge", (f"ridge: target {target!r} is numeric with {n_unique} distinct values; "
                     "use --model poisson for counts")


def _target(table: pa.Table, target: str, kind: str) -> np.ndarray:
    col = table.column(target)
    if col.null_count or (pa.types.is_floating(col.type) and np.isnan(
            col.to_numpy()).any()):
        raise DataError(f"target {target!r} has missing values; remove those rows first "
                        "(fit: --drop-missing-target).")
    if kind in ("ridge", "poisson"):
        y = float_values(col)
        if kind == "poisson" and (y < 0).any():
            raise DataError(f"target {target!r} has negative values; --model poisson needs "
                            "counts or rates >= 0.")
        return y
    if column_kind(col) == "categorical":
        return np.asarray(col.cast(pa.string()).to_pylist(), dtype=str)
    if column_kind(col) == "bool":  # keeps the labels True/False
        return col.to_numpy(zero_copy_only=False).astype(bool)
    y = float_values(col)
    return y.astype(np.int64) if np.all(y == np.round(y)) else y


def _split(y: np.ndarray, test_size: float, classifier: bool, seed: int
           ) -> tuple[np.ndarray, int]:
    n = len(y)
    if not 0 <= test_size < 1:
        raise ValueError(f"--test-size must be in [0, 1), got {test_size}.")
    n_test = round(test_size * n)
    if n - n_test < 3:
        raise DataError(f"only {n} row(s): too few to fit and hold out {n_test}.")
    if n_test == 0:
        return np.random.default_rng(seed).permutation(n), n
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if classifier and counts.min() >= 2 and n_test >= len(counts) else None
    train, test = train_test_split(np.arange(n), test_size=n_test, random_state=seed,
                                   stratify=stratify)
    return np.concatenate([train, test]), len(train)


def _cv_estimator(kind: str, options: FitOptions, cv: Any, method: str) -> Any:
    alphas = parse_alphas(options.alphas)
    if kind == "ridge":
        from .linear_model import RidgeCV

        return RidgeCV(alphas=alphas, cv=cv, selection=options.selection)
    from .linear_model import _glm_cv

    if isinstance(alphas, str):
        alphas = None
    cls = {"logistic": _glm_cv.LogisticRegressionCV, "svm": _glm_cv.LinearSVCCV,
           "poisson": _glm_cv.PoissonRegressorCV}[kind]
    scoring = {"logistic": "neg_log_loss", "svm": "accuracy",
               "poisson": "neg_mean_poisson_deviance"}[kind]
    return cls(alphas=alphas, cv=cv, scoring=scoring, selection=options.selection,
               method="alo" if method == "alo" else "kfold")


def _final(kind: str, est: Any) -> Any:
    """The single-alpha estimator holding the CV estimator's final fit."""
    from .linear_model import LinearSVC, LogisticRegression, PoissonRegressor, Ridge

    cls = {"ridge": Ridge, "logistic": LogisticRegression, "svm": LinearSVC,
           "poisson": PoissonRegressor}[kind]
    final = cls(alpha=float(est.alpha_))
    for name in ("coef_", "intercept_", "classes_", "n_features_in_"):
        if hasattr(est, name):
            setattr(final, name, getattr(est, name))
    return final


def _df(kind: str, est: Any, X: np.ndarray, y: np.ndarray) -> float | None:
    if kind != "ridge":
        return None
    res = est.cv_results_
    hit = np.flatnonzero(res["alphas"] == est.alpha_)
    if hit.size:
        return float(np.ravel(res["df"])[hit[0]])
    from .linalg import RidgeSpectrum

    return float(RidgeSpectrum.from_data(X, y).df(np.array([est.alpha_]))[0])


@dataclass
class _Prepared:
    """The checked, preprocessed data of a fit, split into train and held-out rows."""

    pre: Preprocessor
    kind: str
    decision: str
    target: str
    source: str
    n_rows: int
    X: np.ndarray
    y: np.ndarray
    n_train: int
    notes: list[str]


def _id_like(table: pa.Table, features: list[str]) -> list[str]:
    """Integer columns whose values are all distinct (row ids, not features)."""
    if table.num_rows < 20:
        return []
    return [c for c in features if pa.types.is_integer(table.column(c).type)
            and len(table.column(c).unique()) == table.num_rows]


def _prepare(options: FitOptions, progress: Progress) -> _Prepared:
    """Read and check the table, choose the model, split, and preprocess."""
    table, target, source = _load(options)
    check_columns(table, [target], "target column")
    check_columns(table, options.drop, "column in --drop")
    features = [c for c in table.column_names if c != target and c not in options.drop]
    if not features:
        raise DataError("no feature columns left after removing the target and --drop.")
    if options.model is not None and options.model not in MODELS:
        raise ValueError(f"--model must be one of {', '.join(MODELS)}; got {options.model!r}.")
    kind, decision = choose_model(table, target, options.model)
    parse_cv(options.cv, kind)  # fail on a bad --cv before the expensive work
    y_all = _target(table, target, kind)
    missing = check_missing(table, features, options.impute)
    pre = Preprocessor.from_table(table, features, impute=options.impute)
    rows, n_train = _split(y_all, options.test_size, kind in ("logistic", "svm"),
                           options.random_state)
    progress.stage("preprocessing")
    X = pre.fit_transform(table, rows, n_train, standardize=options.standardize)
    notes = [f"column {c!r} looks like an identifier (distinct integers in every row); "
             f"consider --drop {c}" for c in _id_like(table, features)]
    notes += [f"column {c!r} holds integers beyond 2**53, used as float64 (rounded to about 16 "
              "significant digits)" for c in inexact_integers(table, [*features, target])]
    if pre.encoded:
        notes.append("one-hot encoded: " + ", ".join(
            f"{c} ({len(pre.categories[c])} categories)" for c in pre.encoded))
    if missing:
        notes.append(f"imputed ({options.impute}): " + ", ".join(
            f"{c} ({k})" for c, k in missing.items()))
    return _Prepared(pre, kind, decision, target, source, table.num_rows, X, y_all[rows],
                     n_train, notes)


def run_fit(options: FitOptions, progress: Progress | None = None) -> FitOutcome:
    """Run the whole fit job (see the module docstring).

    Parameters
    ----------
    options : FitOptions
    progress : Progress, optional
        Told about each stage (the command passes a rich progress bar on a terminal).

    Returns
    -------
    FitOutcome
    """
    progress = progress or Progress()
    progress.stage("reading data")
    d = _prepare(options, progress)
    pa.default_memory_pool().release_unused()  # the table is gone: give its memory back
    kind, k = d.kind, d.n_train
    X_train, y_train, X_test, y_test = d.X[:k], d.y[:k], d.X[k:], d.y[k:]
    cv, method, cv_label = parse_cv(options.cv, kind, k)
    progress.stage(f"selecting alpha ({cv_label})")
    est = _cv_estimator(kind, options, cv, method)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X_train, y_train)
    notes = [str(w.message) for w in caught
             if issubclass(w.category, (AlphaEdgeWarning, ConvergenceWarning))] + d.notes
    if options.cv is None and method == "alo":
        notes.append(f"more than {GLM_ALO_ROWS} training rows: approximate leave-one-out "
                     "instead of 5 folds (--cv 5 to force k-fold)")
    final = _final(kind, est)
    summary = {"alpha": float(est.alpha_), "cv": cv_label, "selection": options.selection,
               "n_train": int(k)}
    outcome = FitOutcome(
        SavedModel(d.pre, final, d.target, kind, summary), est, d.source, d.n_rows,
        d.decision, cv_label, d.pre.feature_names, X_train, y_train, X_test, y_test,
        model_metrics(kind, final, X_train, y_train),
        model_metrics(kind, final, X_test, y_test) if len(y_test) else {},
        _df(kind, est, X_train, y_train), notes)
    summary["train_metrics"] = outcome.train_metrics
    summary["test_metrics"] = outcome.test_metrics
    if len(y_test):
        _compare(outcome, options, progress)
    return outcome


def _compare(outcome: FitOutcome, options: FitOptions, progress: Progress) -> None:
    kind = outcome.kind
    metric = primary_error(kind)
    if metric not in outcome.test_metrics:
        return
    err = outcome.test_metrics[metric]
    args = (kind, err, metric, outcome.X_train, outcome.y_train, outcome.X_test,
            outcome.y_test)
    progress.stage("unregularized fit")
    est = outcome.cv_estimator
    spectrum = getattr(est, "_spectrum", None)
    outcome.reductions.append(error_reduction_unregularized(*args, spectrum=spectrum))
    if options.extras:
        progress.stage("L1 at its CV-best alpha")
        outcome.reductions.append(error_reduction_l1(*args))
