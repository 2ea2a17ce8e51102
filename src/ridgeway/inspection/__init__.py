"""Diagnostics and plots of fitted ridgeway models.

Tables and numbers: :func:`coefficient_table`, :func:`model_metrics`,
:func:`generalization_gap`, :func:`baseline_metrics`, :func:`positive_class`,
:func:`bias_variance`,
:func:`error_reduction_unregularized`, :func:`error_reduction_l1`. Plots (matplotlib,
scikit-learn's ``Display`` style): :class:`RegularizationPathDisplay`,
:class:`CVCurveDisplay`, :class:`CoefficientDisplay`, :class:`ShrinkageDisplay`,
:class:`BiasVarianceDisplay`, :class:`L1L2Display`, and the training-history plots of
:mod:`ridgeway.inspection.history`.
"""

from ._displays import (
    BiasVarianceDisplay,
    CoefficientDisplay,
    CVCurveDisplay,
    L1L2Display,
    RegularizationPathDisplay,
    ShrinkageDisplay,
)
from ._metrics import (
    CoefficientRow,
    GapRow,
    baseline_metrics,
    coefficient_table,
    generalization_gap,
    model_metrics,
    ovr_auc,
    positive_class,
    primary_error,
)
from ._tradeoff import (
    BiasVariance,
    ErrorReduction,
    bias_variance,
    error_reduction_l1,
    error_reduction_unregularized,
)
from .history import plot_history

__all__ = [
    "BiasVariance",
    "BiasVarianceDisplay",
    "CVCurveDisplay",
    "CoefficientDisplay",
    "CoefficientRow",
    "ErrorReduction",
    "GapRow",
    "L1L2Display",
    "RegularizationPathDisplay",
    "ShrinkageDisplay",
    "baseline_metrics",
    "bias_variance",
    "coefficient_table",
    "error_reduction_l1",
    "error_reduction_unregularized",
    "generalization_gap",
    "model_metrics",
    "ovr_auc",
    "plot_history",
    "positive_class",
    "primary_error",
]
