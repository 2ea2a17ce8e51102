"""``ridgeway predict``, ``check`` and ``path``: the commands besides fit."""

from __future__ import annotations

import argparse
import io as _stdio
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from ..inspection import generalization_gap, model_metrics
from ..io import DataError, check_columns, missing_target, read_table, source_of
from .atomic import atomic_open, replace_folder
from .modelfile import load_model
from .output import fmt

__all__ = ["check", "path", "predict", "predictions_csv", "write_csv"]


_SPECIAL = '[,"\r\n]'
_CHUNK_ROWS = 65536


def _arrow(values: np.ndarray | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column for the CSV writer: labels (text, booleans) as their text ``str(v)``."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    values = np.asarray(values)
    if values.dtype.kind in "OUb":
        return pa.array([str(v) for v in values.tolist()], type=pa.string())
    return pa.array(values)


def _may_need_quotes(col: pa.ChunkedArray) -> bool:
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return bool(pc.any(pc.match_substring_regex(col, _SPECIAL)).as_py())
    return not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t))


def write_csv(columns: dict[str, np.ndarray | pa.ChunkedArray], fh: BinaryIO) -> None:
    """Write columns as CSV with a header row to a binary file, a chunk of rows at a time.

    Floats are written to round-trip exactly; text is quoted only where a value holds a
    comma, a quote or a line break.
    """
    from pyarrow import csv

    table = pa.table({name: _arrow(v) for name, v in columns.items()})
    quote = any(any(c in name for c in ',"\r\n') for name in columns) or any(
        _may_need_quotes(col) for col in table.columns)
    if quote:
        options = csv.WriteOptions(quoting_style="needed")
    else:
        fh.write((",".join(columns) + "\n").encode("utf-8"))
        options = csv.WriteOptions(quoting_style="none", include_header=False)
    with csv.CSVWriter(fh, table.schema, write_options=options) as writer:
        for start in range(0, max(table.num_rows, 1), _CHUNK_ROWS):
            writer.write_table(table.slice(start, _CHUNK_ROWS))


def predictions_csv(columns: dict[str, np.ndarray]) -> bytes:
    """:func:`write_csv` into bytes."""
    buf = _stdio.BytesIO()
    write_csv(columns, buf)
    return buf.getvalue()


def warn_unseen(pre, table: pa.Table, max_levels: int = 5) -> None:
    """One warning line on stderr per categorical column with categories unseen in training."""
    for name, levels in pre.unseen(table).items():
        rows = sum(k for _, k in levels)
        shown = ", ".join(f"{v!r} ({k})" for v, k in levels[:max_levels])
        more = f" and {len(levels) - max_levels} more" if len(levels) > max_levels else ""
        print(f"ridgeway: warning: column {name!r} of {source_of(table)}: {rows} row(s) with "
              f"{len(levels)} categor{'y' if len(levels) == 1 else 'ies'} not seen in training "
              f"({shown}{more}); they are encoded as all zeros in {name!r}.", file=sys.stderr)


def predict(model_path: Path, data_path: Path, out: Path | None, *, ids: Sequence[str] = (),
            sep: str | None = None, stream: bool = False) -> int:
    """Write predictions of a saved model for every row of a table, in input order.

    ``ids`` columns are copied first, as they are; then ``prediction`` and, for logistic
    models, ``proba_<class>``. With ``stream`` (or a file over a quarter of the memory) the
    table is read and predicted batch by batch (:func:`.streamjob.predict_stream`).
    """
    model = load_model(model_path)
    from .streamjob import wants_stream

    if stream or wants_stream(data_path):
        from .streamjob import predict_file

        return predict_file(model, data_path, out, ids=ids, sep=sep)
    table = read_table(data_path, sep=sep)
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    check_columns(table, ids, "column in --id")
    predicted = model.predict_columns(table)
    clash = [c for c in ids if c in predicted]
    if clash:
        raise DataError(f"--id {clash[0]}: the predictions file has its own column named "
                        f"{clash[0]!r}; rename that column of {data_path}.")
    warn_unseen(model.preprocessor, table)
    columns = {**{c: table.column(c) for c in dict.fromkeys(ids)}, **predicted}
    if out is None:
        write_csv(columns, sys.stdout.buffer)
        sys.stdout.flush()
    else:
        with atomic_open(out) as fh:
            write_csv(columns, fh)
    return 0


