"""One self-contained HTML report per fit: the command's tables and the plots, images embedded.

:func:`build_report` returns the HTML text and the PNG files (also written next to it by the
command). The page needs no network and no script: images are base64 ``data:`` URIs.
"""

from __future__ import annotations

import base64
import html
import io
import sys
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.base import clone

from .. import __version__
from .. import inspection as ins
from ..inspection._metrics import scores_of
from ..linalg import RidgeSpectrum
from .rows import (
    MAX_LABEL,
    alpha_row,
    baseline_label,
    coefficient_rows,
    convention_rows,
    cv_summary,
    fmt,
    gap_rows,
    positive_line,
    reduction_rows,
    selection_rule,
    short,
)

__all__ = ["build_report", "figures"]

#: bias-variance refits use at most this many training / held-out rows
BV_MAX_TRAIN, BV_MAX_TEST, BV_BOOTSTRAP = 10_000, 5_000, 20
#: the GLM path plot refits the model at this many alphas of the CV grid
PATH_ALPHAS = 12

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4} td.l,th.l{text-align:left}
.bar{font-family:monospace;color:#1f77b4;text-align:left;white-space:pre}
.neg{color:#d62728} .muted{color:#666;font-size:.9em}
figure{margin:1em 0} img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
.warn{color:#b00;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1em}
"""


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    plt.close(fig)
    return buf.getvalue()


def _subsample(X: np.ndarray, y: np.ndarray, limit: int, seed: int):
    if X.shape[0] <= limit:
        return X, y
    rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], limit, replace=False))
    return X[rows], y[rows]


def _use_agg() -> None:
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


def figures(outcome: Any, progress: Any = None) -> dict[str, tuple[bytes, str]]:
    """The report's plots as PNG bytes with a caption, keyed by file name.

    Users' labels are drawn as written (a column named ``$x$`` shows as is, not as math text)
    and cut to :data:`ridgeway.cli.rows.MAX_LABEL` characters.
    """
    _use_agg()
    with np.errstate(all="ignore"):
        return _figures(outcome, progress)


def _figures(outcome: Any, progress: Any) -> dict[str, tuple[bytes, str]]:
    kind, est, out = outcome.model_kind, outcome.cv_estimator, {}
    names = [_short(n, MAX_LABEL) for n in outcome.feature_names]
    disp = ins.CVCurveDisplay.from_estimator(est, score_name=f"CV {kind.score_label}",
                                             negate=True)
    out["cv_curve.png"] = (_png(disp.figure_), "Mean CV score per alpha with a one-standard-"
                           "error band; dashed: best alpha, dotted: largest alpha within one SE.")
    coef = np.asarray(outcome.saved.estimator.coef_)
    if coef.ndim == 1 or coef.shape[0] == 1:
        scale = None if outcome.saved.preprocessor.scale is not None else \
            outcome.X_train.std(axis=0)
        disp = ins.CoefficientDisplay.from_estimator(outcome.saved.estimator,
                                                     feature_names=names, scale=scale)
        out["coefficients.png"] = (_png(disp.figure_), "Coefficients on standardized features: "
                                   "comparable by magnitude.")
    out.update(_diagnostics(outcome))
    if kind.spectral:
        out.update(_ridge_figures(outcome, progress, names))
    elif coef.ndim == 1 or coef.shape[0] == 1:
        out.update(_glm_path(outcome, progress, names))
    l1 = [r for r in outcome.reductions if r.competitor_name.startswith("L1")
          and r.estimator is not None]
    if l1 and (coef.ndim == 1 or coef.shape[0] == 1):
        disp = ins.L1L2Display.from_estimators(outcome.saved.estimator, l1[0].estimator,
                                               feature_names=names)
        out["l1_vs_l2.png"] = (_png(disp.figure_), "L2 at its CV-best alpha against L1 at its "
                               "own CV-best alpha: L1 zeroes features, L2 keeps and shrinks all.")
    return out


def _diagnostics(outcome: Any) -> dict[str, tuple[bytes, str]]:
    """Predicted vs actual and residuals (regression); ROC, calibration and the confusion
    matrix (classification); on the held-out rows, or the training rows without them."""
    held = len(outcome.y_test) > 0
    X, y = (outcome.X_test, outcome.y_test) if held else (outcome.X_train, outcome.y_train)
    where = "held-out" if held else "training"
    est = outcome.saved.estimator
    if outcome.model_kind.classifier:
        return _classification_plots(est, X, y, where, outcome.positive)
    pred = est.predict(X)
    exposure = outcome.exposure_test if held else outcome.exposure_train
    if exposure is not None:
        pred = pred * exposure
    return _regression_plots(y, pred, where)


def _regression_plots(y: np.ndarray, pred: np.ndarray, where: str
                      ) -> dict[str, tuple[bytes, str]]:
    import matplotlib.pyplot as plt

    out = {}
    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    ax.scatter(y, pred, s=10, alpha=0.6)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", label="prediction = actual")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(f"Predicted vs actual ({where} rows)")
    ax.legend(fontsize="small")
    out["predicted_vs_actual.png"] = (_png(fig), f"Each {where} row: points on the dashed "
                                      "line are predicted exactly.")
    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    ax.scatter(pred, y - pred, s=10, alpha=0.6)
    ax.axhline(0.0, color="0.4", linestyle="--")
    ax.set_xlabel("predicted")
    ax.set_ylabel("residual (actual - predicted)")
    ax.set_title(f"Residuals ({where} rows)")
    out["residuals.png"] = (_png(fig), "Residuals against the prediction: a pattern (a curve,"
                            " a funnel) means the linear model misses structure.")
    return out


def _classification_plots(est: Any, X: np.ndarray, y: np.ndarray, where: str,
                          positive: Any) -> dict[str, tuple[bytes, str]]:
    import matplotlib.pyplot as plt

    out = {}
    classes = np.asarray(est.classes_)
    scores, proba = scores_of(est, X)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    binary = len(classes) == 2
    shown = [list(classes).index(positive)] if binary else range(len(classes))
    for k in shown:
        target = y == classes[k]
        if target.all() or not target.any():
            continue
        fpr, tpr, _ = skm.roc_curve(target, scores[:, k])
        auc = skm.auc(fpr, tpr)
        ax.plot(fpr, tpr, label=f"{_short(classes[k])} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC curve ({where} rows)" + ("" if binary else ", one vs rest"))
    ax.legend(fontsize="small", loc="lower right")
    out["roc.png"] = (_png(fig), "True against false positive rate over every threshold"
                      + (f" (positive class {_short(positive)!r})" if binary else "")
                      + "; the diagonal is a random ranking.")
    if proba:
        fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
        for k in shown:
            p = scores[:, k]
            edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
            bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
            mean_p = np.array([p[bins == b].mean() for b in range(len(edges) - 1)
                               if np.any(bins == b)])
            freq = np.array([np.mean(y[bins == b] == classes[k]) for b in range(len(edges) - 1)
                             if np.any(bins == b)])
            ax.plot(mean_p, freq, marker="o", label=_short(classes[k]))
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", label="perfect calibration")
        ax.set_xlabel("mean predicted probability (deciles)")
        ax.set_ylabel("observed frequency")
        ax.set_title(f"Calibration ({where} rows)")
        ax.legend(fontsize="small")
        out["calibration.png"] = (_png(fig), "Rows grouped by predicted probability (deciles): "
                                  "a calibrated model lies on the diagonal.")
    out["confusion_matrix.png"] = _confusion_matrix(y, est.predict(X), classes, where)
    return out


def _confusion_matrix(y: np.ndarray, pred: np.ndarray, classes: np.ndarray, where: str
                      ) -> tuple[bytes, str]:
    import matplotlib.pyplot as plt

    cm = skm.confusion_matrix(y, pred, labels=classes)
    size = min(1.0 + 0.6 * len(classes), 9.0)
    fig, ax = plt.subplots(figsize=(size + 1.5, size), layout="constrained")
    ax.imshow(cm, cmap="Blues")
    ticks = [_short(c, 20) for c in classes]
    ax.set_xticks(range(len(classes)), ticks, rotation=45 if len(classes) > 3 else 0)
    ax.set_yticks(range(len(classes)), ticks)
    if len(classes) <= 20:
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(f"Confusion matrix ({where} rows)")
    return (_png(fig), "Rows: actual class; columns: predicted class (threshold 0.5 / the "
            "largest score).")


def _short(label: Any, limit: int = 40) -> str:
    """A user's label (a column name, a class) for a plot: cut to ``limit`` characters, its
    dollar signs escaped so that matplotlib draws them instead of reading math text."""
    return short(str(label), limit).replace("$", r"\$")


def _ridge_figures(outcome: Any, progress: Any, names: list[str]
                   ) -> dict[str, tuple[bytes, str]]:
    est, out = outcome.cv_estimator, {}
    spec = _reuse_spectrum(est, len(outcome.y_train))
    if spec is None:
        spec = RidgeSpectrum.from_data(outcome.X_train, outcome.y_train)
    alphas = np.asarray(est.cv_results_["alphas"])
    disp = ins.RegularizationPathDisplay.from_spectrum(
        spec, np.sort(alphas), feature_names=names, alpha=outcome.alpha)
    out["path.png"] = (_png(disp.figure_), "Standardized coefficients as alpha grows (solid), "
                       "effective degrees of freedom (dashed); dotted: the chosen alpha.")
    a = outcome.alpha
    disp = ins.ShrinkageDisplay(spec.eigenvalues, spec.shrinkage(np.array([a / 10, a, a * 10])),
                                np.array([a / 10, a, a * 10])).plot()
    out["shrinkage.png"] = (_png(disp.figure_), "How much of each principal direction of the "
                            "features survives: d/(d+alpha). Low-variance directions shrink most.")
    if len(outcome.y_test) >= 5:
        if progress is not None:
            progress.stage("report: bias-variance refits", total=BV_BOOTSTRAP)
        Xtr, ytr = _subsample(outcome.X_train, outcome.y_train, BV_MAX_TRAIN, 1)
        Xte, yte = _subsample(outcome.X_test, outcome.y_test, BV_MAX_TEST, 2)
        top = 1e305
        bv = ins.bias_variance(Xtr, ytr, Xte, yte,
                               np.geomspace(min(a, top) / 1e3, min(a * 1e3, top), 25),
                               n_bootstrap=BV_BOOTSTRAP,
                               callback=None if progress is None else progress.advance)
        disp = ins.BiasVarianceDisplay(bv).plot()
        sub = (f" (on a random {len(ytr)}-row subsample of the training rows)"
               if len(ytr) < len(outcome.y_train) else "")
        out["bias_variance.png"] = (_png(disp.figure_), f"{BV_BOOTSTRAP} bootstrap refits{sub},"
                                    " predictions on held-out rows: variance falls and bias "
                                    "grows with alpha; their sum tracks the held-out error.")
    return out


def _reuse_spectrum(estimator: Any, n_train: int) -> Any:
    """The training-data spectrum a ``RidgeCV`` fitted on a 1-D y kept (``spectrum_``)."""
    spec = getattr(estimator, "spectrum_", None)
    if spec is None or spec.n_samples != n_train or not spec.single_target:
        return None
    return spec


def _glm_path(outcome: Any, progress: Any, names: list[str]) -> dict[str, tuple[bytes, str]]:
    """GLM coefficient path: the single-alpha model refitted at up to :data:`PATH_ALPHAS`
    alphas of the CV grid (subsampled rows), to plotting accuracy (``tol=1e-6``)."""
    if progress is not None:
        progress.stage("report: GLM path refits")
    X, y = _subsample(outcome.X_train, outcome.y_train, BV_MAX_TRAIN, 3)
    alphas = np.sort(np.asarray(outcome.cv_estimator.cv_results_["alphas"]))
    if len(alphas) > PATH_ALPHAS:
        alphas = alphas[np.unique(np.linspace(0, len(alphas) - 1, PATH_ALPHAS).round()
                                  .astype(int))]
    model = clone(outcome.saved.estimator).set_params(tol=1e-6)
    model.alpha = outcome.alpha
    disp = ins.RegularizationPathDisplay.from_refits(model, X, y, alphas, feature_names=names)
    sub = f" on a {len(y)}-row subsample" if len(y) < len(outcome.y_train) else ""
    return {"path.png": (_png(disp.figure_), f"Standardized coefficients as alpha grows, the "
                         f"model refitted at {len(alphas)} alphas of the CV grid{sub}; dotted: "
                         "the chosen alpha.")}


def _table(head: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    cls = ['class="l"' if j in left else "" for j in range(len(head))]
    th = "".join(f"<th {c}>{html.escape(h)}</th>" for c, h in zip(cls, head, strict=False))
    body = "".join("<tr>" + "".join(f"<td {c}>{cell}</td>" for c, cell in zip(cls, r, strict=False))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _sections(outcome: Any) -> tuple[list[str], list[str]]:
    """The tables before the plots, and the (possibly long) coefficient table after them."""
    e = html.escape
    s = cv_summary(outcome)
    parts = ["<h2>Chosen regularization strength</h2>",
             f"<p>alpha is chosen as {e(selection_rule(outcome))}, over {s['n_alphas']} alphas "
             f"from {fmt(s['alpha_range'][0], 3)} to {fmt(s['alpha_range'][1], 3)}. "
             f"Cross-validation: {e(outcome.cv_label)}; {e(outcome.cv_scheme)}.</p>", _table(
        ["alpha", e(s["score_name"]), "spread (SD)", "std. error", "effective df", "CV"],
        [[*alpha_row(outcome), e(outcome.cv_label)]], (5,))]
    parts += ["<h2>The same strength in other tools' conventions</h2>", _table(
        ["tool / parameter", "value", "note"],
        [[e(t), v, e(n)] for t, v, n in convention_rows(outcome)], (0, 2))]
    if outcome.test_metrics:
        head = ["metric", "train", "held-out", "gap (positive: worse held out)"]
        if outcome.baseline:
            head.append(f"majority-class baseline ({baseline_label(outcome)})")
        line = positive_line(outcome)
        parts += ["<h2>Train vs held-out</h2>"] + ([f"<p>{e(line)}</p>"] if line else []) + [
            _table(head, [[e(c) for c in row] for row in gap_rows(outcome)])]
    if outcome.reductions:
        parts += ["<h2>Prediction error reduction by L2</h2>", _table(
            ["against", f"its held-out {e(outcome.reductions[0].metric)}", "L2", "reduction",
             "note"],
            [[e(name), other, l2, red, e(note)]
             for name, other, l2, red, note in reduction_rows(outcome)], (0, 4))]
    rows = [[e(f), c, o, f'<span class="bar{" neg" if b.startswith("-") else ""}">'
             f"{e(b[2:])}</span>"] for f, c, o, b in coefficient_rows(outcome)]
    coef = ["<h2>Coefficients, by standardized magnitude</h2>",
            _table(["feature", "standardized", "original units", "|coef|"], rows, (0, 3))]
    return parts, coef


def build_report(outcome: Any, progress: Any = None) -> tuple[str, dict[str, bytes]]:
    """The HTML report of a fit and its plots.

    Parameters
    ----------
    outcome : ridgeway.cli.fitjob.FitOutcome
    progress : object with ``stage`` and ``advance``, optional

    Returns
    -------
    html : str
        One self-contained page (images embedded as base64 PNG).
    images : dict
        ``{"path.png": bytes, ...}``, the same plots as files.
    """
    if progress is not None:
        progress.stage("report: plots")
    figs = figures(outcome, progress)
    e = html.escape
    saved = outcome.saved
    options = outcome.options
    command = options.command_line() if options is not None else ""
    seed = options.random_state if options is not None else "n/a"
    head = (f"<h1>ridgeway report: {e(saved.target)}</h1><p class='muted'>{e(outcome.source)}"
            f" &middot; {outcome.n_rows} rows &middot; {len(outcome.feature_names)} features"
            f" &middot; model: {e(outcome.decision)}</p>"
            f"<p class='muted' id='provenance'>command: <code>{e(command)}</code> &middot; "
            f"ridgeway {e(__version__)} &middot; seed {e(str(seed))} &middot; "
            f"{e(outcome.started)}</p>")
    notes = "".join(f"<p class='warn'>warning: {e(w)}</p>" for w in outcome.warnings)
    notes += "".join(f"<p class='muted'>note: {e(n)}</p>" for n in outcome.notes)
    plots = "".join(
        f"<figure><img alt='{e(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode('ascii')}'><figcaption>{e(cap)}</figcaption></figure>"
        for name, (png, cap) in figs.items())
    tables, coefficients = _sections(outcome)
    body = (head + notes + "".join(tables) + f"<h2>Plots</h2><div class='grid'>{plots}</div>"
            + "".join(coefficients))
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>ridgeway report:"
            f" {e(saved.target)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n")
    return page, {name: png for name, (png, _) in figs.items()}
