"""Bad input: one test per failure class, each asserting the message names the problem."""

import numpy as np
import pandas as pd
import pytest

from ridgeway import LinearSVC, LogisticRegression, PoissonRegressor, Ridge, RidgeCV
from ridgeway.exceptions import ConvergenceWarning


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 3)), rng.normal(size=20)


@pytest.mark.parametrize("est", [Ridge(), RidgeCV(), RidgeCV(cv=3)])
def test_nan_in_X_names_row_and_column(est, data):
    X, y = data
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN \(first at row 7, column 2"):
        est.fit(X, y)


def test_inf_in_X_named_by_column_name(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["age", "bmi", "dose"])
    frame.loc[3, "bmi"] = np.inf
    with pytest.raises(ValueError, match=r"contains inf \(first at row 3, column 'bmi'"):
        Ridge().fit(frame, y)


def test_nan_in_y(data):
    X, y = data
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN \(first at row 4"):
        Ridge().fit(X, y)


def test_mismatched_lengths(data):
    X, y = data
    with pytest.raises(ValueError, match="X has 20 row.* y has 19"):
        Ridge().fit(X, y[:-1])


@pytest.mark.parametrize("shape", [(0, 3), (5, 0)])
def test_empty_data(shape):
    with pytest.raises(ValueError, match="0 sample|0 feature"):
        Ridge().fit(np.empty(shape), np.empty(shape[0]))


def test_single_row():
    with pytest.raises(ValueError, match="1 sample is too few"):
        Ridge().fit(np.ones((1, 3)), [1.0])


@pytest.mark.parametrize("alpha", [-1.0, np.nan, np.inf, [1.0, -2.0]])
def test_negative_or_non_finite_alpha(alpha, data):
    X, y = data
    Y = np.column_stack([y, y])
    with pytest.raises(ValueError, match="alpha must be (non-negative|finite)"):
        Ridge(alpha=alpha).fit(X, Y)


def test_alpha_of_wrong_length(data):
    X, y = data
    with pytest.raises(ValueError, match="alpha has 3 value.* y has 2 target"):
        Ridge(alpha=[1.0, 2.0, 3.0]).fit(X, np.column_stack([y, y]))


def test_alpha_not_a_number(data):
    X, y = data
    with pytest.raises(TypeError, match="alpha must be a non-negative number"):
        Ridge(alpha="big").fit(X, y)


@pytest.mark.parametrize("alphas", [[1.0, -1.0], [np.nan], []])
def test_bad_alpha_grid(alphas, data):
    X, y = data
    with pytest.raises(ValueError, match="alphas must be"):
        RidgeCV(alphas=alphas).fit(X, y)


@pytest.mark.parametrize("weights,msg", [
    (-1.0, "Negative values in sample_weight are invalid \\(row 5"),
    (np.nan, "sample_weight contains a non-finite value .* at row 5"),
    (np.inf, "sample_weight contains a non-finite value .* at row 5"),
])
def test_bad_sample_weights(weights, msg, data):
    X, y = data
    s = np.ones(20)
    s[5] = weights
    with pytest.raises(ValueError, match=msg):
        Ridge().fit(X, y, sample_weight=s)


def test_sample_weight_wrong_length_and_zero_sum(data):
    X, y = data
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(20,\)"):
        Ridge().fit(X, y, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="sums to zero"):
        Ridge().fit(X, y, sample_weight=np.zeros(20))


def test_too_few_samples_for_folds():
    X, y = np.random.default_rng(0).normal(size=(4, 2)), np.arange(4.0)
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of samples"):
        RidgeCV(cv=5).fit(X, y)
    with pytest.raises(ValueError, match="Too few samples for the folds"):
        RidgeCV(cv=[(np.array([0]), np.array([1, 2, 3]))]).fit(X, y)


def test_non_numeric_column_named():
    frame = pd.DataFrame({"age": [1.0, 2.0, 3.0], "city": ["a", "b", "c"]})
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['city'\]"):
        Ridge().fit(frame, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="non-numeric entry"):
        Ridge().fit(np.array([["1", "x"], ["2", "3"]], dtype=object), [1.0, 2.0])


def test_constant_column_is_exact_zero_coefficient_not_nan():
    """Ridge itself handles a constant column exactly: it is centered away (coef 0)."""
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=30), np.full(30, 7.0)])
    coef = Ridge(alpha=1.0).fit(X, rng.normal(size=30)).coef_
    assert np.all(np.isfinite(coef)) and coef[1] == 0.0


