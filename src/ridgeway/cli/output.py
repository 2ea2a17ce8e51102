"""What the command prints (rich tables, a progress bar on a terminal) and the files it writes.

Files are prepared in memory first and written only when everything succeeded, as one folder
swapped in for the previous one, so a failing command leaves no partial output.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .atomic import replace_folder
from .fitjob import FitOutcome, Progress
from .modelfile import model_json

__all__ = ["console", "prepare_outputs", "print_fit", "progress_bar", "write_files"]

_SCORE_NAMES = {"ridge": ("MSE", True), "poisson": ("Poisson deviance", True),
                "logistic": ("log-loss", True), "svm": ("squared hinge loss", True)}
#: (convention, loss) rows of the conventions table per model kind
_CONVENTIONS = {
    "ridge": ("squared", ("sklearn", "glmnet", "glum", "torch_sgd", "keras", "seed_sum")),
    "logistic": ("log", ("sklearn_C", "glmnet", "glum", "torch_sgd", "keras", "seed_sum")),
    "poisson": ("poisson", ("sklearn_glm", "glmnet", "glum", "torch_sgd", "keras")),
    "svm": ("squared_hinge", ("sklearn_C",)),
}
#: longest feature or category name shown in tables and plots
MAX_LABEL = 60


def console() -> Console:
    """A stdout console; on a pipe ``$COLUMNS`` wide, or 110 columns without it."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit() else 110
    return Console(width=width, highlight=False)


def short(label: str, limit: int = MAX_LABEL) -> str:
    """A label cut to ``limit`` characters (with an ellipsis) for display."""
    label = str(label)
    return label if len(label) <= limit else label[:limit - 1] + "…"


class _RichProgress(Progress):
    def __init__(self, bar: Any):
        self.bar = bar
        self.task = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bar.update(self.task, total=1, completed=1)
        self.task = self.bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, steps)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich progress bar on stderr when it is a terminal, else a silent :class:`Progress`."""
    if not sys.stderr.isatty():
        yield Progress()
        return
    from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
             TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True) as bar:
        yield _RichProgress(bar)


def fmt(x: float | None, digits: int = 4, *, sign: bool = False) -> str:
    """A number with ``digits`` significant digits, with its sign if ``sign`` ('n/a' for None
    or a non-finite value)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:{'+' if sign else ''}.{digits}g}"


# ------------------------------------------------------------------------------ tables
def cv_summary(outcome: FitOutcome) -> dict[str, Any]:
    """Chosen alpha, its CV score, spread and standard error, from ``cv_results_``."""
    est = outcome.cv_estimator
    res = est.cv_results_
    alphas = np.asarray(res["alphas"])
    hit = np.flatnonzero(alphas == est.alpha_)
    idx = int(hit[0]) if hit.size else int(np.argmin(np.abs(np.log(alphas) -
                                                            math.log(est.alpha_))))
    name, negate = _SCORE_NAMES[outcome.kind]
    sign = -1.0 if negate else 1.0
    std = float(np.ravel(res["std_test_score"])[idx])
    sem = float(np.ravel(res["sem_test_score"])[idx])
    return {"alpha": float(est.alpha_), "score_name": f"CV {name}",
            "score": sign * float(est.best_score_), "std": std,
            "sem": None if np.isnan(sem) else sem,
            "n_alphas": len(alphas), "alpha_range": (float(alphas.min()), float(alphas.max()))}


def alpha_table(outcome: FitOutcome) -> Table:
    """The chosen alpha with its CV score and spread."""
    s = cv_summary(outcome)
    t = Table(title="Chosen regularization strength", title_justify="left")
    for col in ("alpha", s["score_name"], "spread (SD)", "std. error", "df", "selection"):
        t.add_column(col, justify="right")
    rule = outcome.saved.summary.get("selection", "min")
    t.add_row(fmt(s["alpha"]), fmt(s["score"]), fmt(s["std"]), fmt(s["sem"]),
              fmt(outcome.df, 3) if outcome.df is not None else "n/a", rule)
    t.caption = "df: effective degrees of freedom (trace of the hat matrix)"
    return t