def _default_metric(kind: str) -> str:
    """ROC AUC for classifiers: it drops when a model stops ranking a rare class (accuracy
    hardly moves); R^2 for regression."""
    return "roc_auc" if kind in ("logistic", "svm") else "r2"


def check(console: Console, model_path: Path, data_path: Path, max_gap: float,
          metric: str | None, *, sep: str | None = None,
          drop_missing_target: bool = False) -> bool:
    """Score a saved model on new labeled data; False when the gap exceeds ``max_gap``.

    Raises
    ------
    DataError
        ``max_gap`` is not finite, or the metric cannot be computed (on the new data, e.g. R^2
        of one row, or at training time): a monitor that cannot measure must not pass.
    """
    if not math.isfinite(max_gap):
        raise DataError(f"--max-gap must be a finite number, got {max_gap}.")
    model = load_model(model_path)
    table = read_table(data_path, sep=sep)
    check_columns(table, [model.target], "target column")
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    table, _ = missing_target(table, model.target, drop=drop_missing_target)
    from .fitjob import _target

    y = _target(table, model.target, model.kind)
    warn_unseen(model.preprocessor, table)
    X = model.preprocessor.transform(table)
    model.check_finite(table, X)
    extra = {"positive": model.summary.get("positive")} if model.is_classifier else {}
    new = model_metrics(model.kind, model.estimator, X, y, **extra)
    train = {k: (np.nan if v is None else v)
             for k, v in model.summary.get("train_metrics", {}).items()}
    metric = metric or _default_metric(model.kind)
    rows = {r.metric: r for r in generalization_gap(train, new)}
    if metric not in rows:
        raise DataError(f"--metric {metric!r} is not available for this model; choose from "
                        f"{', '.join(rows)}.")
    t = Table(title=f"{model_path} on {data_path} ({len(y)} rows)", title_justify="left")
    for col in ("metric", "train", "new data", "gap"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for r in rows.values():
        t.add_row(r.metric, fmt(r.train), fmt(r.test), fmt(r.gap, 3, sign=True))
    console.print(t)
    r = rows[metric]
    if not math.isfinite(r.test):
        raise DataError(f"cannot compute {metric} on the {len(y)} row(s) of {data_path} (it is "
                        "undefined there, e.g. R^2 needs 2 rows and a target that varies); the "
                        "check fails. Use more rows, or another --metric such as "
                        f"{'mse' if metric == 'r2' else 'error_rate'}.")
    if not math.isfinite(r.train):
        raise DataError(f"{model_path} has no training value of {metric} (it was undefined at "
                        "fit time); the check fails. Choose another --metric, or refit.")
    if r.gap > max_gap:
        print(f"ridgeway: alert: generalization gap of {metric} is {r.gap:.4g} > --max-gap "
              f"{max_gap:g} (train {r.train:.4g}, new data {r.test:.4g}).", file=sys.stderr)
        return False
    console.print(f"ok: gap of {metric} {r.gap:+.4g} <= {max_gap:g}")
    return True


def path(console: Console, args: argparse.Namespace) -> int:
    """The regularization path of any model kind: a table at a few alphas, path.csv, path.png.

    Ridge: from one eigendecomposition, with the effective degrees of freedom. The GLMs
    (logistic, svm, poisson): one warm-started path of the model's own solver over its
    data-driven grid. Multiclass models plot each feature's coefficient norm over the classes
    (the CSV holds every class's coefficients).
    """
    from ..inspection import RegularizationPathDisplay
    from ..io import check_missing
    from .fitjob import FitOptions, _load, _target, choose_model
    from .preprocess import Preprocessor

    if args.n_alphas < 2:
        raise DataError(f"--n-alphas must be at least 2, got {args.n_alphas}.")
    table, target, source = _load(FitOptions(data=args.data, target=args.target, sep=args.sep,
                                             drop_missing_target=args.drop_missing_target))
    check_columns(table, [target], "target column")
    check_columns(table, args.drop, "column in --drop")
    features = [c for c in table.column_names if c != target and c not in args.drop]
    if not features:
        raise DataError("no feature columns left after removing the target and --drop.")
    kind, _ = choose_model(table, target, args.model)
    y = _target(table, target, kind)
    check_missing(table, features, args.impute)
    pre = Preprocessor.from_table(table, features, impute=args.impute)
    rows = np.arange(table.num_rows)
    X = pre.fit_transform(table, rows, len(rows))
    names = pre.feature_names
    if kind == "ridge":
        alphas, coefs, dfs, labels = _ridge_path(X, y, args.n_alphas)
    else:
        alphas, coefs, labels = _glm_path(kind, X, y, args.n_alphas)
        dfs = None
    shown = coefs if coefs.ndim == 2 else np.linalg.norm(coefs, axis=2)
    _print_path(console, source, target, kind, names, alphas, dfs, shown)
    display = RegularizationPathDisplay(alphas, shown, dfs, names).plot()
    if labels is not None:
        display.ax_.set_ylabel("coefficient norm over the classes")
    csv_cols: dict[str, np.ndarray] = {"alpha": alphas}
    if dfs is not None:
        csv_cols["df"] = dfs
    if coefs.ndim == 2:
        csv_cols.update({n: coefs[:, j] for j, n in enumerate(names)})
    else:
        csv_cols.update({f"{n}[{c}]": coefs[:, j, k] for k, c in enumerate(labels)
                         for j, n in enumerate(names)})
    files = {"path.csv": predictions_csv(csv_cols), "path.png": _png(display.figure_)}
    for written in replace_folder(args.out, files):
        console.print(f"wrote {written}")
    return 0


def _ridge_path(X: np.ndarray, y: np.ndarray, n_alphas: int):
    from ..linalg import RidgeSpectrum
    from ..selection import df_alpha_grid

    spec = RidgeSpectrum.from_data(X, y)
    alphas = df_alpha_grid(spec.eigenvalues, n_alphas=n_alphas)
    return alphas, spec.coef(alphas), spec.df(alphas), None


def _glm_path(kind: str, X: np.ndarray, y: np.ndarray, n_alphas: int):
    """(alphas increasing, coefs of shape (n_alphas, p) or (n_alphas, p, n_classes), labels)."""
    from ..glm import GLMData, L2Penalty, fit_path
    from ..linear_model import LinearSVC, LogisticRegression, PoissonRegressor
    from ..linear_model._glm_cv import default_alphas

    est = {"logistic": LogisticRegression, "svm": LinearSVC,
           "poisson": PoissonRegressor}[kind]()
    problems, sw = est._encode(y, None)
    datas = [GLMData(X, Y, sw, True) for Y, _ in problems]
    alphas, _ = default_alphas(datas[0], problems[0][1], n_alphas)
    paths = [fit_path(d, loss, L2Penalty(), alphas) for d, (_, loss) in zip(datas, problems,
                                                                            strict=True)]
    coefs = np.concatenate([p.coefs for p in paths], axis=2)[::-1]  # increasing alpha
    alphas = paths[0].alphas[::-1]
    labels = getattr(est, "classes_", None)
    if coefs.shape[2] == 1:
        return alphas, coefs[:, :, 0], None
    return alphas, coefs, [str(c) for c in labels]


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buf = _stdio.BytesIO()
    figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buf.getvalue()


def _print_path(console: Console, source: str, target: str, kind: str, names: list[str],
                alphas, dfs, coefs, n_rows: int = 8, n_cols: int = 8) -> None:
    order = np.argsort(-np.abs(coefs).max(axis=0))[:n_cols]
    title = {"ridge": "Ridge", "logistic": "Logistic", "svm": "Linear SVM",
             "poisson": "Poisson"}[kind]
    t = Table(title=f"{title} path of {target!r} on {source} (standardized coefficients)",
              title_justify="left")
    t.add_column("alpha", justify="right")
    t.add_column("df", justify="right")
    for j in order:
        t.add_column(names[j], justify="right")
    for i in np.unique(np.linspace(0, len(alphas) - 1, n_rows).round().astype(int)):
        df = "n/a" if dfs is None else f"{dfs[i]:.2f}"
        t.add_row(f"{alphas[i]:.3g}", df, *(f"{coefs[i, j]:+.3g}" for j in order))
    if len(names) > n_cols:
        t.caption = f"{n_cols} largest of {len(names)} features shown; all in path.csv"
    console.print(t)

