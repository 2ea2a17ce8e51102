"""Saving and loading fitted models as plain JSON (``model.json``): no pickle, no code.

The file holds a format name and version, the preprocessing (:class:`Preprocessor`), the
estimator's class (from a fixed list), its hyperparameters and fitted arrays, and a summary of
the fit (target, alpha, metrics). Loading builds the estimator from those numbers only; a file
that is not valid JSON, lacks a field, names an unknown class or was written by a newer format
version raises :class:`ModelFileError` with one line saying so.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..exceptions import DataError, ModelFileError
from ..io import source_of, where
from ..linear_model.kinds import KINDS, ModelKind
from .atomic import atomic_write
from .preprocess import Preprocessor

__all__ = ["FORMAT", "FORMAT_VERSION", "SavedModel", "load_model", "save_model",
           "validate_document"]

FORMAT = "ridgeway-model"
FORMAT_VERSION = 1
#: the model kind of each estimator class a model file may name
_SAVED_AS = {k.saved_as: k for k in KINDS.values()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def estimator_to_dict(est: Any) -> dict[str, Any]:
    """The class name, JSON-ready hyperparameters and fitted attributes of an estimator."""
    name = type(est).__name__
    if name not in _SAVED_AS:
        raise TypeError(f"cannot save a {name}; supported: {sorted(_SAVED_AS)}.")
    params = {k: _jsonable(v) for k, v in est.get_params().items()}
    fitted = {k: _jsonable(getattr(est, k)) for k in _SAVED_AS[name].fitted_attributes}
    return {"class": name, "params": params, "fitted": fitted}


def estimator_from_dict(d: dict[str, Any]) -> Any:
    """Rebuild a fitted estimator from :func:`estimator_to_dict` output (validate it first
    with :func:`validate_document`)."""
    if d["class"] not in _SAVED_AS:
        raise ModelFileError(f"unknown estimator class {d['class']!r} (known: "
                             f"{', '.join(sorted(_SAVED_AS))}).")
    return _SAVED_AS[d["class"]].from_fitted(d["params"], d["fitted"])


# ------------------------------------------------------------------------------ schema
class _Field:
    """Checks on one field of a model document; failures name the field and the file."""

    def __init__(self, path: Path, name: str, value: Any):
        self.path, self.name, self.value = path, name, value

    def fail(self, problem: str) -> ModelFileError:
        return ModelFileError(
            f"{self.path}: invalid model file: field {self.name!r} {problem}. The file is "
            "corrupt or was edited; refit the model with ridgeway fit."
        )

    def of(self, key: str | int, *, required: bool = True, default: Any = None) -> _Field:
        """The field ``key`` of this object (or item ``key`` of this list)."""
        name = f"{self.name}.{key}" if self.name else str(key)
        if isinstance(key, int):
            return _Field(self.path, f"{self.name}[{key}]", self.value[key])
        if key not in self.value:
            if required:
                raise _Field(self.path, name, None).fail("is missing")
            return _Field(self.path, name, default)
        return _Field(self.path, name, self.value[key])

    def object(self) -> dict:
        if not isinstance(self.value, dict):
            raise self.fail(f"must be an object, not {_type(self.value)}")
        return self.value

    def list(self, length: int | None = None, *, min_length: int = 0) -> list:
        if not isinstance(self.value, list):
            raise self.fail(f"must be a list, not {_type(self.value)}")
        if length is not None and len(self.value) != length:
            raise self.fail(f"must have {length} entries, not {len(self.value)}")
        if len(self.value) < min_length:
            raise self.fail(f"must have at least {min_length} entries, not {len(self.value)}")
        return self.value

    def string(self, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"must be a string, not {_type(self.value)}")
        if choices is not None and self.value not in choices:
            raise self.fail(f"must be one of {', '.join(choices)}, not {self.value!r}")
        return self.value

    def integer(self, low: int, high: int | None = None) -> int:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"must be an integer, not {_type(v)}")
        if v < low or (high is not None and v > high):
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            raise self.fail(f"must be an integer {span}, not {v}")
        return v

    def number(self, *, positive: bool = False, nonnegative: bool = False,
               nullable: bool = False) -> float | None:
        v = self.value
        if v is None and nullable:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(f"must be a number, not {_type(v)}")
        if not math.isfinite(v):
            raise self.fail(f"must be a finite number, not {v}")
        if positive and v <= 0:
            raise self.fail(f"must be > 0, not {v}")
        if nonnegative and v < 0:
            raise self.fail(f"must be >= 0, not {v}")
        return float(v)

    def numbers(self, length: int, **kwargs: bool) -> list[float]:
        return [self.of(i).number(**kwargs) for i in range(len(self.list(length)))]

    def unique_strings(self, *, min_length: int = 0) -> list[str]:
        values = [self.of(i).string() for i in range(len(self.list(min_length=min_length)))]
        if len(set(values)) != len(values):
            raise self.fail("must not repeat an entry")
        return values

    def shallow(self, depth: int = 3) -> Any:
        """Any JSON value nested at most ``depth`` levels, its numbers finite (or null)."""
        stack = [(self.value, 0)]
        while stack:
            v, level = stack.pop()
            if level > depth:
                raise self.fail(f"is nested more than {depth} levels deep")
            if isinstance(v, dict):
                stack.extend((x, level + 1) for x in v.values())
            elif isinstance(v, list):
                stack.extend((x, level + 1) for x in v)
            elif isinstance(v, float) and not math.isfinite(v):
                raise self.fail(f"must hold finite numbers, not {v}")
        return self.value


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def validate_document(doc: Any, path: Path) -> None:
    """Check every field of a model document (types, ranges, shapes, finiteness).

    Raises
    ------
    ModelFileError
        Naming the first invalid field and the file.
    """
    root = _Field(path, "", doc)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a ridgeway model file (no format {FORMAT!r}).")
    version = root.of("format_version")
    if isinstance(version.value, int) and not isinstance(version.value, bool) \
            and version.value > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version.value} is newer than this ridgeway reads "
            f"(up to {FORMAT_VERSION}); upgrade ridgeway to load it."
        )
    version.integer(1, FORMAT_VERSION)
    root.of("ridgeway_version", required=False, default="").string()
    root.of("target").string()
    kind = KINDS[root.of("kind").string(tuple(KINDS))]
    n_out = _validate_preprocessing(root.of("preprocessing"))
    _validate_estimator(root.of("model"), kind, n_out)
    _validate_summary(root.of("summary", required=False, default={}))


def _validate_preprocessing(pre: _Field) -> int:
    """Check the preprocessing; returns the number of output features."""
    pre.object()
    columns = pre.of("columns").unique_strings(min_length=1)
    kinds_f = pre.of("kinds")
    kinds = kinds_f.object()
    for c in columns:
        kinds_f.of(c).string(("numeric", "categorical"))
    _no_extra(kinds_f, columns, "a column")
    cats_f = pre.of("categories")
    cats_f.object()
    encoded = [c for c in columns if kinds[c] == "categorical"]
    _no_extra(cats_f, encoded, "a categorical column")
    binary_f = pre.of("binary", required=False, default=[])
    binary = binary_f.unique_strings()
    for c in binary:
        if c not in encoded:
            raise binary_f.fail(f"names {c!r}, which is not a categorical column")
    n_out = len(columns) - len(encoded)
    for c in encoded:
        levels = len(cats_f.of(c).unique_strings(min_length=1))
        if c in binary and levels != 2:
            raise cats_f.of(c).fail(f"must hold 2 levels for the binary column {c!r}")
        n_out += levels - (c in binary)
    fill_f = pre.of("fill")
    for c in fill_f.object():
        if kinds.get(c) != "numeric":
            raise fill_f.fail(f"names {c!r}, which is not a numeric column")
        fill_f.of(c).number()
    pre.of("impute").string(("none", "mean", "median"))
    mean, scale = pre.of("mean"), pre.of("scale")
    if (mean.value is None) != (scale.value is None):
        raise (mean if mean.value is None else scale).fail(
            "must be null exactly when the other of mean/scale is")
    if mean.value is not None:
        mean.numbers(n_out)
        scale.numbers(n_out, positive=True)
    return n_out


def _no_extra(f: _Field, allowed: list[str], what: str) -> None:
    extra = sorted(set(f.value) - set(allowed))
    if extra:
        raise f.fail(f"names {extra[0]!r}, which is not {what}")


def _validate_estimator(model: _Field, kind: ModelKind, n_features: int) -> None:
    model.object()
    name = model.of("class").string(tuple(sorted(_SAVED_AS)))
    if name != kind.saved_as:
        raise model.of("class").fail(f"must be {kind.saved_as} for kind {kind.name!r}, "
                                     f"not {name}")
    params_f = model.of("params")
    allowed = set(kind.estimator._get_param_names())
    for key in params_f.object():
        if key not in allowed:
            raise params_f.fail(f"has an unknown parameter {key!r} for {name}")
        params_f.of(key).shallow(depth=2)
    if "alpha" in params_f.value:
        params_f.of("alpha").number(nonnegative=True)
    fitted = model.of("fitted")
    fitted.object()
    n = fitted.of("n_features_in_").integer(1)
    if n != n_features:
        raise fitted.of("n_features_in_").fail(
            f"is {n}, but the preprocessing makes {n_features} features")
    coef, intercept = fitted.of("coef_"), fitted.of("intercept_")
    if not kind.classifier:
        coef.numbers(n)
        intercept.number()
        return
    labels = fitted.of("classes_")
    values = labels.list(min_length=2)
    types = {type(v) for v in values}
    if len(types) != 1 or types.pop() not in (str, int, float, bool):
        raise labels.fail("must be a list of labels of one type (strings, numbers or booleans)")
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        raise labels.fail("must not hold non-finite numbers")
    if len(set(values)) != len(values):
        raise labels.fail("must not repeat a label")
    rows = 1 if len(values) == 2 else len(values)
    for i in range(len(coef.list(rows))):
        coef.of(i).numbers(n)
    intercept.numbers(rows)


def _validate_summary(summary: _Field) -> None:
    summary.object()
    if "alpha" in summary.value:
        summary.of("alpha").number(nonnegative=True)
    for key in ("train_metrics", "test_metrics"):
        metrics = summary.of(key, required=False, default={})
        for name in metrics.object():
            metrics.of(name).number(nullable=True)
    for key in summary.value:
        summary.of(key).shallow(depth=4)


@dataclass
class SavedModel:
    """A fitted command-line model: preprocessing, estimator and what the fit found.

    Attributes
    ----------
    preprocessor : Preprocessor
    estimator : estimator
        ``Ridge``, ``LogisticRegression``, ``LinearSVC`` or ``PoissonRegressor``, fitted on the
        preprocessed (standardized) features.
    target : str
    kind : str
        ``"ridge"``, ``"logistic"``, ``"svm"`` or ``"poisson"``.
    summary : dict
        alpha, cv mode, train metrics and more (JSON values).
    """

    preprocessor: Preprocessor
    estimator: Any
    target: str
    kind: str
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def model_kind(self) -> ModelKind:
        """The registry entry of :attr:`kind`."""
        return KINDS[self.kind]

    @property
    def is_classifier(self) -> bool:
        """Whether the model predicts classes."""
        return self.model_kind.classifier

    def predict_columns(self, table) -> dict[str, np.ndarray]:
        """Predictions for a pyarrow Table, columns matched by name (the linear predictor is
        computed once, and checked to be finite, see :meth:`check_finite`).

        Returns
        -------
        dict
            ``"prediction"`` and, for probabilistic classifiers, ``"proba_<class>"`` columns.
        """
        X = self.preprocessor.transform(table)
        with np.errstate(over="ignore", invalid="ignore"):
            eta = self.model_kind.linear_predictor(self.estimator, X)
            out = self.model_kind.predict_columns(self.estimator, eta)
        self._refuse_nonfinite(table, X, eta, out["prediction"])
        return out

    def check_finite(self, table, X: np.ndarray) -> None:
        """Refuse rows whose prediction would be infinite or NaN, naming them and the column
        that drives them (the largest contribution ``|coef_j x_ij|``).

        Parameters
        ----------
        table : pyarrow.Table
            The input rows (to name the file, the row and the value).
        X : ndarray
            ``preprocessor.transform(table)``.

        Raises
        ------
        DataError
        """
        with np.errstate(over="ignore", invalid="ignore"):
            eta = self.model_kind.linear_predictor(self.estimator, X)
            prediction = self.model_kind.predict_columns(self.estimator, eta)["prediction"]
        self._refuse_nonfinite(table, X, eta, prediction)

    def _refuse_nonfinite(self, table, X: np.ndarray, eta: np.ndarray,
                          prediction: np.ndarray) -> None:
        bad = ~np.isfinite(eta).all(axis=1)
        if prediction.dtype.kind == "f":
            bad |= ~np.isfinite(prediction)
        bad = np.flatnonzero(bad)
        if not bad.size:
            return
        coef = np.reshape(np.asarray(self.estimator.coef_, dtype=float), (-1, X.shape[1]))
        with np.errstate(over="ignore", invalid="ignore"):
            contrib = np.nan_to_num(np.abs(X[bad[0]] * coef).max(axis=0), nan=np.inf)
        column = self.preprocessor.sources[int(np.argmax(contrib))][0]
        rows = ", ".join(str(i + 1) for i in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise DataError(
            f"{source_of(table)}: the prediction is not a finite number on {bad.size} row(s) "
            f"(row(s) {rows}; first on {where(table, int(bad[0]))}), driven by column "
            f"{column!r} with value {table.column(column)[int(bad[0])].as_py()!r}, far outside "
            "the training data; fix or remove those rows."
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION,
                "ridgeway_version": __version__, "target": self.target, "kind": self.kind,
                "preprocessing": self.preprocessor.to_dict(),
                "model": estimator_to_dict(self.estimator),
                "summary": self.summary}


def _finite_or_null(value: Any, where: str, nulled: dict[str, str]) -> Any:
    """``value`` with every non-finite float replaced by None (recorded in ``nulled``)."""
    if isinstance(value, dict):
        return {k: _finite_or_null(v, f"{where}.{k}" if where else str(k), nulled)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v, f"{where}[{i}]", nulled) for i, v in enumerate(value)]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        nulled[where] = f"{float(value)} (not defined on this data, e.g. R^2 on < 2 rows)"
        return None
    return _jsonable(value)


def model_json(model: SavedModel) -> str:
    """The text of a model file: strict JSON (no code, no pickle, no NaN), with a version.

    Non-finite values of the summary (a metric that is undefined on the data, such as R^2 on
    one held-out row) are written as ``null``, with the reason under ``summary.null_values``.

    Raises
    ------
    ValueError
        A fitted array or preprocessing value is not finite (never saved).
    """
    doc = model.to_dict()
    nulled: dict[str, str] = {}
    doc["summary"] = _finite_or_null(doc["summary"], "", nulled)
    if nulled:
        doc["summary"]["null_values"] = nulled
    try:
        return json.dumps(doc, indent=1, allow_nan=False) + "\n"
    except ValueError:
        raise ValueError("the fitted model holds non-finite numbers (NaN or inf) and is not "
                         "saved; check the data for extreme values.") from None


def save_model(model: SavedModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as JSON, atomically.

    Parameters
    ----------
    model : SavedModel
    path : str or path-like

    Returns
    -------
    pathlib.Path
    """
    return atomic_write(path, model_json(model))