def selection_rule(outcome: FitOutcome) -> str:
    """The rule that picked alpha, in words."""
    name = cv_summary(outcome)["score_name"]
    if outcome.saved.summary.get("selection", "min") == "1se":
        return (f"the largest alpha whose mean {name} is within one standard error of the best "
                "(--selection 1se)")
    return f"the alpha with the best mean {name} (--selection min)"


def cv_line(outcome: FitOutcome) -> str:
    """One sentence on how alpha was chosen."""
    s = cv_summary(outcome)
    return (f"cross-validation: {outcome.cv_label}, {s['n_alphas']} alphas from "
            f"{fmt(s['alpha_range'][0], 3)} to {fmt(s['alpha_range'][1], 3)}")


def convention_rows(outcome: FitOutcome) -> list[tuple[str, str, str]]:
    """(tool, value, note) of the chosen alpha in other tools' conventions."""
    from .. import conventions

    loss, names = _CONVENTIONS[outcome.kind]
    multiclass = np.ndim(outcome.saved.estimator.coef_) == 2 and \
        np.shape(outcome.saved.estimator.coef_)[0] > 1
    rows_n = float(len(outcome.y_train))
    weight = outcome.sample_weight
    n = rows_n if weight is None else float(np.sum(weight))
    sd_y = float(np.std(outcome.y_train)) if loss == "squared" else None
    rows = [("ridgeway alpha", fmt(outcome.alpha), "")]
    for name in names:
        if multiclass and name == "glum":
            continue  # glum has no multinomial family
        offset = outcome.exposure_train is not None and name in ("glmnet", "glum")
        r = conventions.table(outcome.alpha, n=rows_n if offset else n, sd_y=sd_y, loss=loss)
        row = next(x for x in r if x.convention == name)
        note = row.note
        if offset:
            note = "; ".join(filter(None, [note, "with offset = log(exposure), counts as y"]))
        elif outcome.exposure_train is not None:
            note = "; ".join(filter(None, [note, "y/exposure with sample_weight = exposure"]))
        if name == "sklearn_C" and outcome.kind == "svm":
            note = "; ".join(filter(None, [note, "liblinear also penalizes the intercept"]))
        rows.append((row.tool, fmt(row.value), note))
    return rows


def conventions_table(outcome: FitOutcome) -> Table:
    """The same alpha written for other tools."""
    t = Table(title="The same strength in other tools' conventions", title_justify="left")
    t.add_column("tool / parameter")
    t.add_column("value", justify="right")
    t.add_column("note")
    for row in convention_rows(outcome):
        t.add_row(*row)
    n = len(outcome.y_train)
    if outcome.sample_weight is not None:
        t.caption = (f"n = sum of the weights ({fmt(float(np.sum(outcome.sample_weight)))}; "
                     f"{n} rows); on the features as fitted")
    else:
        t.caption = f"n = {n}; on the features as fitted"
    return t


def baseline_label(outcome: FitOutcome) -> str:
    """Column title of the majority-class baseline."""
    counts = {c: int(np.sum(outcome.y_train == c)) for c in np.unique(outcome.y_train)}
    return f"always {short(str(max(counts, key=counts.get)), 20)!r}"


def gap_rows(outcome: FitOutcome) -> list[list[str]]:
    """(metric, train, held-out, gap[, baseline]) rows of the train vs held-out table."""
    rows = []
    for r in outcome.gap:
        row = [r.metric, fmt(r.train), fmt(r.test), fmt(r.gap, 3, sign=True)]
        if outcome.baseline:
            row.append(fmt(outcome.baseline.get(r.metric)))
        rows.append(row)
    return rows


def positive_line(outcome: FitOutcome) -> str | None:
    """The positive class and its base rate (binary classifiers)."""
    if outcome.positive is None:
        return None
    pos = outcome.positive
    rate = float(np.mean(outcome.y_train == pos))
    held = (f", {100 * float(np.mean(outcome.y_test == pos)):.1f}% of held-out rows"
            if len(outcome.y_test) else "")
    return (f"positive class: {str(pos)!r} (base rate {100 * rate:.1f}% of training rows{held});"
            " precision, recall, F1, ROC AUC and PR AUC are of this class (--positive LABEL to "
            "change)")


