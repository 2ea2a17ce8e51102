"""Every exported estimator honours scikit-learn's estimator contract.

Each estimator is checked at its defaults, and the CV estimators also in their other modes.
"""

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

import ridgeway
from ridgeway import LinearSVCCV, LogisticRegressionCV, PoissonRegressorCV, Ridge, RidgeCV

_CV_REASON = (
    "k-fold splits repeated rows into different folds where a weighted row stays whole, so "
    "weights are not equivalent to repetition for a CV-selected alpha (scikit-learn's own "
    "LogisticRegressionCV fails this check for the same reason)"
)


def _estimators():
    defaults = [getattr(ridgeway, name)() for name in ridgeway.ESTIMATORS]
    modes = [
        Ridge(solver="lsqr"),
        RidgeCV(cv="gcv"),
        RidgeCV(cv=3, alpha_per_target=True),
        LogisticRegressionCV(n_alphas=5, cv=3, method="alo"),
        LinearSVCCV(n_alphas=5, cv=3, selection="1se"),
        PoissonRegressorCV(n_alphas=5, cv=3, method="alo"),
    ]
    return defaults + modes


def _expected_failures(est):
    if isinstance(est, (LogisticRegressionCV, LinearSVCCV)) and est.method == "kfold":
        return {"check_sample_weight_equivalence_on_sparse_data": _CV_REASON}
    return {}


@parametrize_with_checks(_estimators(), expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        # grid-edge and convergence warnings on the checks' tiny random data are expected
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)