@pytest.mark.parametrize("kwargs,msg", [
    ({"solver": "qr"}, "solver must be one of"),
    ({"penalty_factor": [1.0, -1.0, 1.0]}, "penalty_factor must be non-negative"),
    ({"penalty_factor": [1.0, 1.0]}, "penalty_factor has 2 value.* 3 feature"),
])
def test_bad_ridge_options(kwargs, msg, data):
    X, y = data
    with pytest.raises(ValueError, match=msg):
        Ridge(**kwargs).fit(X, y)


@pytest.mark.parametrize("kwargs,msg", [
    ({"selection": "best"}, "selection must be one of"),
    ({"cv": "loo"}, "cv must be one of \\['gcv'\\]"),
    ({"cv": "gcv", "selection": "1se"}, "GCV has none"),
    ({"alphas": "wide"}, "alphas must be one of \\['auto'\\]"),
])
def test_bad_ridgecv_options(kwargs, msg, data):
    X, y = data
    with pytest.raises(ValueError, match=msg):
        RidgeCV(**kwargs).fit(X, y)


def test_sparse_only_solvers_say_so():
    import scipy.sparse as sp

    X = sp.random(20, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="solver='svd' needs dense X"):
        Ridge(solver="svd").fit(X, np.ones(20))


@pytest.mark.parametrize(("solver", "name"), [("cg", "CG"), ("lsqr", "LSQR")])
def test_iterative_solver_at_its_limit_warns(solver, name):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 12)) @ np.diag(np.logspace(0, 4, 12))
    y = rng.normal(size=80)
    with pytest.warns(ConvergenceWarning, match=f"{name} did not reach"):
        Ridge(alpha=1e-6, solver=solver, max_iter=2, tol=1e-14).fit(X, y)


# ------------------------------------------------------------- scikit-learn's keywords
def test_sklearn_ridge_keywords_that_ridgeway_honours():
    from sklearn.linear_model import Ridge as SkRidge

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), rng.normal(size=40)
    ours = Ridge(alpha=2.0, random_state=0, copy_X=False, positive=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, SkRidge(alpha=2.0).fit(X, y).coef_, rtol=1e-10)
    cg = Ridge(alpha=2.0, solver="sparse_cg", tol=1e-12).fit(X, y)
    assert cg.solver_ == "sparse_cg"
    np.testing.assert_allclose(cg.coef_, ours.coef_, rtol=1e-8)
    for mode in (None, "auto", "svd", "eigen"):
        cv = RidgeCV(alphas=[0.1, 1.0, 10.0], gcv_mode=mode, store_cv_results=False).fit(X, y)
        assert cv.alpha_ == RidgeCV(alphas=[0.1, 1.0, 10.0]).fit(X, y).alpha_


@pytest.mark.parametrize(("params", "names"), [
    ({"positive": True}, ["positive=True", "positive=False"]),
    ({"solver": "sag"}, ["solver='sag'", "solver='auto'"]),
    ({"solver": "saga"}, ["solver='saga'", "solver='auto'"]),
    ({"solver": "lbfgs"}, ["solver='lbfgs'", "positive=True"]),
])
def test_sklearn_ridge_keywords_ridgeway_cannot_honour_name_the_alternative(params, names):
    X, y = np.eye(3), np.ones(3)
    with pytest.raises(ValueError) as info:
        Ridge(**params).fit(X, y)
    for name in names:
        assert name in str(info.value)


def test_store_cv_results_true_names_the_alternative():
    with pytest.raises(ValueError, match="store_cv_results=True.*loo_blocks"):
        RidgeCV(store_cv_results=True).fit(np.eye(4), np.arange(4.0))
    with pytest.raises(ValueError, match="gcv_mode"):
        RidgeCV(gcv_mode="qr").fit(np.eye(4), np.arange(4.0))


def test_y_of_one_column_gives_sklearn_shapes():
    from sklearn.linear_model import Ridge as SkRidge

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    for est in (Ridge(), RidgeCV(alphas=[1.0]), RidgeCV(alphas=[1.0], cv=4)):
        est.fit(X, y)
        ref = SkRidge().fit(X, y)
        assert est.coef_.shape == ref.coef_.shape == (3,)
        assert est.intercept_.shape == ref.intercept_.shape == (1,)
        assert est.predict(X).shape == ref.predict(X).shape


@pytest.mark.parametrize("est", [Ridge(), RidgeCV(), LogisticRegression(), LinearSVC(),
                                 PoissonRegressor()])
def test_every_estimator_validates_X_one_way(est):
    # the GLMs went through scikit-learn's validate_data alone ("could not convert string")
    frame = pd.DataFrame({"age": [1.0, 2.0, 3.0, 4.0], "city": ["a", "b", "c", "d"]})
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['city'\]"):
        est.fit(frame, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="Expected a 2-D array for X.*X.reshape"):
        est.fit(np.array([1.0, 2.0, 3.0, 4.0]), [0, 1, 0, 1])
