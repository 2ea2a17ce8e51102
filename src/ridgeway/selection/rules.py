"""Selection rules: which alpha of a CV curve is chosen ("min" or glmnet's "1se")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice

SELECTION_RULES = ("min", "1se")


def check_rule(rule: str, *, has_spread: bool = True) -> str:
    """``rule`` if it is one of :data:`SELECTION_RULES` (and ``"1se"`` has a spread to use)."""
    check_choice(rule, "selection", SELECTION_RULES)
    if rule == "1se" and not has_spread:
        raise ValueError('selection="1se" needs a CV spread; GCV has none. Use cv=None '
                         "(LOO) or k-fold.")
    return rule


@dataclass(frozen=True)
class Selection:
    """Result of applying a selection rule to a CV curve.

    Attributes
    ----------
    index : int
        Position of the chosen alpha in the grid.
    best_index : int
        Position of the best mean score (equals ``index`` for ``rule="min"``).
    threshold : float
        For ``"1se"``: the best mean score minus (or plus) one standard error.
    """

    index: int
    best_index: int
    threshold: float


def select_alpha(
    alphas: np.ndarray,
    mean_score: np.ndarray,
    std_error: np.ndarray | None = None,
    *,
    rule: str = "min",
    greater_is_better: bool = False,
) -> Selection:
    """Pick an alpha from a CV curve by the minimum rule or glmnet's one-standard-error rule.

    ``"min"`` takes the best mean score; among exact ties the *largest* alpha (the simplest
    model, as scikit-learn's ``LogisticRegressionCV`` does by taking the smallest C; ties are
    common with discrete scores such as accuracy). ``"1se"`` takes the
    *largest* alpha whose mean score is within one standard error of the best one, where the
    standard error is that of the best alpha (glmnet's ``lambda.1se``: ``cvsd = sd / sqrt(K)``).

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
    mean_score : ndarray of shape (n_alphas,)
        Mean CV score per alpha (a loss if ``greater_is_better`` is False).
    std_error : ndarray of shape (n_alphas,), optional
        Standard error of the mean score per alpha; required for ``"1se"``.
    rule : {"min", "1se"}
    greater_is_better : bool
        Whether larger scores are better (scikit-learn scorers) or smaller (losses).
    """
    check_rule(rule)
    alphas = np.asarray(alphas, dtype=np.float64)
    loss = -np.asarray(mean_score, dtype=np.float64) if greater_is_better else np.asarray(
        mean_score, dtype=np.float64
    )
    if not np.any(np.isfinite(loss)):
        if alphas.size == 1:  # nothing to choose: the one candidate, its score as it is
            return Selection(0, 0, float(loss[0]))
        raise ValueError("Every CV score is non-finite; cannot select alpha.")
    loss = np.where(np.isfinite(loss), loss, np.inf)
    best_value = np.min(loss)
    ties = np.flatnonzero(loss == best_value)
    best = int(ties[np.argmax(alphas[ties])])
    if rule == "min":
        return Selection(best, best, float(best_value))
    if std_error is None:
        raise ValueError('selection="1se" needs the standard error of the CV score.')
    threshold = best_value + float(np.asarray(std_error)[best])
    within = np.flatnonzero(loss <= threshold)
    chosen = int(within[np.argmax(alphas[within])])
    sign = -1.0 if greater_is_better else 1.0
    return Selection(chosen, best, sign * threshold)


def edge_warning(alphas: np.ndarray, index: int) -> str | None:
    """A message if ``index`` is the smallest or largest alpha of the grid, else ``None``."""
    alphas = np.asarray(alphas)
    if alphas.size < 3:
        return None
    if alphas[index] == np.max(alphas):
        return (
            f"The chosen alpha ({alphas[index]:.4g}) is the largest of the grid: the optimum may "
            "lie above it. Widen the grid upward, or pass alphas='auto'."
        )
    if alphas[index] == np.min(alphas):
        return (
            f"The chosen alpha ({alphas[index]:.4g}) is the smallest of the grid: the optimum may "
            "lie below it. Widen the grid downward, or pass alphas='auto'."
        )
    return None
