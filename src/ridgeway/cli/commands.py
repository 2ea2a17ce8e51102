"""The commands: ``fit`` (and ``demo``), ``predict``, ``check`` and ``path``.

Each reads its input, computes, decides which files it writes and writes them only when
everything succeeded (one folder swapped in for the previous one, or one file replaced), so a
failing command leaves no partial output.
"""

from __future__ import annotations

import argparse
import ctypes
import io as _stdio
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from ..exceptions import DataError
from ..glm import GLMData, L2Penalty, fit_path
from ..inspection import RegularizationPathDisplay, generalization_gap, model_metrics
from ..inspection._metrics import scores_of
from ..io import check_columns, check_missing, missing_target, read_table, source_of
from ..linalg import RidgeSpectrum
from ..linear_model._glm_cv import default_alphas
from ..linear_model.kinds import KINDS, ModelKind
from ..selection import df_alpha_grid
from . import output, report
from .atomic import atomic_open, folder_lock, replace_folder
from .csvfile import predictions_csv, write_csv
from .daskjob import run_dask
from .fitjob import FitOutcome, choose_model, load_table, run_fit, target_values
from .modelfile import load_model, model_json
from .options import FitOptions
from .preprocess import Preprocessor
from .rows import fmt
from .streamjob import predict_file, run_stream, streams, wants_stream

__all__ = ["check", "fit", "fit_files", "path", "predict"]


def fit(console: Console, options: FitOptions, out: Path) -> int:
    """``ridgeway fit``: run the fit job, write its files to ``out``, print what it found."""
    with folder_lock(out):
        with output.progress_bar() as progress:
            job = run_dask if options.dask else run_stream if streams(options) else run_fit
            try:
                if job is run_fit:
                    _prepare_memory()
                outcome = job(options, progress)
                files = fit_files(outcome, progress)
            except MemoryError:
                if job is not run_fit:
                    raise
                raise _out_of_memory("fitting", options.data,
                                     "ridge batch by batch in bounded memory") from None
        written = replace_folder(out, files)
    output.print_fit(console, outcome, written)
    return 0


#: glibc's mallopt parameter M_MMAP_THRESHOLD
_M_MMAP_THRESHOLD = -3


def _prepare_memory() -> None:
    """Set up the process for an in-memory job on a large table.

    glibc's malloc serves blocks of 1 MiB and more by their own mapping, returned to the OS
    when freed: by default that threshold rises to the largest block freed (up to 32 MiB), and
    the column-sized temporaries of the preprocessing then come from the heap and stay
    resident, ~100 MiB on a 1M x 20 table. And the BLAS allocates its work buffers (one per
    thread, kept by OpenBLAS for the process) before the data: OpenBLAS ends the process
    (exit 1) when it cannot allocate one, where a failed allocation of numpy is a MemoryError
    that the command reports.
    """
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):  # not glibc
        pass
    a = np.ones((512, 512))
    a @ a
    a @ a[0]


def _out_of_memory(doing: str, data: Path | None, stream: str) -> DataError:
    """The error of an in-memory job that ran out of memory (MemoryError, or pyarrow's
    ArrowMemoryError, which derives from it)."""
    size = f" ({data.stat().st_size / 2**20:,.0f} MiB on disk)" if data is not None and \
        data.is_file() else ""
    return DataError(f"out of memory {doing} {data or 'the data'}{size} in memory; rerun with "
                     f"--stream, which reads the file and works {stream}, or use fewer rows "
                     "or columns (--drop).")


def fit_files(outcome: FitOutcome, progress: Any = None) -> dict[str, bytes | str]:
    """Every output file of a fit, in memory: ``model.json``, ``cv_curve.csv``, with held-out
    rows ``heldout_predictions.csv``, and unless ``--no-report`` the report with its plots."""
    files: dict[str, bytes | str] = {"model.json": model_json(outcome.saved),
                                     "cv_curve.csv": _cv_curve_csv(outcome)}
    if len(outcome.y_test) and outcome.test_rows is not None:
        files["heldout_predictions.csv"] = _heldout_csv(outcome)
    if outcome.options is None or outcome.options.report:
        html, images = report.build_report(outcome, progress=progress)
        files["report.html"] = html
        files.update(images)
    return files


def _cv_curve_csv(outcome: FitOutcome) -> bytes:
    """alpha, mean / SD / SE of the CV score, df if known, and each fold's score."""
    res = outcome.cv_estimator.cv_results_
    order = np.argsort(np.asarray(res["alphas"], dtype=float))
    key = outcome.model_kind.score_label.replace(" ", "_").replace("-", "_")
    curve = {"alpha": np.asarray(res["alphas"], dtype=float)[order],
             f"mean_{key}": -np.ravel(res["mean_test_score"])[order],
             "std": np.ravel(res["std_test_score"])[order],
             "std_error": np.ravel(res["sem_test_score"])[order]}
    if "df" in res and np.size(res["df"]) == len(order):
        curve["df"] = np.ravel(res["df"])[order]
    folds = sorted((k for k in res if k.startswith("split") and k.endswith("_test_score")),
                   key=lambda k: int(k[5:-11]))
    for k in folds:
        if np.size(res[k]) == len(order):
            curve[f"fold{int(k[5:-11])}_{key}"] = -np.ravel(res[k])[order]
    return predictions_csv(curve)


