"""Saving and loading fitted models as plain JSON (``model.json``): no pickle, no code.

The file holds a format name and version, the preprocessing (:class:`Preprocessor`), the
estimator's class (from a fixed list), its hyperparameters and fitted arrays, and a summary of
the fit (target, alpha, metrics). Loading builds the estimator from those numbers only; a file
that is not valid JSON, lacks a field, names an unknown class or was written by a newer format
version raises :class:`ModelFileError` with one line saying so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._preprocess import Preprocessor
from .io import DataError, atomic_write

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "SavedModel", "load_model",
           "save_model"]

FORMAT = "ridgeway-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file is corrupt, of another format, or of a newer version."""


def _estimator_classes() -> dict[str, type]:
    from .linear_model import Ridge
    from .linear_model._glm import LinearSVC, LogisticRegression, PoissonRegressor

    return {"Ridge": Ridge, "LogisticRegression": LogisticRegression, "LinearSVC": LinearSVC,
            "PoissonRegressor": PoissonRegressor}


_ARRAYS = ("coef_", "intercept_")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def estimator_to_dict(est: Any) -> dict[str, Any]:
    """The class name, JSON-ready hyperparameters and fitted attributes of an estimator."""
    name = type(est).__name__
    if name not in _estimator_classes():
        raise TypeError(f"cannot save a {name}; supported: {sorted(_estimator_classes())}.")
    params = {k: _jsonable(v) for k, v in est.get_params().items()}
    fitted = {k: _jsonable(getattr(est, k)) for k in _ARRAYS}
    fitted["n_features_in_"] = int(est.n_features_in_)
    if hasattr(est, "classes_"):
        fitted["classes_"] = _jsonable(est.classes_)
    return {"class": name, "params": params, "fitted": fitted}


def estimator_from_dict(d: dict[str, Any]) -> Any:
    """Rebuild a fitted estimator from :func:`estimator_to_dict` output."""
    classes = _estimator_classes()
    if d["class"] not in classes:
        raise ModelFileError(f"unknown estimator class {d['class']!r} (known: "
                             f"{', '.join(sorted(classes))}).")
    est = classes[d["class"]](**d["params"])
    fitted = d["fitted"]
    for key in _ARRAYS:
        value = fitted[key]
        setattr(est, key, np.asarray(value, dtype=np.float64) if isinstance(value, list)
                else float(value))
    est.n_features_in_ = int(fitted["n_features_in_"])
    if "classes_" in fitted:
        est.classes_ = np.asarray(fitted["classes_"])
    if np.shape(est.coef_)[-1] != est.n_features_in_:
        raise ValueError("the coefficients do not match the number of features")
    return est


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
    def is_classifier(self) -> bool:
        """Whether the model predicts classes."""
        return self.kind in ("logistic", "svm")

    def predict_columns(self, table) -> dict[str, np.ndarray]:
        """Predictions for a pyarrow Table, columns matched by name.

        Returns
        -------
        dict
            ``"prediction"`` and, for probabilistic classifiers, ``"proba_<class>"`` columns.
        """
        X = self.preprocessor.transform(table)
        out = {"prediction": self.estimator.predict(X)}
        if hasattr(self.estimator, "predict_proba"):
            proba = self.estimator.predict_proba(X)
            for k, c in enumerate(self.estimator.classes_):
                out[f"proba_{c}"] = proba[:, k]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        from . import __version__

        return {"format": FORMAT, "format_version": FORMAT_VERSION,
                "ridgeway_version": __version__, "target": self.target, "kind": self.kind,
                "preprocessing": self.preprocessor.to_dict(),
                "model": estimator_to_dict(self.estimator),
                "summary": self.summary}


def model_json(model: SavedModel) -> str:
    """The text of a model file: plain JSON (no code, no pickle), with a format version."""
    return json.dumps(model.to_dict(), indent=1, allow_nan=True) + "\n"


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


def _check_header(doc: Any, path: Path) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a ridgeway model file (no format {FORMAT!r}).")
    version = doc.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{path}: the model file has no valid format_version.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version} is newer than this ridgeway reads "
            f"(up to {FORMAT_VERSION}); upgrade ridgeway to load it."
        )


def load_model(path: str | os.PathLike) -> SavedModel:
    """Read a model written by :func:`save_model`, without executing any code.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SavedModel

    Raises
    ------
    DataError
        The file does not exist.
    ModelFileError
        The file is not valid JSON, not a ridgeway model, malformed, or of a newer version.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt model file (not valid JSON: {exc}).") from None
    _check_header(doc, path)
    try:
        pre = Preprocessor.from_dict(doc["preprocessing"])
        est = estimator_from_dict(doc["model"])
        model = SavedModel(pre, est, str(doc["target"]), str(doc["kind"]),
                           dict(doc.get("summary", {})))
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: corrupt model file ({type(exc).__name__}: {exc}).") from None
    if est.n_features_in_ != len(pre.feature_names):
        raise ModelFileError(f"{path}: corrupt model file (features do not match preprocessing).")
    return model