def gap_table(outcome: FitOutcome) -> Table:
    """Train vs held-out metrics, the generalization gap, and the majority-class baseline."""
    t = Table(title=f"Train vs held-out ({len(outcome.y_train)} / {len(outcome.y_test)} rows)",
              title_justify="left")
    cols = ["metric", "train", "held-out", "gap"]
    if outcome.baseline:
        cols.append(baseline_label(outcome))
    for col in cols:
        t.add_column(col, justify="right" if col != "metric" else "left")
    for row in gap_rows(outcome):
        t.add_row(*row)
    t.caption = "gap > 0: worse held out" + (
        f"; {cols[-1]}: the majority-class baseline on the held-out rows"
        if outcome.baseline else "")
    return t


def coefficient_rows(outcome: FitOutcome, width: int = 24) -> list[tuple[str, str, str, str]]:
    """(feature, standardized, original-scale, bar) rows sorted by standardized magnitude."""
    rows = outcome.coefficients
    top = max((abs(r.standardized) for r in rows), default=0.0) or 1.0
    coef = np.asarray(outcome.saved.estimator.coef_)
    norms = coef.ndim == 2 and coef.shape[0] > 1  # multiclass: norms carry no sign
    out = []
    for r in rows:
        bar = "█" * max(0, round(width * abs(r.standardized) / top))
        if norms:
            out.append((short(r.feature), f"{r.standardized:.4g}", f"{r.original:.4g}",
                        f"  {bar}"))
            continue
        sign = "+" if r.standardized >= 0 else "-"
        out.append((short(r.feature), f"{r.standardized:+.4g}", f"{r.original:+.4g}",
                    f"{sign} {bar}"))
    return out


def coefficient_table(outcome: FitOutcome, limit: int = 30) -> Table:
    """The coefficient table with a bar column."""
    t = Table(title="Coefficients, by standardized magnitude", title_justify="left")
    t.add_column("feature")
    t.add_column("standardized", justify="right")
    t.add_column("original units", justify="right")
    t.add_column("|coef|")
    rows = coefficient_rows(outcome)
    for row in rows[:limit]:
        t.add_row(*row)
    if len(rows) > limit:
        t.caption = f"{len(rows) - limit} smaller coefficients not shown (see report.html)"
    elif outcome.saved.kind in ("logistic", "svm") and np.ndim(outcome.saved.estimator.coef_) == 2 \
            and np.shape(outcome.saved.estimator.coef_)[0] > 1:
        t.caption = "multiclass: norm of each feature's coefficients over the classes"
    return t


def reduction_table(outcome: FitOutcome) -> Table | None:
    """Held-out error of L2 against no penalty and against L1."""
    if not outcome.reductions:
        return None
    metric = outcome.reductions[0].metric
    t = Table(title=f"Prediction error reduction by L2 (held-out {metric})", title_justify="left")
    for col in ("against", "its error", "L2 error", "reduction", "note"):
        t.add_column(col, justify="left" if col in ("against", "note") else "right")
    for r in outcome.reductions:
        red = "n/a" if r.reduction_pct is None else f"{r.reduction_pct:+.1f}%"
        t.add_row(r.competitor_name, fmt(r.competitor), fmt(r.l2), red, r.note)
    return t


