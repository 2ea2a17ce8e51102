"""scikit-learn compatibility of the GLMs (issue 8 section 4) and their numerical guards (5)."""

import warnings

import numpy as np
import pytest
import sklearn.exceptions
import sklearn.linear_model as sk
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

import ridgeway
from ridgeway import (
    LinearSVC,
    LinearSVCCV,
    LogisticRegression,
    LogisticRegressionCV,
    PoissonRegressor,
    PoissonRegressorCV,
    PredictionOverflowError,
)


def data(n=200, p=5, k=2, seed=0, scale=0.8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, k)) * scale
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y


def rare_class_data():
    """3 classes, one with 3 samples: with cv=5 some test folds lack it."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = np.r_[np.zeros(29), np.ones(28), np.full(3, 2)].astype(int)
    X[y == 1] += 0.7
    return X, y


# --- warnings and errors ------------------------------------------------------------------


def test_convergence_warning_is_sklearns():
    assert issubclass(ridgeway.ConvergenceWarning, sklearn.exceptions.ConvergenceWarning)
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        LogisticRegression(1e-3, solver="lbfgs", max_iter=1).fit(X, y)  # does not converge
    with pytest.warns(sklearn.exceptions.ConvergenceWarning):
        LogisticRegression(1e-3, solver="lbfgs", max_iter=1).fit(X, y)


def test_not_fitted_error_is_sklearns():
    with pytest.raises(sklearn.exceptions.NotFittedError):
        LogisticRegression().predict(np.zeros((2, 3)))


def test_no_convergence_warnings_on_tiny_data():
    """scikit-learn gives none over these 10 seeds; the path's stopping test must not either."""
    caught = []
    for seed in range(10):
        X, y = make_classification(n_samples=20, random_state=seed)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            LogisticRegressionCV().fit(X, y)
        caught += [x for x in w if issubclass(x.category, sklearn.exceptions.ConvergenceWarning)]
    assert caught == []


# --- scoring ------------------------------------------------------------------------------


