"""Plots of what L2 does, in scikit-learn's ``Display`` style.

Each display stores the numbers it draws (computed by the estimators and kernels, never here),
has ``plot(ax=None)`` returning itself with ``ax_``, ``figure_`` and the artists, and a
``from_estimator`` (or ``from_...``) constructor. Library code never calls ``plt.show``; use
the Agg backend (or any) as you like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..selection import select_alpha
from ._tradeoff import BiasVariance, bias_variance

__all__ = ["BiasVarianceDisplay", "CVCurveDisplay", "CoefficientDisplay", "L1L2Display",
           "RegularizationPathDisplay", "ShrinkageDisplay"]


def _axes(ax: Any, figsize: tuple[float, float] = (7.0, 4.2)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _names(names: Any, p: int) -> list[str]:
    return [f"x{j}" for j in range(p)] if names is None else [str(n) for n in names]


def _spectrum(X: Any, y: Any, fit_intercept: bool = True):
    from ..linalg import RidgeSpectrum

    return RidgeSpectrum.from_data(np.asarray(X, dtype=float), np.asarray(y, dtype=float),
                                   fit_intercept=fit_intercept)


def _log_xlim(ax: Any, values: Any) -> None:
    """Limits of a log alpha axis that matplotlib can invert: a single alpha (or alphas near
    the float64 limit) gets a decade on each side, capped at 1e307 (matplotlib's log
    ticks overflow above it; larger alphas fall outside the axis)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return
    top = 1e307
    lo, hi = float(values.min()), min(float(values.max()), 1e307)
    if hi / lo < 1.5 or hi > top / 100:
        lo, hi = lo / 10, min(hi * 10, top)
        if hi <= lo * 1.01:
            lo = hi / 100
        ax.set_xlim(lo, hi)


def _alpha_of(estimator: Any) -> float | None:
    for name in ("alpha_", "alpha"):
        value = getattr(estimator, name, None)
        if value is not None and np.ndim(value) == 0:
            return float(value)
    return None


def _strength_label(penalty: str, estimator: Any) -> str:
    """``"L1 (alpha=0.3)"``, or ``"L1 (C=2)"``, or just ``"L1"`` when the strength is unknown."""
    alpha = _alpha_of(estimator)
    if alpha is not None:
        return f"{penalty} (alpha={alpha:.3g})"
    c = getattr(estimator, "C_", getattr(estimator, "C", None))
    if c is not None and np.size(c) == 1:
        return f"{penalty} (C={float(np.ravel(c)[0]):.3g})"
    return penalty