def print_fit(out: Console, outcome: FitOutcome, written: list[Path]) -> None:
    """Print everything ``ridgeway fit`` found."""
    est = outcome.saved
    out.print(f"[bold]ridgeway[/bold] fit on {outcome.source}: {outcome.n_rows} rows, "
              f"{len(outcome.feature_names)} features, target [bold]{est.target}[/bold]")
    out.print(f"model: {outcome.decision}")
    pre = est.preprocessor
    out.print("preprocessing: " + ("standardized features (mean 0, SD 1 on the training rows)"
                                   if pre.scale is not None else "raw features (--no-standardize)"))
    for note in outcome.notes:
        out.print(f"note: {note}", markup=False)
    out.print(cv_line(outcome))
    out.print(f"alpha chosen as {selection_rule(outcome)}; folds: {outcome.cv_scheme}",
              markup=False)
    out.print(alpha_table(outcome))
    out.print(conventions_table(outcome))
    line = positive_line(outcome)
    if line:
        out.print(line, markup=False)
    if outcome.test_metrics:
        out.print(gap_table(outcome))
    out.print(coefficient_table(outcome))
    table = reduction_table(outcome)
    if table is not None:
        out.print(table)
    for warning in outcome.warnings:
        out.print(f"[bold red]warning:[/bold red] {escape(warning)}")
    for path in written:
        out.print(f"wrote {path}")


# ------------------------------------------------------------------------------ files
def fit_csv_files(outcome: FitOutcome) -> dict[str, bytes]:
    """``cv_curve.csv`` (alpha, mean / SD / SE of the CV score, df if known, each fold) and,
    with held-out rows, ``heldout_predictions.csv`` (input row number from 0, actual value,
    prediction, and class probabilities or scores)."""
    from ..inspection._metrics import scores_of
    from .commands import predictions_csv

    res = outcome.cv_estimator.cv_results_
    order = np.argsort(np.asarray(res["alphas"], dtype=float))
    name, negate = _SCORE_NAMES[outcome.kind]
    sign = -1.0 if negate else 1.0
    key = name.replace(" ", "_").replace("-", "_")
    curve = {"alpha": np.asarray(res["alphas"], dtype=float)[order],
             f"mean_{key}": sign * np.ravel(res["mean_test_score"])[order],
             "std": np.ravel(res["std_test_score"])[order],
             "std_error": np.ravel(res["sem_test_score"])[order]}
    if "df" in res and np.size(res["df"]) == len(order):
        curve["df"] = np.ravel(res["df"])[order]
    folds = sorted((k for k in res if k.startswith("split") and k.endswith("_test_score")),
                   key=lambda k: int(k[5:-11]))
    for k in folds:
        if np.size(res[k]) == len(order):
            curve[f"fold{int(k[5:-11])}_{key}"] = sign * np.ravel(res[k])[order]
    files = {"cv_curve.csv": predictions_csv(curve)}
    if len(outcome.y_test) and outcome.test_rows is not None:
        est = outcome.saved.estimator
        cols: dict[str, np.ndarray] = {"row": np.asarray(outcome.test_rows),
                                       "actual": np.asarray(outcome.y_test)}
        pred = est.predict(outcome.X_test)
        if outcome.exposure_test is not None:
            cols["exposure"] = outcome.exposure_test
            cols["prediction"] = pred * outcome.exposure_test
        else:
            cols["prediction"] = pred
        if outcome.kind in ("logistic", "svm"):
            scores, proba = scores_of(est, outcome.X_test)
            prefix = "proba_" if proba else "score_"
            for k, c in enumerate(est.classes_):
                if proba or len(est.classes_) > 2 or k == 1:
                    cols[f"{prefix}{c}"] = scores[:, k]
        files["heldout_predictions.csv"] = predictions_csv(cols)
    return files



def prepare_outputs(outcome: FitOutcome, *, report: bool,
                    progress: Progress) -> dict[str, bytes | str]:
    """Build every output file in memory: model.json, and the report with its PNG plots."""
    files: dict[str, bytes | str] = {"model.json": model_json(outcome.saved)}
    files.update(fit_csv_files(outcome))
    if report:
        from .report import build_report

        html, images = build_report(outcome, progress=progress)
        files["report.html"] = html
        files.update(images)
    return files


def write_files(files: dict[str, bytes | str], out_dir: Path) -> list[Path]:
    """Replace ``out_dir`` by a folder holding exactly ``files``, all or nothing.

    See :func:`ridgeway.cli.atomic.replace_folder`: the files are staged beside ``out_dir`` and
    swapped in with one rename, so the folder never mixes two runs.
    """
    return replace_folder(out_dir, files)

