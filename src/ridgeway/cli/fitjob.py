"""The main job of the command, as a function: read, check, preprocess, select alpha, assess.

:func:`run_fit` takes :class:`FitOptions` and returns a :class:`FitOutcome` holding everything
the command prints and the report draws. It writes no file; the command does that. All the
numbers come from the estimators and :mod:`ridgeway.inspection`.
"""

from __future__ import annotations

import dataclasses
import shlex
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import TimeSeriesSplit, train_test_split

from ..datasets import demo_path
from ..exceptions import AlphaEdgeWarning, ConvergenceWarning, DataError
from ..inspection import (
    baseline_metrics,
    coefficient_table,
    error_reduction_l1,
    error_reduction_unregularized,
    generalization_gap,
    model_metrics,
    positive_class,
)
from ..io import (
    check_columns,
    check_missing,
    column_kind,
    dropped_rows,
    float_values,
    inexact_integers,
    missing_target,
    read_note,
    read_table,
    release_unused,
    source_rows,
)
from ..linalg import RidgeSpectrum
from ..linear_model import kinds
from ..linear_model.kinds import KINDS, ModelKind
from .modelfile import SavedModel
from .options import FitOptions
from .preprocess import Preprocessor

__all__ = ["FitOptions", "FitOutcome", "Progress", "choose_model", "load_table", "parse_alphas",
           "parse_cv", "run_fit", "target_values"]


class Progress:
    """Progress reporting interface of :func:`run_fit` (this one does nothing)."""

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a stage (``total`` steps, or an indeterminate one)."""

    def advance(self, steps: int = 1) -> None:
        """Mark steps of the current stage done."""


@dataclass(kw_only=True)
class FitOutcome:
    """What :func:`run_fit` found (all arrays on the standardized scale)."""

    # the model, and how it was chosen
    saved: SavedModel
    cv_estimator: Any
    options: FitOptions | None = None
    decision: str
    cv_label: str
    cv_scheme: str = ""
    df: float | None
    # the data: where from, and the training / held-out rows
    source: str
    n_rows: int
    feature_names: list[str]
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_rows: np.ndarray | None = None
    exposure_train: np.ndarray | None = None
    exposure_test: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    positive: Any = None
    #: population sd of every training target value, where ``y_train`` is only a sample (a
    #: fit from statistics); None: ``np.std(y_train)``
    y_train_sd: float | None = None
    # what the fit shows
    train_metrics: dict[str, float]
    test_metrics: dict[str, float]
    baseline: dict[str, float] = field(default_factory=dict)
    reductions: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started: str = ""

    @property
    def model_kind(self) -> ModelKind:
        """The model kind's registry entry."""
        return KINDS[self.saved.kind]

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


