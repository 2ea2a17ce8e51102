"""``ridgeway predict``, ``check`` and ``path``: the commands besides fit."""

from __future__ import annotations

import argparse
import io as _stdio
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from .inspection import generalization_gap, model_metrics
from .io import atomic_write, check_columns, read_table
from .persistence import load_model

__all__ = ["check", "path", "predict", "predictions_csv"]


def _needs_quotes(values: list[str]) -> bool:
    return any(any(c in v for c in ',"\r\n') for v in values)


def predictions_csv(columns: dict[str, np.ndarray]) -> bytes:
    """CSV bytes with a header row; floats written to round-trip exactly.

    Text is quoted only where a value holds a comma, a quote or a line break.
    """
    from pyarrow import csv

    arrays, quote = {}, _needs_quotes(list(columns))
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype.kind in "OU":
            text = [str(v) for v in values.tolist()]
            quote = quote or _needs_quotes(text)
            arrays[name] = pa.array(text)
        else:
            arrays[name] = pa.array(values)
    buf = _stdio.BytesIO()
    style = "needed" if quote else "none"
    csv.write_csv(pa.table(arrays), buf, csv.WriteOptions(quoting_style=style,
                                                           include_header=quote))
    header = b"" if quote else (",".join(columns) + "\n").encode("utf-8")
    return header + buf.getvalue()


def predict(model_path: Path, data_path: Path, out: Path | None) -> int:
    """Write predictions of a saved model for every row of a table, in input order."""
    model = load_model(model_path)
    table = read_table(data_path)
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    payload = predictions_csv(model.predict_columns(table))
    if out is None:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    else:
        atomic_write(out, payload)
    return 0


def _default_metric(kind: str) -> str:
    """ROC AUC for classifiers: it drops when a model stops ranking a rare class (accuracy
    hardly moves); R^2 for regression."""
    return "roc_auc" if kind in ("logistic", "svm") else "r2"


def check(console: Console, model_path: Path, data_path: Path, max_gap: float,
          metric: str | None) -> bool:
    """Score a saved model on new labeled data; False when the gap exceeds ``max_gap``."""
    model = load_model(model_path)
    table = read_table(data_path)
    check_columns(table, [model.target], "target column")
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    from ._fitjob import _target

    y = _target(table, model.target, model.kind)
    X = model.preprocessor.transform(table)
    extra = {"positive": model.summary.get("positive")} if model.is_classifier else {}
    new = model_metrics(model.kind, model.estimator, X, y, **extra)
    train = model.summary.get("train_metrics", {})
    metric = metric or _default_metric(model.kind)
    rows = {r.metric: r for r in generalization_gap(train, new)}
    if metric not in rows:
        raise ValueError(f"--metric {metric!r} is not available for this model; choose from "
                         f"{', '.join(rows)}.")
    t = Table(title=f"{model_path} on {data_path} ({len(y)} rows)", title_justify="left")
    for col in ("metric", "train", "new data", "gap"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for r in rows.values():
        t.add_row(r.metric, f"{r.train:.4g}", f"{r.test:.4g}", f"{r.gap:+.3g}")
    console.print(t)
    r = rows[metric]
    if r.gap > max_gap:
        print(f"ridgeway: alert: generalization gap of {metric} is {r.gap:.4g} > --max-gap "
              f"{max_gap:g} (train {r.train:.4g}, new data {r.test:.4g}).", file=sys.stderr)
        return False
    console.print(f"ok: gap of {metric} {r.gap:+.4g} <= {max_gap:g}")
    return True


def path(console: Console, args: argparse.Namespace) -> int:
    """The ridge regularization path: a table at a few alphas, path.csv and path.png."""
    from ._fitjob import FitOptions, _load
    from ._preprocess import Preprocessor
    from .inspection import RegularizationPathDisplay
    from .io import check_missing
    from .linalg import RidgeSpectrum
    from .selection import df_alpha_grid

    if args.n_alphas < 2:
        raise ValueError(f"--n-alphas must be at least 2, got {args.n_alphas}.")
    table, target, source = _load(FitOptions(data=args.data, target=args.target))
    check_columns(table, [target, *args.drop], "column")
    features = [c for c in table.column_names if c != target and c not in args.drop]
    from ._fitjob import _target

    y = _target(table, target, "ridge")
    pre = Preprocessor.from_table(table, features, impute=args.impute)
    check_missing(table, features, args.impute)
    rows = np.arange(table.num_rows)
    X = pre.fit_transform(table, rows, len(rows))
    spec = RidgeSpectrum.from_data(X, y)
    alphas = df_alpha_grid(spec.eigenvalues, n_alphas=args.n_alphas)
    coefs, dfs = spec.coef(alphas), spec.df(alphas)
    names = pre.feature_names
    _print_path(console, source, target, names, alphas, dfs, coefs)
    display = RegularizationPathDisplay.from_spectrum(spec, alphas, feature_names=names)
    png = _png(display.figure_)
    csv_cols = {"alpha": alphas, "df": dfs, **{n: coefs[:, j] for j, n in enumerate(names)}}
    args.out.mkdir(parents=True, exist_ok=True)
    for written in (atomic_write(args.out / "path.csv", predictions_csv(csv_cols)),
                    atomic_write(args.out / "path.png", png)):
        console.print(f"wrote {written}")
    return 0


def _png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buf = _stdio.BytesIO()
    figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buf.getvalue()


def _print_path(console: Console, source: str, target: str, names: list[str], alphas,
                dfs, coefs, n_rows: int = 8, n_cols: int = 8) -> None:
    order = np.argsort(-np.abs(coefs[-1]))[:n_cols]
    t = Table(title=f"Ridge path of {target!r} on {source} (standardized coefficients)",
              title_justify="left")
    t.add_column("alpha", justify="right")
    t.add_column("df", justify="right")
    for j in order:
        t.add_column(names[j], justify="right")
    for i in np.unique(np.linspace(0, len(alphas) - 1, n_rows).round().astype(int)):
        t.add_row(f"{alphas[i]:.3g}", f"{dfs[i]:.2f}", *(f"{coefs[i, j]:+.3g}" for j in order))
    if len(names) > n_cols:
        t.caption = f"{n_cols} largest of {len(names)} features shown; all in path.csv"
    console.print(t)