@dataclass
class RegularizationPathDisplay:
    """Coefficients against alpha (log scale), effective degrees of freedom on a second axis.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_alphas, n_features)
    df : ndarray of shape (n_alphas,) or None
        Effective degrees of freedom (ridge); ``None`` draws no second axis (GLMs).
    feature_names : list of str
    alpha : float or None
        Marked with a vertical line (the chosen alpha).
    lines_, df_line_, ax_, df_ax_, figure_
        Set by :meth:`plot`.
    """

    alphas: np.ndarray
    coefs: np.ndarray
    df: np.ndarray | None
    feature_names: list[str]
    alpha: float | None = None

    @classmethod
    def from_spectrum(cls, spectrum: Any, alphas: Any = None, *, feature_names: Any = None,
                      alpha: float | None = None, ax: Any = None) -> RegularizationPathDisplay:
        """Build and plot from a :class:`ridgeway.linalg.RidgeSpectrum` of 1-D ``y``."""
        from ..selection import df_alpha_grid

        alphas = df_alpha_grid(spectrum.eigenvalues) if alphas is None else np.asarray(alphas)
        coefs = spectrum.coef(alphas)
        disp = cls(alphas, coefs, spectrum.df(alphas), _names(feature_names, coefs.shape[1]),
                   alpha)
        return disp.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, y: Any, *, alphas: Any = None,
                       feature_names: Any = None, ax: Any = None) -> RegularizationPathDisplay:
        """The path of the data ``(X, y)``, the estimator's alpha marked.

        Parameters
        ----------
        estimator : fitted Ridge or RidgeCV
            Gives the marked alpha, ``fit_intercept`` and (if present) ``cv_results_["alphas"]``.
        X, y : arrays
        alphas : array-like, optional
            Default: the estimator's CV grid, else a grid spanning df from rank to 0.
        feature_names : list of str, optional
        ax : matplotlib Axes, optional
        """
        spec = _spectrum(X, y, getattr(estimator, "fit_intercept", True))
        if alphas is None and hasattr(estimator, "cv_results_"):
            alphas = np.sort(np.asarray(estimator.cv_results_["alphas"]))
        names = feature_names if feature_names is not None else getattr(
            estimator, "feature_names_in_", None)
        return cls.from_spectrum(spec, alphas, feature_names=names, alpha=_alpha_of(estimator),
                                 ax=ax)

    @classmethod
    def from_refits(cls, estimator: Any, X: Any, y: Any, alphas: Any, *,
                    feature_names: Any = None, ax: Any = None) -> RegularizationPathDisplay:
        """The path of any single-alpha estimator (e.g. a GLM), refitted at each alpha.

        Parameters
        ----------
        estimator : estimator with an ``alpha`` parameter
            Cloned and refitted (with ``set_params(alpha=a)``) at each alpha; one coefficient
            per feature (single target or binary) is required. Its own ``alpha`` is marked.
        X, y : arrays
        alphas : array-like of float
        feature_names : list of str, optional
        ax : matplotlib Axes, optional
        """
        from sklearn.base import clone

        alphas = np.sort(np.asarray(alphas, dtype=float))
        coefs = np.array([np.ravel(clone(estimator).set_params(alpha=a).fit(X, y).coef_)
                          for a in alphas])
        if coefs.shape[1] != np.shape(X)[1]:
            raise ValueError("from_refits needs one coefficient per feature (a single-target "
                             "regressor or a binary classifier).")
        disp = cls(alphas, coefs, None, _names(feature_names, coefs.shape[1]),
                   _alpha_of(estimator))
        return disp.plot(ax=ax)

    def plot(self, ax: Any = None, *, top_k: int = 8) -> RegularizationPathDisplay:
        """Draw the path; returns ``self``.

        The ``top_k`` features with the largest coefficient anywhere on the path get a colour
        and a legend entry; the others are thin grey lines without a label.
        """
        ax = _axes(ax)
        peak = np.max(np.abs(self.coefs), axis=0) if self.coefs.size else np.zeros(0)
        top = set(np.argsort(-peak)[:top_k].tolist())
        self.lines_ = []
        rank = 0
        for j, name in enumerate(self.feature_names):
            if j in top:
                (line,) = ax.plot(self.alphas, self.coefs[:, j], linewidth=1.6,
                                  color=f"C{rank % 10}", label=name, zorder=3)
                rank += 1
            else:
                (line,) = ax.plot(self.alphas, self.coefs[:, j], linewidth=0.8, color="0.75",
                                  zorder=2)
            self.lines_.append(line)
        ax.set_xscale("log")
        _log_xlim(ax, self.alphas)
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_xlabel("alpha (log scale)")
        ax.set_ylabel("coefficient")
        if self.alpha is not None:
            ax.axvline(self.alpha, color="k", linestyle=":", label=f"alpha = {self.alpha:.3g}")
        self.df_ax_ = self.df_line_ = None
        if self.df is not None:
            self.df_ax_ = ax.twinx()
            (self.df_line_,) = self.df_ax_.plot(self.alphas, self.df, color="0.3",
                                                linestyle="--", linewidth=2.0,
                                                label="effective df")
            self.df_ax_.set_ylabel("effective degrees of freedom (dashed)")
        ax.legend(fontsize="small", loc="upper right", ncol=2)
        others = len(self.feature_names) - len(top)
        ax.set_title("Regularization path" + (f" (top {len(top)} labelled; {others} more in "
                                              "grey)" if others > 0 else ""))
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class CVCurveDisplay:
    """Mean CV score against alpha with a one-standard-error band; min and one-SE marked.

    Attributes
    ----------
    alphas, mean, std_error : ndarray
        Scores as in ``cv_results_`` (greater is better), ``std_error`` of the mean.
    alpha_min, alpha_1se : float
        The best alpha and the largest alpha within one standard error of it.
    score_name : str
    line_, band_, min_line_, se_line_, ax_, figure_
        Set by :meth:`plot`.
    """

    alphas: np.ndarray
    mean: np.ndarray
    std_error: np.ndarray
    alpha_min: float
    alpha_1se: float | None
    score_name: str = "CV score"

    @classmethod
    def from_estimator(cls, estimator: Any, *, score_name: str | None = None,
                       negate: bool = False, ax: Any = None) -> CVCurveDisplay:
        """From a fitted ``RidgeCV`` or GLM ``...CV`` estimator's ``cv_results_``.

        ``negate=True`` plots ``-score`` (e.g. MSE instead of negative MSE).
        """
        res = estimator.cv_results_
        order = np.argsort(np.asarray(res["alphas"], dtype=float))
        alphas = np.asarray(res["alphas"], dtype=float)[order]
        mean = np.asarray(res["mean_test_score"], dtype=float)[order]
        sem = np.asarray(res["sem_test_score"], dtype=float)[order]
        best = select_alpha(alphas, mean, sem, rule="min", greater_is_better=True)
        one_se = None
        if np.all(np.isfinite(sem)):
            one_se = float(alphas[select_alpha(alphas, mean, sem, rule="1se",
                                               greater_is_better=True).index])
        sign = -1.0 if negate else 1.0
        disp = cls(alphas, sign * mean, sem, float(alphas[best.index]), one_se,
                   score_name or ("CV loss" if negate else "CV score"))
        return disp.plot(ax=ax)

    def plot(self, ax: Any = None) -> CVCurveDisplay:
        """Draw the curve; returns ``self``."""
        ax = _axes(ax)
        (self.line_,) = ax.plot(self.alphas, self.mean, color="C0", marker=".", label="mean")
        self.band_ = None
        if np.all(np.isfinite(self.std_error)):
            self.band_ = ax.fill_between(self.alphas, self.mean - self.std_error,
                                         self.mean + self.std_error, color="C0", alpha=0.2,
                                         label="± 1 standard error")
        ax.set_xscale("log")
        _log_xlim(ax, self.alphas)
        self.min_line_ = ax.axvline(self.alpha_min, color="C3", linestyle="--",
                                    label=f"best: {self.alpha_min:.3g}")
        self.se_line_ = None
        if self.alpha_1se is not None:
            self.se_line_ = ax.axvline(self.alpha_1se, color="C2", linestyle=":",
                                       label=f"one-SE: {self.alpha_1se:.3g}")
        ax.set_xlabel("alpha (log scale)")
        ax.set_ylabel(self.score_name)
        ax.set_title("Cross-validation curve")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class CoefficientDisplay:
    """Horizontal bars of coefficients (standardized: comparable by magnitude), largest on top.

    Attributes
    ----------
    feature_names : list of str
    coef : ndarray of shape (n_features,)
    bars_, ax_, figure_
        Set by :meth:`plot` (bars in the order of decreasing magnitude, top first).
    """

    feature_names: list[str]
    coef: np.ndarray
    xlabel: str = "standardized coefficient"

    @classmethod
    def from_estimator(cls, estimator: Any, *, feature_names: Any = None, scale: Any = None,
                       max_features: int = 30, ax: Any = None) -> CoefficientDisplay:
        """Plot ``estimator.coef_`` (times ``scale``, the feature SDs, if the model was fitted
        on raw features: that gives the standardized coefficients)."""
        coef = np.asarray(estimator.coef_, dtype=float)
        coef = coef[0] if coef.ndim == 2 and coef.shape[0] == 1 else coef
        if coef.ndim != 1:
            raise ValueError("CoefficientDisplay needs one coefficient per feature "
                             "(a single-target regressor or a binary classifier).")
        if scale is not None:
            coef = coef * np.asarray(scale, dtype=float)
        names = _names(feature_names if feature_names is not None else getattr(
            estimator, "feature_names_in_", None), coef.size)
        order = np.argsort(-np.abs(coef))[:max_features]
        disp = cls([names[j] for j in order], coef[order])
        return disp.plot(ax=ax)

    def plot(self, ax: Any = None) -> CoefficientDisplay:
        """Draw the bars; returns ``self``."""
        ax = _axes(ax, (7.0, max(2.5, 0.32 * len(self.coef) + 1.2)))
        pos = np.arange(len(self.coef))[::-1]
        colors = ["C0" if c >= 0 else "C3" for c in self.coef]
        self.bars_ = ax.barh(pos, self.coef, color=colors)
        ax.set_yticks(pos, self.feature_names)
        ax.axvline(0.0, color="0.4", linewidth=0.8)
        ax.set_xlabel(self.xlabel)
        ax.set_title("Coefficients by standardized magnitude")
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class ShrinkageDisplay:
    """Shrinkage factors ``d_j / (d_j + alpha)`` of each principal (singular) direction.

    Directions with large eigenvalues ``d_j`` of the centered gram are kept almost whole;
    those with small ``d_j`` (low-variance, noisy directions) are shrunk toward zero.

    Attributes
    ----------
    eigenvalues : ndarray of shape (rank,)
    factors : ndarray of shape (n_alphas, rank)
    alphas : ndarray of shape (n_alphas,)
    lines_, ax_, figure_
        Set by :meth:`plot`.
    """

    eigenvalues: np.ndarray
    factors: np.ndarray
    alphas: np.ndarray

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, y: Any, *, alphas: Any = None,
                       ax: Any = None) -> ShrinkageDisplay:
        """Factors at the estimator's alpha, and at 1/10 and 10 times it unless given."""
        spec = _spectrum(X, y, getattr(estimator, "fit_intercept", True))
        if alphas is None:
            a = _alpha_of(estimator)
            alphas = [a / 10, a, a * 10] if a else [1.0]
        alphas = np.asarray(alphas, dtype=float)
        disp = cls(spec.eigenvalues, spec.shrinkage(alphas), alphas)
        return disp.plot(ax=ax)

    def plot(self, ax: Any = None) -> ShrinkageDisplay:
        """Draw one line per alpha over the direction index; returns ``self``."""
        ax = _axes(ax)
        idx = np.arange(1, self.eigenvalues.size + 1)
        self.lines_ = [ax.plot(idx, f, marker="o", markersize=3, label=f"alpha = {a:.3g}")[0]
                       for a, f in zip(self.alphas, self.factors, strict=False)]
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("principal direction (by decreasing variance)")
        ax.set_ylabel("shrinkage factor d / (d + alpha)")
        ax.set_title("Shrinkage per singular direction")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class BiasVarianceDisplay:
    """Bias^2, variance and their sum against alpha, with the held-out test error.

    Attributes
    ----------
    result : BiasVariance
    lines_ : dict of Line2D
        ``"bias2"``, ``"variance"``, ``"sum"``, ``"test_error"``.
    ax_, figure_
    """

    result: BiasVariance

    @classmethod
    def from_estimator(cls, estimator: Any, X_train: Any, y_train: Any, X_test: Any,
                       y_test: Any, *, alphas: Any = None, n_bootstrap: int = 30,
                       f_test: Any = None, random_state: int | None = 0,
                       ax: Any = None) -> BiasVarianceDisplay:
        """Bootstrap refits of ridge (see :func:`ridgeway.inspection.bias_variance`)."""
        if alphas is None:
            a = _alpha_of(estimator) or 1.0
            alphas = np.geomspace(a / 1e3, a * 1e3, 25)
        res = bias_variance(X_train, y_train, X_test, y_test, alphas, n_bootstrap=n_bootstrap,
                            f_test=f_test, random_state=random_state,
                            fit_intercept=getattr(estimator, "fit_intercept", True))
        return cls(res).plot(ax=ax)

    def plot(self, ax: Any = None) -> BiasVarianceDisplay:
        """Draw the curves; returns ``self``."""
        ax = _axes(ax)
        r = self.result
        noise = 0.0 if r.noise is None else r.noise
        bias_label = "bias² + noise" if r.bias_includes_noise else "bias²"
        total_label = ("bias² + noise + variance" if r.bias_includes_noise
                       else "bias² + variance + noise")
        total = ax.plot(r.alphas, r.bias2 + r.variance + noise, label=total_label, color="C2",
                        linewidth=4, alpha=0.5, zorder=1)[0]
        self.lines_ = {
            "bias2": ax.plot(r.alphas, r.bias2, label=bias_label, color="C0", zorder=2)[0],
            "variance": ax.plot(r.alphas, r.variance, label="variance", color="C1", zorder=2)[0],
            "sum": total,
            "test_error": ax.plot(r.alphas, r.test_error, label="held-out error", color="k",
                                  linestyle="--", marker=".", zorder=3)[0],
        }
        ax.set_xscale("log")
        _log_xlim(ax, r.alphas)
        ax.set_yscale("log")
        ax.set_xlabel("alpha (log scale)")
        ax.set_ylabel("mean squared error")
        ax.set_title(f"Bias-variance trade-off ({r.n_bootstrap} bootstrap refits)")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class L1L2Display:
    """Coefficients of an L2 and an L1 model side by side (e.g. on correlated features).

    L1 tends to keep one of a group of correlated features and zero the others; L2 spreads the
    weight over the group.

    Attributes
    ----------
    feature_names : list of str
    l2_coef, l1_coef : ndarray of shape (n_features,)
    bars_ : dict with ``"L2"`` and ``"L1"`` bar containers
    ax_, figure_
    """

    feature_names: list[str]
    l2_coef: np.ndarray
    l1_coef: np.ndarray
    l2_label: str = "L2 (ridge)"
    l1_label: str = "L1 (lasso)"

    @classmethod
    def from_estimators(cls, l2_estimator: Any, l1_estimator: Any, *, feature_names: Any = None,
                        max_features: int = 20, ax: Any = None) -> L1L2Display:
        """Compare two fitted linear models (single target or binary)."""
        l2 = np.ravel(np.asarray(l2_estimator.coef_, dtype=float))
        l1 = np.ravel(np.asarray(l1_estimator.coef_, dtype=float))
        if l2.shape != l1.shape:
            raise ValueError(f"coefficient shapes differ: {l2.shape} vs {l1.shape}.")
        names = _names(feature_names, l2.size)
        order = np.argsort(-np.maximum(np.abs(l2), np.abs(l1)))[:max_features]
        disp = cls([names[j] for j in order], l2[order], l1[order],
                   _strength_label("L2", l2_estimator), _strength_label("L1", l1_estimator))
        return disp.plot(ax=ax)

    @classmethod
    def from_data(cls, X: Any, y: Any, *, l2_alpha: float = 1.0, l1_alpha: float = 0.5,
                  feature_names: Any = None, ax: Any = None) -> L1L2Display:
        """Fit ``ridgeway.Ridge(l2_alpha)`` and scikit-learn ``Lasso(l1_alpha)`` on (X, y)."""
        from sklearn.linear_model import Lasso

        from ..linear_model import Ridge

        ridge = Ridge(alpha=l2_alpha).fit(X, y)
        lasso = Lasso(alpha=l1_alpha).fit(X, y)
        return cls.from_estimators(ridge, lasso, feature_names=feature_names, ax=ax)

    def plot(self, ax: Any = None) -> L1L2Display:
        """Draw grouped bars; returns ``self``."""
        ax = _axes(ax, (7.0, max(2.5, 0.45 * len(self.l2_coef) + 1.2)))
        pos = np.arange(len(self.l2_coef))[::-1]
        self.bars_ = {
            "L2": ax.barh(pos + 0.2, self.l2_coef, height=0.4, label=self.l2_label, color="C0"),
            "L1": ax.barh(pos - 0.2, self.l1_coef, height=0.4, label=self.l1_label, color="C1"),
        }
        ax.set_yticks(pos, self.feature_names)
        ax.axvline(0.0, color="0.4", linewidth=0.8)
        ax.set_xlabel("coefficient")
        ax.set_title("L2 spreads weight, L1 selects")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self
