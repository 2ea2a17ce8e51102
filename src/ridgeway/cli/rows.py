"""What a fit found, as rows of text: computed once here, shown by the terminal tables
(:mod:`ridgeway.cli.output`) and by the HTML report (:mod:`ridgeway.cli.report`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import conventions
from .fitjob import FitOutcome

__all__ = ["MAX_LABEL", "alpha_row", "baseline_label", "coefficient_rows", "convention_rows",
           "cv_line", "cv_summary", "fmt", "gap_rows", "positive_line", "reduction_rows",
           "selection_rule", "short"]

#: longest feature or category name shown in tables and plots
MAX_LABEL = 60


def fmt(x: float | None, digits: int = 4, *, sign: bool = False) -> str:
    """A number with ``digits`` significant digits, with its sign if ``sign`` ('n/a' for None
    or a non-finite value)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:{'+' if sign else ''}.{digits}g}"


def short(label: str, limit: int = MAX_LABEL) -> str:
    """A label cut to ``limit`` characters (with an ellipsis) for display."""
    label = str(label)
    return label if len(label) <= limit else label[:limit - 1] + "…"


def cv_summary(outcome: FitOutcome) -> dict[str, Any]:
    """Chosen alpha, its CV score, spread and standard error, from ``cv_results_``."""
    est = outcome.cv_estimator
    res = est.cv_results_
    alphas = np.asarray(res["alphas"])
    hit = np.flatnonzero(alphas == est.alpha_)
    idx = int(hit[0]) if hit.size else int(np.argmin(np.abs(np.log(alphas) -
                                                            math.log(est.alpha_))))
    std = float(np.ravel(res["std_test_score"])[idx])
    sem = float(np.ravel(res["sem_test_score"])[idx])
    return {"alpha": float(est.alpha_), "score_name": f"CV {outcome.model_kind.score_label}",
            "score": -float(est.best_score_), "std": std,
            "sem": None if np.isnan(sem) else sem,
            "n_alphas": len(alphas), "alpha_range": (float(alphas.min()), float(alphas.max()))}


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


def row_counts(outcome: FitOutcome) -> tuple[int, int]:
    """(training rows, held-out rows) of the fit: all of them, also for a fit from statistics
    (``--stream``, ``--dask``), whose ``y_train``/``y_test`` are only the plots' sample."""
    summary = outcome.saved.summary
    if summary.get("stream") or summary.get("dask"):
        n_train = int(summary["n_train"])
        return n_train, outcome.n_rows - n_train
    return len(outcome.y_train), len(outcome.y_test)


def convention_rows(outcome: FitOutcome) -> list[tuple[str, str, str]]:
    """(tool, value, note) of the chosen alpha in other tools' conventions."""
    kind = outcome.model_kind
    multiclass = np.ndim(outcome.saved.estimator.coef_) == 2 and \
        np.shape(outcome.saved.estimator.coef_)[0] > 1
    rows_n = float(row_counts(outcome)[0])
    weight = outcome.sample_weight
    n = rows_n if weight is None else float(np.sum(weight))
    loss = kind.convention_loss
    sd_y = None
    if loss == "squared":
        sd_y = outcome.y_train_sd if outcome.y_train_sd is not None else \
            float(np.std(outcome.y_train))
    rows = [("ridgeway alpha", fmt(outcome.alpha), "")]
    for name in kind.conventions:
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
        note = "; ".join(filter(None, [note, kind.convention_notes.get(name)]))
        rows.append((row.tool, fmt(row.value), note))
    return rows


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


def alpha_row(outcome: FitOutcome) -> list[str]:
    """alpha, CV score, spread (SD), standard error and df of the chosen alpha."""
    s = cv_summary(outcome)
    return [fmt(s["alpha"]), fmt(s["score"]), fmt(s["std"]), fmt(s["sem"]),
            fmt(outcome.df, 3) if outcome.df is not None else "n/a"]


def reduction_rows(outcome: FitOutcome) -> list[list[str]]:
    """(against, its error, L2 error, reduction, note) of each error reduction."""
    return [[r.competitor_name, fmt(r.competitor), fmt(r.l2),
             "n/a" if r.reduction_pct is None else f"{r.reduction_pct:+.1f}%", r.note]
            for r in outcome.reductions]
