"""What the command prints: rich tables of the rows of :mod:`ridgeway.cli.rows`, and a
progress bar on a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.table import Table

from .fitjob import FitOutcome, Progress
from .rows import (
    alpha_row,
    baseline_label,
    coefficient_rows,
    convention_rows,
    cv_line,
    fmt,
    gap_rows,
    positive_line,
    reduction_rows,
    row_counts,
    selection_rule,
)

__all__ = ["console", "print_fit", "progress_bar"]

def console() -> Console:
    """A stdout console; on a pipe ``$COLUMNS`` wide, or 110 columns without it."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit() else 110
    return Console(width=width, highlight=False)


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
    with Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
             TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True) as bar:
        yield _RichProgress(bar)


# ------------------------------------------------------------------------------ tables
def alpha_table(outcome: FitOutcome) -> Table:
    """The chosen alpha with its CV score and spread."""
    t = Table(title="Chosen regularization strength", title_justify="left")
    score_name = f"CV {outcome.model_kind.score_label}"
    for col in ("alpha", score_name, "spread (SD)", "std. error", "df", "selection"):
        t.add_column(col, justify="right")
    t.add_row(*alpha_row(outcome), outcome.saved.summary.get("selection", "min"))
    t.caption = "df: effective degrees of freedom (trace of the hat matrix)"
    return t


def conventions_table(outcome: FitOutcome) -> Table:
    """The same alpha written for other tools."""
    t = Table(title="The same strength in other tools' conventions", title_justify="left")
    t.add_column("tool / parameter")
    t.add_column("value", justify="right")
    t.add_column("note")
    for row in convention_rows(outcome):
        t.add_row(*row)
    n = row_counts(outcome)[0]
    if outcome.sample_weight is not None:
        t.caption = (f"n = sum of the weights ({fmt(float(np.sum(outcome.sample_weight)))}; "
                     f"{n} rows); on the features as fitted")
    else:
        t.caption = f"n = {n}; on the features as fitted"
    return t


def gap_table(outcome: FitOutcome) -> Table:
    """Train vs held-out metrics, the generalization gap, and the majority-class baseline."""
    n_train, n_test = row_counts(outcome)
    t = Table(title=f"Train vs held-out ({n_train} / {n_test} rows)",
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
    elif outcome.model_kind.classifier and np.ndim(outcome.saved.estimator.coef_) == 2 \
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
    for row in reduction_rows(outcome):
        t.add_row(*row)
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
