"""Choosing the regularization strength: alpha grids, CV splitting, CV curves, selection
rules and the search over a grid.

Shared by every ``...CV`` estimator of ridgeway (ridge and the GLMs), so that "min" and "1se"
mean the same thing everywhere and a grid is built and searched one way. This layer sits
above the kernels (:mod:`ridgeway.linalg`, :mod:`ridgeway.glm`) and may use scikit-learn's
splitters and scorers; the kernels may not.

* :mod:`~ridgeway.selection.grids`: log-spaced and data-driven grids, ``alphas="auto"``.
* :mod:`~ridgeway.selection.rules`: the "min" and "1se" rules, the edge warning.
* :mod:`~ridgeway.selection.search`: ``CVCurve``, widening, refinement (:func:`search_alpha`).
* :mod:`~ridgeway.selection.ridge_curves`: ridge LOO, GCV and k-fold curves.
* :mod:`~ridgeway.selection.scoring`: scikit-learn scorers on known predictions.
* :mod:`~ridgeway.selection.splits`: CV splitters and fold checks.
"""

from .grids import AlphaGrid, check_alpha_grid, df_alpha_grid, log_grid
from .ridge_curves import (
    RidgeCriterion,
    RidgeKFold,
    ridge_criterion,
    ridge_cv_results,
    ridge_gcv_curve,
    ridge_loo_curve,
)
from .rules import SELECTION_RULES, Selection, check_rule, edge_warning, select_alpha
from .scoring import (
    KnownResponses,
    accepts_sample_weight,
    fold_stats,
    make_scorer_loss,
    with_labels,
)
from .search import (
    CVCurve,
    SearchResult,
    SearchSpec,
    check_representable_alphas,
    merge_curves,
    representable_only,
    search_alpha,
)
from .splits import check_cv, is_partition, weighted_folds

__all__ = [
    "SELECTION_RULES",
    "AlphaGrid",
    "CVCurve",
    "KnownResponses",
    "RidgeCriterion",
    "RidgeKFold",
    "SearchResult",
    "SearchSpec",
    "Selection",
    "accepts_sample_weight",
    "check_alpha_grid",
    "check_cv",
    "check_representable_alphas",
    "check_rule",
    "df_alpha_grid",
    "edge_warning",
    "fold_stats",
    "is_partition",
    "log_grid",
    "make_scorer_loss",
    "merge_curves",
    "representable_only",
    "ridge_criterion",
    "ridge_cv_results",
    "ridge_gcv_curve",
    "ridge_loo_curve",
    "search_alpha",
    "select_alpha",
    "weighted_folds",
    "with_labels",
]