def parse_cv(text: str | None, kind: str | ModelKind, n_train: int = 0
             ) -> tuple[Any, str, str]:
    """``--cv`` -> (cv argument, method, label).

    Defaults: exact LOO for the spectral kinds (ridge); for the others 5 folds, or approximate
    LOO (one path on all the data) above :data:`GLM_ALO_ROWS` training rows.
    """
    spectral = kinds.get(kind).spectral
    if text is None:
        text = "loo" if spectral else ("alo" if n_train > GLM_ALO_ROWS else "5")
    text = text.strip().lower()
    if text.isdigit():
        k = int(text)
        if k < 2:
            raise ValueError(f"--cv needs at least 2 folds, got {k}.")
        return k, "kfold", f"{k}-fold CV"
    if spectral:
        if text in ("loo", "alo"):
            return None, "loo", "exact leave-one-out (one eigendecomposition)"
        if text == "gcv":
            return "gcv", "gcv", "generalized cross-validation (GCV)"
    elif text == "alo":
        return 5, "alo", "approximate leave-one-out (ALO)"
    elif text in ("loo", "gcv"):
        exact = " and ".join(k.name for k in KINDS.values() if k.spectral)
        raise ValueError(f"--cv {text} is for {exact} only; use --cv alo (approximate "
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


def load_table(options: FitOptions) -> tuple[pa.Table, str, str, np.ndarray | None]:
    """The table of a fit (``options.data``, or the bundled demo), its target column, a
    description of its source and the rows of the file dropped for a missing target (None
    when none were)."""
    swallowed = [c for c in options.drop if Path(c).suffix and Path(c).is_file()]
    if options.data is None and swallowed:
        raise DataError(f"--drop took the file name {swallowed[0]!r} as a column; put DATA "
                        "before --drop (ridgeway fit DATA --target COL --drop COL ...).")
    if options.data is None:
        path, target = demo_path("regression")
        return (read_table(path), options.target or target,
                f"bundled demo data ({path.name})", None)
    table = read_table(options.data, sep=options.sep)
    if options.target is None:
        raise DataError(f"--target is required with a data file; columns are: "
                        f"{', '.join(table.column_names[:12])}.")
    table, dropped = missing_target(table, options.target, options.drop_missing_target)
    notes = [n for n in (read_note(table),) if n]
    if dropped:
        notes.append(f"{dropped} rows with a missing target dropped")
    return (table, options.target,
            str(options.data) + (f" ({'; '.join(notes)})" if notes else ""),
            dropped_rows(table))


def count_like(col: pa.ChunkedArray) -> bool:
    """Whether a numeric column looks like counts: non-negative integers, mostly small values
    (median at most 20), right-skewed (mean above median, or many zeros)."""
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        return False
    y = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    y = y[np.isfinite(y)]
    if y.size < 3 or np.any(y < 0) or np.any(y != np.round(y)):
        return False
    median = float(np.median(y))
    return median <= 20 and (float(np.mean(y)) > median or float(np.mean(y == 0)) >= 0.1)


def _n_distinct(col: pa.ChunkedArray) -> int:
    """Distinct non-missing values of a numeric column (NaN counted once, as pyarrow's
    ``unique`` does), by sorting a copy: a hash table of a million distinct floats would
    take several times the column."""
    return len(np.unique(col.drop_null().to_numpy(zero_copy_only=False)))


def choose_model(table: pa.Table, target: str, requested: str | None) -> tuple[str, str]:
    """The model kind and the sentence that explains the choice."""
    col = table.column(target)
    kind = column_kind(col)
    if kind not in ("numeric", "bool", "categorical"):
        raise DataError(f"target {target!r} has type {col.type}, which ridgeway cannot model.")
    numeric = kind in ("numeric", "bool")
    n_unique = _n_distinct(col) if numeric else len(col.unique().drop_null())
    if requested is not None:
        if not kinds.get(requested).classifier and not numeric:
            classifiers = " or ".join(k.name for k in KINDS.values() if k.classifier)
            raise DataError(f"target {target!r} is not numeric (text values such as "
                            f"{col.drop_null()[0].as_py()!r}); --model {requested} needs numbers."
                            f" Use --model {classifiers}.")
        return requested, f"{requested} (as asked with --model)"
    chosen = kinds.DEFAULT_CLASSIFIER
    if not numeric:
        return chosen, (f"{chosen}: target {target!r} holds text ({n_unique} classes); "
                        "use --model svm for a linear SVM")
    if n_unique == 2:
        return chosen, (f"{chosen}: target {target!r} takes 2 values; "
                        f"use --model {kinds.DEFAULT_REGRESSOR} to treat it as a number")
    chosen = kinds.DEFAULT_REGRESSOR
    hint = ("; it looks like counts (small non-negative integers, skewed): consider --model "
            "poisson" if count_like(col) else "")
    return chosen, (f"{chosen}: target {target!r} is numeric with {n_unique} distinct values"
                    f"{hint}")


def target_values(table: pa.Table, target: str, kind: str | ModelKind) -> np.ndarray:
    """The target column as the model kind fits it: floats (counts or rates >= 0 for the
    ``rates`` kinds), or class labels (text, booleans or integers)."""
    spec = kinds.get(kind)
    col = table.column(target)
    if col.null_count or (pa.types.is_floating(col.type) and np.isnan(
            col.to_numpy()).any()):
        raise DataError(f"target {target!r} has missing values; remove those rows first "
                        "(fit: --drop-missing-target).")
    if not spec.classifier:
        y = float_values(col)
        if spec.rates and (y < 0).any():
            raise DataError(f"target {target!r} has negative values; --model {spec.name} "
                            "needs counts or rates >= 0.")
        return y
    if column_kind(col) == "categorical":
        return np.asarray(pc.utf8_trim_whitespace(col.cast(pa.string())).to_pylist(),
                          dtype=str)
    if column_kind(col) == "bool":  # keeps the labels True/False
        return col.to_numpy(zero_copy_only=False).astype(bool)
    y = float_values(col)
    return y.astype(np.int64) if np.all(y == np.round(y)) else y


def _time_order(table: pa.Table, column: str) -> np.ndarray:
    """Row indices sorted by a time column (numbers, dates, or ISO-8601 text), stable."""
    col = table.column(column)
    if col.null_count:
        raise DataError(f"--time-column {column!r} has {col.null_count} missing value(s); "
                        "every row needs a time to be ordered.")
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        try:
            col = pc.cast(col, pa.timestamp("ns"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(f"--time-column {column!r} holds text that is not a date or time "
                            f"(e.g. {table.column(column)[0].as_py()!r}); use ISO dates "
                            "(2024-01-31) or numbers.") from None
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        col = col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else \
            col.cast(pa.date32()).cast(pa.int32())
    return np.argsort(col.to_numpy(zero_copy_only=False), kind="stable")


def _split(y: np.ndarray, test_size: float, classifier: bool, seed: int,
           order: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Row order (training rows first) and the number of training rows.

    With ``order`` (a time order) the held-out rows are the last ``test_size`` of it.
    """
    n = len(y)
    if not 0 <= test_size < 1:
        raise ValueError(f"--test-size must be in [0, 1), got {test_size}.")
    n_test = round(test_size * n)
    if n - n_test < 3:
        raise DataError(f"only {n} row(s): too few to fit and hold out {n_test}.")
    if order is not None:
        return order, n - n_test
    if n_test == 0:
        return np.random.default_rng(seed).permutation(n), n
    if classifier:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and n_test >= len(counts):
            train, test = train_test_split(np.arange(n), test_size=n_test, random_state=seed,
                                           stratify=y)
            return np.concatenate([train, test]), len(train)
    # train_test_split's unstratified split (ShuffleSplit: test rows first in one
    # permutation), without its index copies
    perm = np.random.RandomState(seed).permutation(n)
    return np.roll(perm, -n_test), n - n_test


def _cv_estimator(kind: ModelKind, options: FitOptions, cv: Any, method: str) -> Any:
    alphas = parse_alphas(options.alphas)
    if kind.spectral:
        return kind.cv_estimator(alphas=alphas, cv=cv, selection=options.selection)
    return kind.cv_estimator(alphas=alphas, cv=cv, scoring=kind.cv_scoring,
                             selection=options.selection,
                             method="alo" if method == "alo" else "kfold",
                             max_iter=options.max_iter)


def _df(est: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Effective degrees of freedom of the model fitted on all training rows at ``alpha_``:
    the GLMs' ``df_``; for ridge its CV curve's df there (or the spectrum's, off the grid)."""
    if hasattr(est, "df_"):
        return float(est.df_)
    res = est.cv_results_
    hit = np.flatnonzero(np.asarray(res["alphas"]) == est.alpha_)
    if hit.size:
        return float(np.ravel(res["df"])[hit[0]])
    return float(RidgeSpectrum.from_data(X, y).df(np.array([est.alpha_]))[0])


@dataclass
class _Prepared:
    """The checked, preprocessed data of a fit, split into train and held-out rows."""

    pre: Preprocessor
    kind: ModelKind
    decision: str
    target: str
    source: str
    n_rows: int
    X: np.ndarray
    y: np.ndarray
    n_train: int
    notes: list[str]
    rows: np.ndarray
    exposure: np.ndarray | None = None
    positive: Any = None
    lost: np.ndarray | None = None  # the file's rows dropped for a missing target


def _id_like(table: pa.Table, features: list[str]) -> list[str]:
    """Integer columns whose values are all distinct (row ids, not features)."""
    if table.num_rows < 20:
        return []
    return [c for c in features if pa.types.is_integer(table.column(c).type)
            and len(table.column(c).unique()) == table.num_rows]


def _exposure(table: pa.Table, options: FitOptions, kind: ModelKind
              ) -> tuple[np.ndarray | None, str | None]:
    """The exposure of each row (``--exposure COL``, or ``exp`` of ``--offset COL``)."""
    name = options.exposure or options.offset
    if name is None:
        return None, None
    if options.exposure and options.offset:
        raise ValueError("give --exposure or --offset, not both (--offset is log exposure).")
    flag = "--exposure" if options.exposure else "--offset"
    if not kind.rates:
        rates = " or ".join(k.name for k in KINDS.values() if k.rates)
        raise ValueError(f"{flag} is for --model {rates} only.")
    check_columns(table, [name], f"column in {flag}")
    col = table.column(name)
    if column_kind(col) != "numeric" or col.null_count:
        raise DataError(f"{flag} column {name!r} must be numeric with no missing value.")
    values = col.cast(pa.float64()).to_numpy()
    e = values if options.exposure else np.exp(values)
    bad = np.flatnonzero(~np.isfinite(e) | (e <= 0))
    if bad.size:
        need = "positive" if options.exposure else "finite"
        raise DataError(f"{flag} column {name!r} must be {need}: row {bad[0]} has "
                        f"{values[bad[0]]!r} ({bad.size} such rows).")
    return e, name


def _check_options(table: pa.Table, target: str, options: FitOptions) -> None:
    """Checks of the options that need no model kind (before any expensive work)."""
    check_columns(table, [target], "target column")
    check_columns(table, options.drop, "column in --drop")
    if options.split not in ("random", "time"):
        raise ValueError(f"--split must be random or time, got {options.split!r}.")
    if options.split == "time" and options.time_column is None:
        raise ValueError("--split time needs --time-column COL (the column that orders rows).")
    if options.time_column is not None:
        check_columns(table, [options.time_column], "column in --time-column")
    if options.model is not None and options.model not in KINDS:
        raise ValueError(f"--model must be one of {', '.join(KINDS)}; got {options.model!r}.")
    if options.class_weight not in (None, "none", "balanced"):
        raise ValueError(f"--class-weight must be balanced or none, got "
                         f"{options.class_weight!r}.")


def _check_classifier_options(kind: ModelKind, options: FitOptions) -> None:
    classifiers = " or ".join(k.name for k in KINDS.values() if k.classifier)
    if options.class_weight == "balanced" and not kind.classifier:
        raise ValueError(f"--class-weight balanced is for classifiers (--model {classifiers}).")
    if options.positive is not None and not kind.classifier:
        raise ValueError(f"--positive is for classifiers (--model {classifiers}).")


def _positive(kind: ModelKind, y: np.ndarray, target: str, options: FitOptions) -> Any:
    """The positive class of a binary classifier (None otherwise)."""
    if not kind.classifier:
        return None
    classes = np.unique(y)
    if len(classes) == 2:
        return positive_class(classes, y, options.positive)
    if options.positive is not None:
        raise ValueError(f"--positive is for two classes; the target {target!r} has "
                         f"{len(classes)}.")
    return None


def _prepare(options: FitOptions, progress: Progress) -> _Prepared:
    """Read and check the table, choose the model, split, and preprocess."""
    table, target, source, lost = load_table(options)
    _check_options(table, target, options)
    name, decision = choose_model(table, target, options.model)
    kind = KINDS[name]
    exposure, exposure_col = _exposure(table, options, kind)
    skip = {target, *options.drop, options.time_column, exposure_col}
    features = [c for c in table.column_names if c not in skip]
    if not features:
        raise DataError("no feature columns left after removing the target and --drop.")
    _check_classifier_options(kind, options)
    parse_cv(options.cv, kind)  # fail on a bad --cv before the expensive work
    y_all = target_values(table, target, kind)
    positive = _positive(kind, y_all, target, options)
    missing = check_missing(table, features, options.impute)
    pre = Preprocessor.from_table(table, features, impute=options.impute)
    order = _time_order(table, options.time_column) if options.split == "time" else None
    rows, n_train = _split(y_all, options.test_size, kind.classifier, options.random_state,
                           order)
    notes = _data_notes(table, pre, features, target, missing, options)
    n_rows, held = table.num_rows, [table]
    del table  # handed over: each column is released once it is in the matrix
    progress.stage("preprocessing")
    X = pre.fit_transform(held, rows, n_train, standardize=options.standardize)
    if exposure is not None:
        notes.append(f"exposure from column {exposure_col!r}"
                     + (" (exp of the offset)" if options.offset else "")
                     + ": the model fits the rate target/exposure with exposure as weight, "
                     "i.e. log(exposure) as offset; predictions are rates per unit of exposure")
    if options.split == "time":
        notes.append(f"time split on {options.time_column!r}: trained on the earliest "
                     f"{n_train} rows, held out the latest {len(rows) - n_train}")
    return _Prepared(pre, kind, decision, target, source, n_rows, X, y_all[rows],
                     n_train, notes, rows, None if exposure is None else exposure[rows],
                     positive, lost)


def _data_notes(table: pa.Table, pre: Preprocessor, features: list[str], target: str,
                missing: dict[str, int], options: FitOptions) -> list[str]:
    """Notes on the columns: likely identifiers, inexact integers, encoding, imputation."""
    notes = [f"column {c!r} looks like an identifier (distinct integers in every row); "
             f"consider --drop {c}" for c in _id_like(table, features)]
    notes += [f"column {c!r} holds integers beyond 2**53, used as float64 (rounded to about 16 "
              "significant digits)" for c in inexact_integers(table, [*features, target])]
    if pre.encoded:
        notes.append("one-hot encoded: " + ", ".join(
            f"{c} (2 levels: one 0/1 column, 1 = {pre.categories[c][1]!r})" if c in pre.binary
            else f"{c} ({len(pre.categories[c])} categories)" for c in pre.encoded))
    if missing:
        notes.append(f"imputed ({options.impute}): " + ", ".join(
            f"{c} ({k})" for c, k in missing.items()))
    return notes


#: held-out performance above these is "near perfect" (a leakage warning)
LEAK_R2, LEAK_AUC, LEAK_ACCURACY = 0.99, 0.995, 0.99


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    """scikit-learn's ``class_weight="balanced"`` as sample weights: ``n / (k * n_c)``."""
    classes, idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    return (len(y) / (len(classes) * counts))[idx]


def _convergence_note(count: int, options: FitOptions) -> str:
    current = f"--max-iter {options.max_iter}" if options.max_iter else "the solver's default"
    larger = 2 * options.max_iter if options.max_iter else 5000
    return (f"the solver stopped at its iteration limit in {count} fit(s) of the CV "
            f"path (the CV scores there are close to, not at, the optimum; {current}); raise "
            f"the limit with --max-iter {larger} if the chosen alpha is near those fits")


def _centered_gram(X: np.ndarray, block: int = 65536) -> np.ndarray:
    """``(X - mean)^T (X - mean)`` summed over blocks of rows (no centered copy of X)."""
    mean = X.mean(axis=0)
    gram = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, X.shape[0], block):
        Xc = X[start:start + block] - mean
        gram += Xc.T @ Xc
    return gram


def _edge_notes(est: Any, df: float | None, X: np.ndarray, kind: ModelKind) -> list[str]:
    alphas = np.asarray(est.cv_results_["alphas"], dtype=float)
    alpha = float(est.alpha_)
    if alpha == alphas.max():
        return [f"the chosen alpha ({alpha:.4g}) is the largest tried: the optimum may lie above"
                " it; rerun with --alphas auto (widens the grid) or list larger values with "
                "--alphas"]
    if alpha != alphas.min():
        return []
    rank = int(np.linalg.matrix_rank(_centered_gram(X) if X.shape[0] > X.shape[1]
                                     else X - X.mean(axis=0))) if X.size else 0
    coef = np.atleast_2d(np.asarray(est.coef_))
    rank = rank * coef.shape[0] if kind.classifier and coef.shape[0] > 1 else rank
    if df is not None and rank and df >= 0.95 * rank:
        return [f"CV prefers almost no penalty: the best alpha ({alpha:.4g}) is the smallest "
                f"tried, where the model keeps df = {df:.3g} of {rank} (rank); with this many "
                "rows per feature regularization changes little (--alphas auto explores lower)"]
    return [f"the chosen alpha ({alpha:.4g}) is the smallest tried: the optimum may lie below "
            "it; rerun with --alphas auto (widens the grid) or list smaller values with --alphas"]


@dataclass(kw_only=True)
class _Selection:
    """The CV estimator fitted on the training rows, and how."""

    estimator: Any
    method: str
    cv_label: str
    cv_scheme: str
    y_fit: np.ndarray
    weight: np.ndarray | None
    edge: int
    convergence: int


def _select_alpha(d: _Prepared, options: FitOptions, progress: Progress) -> _Selection:
    """Choose alpha on the training rows (edge and convergence warnings counted, others
    passed on)."""
    kind, k = d.kind, d.n_train
    cv, method, cv_label = parse_cv(options.cv, kind, k)
    scheme = _cv_scheme(kind, method, cv, options)
    if options.split == "time" and method == "kfold":
        cv = TimeSeriesSplit(n_splits=int(cv))
        cv_label = f"{int(cv.n_splits)} forward (time-ordered) folds"
    progress.stage(f"selecting alpha ({cv_label})")
    est = _cv_estimator(kind, options, cv, method)
    weight, y_fit = None, d.y[:k]
    if d.exposure is not None:
        weight, y_fit = d.exposure[:k], d.y[:k] / d.exposure[:k]
    elif options.class_weight == "balanced":
        weight = _balanced_weights(d.y[:k])
    edge = convergence = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AlphaEdgeWarning)
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(d.X[:k], y_fit, **({} if weight is None else {"sample_weight": weight}))
    for w in caught:
        if issubclass(w.category, AlphaEdgeWarning):
            edge += 1
        elif issubclass(w.category, ConvergenceWarning):
            convergence += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return _Selection(estimator=est, method=method, cv_label=cv_label, cv_scheme=scheme,
                      y_fit=y_fit, weight=weight, edge=edge, convergence=convergence)


def _fit_notes(d: _Prepared, sel: _Selection, df: float | None,
               options: FitOptions) -> list[str]:
    notes = list(d.notes)
    if sel.edge:
        notes += _edge_notes(sel.estimator, df, d.X[:d.n_train], d.kind)
    if sel.convergence:
        notes.append(_convergence_note(sel.convergence, options))
    if options.cv is None and sel.method == "alo":
        notes.append(f"more than {GLM_ALO_ROWS} training rows: approximate leave-one-out "
                     "instead of 5 folds (--cv 5 to force k-fold)")
    if options.class_weight == "balanced":
        notes.append("class weights: balanced (each class weighs n / (classes x its count) in "
                     "the fit and in the CV score)")
    return notes


def _summary(d: _Prepared, sel: _Selection, options: FitOptions) -> dict[str, Any]:
    """The fit's summary in the model file (its metrics are added by :func:`run_fit`)."""
    summary = {"alpha": float(sel.estimator.alpha_), "cv": sel.cv_label,
               "selection": options.selection, "n_train": int(d.n_train)}
    if d.positive is not None:
        summary["positive"] = _jsonable(d.positive)
    if d.exposure is not None:
        summary["exposure"] = options.exposure or options.offset
        summary["exposure_kind"] = "exposure" if options.exposure else "log_offset"
    return summary


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
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    progress = progress or Progress()
    progress.stage("reading data")
    d = _prepare(options, progress)
    release_unused()  # the table is gone: give its memory back
    if options.split == "time" and options.cv is None:
        options = _with(options, cv="5")
    sel = _select_alpha(d, options, progress)
    kind, k, est = d.kind, d.n_train, sel.estimator
    final = kind.final_estimator(est)
    df = _df(est, d.X[:k], sel.y_fit)
    e_tr, e_te = (None, None) if d.exposure is None else (d.exposure[:k], d.exposure[k:])
    summary = _summary(d, sel, options)
    outcome = FitOutcome(
        saved=SavedModel(d.pre, final, d.target, kind.name, summary), cv_estimator=est,
        options=options, decision=d.decision, cv_label=sel.cv_label, cv_scheme=sel.cv_scheme,
        df=df, source=d.source, n_rows=d.n_rows, feature_names=d.pre.feature_names,
        X_train=d.X[:k], y_train=d.y[:k], X_test=d.X[k:], y_test=d.y[k:],
        test_rows=source_rows(d.rows[k:], d.lost), exposure_train=e_tr, exposure_test=e_te,
        sample_weight=sel.weight, positive=d.positive,
        train_metrics=model_metrics(final, d.X[:k], d.y[:k], exposure=e_tr,
                                    positive=d.positive),
        test_metrics=model_metrics(final, d.X[k:], d.y[k:], exposure=e_te,
                                   positive=d.positive) if k < len(d.y) else {},
        notes=_fit_notes(d, sel, df, options), started=started)
    if kind.classifier and k < len(d.y):
        outcome.baseline = baseline_metrics(kind.name, final.classes_, d.y[:k], d.y[k:],
                                            positive=d.positive)
    outcome.warnings += _one_class_warning(outcome) + _leakage_warning(outcome, d.pre)
    summary["train_metrics"] = outcome.train_metrics
    summary["test_metrics"] = outcome.test_metrics
    if k < len(d.y):
        _compare(outcome, options, progress)
    return outcome


def _with(options: FitOptions, **changes: Any) -> FitOptions:
    return dataclasses.replace(options, **changes)


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _cv_scheme(kind: ModelKind, method: str, cv: Any, options: FitOptions) -> str:
    """How the CV folds are formed, in words."""
    if method in ("loo", "gcv", "alo"):
        return {"loo": "exact leave-one-out: every training row is held out once",
                "gcv": "generalized cross-validation (a rotation-invariant approximation of "
                       "leave-one-out)",
                "alo": "approximate leave-one-out from one fit on all training rows"}[method]
    if options.split == "time":
        return (f"{cv} forward folds in time order: each fold trains on the rows before it "
                "(scikit-learn TimeSeriesSplit)")
    strat = "stratified " if kind.classifier else ""
    return f"{cv} {strat}folds of consecutive rows of the shuffled training set (no reshuffle)"


def _one_class_warning(outcome: FitOutcome) -> list[str]:
    """A warning when the model predicts one class for (almost) every row."""
    if not outcome.model_kind.classifier:
        return []
    held = len(outcome.y_test) > 0
    X, y = (outcome.X_test, outcome.y_test) if held else (outcome.X_train, outcome.y_train)
    pred = outcome.saved.estimator.predict(X)
    labels, counts = np.unique(pred, return_counts=True)
    top = _jsonable(labels[np.argmax(counts)])
    share, actual = counts.max() / len(pred), float(np.mean(y == top))
    if share < 0.99 or actual >= 0.99:
        return []
    where = "held-out" if held else "training"
    metrics = outcome.test_metrics if held else outcome.train_metrics
    auc = metrics.get("roc_auc")
    auc_text = f" Its ranking is still measured by ROC AUC ({auc:.3f})." if auc else ""
    return [f"the model predicts {top!r} for {100 * share:.1f}% of the {where} rows, which are "
            f"{100 * actual:.1f}% {top!r}: it finds (almost) none of the other class(es), and "
            f"its accuracy is no better than always saying {top!r}.{auc_text} Try --class-weight"
            " balanced, or use its probabilities with a threshold other than 0.5."]


def _leakage_warning(outcome: FitOutcome, pre: Preprocessor) -> list[str]:
    """A warning when held-out performance is near perfect, naming the features behind it."""
    m = outcome.test_metrics
    if not m:
        return []
    base_error = 1.0 - outcome.baseline.get("accuracy", 0.0)
    accuracy = m.get("accuracy")
    if not outcome.model_kind.classifier and m.get("r2", 0.0) > LEAK_R2:
        name, value = "R^2", m["r2"]
    elif m.get("roc_auc", 0.0) > LEAK_AUC:
        name, value = "ROC AUC", m["roc_auc"]
    elif accuracy is not None and accuracy >= LEAK_ACCURACY and \
            1.0 - accuracy < 0.2 * base_error:
        name, value = "accuracy", accuracy
    else:
        return []
    carriers = _leaky_features(outcome)
    columns = []
    for feat in carriers:
        col = pre.sources[outcome.feature_names.index(feat)][0] if feat in \
            outcome.feature_names else feat
        if col not in columns:
            columns.append(col)
    described = ", ".join(f"{f!r} ({why})" for f, why in carriers.items())
    drop = " ".join(shlex.quote(c) for c in columns)
    return [f"held-out {name} = {value:.4f} is near perfect: check for leakage (a feature "
            f"computed from the target, or only known after it). It is carried by {described}."
            f" If those are not available when predicting, refit with --drop {drop}."]


def _leaky_features(outcome: FitOutcome, top: int = 3) -> dict[str, str]:
    """The features behind a near-perfect fit: those that alone explain the target well on
    the training rows (single-feature R^2 >= 0.5 for regression, ROC AUC >= 0.9 for binary
    targets); unless one of them alone is near perfect, also the features that hold 95% of
    the squared standardized coefficients (a sum of features, e.g. casual + registered)."""
    X, y = outcome.X_train, outcome.y_train
    names = outcome.feature_names
    scores: dict[str, str] = {}
    sd = X.std(axis=0)
    ok = sd > 0
    best = 0.0
    if not outcome.model_kind.classifier:
        yc = y - y.mean()
        r = np.zeros(X.shape[1])
        r[ok] = ((X[:, ok] - X[:, ok].mean(axis=0)).T @ yc) / (len(y) * sd[ok] * (yc.std() or 1))
        strength, limit, label, perfect = r ** 2, 0.5, "alone R^2", LEAK_R2
    elif outcome.positive is not None:
        target = y == outcome.positive
        auc = np.array([roc_auc_score(target, X[:, j]) if ok[j] else 0.5
                        for j in range(X.shape[1])])
        strength, limit, label, perfect = np.maximum(auc, 1 - auc), 0.9, "alone ROC AUC", \
            LEAK_AUC
    else:
        strength, limit, label, perfect = np.zeros(X.shape[1]), 1.0, "", 1.0
    for j in np.argsort(-strength)[:top]:
        if strength[j] >= limit:
            scores[names[j]] = f"{label} {strength[j]:.3f}"
            best = max(best, float(strength[j]))
    if best >= perfect:
        return scores
    coef = np.atleast_2d(np.asarray(outcome.saved.estimator.coef_, dtype=float))
    std = coef if outcome.saved.preprocessor.scale is not None else coef * sd
    share = (std ** 2).sum(axis=0)
    share = share / (share.sum() or 1.0)
    total = 0.0
    for j in np.argsort(-share)[:top + 1]:
        text = f"{100 * share[j]:.0f}% of the squared standardized coefficients"
        scores[names[j]] = f"{scores[names[j]]}; {text}" if names[j] in scores else text
        total += share[j]
        if total >= 0.95:
            break
    return scores


def _compare(outcome: FitOutcome, options: FitOptions, progress: Progress) -> None:
    kind = outcome.model_kind
    metric = kind.primary_metric
    if metric not in outcome.test_metrics or outcome.exposure_train is not None:
        return
    err = outcome.test_metrics[metric]
    args = (kind, err, metric, outcome.X_train, outcome.y_train, outcome.X_test,
            outcome.y_test)
    progress.stage("unregularized fit")
    spectrum = outcome.cv_estimator.spectrum_ if kind.spectral else None
    outcome.reductions.append(error_reduction_unregularized(*args, spectrum=spectrum,
                                                            positive=outcome.positive))
    if options.report and options.l1:
        progress.stage("L1 at its CV-best strength")
        outcome.reductions.append(error_reduction_l1(*args, positive=outcome.positive))
