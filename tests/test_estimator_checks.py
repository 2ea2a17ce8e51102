"""Every exported estimator honours scikit-learn's estimator contract."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import ridgeway


def _estimators():
    return [getattr(ridgeway, name)() for name in ridgeway.ESTIMATORS]


@parametrize_with_checks(_estimators())
def test_sklearn_compatible(estimator, check):
    check(estimator)
