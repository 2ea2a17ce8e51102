"""ridgeway.Ridge / RidgeCV against scikit-learn on the same objective and the closed form."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold

from ridgeway import Ridge, RidgeCV
from tests.conftest import make_regression, ridge_closed_form

DENSE_SOLVERS = ["auto", "cholesky", "eigen", "svd", "cg", "lsqr", "refine"]
SPARSE_SOLVERS = ["auto", "cholesky", "eigen", "cg", "lsqr"]


def rel(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("solver", DENSE_SOLVERS)
@pytest.mark.parametrize("shape", [(120, 8), (30, 60)])
def test_dense_weighted_equals_sklearn_and_closed_form(solver, shape):
    X, y = make_regression(*shape, seed=1)
    s = np.random.default_rng(2).uniform(0.2, 3.0, shape[0])
    ours = Ridge(alpha=1.7, solver=solver).fit(X, y, sample_weight=s)
    ref = sk.Ridge(alpha=1.7, solver="svd").fit(X, y, sample_weight=s)
    assert rel(ours.coef_, ref.coef_) < 1e-8
    assert rel(ours.intercept_, ref.intercept_) < 1e-8
    coef, intercept = ridge_closed_form(X, y, 1.7, s)
    assert rel(ours.coef_, coef) < 1e-8
    assert rel(ours.intercept_, intercept) < 1e-8


@pytest.mark.parametrize("solver", DENSE_SOLVERS)
def test_multi_target_with_alpha_per_target(solver):
    X, Y = make_regression(80, 6, t=3, seed=3)
    alphas = np.array([0.1, 5.0, 50.0])
    ours = Ridge(alpha=alphas, solver=solver).fit(X, Y)
    ref = sk.Ridge(alpha=alphas).fit(X, Y)
    assert ours.coef_.shape == (3, 6)
    assert rel(ours.coef_, ref.coef_) < 1e-8
    assert rel(ours.intercept_, ref.intercept_) < 1e-8


@pytest.mark.parametrize("solver", SPARSE_SOLVERS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_without_densifying_equals_dense_sklearn(solver, fmt):
    rng = np.random.default_rng(4)
    X = sp.random(300, 40, density=0.1, format=fmt, random_state=4) * 3 + 0
    y = np.asarray(X @ rng.normal(size=40)).ravel() + 2 + rng.normal(size=300)
    s = rng.uniform(0.5, 2, 300)
    ours = Ridge(alpha=0.8, solver=solver).fit(X, y, sample_weight=s)
    ref = sk.Ridge(alpha=0.8).fit(X.toarray(), y, sample_weight=s)
    assert rel(ours.coef_, ref.coef_) < 1e-6
    assert rel(ours.intercept_, ref.intercept_) < 1e-6
    np.testing.assert_allclose(ours.predict(X), ref.predict(X.toarray()), rtol=1e-6)


def test_no_intercept_matches_sklearn():
    X, y = make_regression(50, 5, seed=5)
    ours = Ridge(alpha=2.0, fit_intercept=False).fit(X, y)
    ref = sk.Ridge(alpha=2.0, fit_intercept=False).fit(X, y)
    assert rel(ours.coef_, ref.coef_) < 1e-8
    assert ours.intercept_ == 0.0


def test_penalty_factor_matches_rescaled_problem_and_zero_means_unpenalized():
    X, y = make_regression(60, 4, seed=6)
    pf = np.array([0.0, 1.0, 4.0, 0.25])
    ours = Ridge(alpha=3.0, penalty_factor=pf).fit(X, y)
    coef, _intercept = ridge_closed_form(X, y, 3.0, pf=pf)
    assert rel(ours.coef_, coef) < 1e-9
    # positive factors: same as scaling column j by 1/sqrt(pf_j) in an ordinary ridge
    pos = pf[1:]
    scaled = sk.Ridge(alpha=3.0).fit(X[:, 1:] / np.sqrt(pos), y)
    ours_pos = Ridge(alpha=3.0, penalty_factor=pos).fit(X[:, 1:], y)
    assert rel(ours_pos.coef_, scaled.coef_ / np.sqrt(pos)) < 1e-9
    # gradient of the objective at the solution vanishes (unpenalized feature 0 included)
    r = y - X @ ours.coef_ - ours.intercept_
    grad = -X.T @ r + 3.0 * pf * ours.coef_
    assert np.max(np.abs(grad)) < 1e-9 * np.max(np.abs(X.T @ y))


def test_float32_stays_float32():
    X, y = make_regression(40, 3, seed=7)
    ours = Ridge(alpha=1.0).fit(X.astype(np.float32), y.astype(np.float32))
    assert ours.coef_.dtype == np.float32
    assert ours.predict(X.astype(np.float32)).dtype == np.float32
    ref = sk.Ridge(alpha=1.0).fit(X, y)
    assert rel(ours.coef_, ref.coef_) < 1e-5


def test_ridgecv_loo_picks_sklearn_alpha():
    X, y = make_regression(200, 15, seed=8, noise=3.0)
    alphas = np.logspace(-3, 4, 60)
    ours = RidgeCV(alphas=alphas).fit(X, y)
    ref = sk.RidgeCV(alphas=alphas).fit(X, y)
    assert ours.alpha_ == ref.alpha_
    assert ours.cv_mode_ == "loo"
    np.testing.assert_allclose(ours.best_score_, ref.best_score_, rtol=1e-9)
    assert rel(ours.coef_, ref.coef_) < 1e-8


def test_ridgecv_loo_weighted_and_multitarget_per_target():
    X, Y = make_regression(150, 10, t=3, seed=9, noise=2.0)
    s = np.random.default_rng(9).uniform(0.3, 2.0, 150)
    alphas = np.logspace(-2, 3, 40)
    ours = RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y, sample_weight=s)
    ref = sk.RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y, sample_weight=s)
    np.testing.assert_array_equal(ours.alpha_, ref.alpha_)
    assert rel(ours.coef_, ref.coef_) < 1e-8


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_absolute_error"])
def test_ridgecv_kfold_scores_equal_gridsearch(scoring):
    X, y = make_regression(150, 12, seed=10, noise=3.0)
    alphas = np.logspace(-2, 3, 30)
    folds = KFold(5, shuffle=True, random_state=0)
    ours = RidgeCV(alphas=alphas, cv=folds, scoring=scoring).fit(X, y)
    grid = GridSearchCV(sk.Ridge(), {"alpha": alphas}, cv=folds,
                        scoring=scoring or "neg_mean_squared_error").fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               grid.cv_results_["mean_test_score"], rtol=1e-9)
    np.testing.assert_allclose(ours.cv_results_["std_test_score"],
                               grid.cv_results_["std_test_score"], rtol=1e-7, atol=1e-12)
    for k in range(5):
        np.testing.assert_allclose(ours.cv_results_[f"split{k}_test_score"],
                                   grid.cv_results_[f"split{k}_test_score"], rtol=1e-9)
    assert ours.alpha_ == grid.best_params_["alpha"]


@pytest.mark.filterwarnings("ignore::ridgeway.exceptions.AlphaEdgeWarning")
@pytest.mark.parametrize("weighted", [False, True])
def test_ridgecv_loo_wide_data_uses_the_dual(weighted):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 120))
    y = X[:, :5] @ np.ones(5) + rng.normal(size=40)
    s = rng.uniform(0.5, 2.0, 40) if weighted else None
    alphas = np.logspace(-1, 4, 30)
    ours = RidgeCV(alphas=alphas).fit(X, y, sample_weight=s)
    ref = sk.RidgeCV(alphas=alphas).fit(X, y, sample_weight=s)
    assert ours.alpha_ == ref.alpha_
    # ridgeway reports the weighted mean sum(s e^2) / sum(s); scikit-learn sum(s e^2) / n
    scale = 1.0 if s is None else s.sum() / len(s)
    np.testing.assert_allclose(ours.best_score_ * scale, ref.best_score_, rtol=1e-8)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)
    assert ours.solver_ == "eigen-dual"


def test_ridgecv_wide_per_target_alpha_equals_ridge_per_target():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(30, 90)) + 2.0
    Y = X[:, :3] @ rng.normal(size=(3, 3)) * [1.0, 0.1, 10.0] + rng.normal(size=(30, 3))
    cv = RidgeCV(alphas=np.logspace(-2, 3, 25), alpha_per_target=True).fit(X, Y)
    ref = sk.Ridge(alpha=cv.alpha_).fit(X, Y)
    np.testing.assert_allclose(cv.coef_, ref.coef_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(cv.intercept_, ref.intercept_, rtol=1e-8)


def test_sparse_float32_wide_equals_dense_float64():
    rng = np.random.default_rng(13)
    dense = rng.normal(size=(30, 80)) * (rng.random((30, 80)) < 0.3)
    dense[:, 0] += 1e4
    dense = dense.astype(np.float32)
    y = dense[:, 1:4].astype(np.float64) @ [1.0, -1.0, 2.0] + rng.normal(size=30)
    ours = Ridge(alpha=1e-3).fit(sp.csr_matrix(dense), y)
    ref = sk.Ridge(alpha=1e-3).fit(dense.astype(np.float64), y)
    assert ours.coef_.dtype == np.float32
    atol = 1e-6 * np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5)


@pytest.mark.parametrize("scoring", [None, "r2"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridgecv_kfold_wide_data_equals_gridsearch(scoring, weighted):
    # p > n: one kernel eigendecomposition per fold, never a p x p matrix
    rng = np.random.default_rng(14)
    X = rng.normal(size=(60, 300)) + rng.normal(scale=2.0, size=300)
    y = X[:, :10] @ rng.normal(size=10) + rng.normal(size=60)
    s = rng.uniform(0.5, 2.0, 60) if weighted else None
    alphas = np.logspace(0, 4, 20)
    folds = KFold(4, shuffle=True, random_state=0)
    ours = RidgeCV(alphas=alphas, cv=folds, scoring=scoring).fit(X, y, sample_weight=s)
    if s is None:
        grid = GridSearchCV(sk.Ridge(), {"alpha": alphas}, cv=folds,
                            scoring=scoring or "neg_mean_squared_error").fit(X, y)
        np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                                   grid.cv_results_["mean_test_score"], rtol=1e-9)
        assert ours.alpha_ == grid.best_params_["alpha"]
    else:  # weighted held-out scores: compare with refits by hand
        for k, (train, test) in enumerate(folds.split(X)):
            for a in (0, 10, 19):
                ref = sk.Ridge(alpha=alphas[a]).fit(X[train], y[train], sample_weight=s[train])
                pred = ref.predict(X[test])
                if scoring is None:
                    want = -np.average((y[test] - pred) ** 2, weights=s[test])
                else:
                    want = r2_score(y[test], pred, sample_weight=s[test])
                got = ours.cv_results_[f"split{k}_test_score"][a]
                np.testing.assert_allclose(got, want, rtol=1e-9)
    ref = sk.Ridge(alpha=ours.alpha_).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-12)