@pytest.mark.parametrize("scoring", ["neg_brier_score", "roc_auc_ovr", "neg_log_loss"])
def test_probabilistic_scorers_with_a_class_missing_from_test_folds(scoring):
    X, y = rare_class_data()
    folds = list(StratifiedKFold(5).split(X, y))
    alphas = np.geomspace(100, 0.1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = LogisticRegressionCV(alphas, cv=folds, scoring=scoring).fit(X, y)
        ref = sk.LogisticRegressionCV(Cs=1 / alphas, cv=folds, scoring=scoring, tol=1e-10,
                                      max_iter=10_000).fit(X, y)
    assert np.isfinite(ours.best_score_)
    ref_scores = ref.scores_[0]
    finite = np.all(np.isfinite(ref_scores), axis=1)
    for k in np.flatnonzero(finite):
        np.testing.assert_allclose(ours.cv_results_[f"split{k}_test_score"], ref_scores[k],
                                   atol=1e-4)


def test_score_uses_scoring():
    X, y = data(300)
    cv = LogisticRegressionCV(n_alphas=5, scoring="neg_log_loss").fit(X, y)
    assert cv.score(X, y) == pytest.approx(-log_loss(y, cv.predict_proba(X)), rel=1e-12)
    acc = LogisticRegressionCV(n_alphas=5, scoring=None).fit(X, y)
    assert acc.score(X, y) == pytest.approx(np.mean(acc.predict(X) == y))


def test_accuracy_ties_take_the_largest_alpha():
    """Well-separated classes: accuracy 1 at every alpha; the simplest model wins."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] += np.where(y == 1, 3.0, -3.0)
    alphas = np.array([10.0, 1.0, 0.1])
    cv = LogisticRegressionCV(alphas, cv=4, scoring="accuracy").fit(X, y)
    assert np.all(cv.cv_results_["mean_test_score"] == 1.0)
    assert cv.alpha_ == 10.0


# --- dtypes and layouts --------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
def test_float32_is_kept_as_scikit_learn_does(k):
    X, y = data(100, k=k)
    X = X.astype(np.float32)
    ours, ref = LogisticRegression().fit(X, y), sk.LogisticRegression().fit(X, y)
    assert ours.coef_.dtype == ref.coef_.dtype == np.float32
    assert ours.intercept_.dtype == ref.intercept_.dtype
    assert ours.predict_proba(X).dtype == ref.predict_proba(X).dtype
    assert ours.decision_function(X).dtype == ref.decision_function(X).dtype
    np.testing.assert_allclose(ours.predict_proba(X), LogisticRegression().fit(
        X.astype(np.float64), y).predict_proba(X.astype(np.float64)), atol=1e-6)
    assert LinearSVC().fit(X, y).coef_.dtype == np.float32
    assert PoissonRegressor().fit(X, y).coef_.dtype == np.float32


@pytest.mark.parametrize("k", [2, 3])
def test_cv_layouts_match_scikit_learn(k):
    X, y = data(150, k=k)
    folds = list(StratifiedKFold(3).split(X, y))
    alphas = np.geomspace(30, 0.3, 4)
    ours = LogisticRegressionCV(alphas, cv=folds).fit(X, y)
    ref = sk.LogisticRegressionCV(Cs=1 / alphas, cv=folds, scoring="neg_log_loss", tol=1e-10,
                                  max_iter=10_000).fit(X, y)
    assert ours.n_iter_.shape == ref.n_iter_.shape
    assert LogisticRegression().fit(X, y).n_iter_.shape == sk.LogisticRegression().fit(
        X, y).n_iter_.shape
    assert set(ours.scores_) == set(ref.scores_)
    assert set(ours.coefs_paths_) == set(ref.coefs_paths_)
    np.testing.assert_allclose(ours.Cs_, ref.Cs_)
    for label in ref.scores_:
        assert ours.scores_[label].shape == ref.scores_[label].shape
        np.testing.assert_allclose(ours.scores_[label], ref.scores_[label], atol=1e-4)
        assert ours.coefs_paths_[label].shape == ref.coefs_paths_[label].shape
        np.testing.assert_allclose(ours.coefs_paths_[label], ref.coefs_paths_[label],
                                   atol=2e-3)
    np.testing.assert_allclose(ours.C_, ref.C_[:1])


def test_linear_svc_n_iter_is_an_int_as_scikit_learn():
    X, y = data(100, k=3)
    assert isinstance(LinearSVC().fit(X, y).n_iter_, int)


def test_unpenalized_multinomial_coefficients_sum_to_zero():
    X, y = data(300, k=3, scale=0.3)
    fit = LogisticRegression(0.0).fit(X, y)
    assert np.max(np.abs(fit.coef_.sum(axis=0))) < 1e-12
    assert abs(fit.intercept_.sum()) < 1e-12
    ref = sk.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(fit.predict_proba(X), ref.predict_proba(X), atol=1e-6)


# --- constructor keywords ------------------------------------------------------------------


def test_C_is_the_inverse_of_alpha():
    X, y = data()
    np.testing.assert_allclose(LogisticRegression(C=4.0).fit(X, y).coef_,
                               LogisticRegression(0.25).fit(X, y).coef_, rtol=1e-10)
    np.testing.assert_allclose(LinearSVC(C=4.0).fit(X, y).coef_,
                               LinearSVC(0.25).fit(X, y).coef_, rtol=1e-10)
    with pytest.raises(ValueError, match="either alpha=.* or C=.*not both"):
        LogisticRegression(1.0, C=1.0).fit(X, y)
    with pytest.raises(ValueError, match="C must be a positive"):
        LogisticRegression(C=0).fit(X, y)


def test_Cs_is_the_inverse_of_alphas():
    X, y = data()
    a = LogisticRegressionCV(Cs=[0.1, 1.0, 10.0], cv=3).fit(X, y)
    b = LogisticRegressionCV([10.0, 1.0, 0.1], cv=3).fit(X, y)
    np.testing.assert_allclose(a.alphas_, b.alphas_)
    assert a.alpha_ == b.alpha_
    np.testing.assert_allclose(LogisticRegressionCV(Cs=4, cv=3).fit(X, y).Cs_,
                               np.logspace(-4, 4, 4))
    with pytest.raises(ValueError, match="either alphas or Cs"):
        LogisticRegressionCV([1.0], Cs=[1.0]).fit(X, y)


def test_sklearn_keywords_that_ridgeway_honours_are_accepted():
    X, y = data()
    ref = LogisticRegression(C=2.0).fit(X, y)
    fit = LogisticRegression(C=2.0, penalty="l2", n_jobs=-1, random_state=0, verbose=0).fit(X, y)
    np.testing.assert_array_equal(fit.coef_, ref.coef_)
    LogisticRegressionCV(n_alphas=3, penalty="l2", n_jobs=2, random_state=0).fit(X, y)
    LinearSVC(C=1.0, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"solver": "saga"}, "solver='saga' is not available.*scikit-learn"),
        ({"solver": "liblinear"}, "solver='liblinear' is not available"),
        ({"penalty": "l1"}, "penalty='l1' is not available.*L2 penalties only"),
        ({"penalty": "elasticnet", "l1_ratio": 0.5}, "penalty='elasticnet' is not available"),
        ({"l1_ratio": 0.5}, "l1_ratio=0.5 is not available"),
        ({"dual": True}, "dual=True is not available"),
        ({"warm_start": True}, "warm_start=True is not available.*CV estimator"),
        ({"intercept_scaling": 10}, "never penalizes"),
    ],
)
def test_sklearn_keywords_ridgeway_lacks_say_what_to_use(params, message):
    X, y = data()
    with pytest.raises(ValueError, match=message):
        LogisticRegression(**params).fit(X, y)


# --- numerical guards ----------------------------------------------------------------------


def test_features_at_overflowing_scale_are_named():
    X, y = data()
    X[7, 3] = 1e200
    with pytest.raises(ValueError, match=r"1e\+200 \(row 7, column 3\).*Rescale"):
        LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"row 7, column 3"):
        LogisticRegressionCV().fit(X, y)


def test_non_finite_result_is_an_error_not_nan_coefficients():
    from ridgeway.glm import GLMData, L2Penalty, LogisticLoss, Objective
    from ridgeway.glm.solvers import FitResult, check_finite_result

    X, y = data()
    obj = Objective(GLMData(X, (2.0 * y - 1)[:, None], np.ones(len(y))), LogisticLoss(),
                    L2Penalty(1.0))
    bad = FitResult(np.full((5, 1), np.nan), np.zeros(1), 1, False, np.nan, np.nan)
    with pytest.raises(ValueError, match="non-finite coefficients.*Standardize"):
        check_finite_result(obj, bad)


@pytest.mark.parametrize("alpha", [1e300, 1e-300])
def test_extreme_alpha_gives_finite_coefficients(alpha):
    X, y = data()
    fit = LogisticRegression(alpha).fit(X, y)
    assert np.all(np.isfinite(fit.coef_)) and np.all(np.isfinite(fit.intercept_))


def test_poisson_prediction_overflow_names_the_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    fit = PoissonRegressor(1.0).fit(X, y)
    far = np.array([[0.0, 0.0], [1e5 * np.sign(fit.coef_[0]), 0.0]])
    with pytest.raises(PredictionOverflowError, match="row 1") as info:
        fit.predict(far)
    assert list(info.value.rows) == [1]
    assert np.isfinite(fit.predict(far[:1])).all()


# --- alphas="auto" -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["kfold", "alo"])
def test_auto_refines_between_grid_points(method):
    X, y = data(400, p=8, seed=3)
    grid = LogisticRegressionCV(n_alphas=6, method=method).fit(X, y)
    auto = LogisticRegressionCV("auto", n_alphas=6, method=method).fit(X, y)
    assert auto.best_score_ >= grid.best_score_
    fine = LogisticRegressionCV(np.geomspace(grid.alphas_[0], grid.alphas_[-1], 200),
                                method=method).fit(X, y)
    assert auto.best_score_ == pytest.approx(fine.best_score_, abs=2e-5)


def test_auto_widens_the_grid_while_the_best_is_at_an_edge():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 30))
    y = rng.integers(0, 2, 100)  # pure noise: the best penalty is as large as possible
    with pytest.warns(ridgeway.AlphaEdgeWarning):
        grid = LogisticRegressionCV(n_alphas=5).fit(X, y)
    assert grid.alpha_ == grid.alphas_.max()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ridgeway.AlphaEdgeWarning)
        auto = LogisticRegressionCV("auto", n_alphas=5).fit(X, y)
    assert auto.alphas_.max() >= 1e3 * grid.alphas_.max()
    assert auto.best_score_ >= grid.best_score_


@pytest.mark.parametrize("est", [LinearSVCCV, PoissonRegressorCV])
def test_auto_for_every_glm_cv_estimator(est):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = rng.poisson(np.exp(0.4 * X[:, 0])) if est is PoissonRegressorCV else (X[:, 0] > 0)
    auto = est("auto", n_alphas=5).fit(X, y)
    grid = est(n_alphas=5).fit(X, y)
    assert auto.best_score_ >= grid.best_score_


def test_almost_unpenalized_is_flagged():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 3))
    y = (X @ np.array([2.0, -1.0, 1.5]) + rng.logistic(size=3000) > 0).astype(int)
    cv = LogisticRegressionCV(n_alphas=10).fit(X, y)
    assert cv.rank_ == 3
    assert cv.almost_unpenalized_ and cv.alpha_ <= cv.alphas_[-2]
    noise = LogisticRegressionCV(n_alphas=10).fit(X, rng.integers(0, 2, 3000))
    assert not noise.almost_unpenalized_
