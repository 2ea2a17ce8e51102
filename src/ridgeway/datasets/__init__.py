"""Small real data sets bundled with ridgeway, readable offline.

* ``diabetes.csv``: the diabetes data of Efron, Hastie, Johnstone and Tibshirani (2004), as
  shipped with scikit-learn (``load_diabetes(scaled=False)``): 442 patients, ten baseline
  variables in their own units (age in years, sex, body mass index, blood pressure and six
  blood serum measurements: total cholesterol ``tc``, ``ldl``, ``hdl``, ``tch``, ``ltg``,
  glucose ``glu``) and the target ``progression``, a measure of disease progression one year
  later. The demo regression set of ``ridgeway demo``.
* ``breast_cancer.csv``: the Wisconsin diagnostic breast cancer data (scikit-learn's
  ``load_breast_cancer``): 569 samples, 30 numeric features, target ``diagnosis``
  (``"malignant"`` or ``"benign"``). The demo classification set.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "demo_path", "load_demo", "load_demo_classification"]

_FILES = {"regression": ("diabetes.csv", "progression"),
          "classification": ("breast_cancer.csv", "diagnosis")}


@dataclass(frozen=True)
class Dataset:
    """A bundled data set as arrays.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    y : ndarray of shape (n_samples,)
        Target (float64 for regression, str for classification).
    feature_names : list of str
    target_name : str
    path : pathlib.Path
        The CSV file inside the installed package.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    path: Path


def demo_path(kind: str = "regression") -> tuple[Path, str]:
    """Path of a bundled CSV file and the name of its target column.

    Parameters
    ----------
    kind : {"regression", "classification"}

    Returns
    -------
    path : pathlib.Path
    target : str
    """
    if kind not in _FILES:
        raise ValueError(f"kind must be 'regression' or 'classification', got {kind!r}.")
    name, target = _FILES[kind]
    return Path(str(resources.files(__package__).joinpath("data", name))), target


def _load(kind: str) -> Dataset:
    from ..io import read_table, table_column

    path, target = demo_path(kind)
    table = read_table(path)
    names = [c for c in table.column_names if c != target]
    X = np.column_stack([table_column(table, c).astype(np.float64) for c in names])
    y = table_column(table, target)
    if kind == "regression":
        y = y.astype(np.float64)
    else:
        y = y.astype(str)
    return Dataset(X, y, names, target, path)


def load_demo() -> Dataset:
    """The diabetes regression data (442 x 10, target ``progression``), in original units.

    Returns
    -------
    Dataset
    """
    return _load("regression")


def load_demo_classification() -> Dataset:
    """The breast cancer classification data (569 x 30, target ``diagnosis``).

    Returns
    -------
    Dataset
    """
    return _load("classification")