def _heldout_csv(outcome: FitOutcome) -> bytes:
    """Input row number (from 0), actual value, prediction, and class probabilities or
    scores of each held-out row."""
    est = outcome.saved.estimator
    cols: dict[str, np.ndarray] = {"row": np.asarray(outcome.test_rows),
                                   "actual": np.asarray(outcome.y_test)}
    pred = est.predict(outcome.X_test)
    if outcome.exposure_test is not None:
        cols["exposure"] = outcome.exposure_test
        cols["prediction"] = pred * outcome.exposure_test
    else:
        cols["prediction"] = pred
    if outcome.model_kind.classifier:
        scores, proba = scores_of(est, outcome.X_test)
        prefix = "proba_" if proba else "score_"
        for k, c in enumerate(est.classes_):
            if proba or len(est.classes_) > 2 or k == 1:
                cols[f"{prefix}{c}"] = scores[:, k]
    return predictions_csv(cols)


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
    if stream or wants_stream(data_path):
        return predict_file(model, data_path, out, ids=ids, sep=sep)
    try:
        _prepare_memory()
        return _predict_in_memory(model, data_path, out, ids, sep)
    except MemoryError:
        raise _out_of_memory("predicting", data_path, "batch by batch in bounded memory"
                             ) from None


def _predict_in_memory(model, data_path: Path, out: Path | None, ids: Sequence[str],
                       sep: str | None) -> int:
    table = read_table(data_path, sep=sep)
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    check_columns(table, ids, "column in --id")
    predicted = _predict_in_slices(model, table)
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


#: rows predicted at once by ``predict``: the matrix of one slice, not of the whole table
PREDICT_ROWS = 65536


def _predict_in_slices(model, table: pa.Table) -> dict[str, np.ndarray]:
    """``model.predict_columns(table)``, computed :data:`PREDICT_ROWS` rows at a time. A
    slice that fails is redone on the whole table, whose error names every row."""
    parts = []
    for start in range(0, table.num_rows, PREDICT_ROWS):
        try:
            parts.append(model.predict_columns(table.slice(start, PREDICT_ROWS)))
        except DataError:
            model.predict_columns(table)
            raise
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _default_metric(kind: ModelKind) -> str:
    """ROC AUC for classifiers: it drops when a model stops ranking a rare class (accuracy
    hardly moves); R^2 for regression."""
    return "roc_auc" if kind.classifier else "r2"


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
    y = target_values(table, model.target, model.kind)
    warn_unseen(model.preprocessor, table)
    X = model.preprocessor.transform(table)
    model.check_finite(table, X)
    extra = {"positive": model.summary.get("positive")} if model.is_classifier else {}
    new = model_metrics(model.estimator, X, y, **extra)
    train = {k: (np.nan if v is None else v)
             for k, v in model.summary.get("train_metrics", {}).items()}
    metric = metric or _default_metric(model.model_kind)
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
    if args.n_alphas < 2:
        raise DataError(f"--n-alphas must be at least 2, got {args.n_alphas}.")
    table, target, source, _ = load_table(FitOptions(
        data=args.data, target=args.target, sep=args.sep,
        drop_missing_target=args.drop_missing_target))
    check_columns(table, [target], "target column")
    check_columns(table, args.drop, "column in --drop")
    features = [c for c in table.column_names if c != target and c not in args.drop]
    if not features:
        raise DataError("no feature columns left after removing the target and --drop.")
    name, _ = choose_model(table, target, args.model)
    kind = KINDS[name]
    y = target_values(table, target, kind)
    check_missing(table, features, args.impute)
    pre = Preprocessor.from_table(table, features, impute=args.impute)
    rows = np.arange(table.num_rows)
    X = pre.fit_transform(table, rows, len(rows))
    names = pre.feature_names
    if kind.spectral:
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
    spec = RidgeSpectrum.from_data(X, y)
    alphas = df_alpha_grid(spec.eigenvalues, n_alphas=n_alphas)
    return alphas, spec.coef(alphas), spec.df(alphas), None


def _glm_path(kind: ModelKind, X: np.ndarray, y: np.ndarray, n_alphas: int):
    """(alphas increasing, coefs of shape (n_alphas, p) or (n_alphas, p, n_classes), labels)."""
    est = kind.estimator()
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


def _print_path(console: Console, source: str, target: str, kind: ModelKind, names: list[str],
                alphas, dfs, coefs, n_rows: int = 8, n_cols: int = 8) -> None:
    order = np.argsort(-np.abs(coefs).max(axis=0))[:n_cols]
    t = Table(title=f"{kind.title} path of {target!r} on {source} (standardized coefficients)",
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

