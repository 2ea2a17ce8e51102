"""Alpha selection for GLMs: k-fold paths, approximate leave-one-out, results layout."""

import numpy as np
import pytest
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, StratifiedKFold

from ridgeway import (
    LinearSVC,
    LinearSVCCV,
    LogisticRegression,
    LogisticRegressionCV,
    PoissonRegressor,
    PoissonRegressorCV,
)
from ridgeway.exceptions import AlphaEdgeWarning
from ridgeway.glm import (
    GLMData,
    L2Penalty,
    LogisticLoss,
    MultinomialLoss,
    PoissonLoss,
    fit_path,
)


def logistic_data(n, p=10, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, n_classes)) * 0.6
    y = np.argmax(X @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y


def brute_force_loo(data, loss, alphas, scale=1.0):
    """Mean loss of exact leave-one-out fits, one warm-started path per left-out sample."""
    n = data.X.shape[0]
    full = fit_path(data, loss, L2Penalty(), alphas)
    total = np.zeros(len(alphas))
    for i in range(n):
        keep = np.arange(n) != i
        path = fit_path(data.subset(keep), loss, L2Penalty(), alphas, theta0=full.theta(0))
        one = data.subset(np.array([i]))
        total += [loss.value(one.y, one.predictor(path.theta(a)), np.ones(1))
                  for a in range(len(alphas))]
    return full.alphas, scale * total / n


@pytest.mark.parametrize(
    "make, loss, estimator, scale",
    [
        (lambda: logistic_data(300), LogisticLoss(), LogisticRegressionCV, 1.0),
        (lambda: logistic_data(300, p=5, n_classes=3), MultinomialLoss(), LogisticRegressionCV,
         1.0),
        ("poisson", PoissonLoss(), PoissonRegressorCV, 2.0),
    ],
    ids=["logistic", "multinomial", "poisson"],
)
def test_alo_agrees_with_brute_force_loo(make, loss, estimator, scale):
    if make == "poisson":
        rng = np.random.default_rng(1)
        X = rng.standard_normal((300, 6)) * 0.5
        y = rng.poisson(np.exp(X @ rng.standard_normal(6) * 0.5)).astype(float)
        Y = y[:, None]
    else:
        X, y = make()
        classes = np.unique(y)
        Y = (2.0 * y - 1)[:, None] if len(classes) == 2 else np.eye(len(classes))[y]
    alphas = np.geomspace(300, 0.3, 6)
    alo = estimator(alphas, method="alo", cv=KFold(5)).fit(X, y)
    _, loo = brute_force_loo(GLMData(X, Y, np.ones(len(y))), loss, alphas, scale)
    curve = -alo.cv_results_["mean_test_score"]
    np.testing.assert_allclose(curve, loo, rtol=0.02)


def test_alo_pick_generalizes_like_10_fold_pick():
    X, y = logistic_data(4300, p=20, seed=3)
    X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
    alphas = np.geomspace(1e3, 1e-2, 20)
    alo = LogisticRegressionCV(alphas, method="alo").fit(X_train, y_train)
    kfold = LogisticRegressionCV(alphas, cv=10).fit(X_train, y_train)
    held_out_alo = log_loss(y_test, alo.predict_proba(X_test))
    held_out_kfold = log_loss(y_test, kfold.predict_proba(X_test))
    assert held_out_alo <= 1.01 * held_out_kfold


@pytest.mark.parametrize("method", ["kfold", "alo"])
def test_cv_results_layout_and_refit(method):
    X, y = logistic_data(200)
    alphas = [10.0, 0.1, 1.0]
    cv = LogisticRegressionCV(alphas, cv=4, method=method).fit(X, y)
    res = cv.cv_results_
    assert set(res) == {"alphas", "mean_test_score", "std_test_score", "sem_test_score",
                        "df"} | {
        f"split{k}_test_score" for k in range(4)
    }
    np.testing.assert_array_equal(res["alphas"], [10.0, 1.0, 0.1])
    splits = np.array([res[f"split{k}_test_score"] for k in range(4)])
    np.testing.assert_allclose(res["mean_test_score"], splits.mean(axis=0))
    np.testing.assert_allclose(res["sem_test_score"], splits.std(axis=0) / 2.0)
    assert cv.best_score_ == np.max(res["mean_test_score"])
    assert cv.alpha_ == res["alphas"][np.argmax(res["mean_test_score"])]
    single = LogisticRegression(cv.alpha_).fit(X, y)
    np.testing.assert_allclose(cv.coef_, single.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
def test_kfold_scores_equal_separate_fits(solver):
    """Each point of the curve within 2% of the fold's standard error of a 1e-8 fit
    (the stated accuracy of the CV paths), for the spectral and the general engine."""

    X, y = logistic_data(150)
    folds = list(KFold(3).split(X))
    cv = LogisticRegressionCV([3.0, 0.3], cv=folds, solver=solver).fit(X, y)
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate(cv.cv_results_["alphas"]):
            fit = LogisticRegression(alpha).fit(X[train], y[train])
            p = fit.predict_proba(X[test])[np.arange(len(test)), y[test]]
            expected = float(np.mean(np.log(p)))
            se = float(np.std(np.log(p)) / np.sqrt(len(test)))
            got = cv.cv_results_[f"split{k}_test_score"][a]
            assert abs(got - expected) <= 0.02 * se  # stated accuracy, docs/glm.md


def test_one_standard_error_rule_picks_a_larger_alpha():
    X, y = logistic_data(300, seed=5)
    alphas = np.geomspace(1e3, 1e-2, 15)
    best = LogisticRegressionCV(alphas).fit(X, y)
    ose = LogisticRegressionCV(alphas, selection="1se").fit(X, y)
    assert ose.alpha_ >= best.alpha_


def test_default_grid_is_data_driven_and_decreasing():
    X, y = logistic_data(300)
    cv = LogisticRegressionCV(n_alphas=12).fit(X, y)
    grid = cv.alphas_
    assert len(grid) == 12 and np.all(np.diff(grid) < 0)
    top = LogisticRegression(grid[0]).fit(X, y)
    bottom = LogisticRegression(grid[-1]).fit(X, y)
    unpenalized = LogisticRegression(0.0).fit(X, y)
    assert np.linalg.norm(top.coef_) < 0.05 * np.linalg.norm(unpenalized.coef_)
    assert np.linalg.norm(bottom.coef_) > 0.9 * np.linalg.norm(unpenalized.coef_)


def test_other_scorers_and_estimators():
    X, y = logistic_data(200, n_classes=3)
    svc = LinearSVCCV([10.0, 1.0], cv=3).fit(X, y)
    assert svc.coef_.shape == (3, X.shape[1])
    # the same selection by an explicit loop: one fit per fold and alpha, held-out accuracy
    folds = list(StratifiedKFold(3).split(X, y))
    accuracy = np.array([[np.mean(LinearSVC(a).fit(X[tr], y[tr]).predict(X[te]) == y[te])
                          for tr, te in folds] for a in (10.0, 1.0)])
    for k in range(3):
        np.testing.assert_allclose(svc.cv_results_[f"split{k}_test_score"], accuracy[:, k])
    assert accuracy.mean(1)[0] != accuracy.mean(1)[1]  # no tie: the choice is determined
    assert svc.alpha_ == (10.0, 1.0)[int(np.argmax(accuracy.mean(1)))]
    acc = LogisticRegressionCV([10.0, 1.0], cv=3, scoring="accuracy", method="alo").fit(X, y)
    assert 0 < acc.best_score_ <= 1
    rng = np.random.default_rng(0)
    counts = rng.poisson(np.exp(X[:, 0] * 0.5)).astype(float)
    pois = PoissonRegressorCV([10.0, 1.0], cv=3).fit(X, counts)
    ref = PoissonRegressor(pois.alpha_).fit(X, counts)
    np.testing.assert_allclose(pois.coef_, ref.coef_, rtol=1e-6)


def test_bad_cv_parameters():
    X, y = logistic_data(60)
    with pytest.raises(ValueError, match="method must be one of"):
        LogisticRegressionCV(method="loo").fit(X, y)
    with pytest.raises(ValueError, match="selection must be one of"):
        LogisticRegressionCV(selection="max").fit(X, y)
    with pytest.raises(ValueError, match="alphas must be non-negative"):
        LogisticRegressionCV(alphas=[1.0, -1.0]).fit(X, y)


def test_scalar_sample_weight_equals_no_weight_with_alpha_scaled():
    # weights c * 1 scale the data term by c: the same fit as alpha / c without weights
    X, y = logistic_data(150)
    alphas = [8.0, 2.0, 0.5]
    weighted = LogisticRegressionCV([a * 2.0 for a in alphas], cv=3).fit(X, y, sample_weight=2.0)
    plain = LogisticRegressionCV(alphas, cv=3).fit(X, y)
    assert weighted.alpha_ == 2.0 * plain.alpha_
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6, atol=1e-9)


def test_user_grid_edge_warns_like_ridgecv():
    X, y = logistic_data(200)
    with pytest.warns(AlphaEdgeWarning, match="smallest of the grid"):
        LogisticRegressionCV([1e5, 1e4, 1e3], cv=3).fit(X, y)


def test_unpenalized_cv_on_separable_data_raises():
    """alpha = 0 in the grid on separable classes: no finite minimizer, so an error (the
    spectral engine would return a huge finite coefficient)."""
    from ridgeway import SeparableDataError

    x = np.linspace(-1, 1, 40)[:, None]
    with pytest.raises(SeparableDataError, match="separable"):
        LogisticRegressionCV(alphas=[0.0]).fit(x, (x[:, 0] > 0).astype(int))


def test_weighted_fit_with_a_scorer_that_takes_no_weights():
    """Weights go only to scorers that accept them (as scikit-learn routes them): a plain
    callable without ``sample_weight`` scores the folds unweighted; with unit weights the
    fits, and so the curve, are those of an unweighted fit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)

    def accuracy(est, X, y):
        return float(np.mean(est.predict(X) == y))

    grid = [0.1, 1.0, 10.0]
    weighted = LogisticRegressionCV(alphas=grid, scoring=accuracy).fit(
        X, y, sample_weight=np.ones(200))
    plain = LogisticRegressionCV(alphas=grid, scoring=accuracy).fit(X, y)
    np.testing.assert_allclose(weighted.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"])