def load_model(path: str | os.PathLike) -> SavedModel:
    """Read a model file written by ``ridgeway fit`` (or :func:`save_model`), without
    executing any code.

    Every field is checked before use (format and version, kind and estimator class, the
    shapes of ``coef_``, ``intercept_`` and ``classes_`` against the features, finite numbers,
    positive standardization scales), so a corrupt or edited file is refused, never turned
    into NaN predictions.

    Parameters
    ----------
    path : str or path-like
        A ``model.json``.

    Returns
    -------
    SavedModel
        With ``preprocessor`` (apply it to a pyarrow Table with ``transform``), ``estimator``
        (a fitted :class:`ridgeway.Ridge`, :class:`~ridgeway.LogisticRegression`,
        :class:`~ridgeway.LinearSVC` or :class:`~ridgeway.PoissonRegressor`), ``target``,
        ``kind``, ``summary`` and :meth:`SavedModel.predict_columns`.

    Raises
    ------
    DataError
        The file does not exist.
    ModelFileError
        The file is not valid JSON, not a ridgeway model, of a newer format version, or has
        an invalid field (the message names it).

    Examples
    --------
    >>> import ridgeway
    >>> model = ridgeway.load_model("ridgeway-out/model.json")  # doctest: +SKIP
    >>> model.predict_columns(table)["prediction"]  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file.")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt model file (not valid JSON: {exc}).") from None
    except RecursionError:
        raise ModelFileError(f"{path}: corrupt model file (nested too deeply to be a "
                             "ridgeway model).") from None
    validate_document(doc, path)
    try:  # every field was checked: a KeyError or TypeError here is a bug, not the file's
        pre = Preprocessor.from_dict(doc["preprocessing"])
        est = estimator_from_dict(doc["model"])
    except ValueError as exc:
        raise ModelFileError(f"{path}: invalid model file: {exc}") from None
    return SavedModel(pre, est, doc["target"], doc["kind"], dict(doc.get("summary", {})))
