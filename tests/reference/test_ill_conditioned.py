"""Accuracy on ill-conditioned designs against 60-digit mpmath solutions of the same data."""

import warnings

import mpmath
import numpy as np
import pytest

from ridgeway import Ridge, RidgeCV

mpmath.mp.dps = 60


def exact_ridge(X, y, alpha, fit_intercept=True):
    """Solve the normal equations of [1, X] with penalty diag(0, alpha) in 60-digit arithmetic."""
    _n, p = X.shape
    A = mpmath.matrix([[1.0, *row] if fit_intercept else list(row) for row in X.tolist()])
    k = A.cols
    M = A.T * A
    for j in range(k - p, k):
        M[j, j] += mpmath.mpf(alpha)
    sol = mpmath.lu_solve(M, A.T * mpmath.matrix(y.tolist()))
    sol = np.array([float(v) for v in sol])
    return (sol[1:], sol[0]) if fit_intercept else (sol, 0.0)


def rel_err(a, b):
    return np.max(np.abs(a - b) / np.abs(b))


@pytest.mark.parametrize("alpha", [0.0, 1e-10, 1e-4])
def test_vandermonde_degree_8(alpha):
    x = np.linspace(0.5, 3.0, 60)
    X = np.column_stack([x**k for k in range(1, 9)])
    y = np.sin(3 * x) + 0.01 * np.cos(17 * x)
    coef, b = exact_ridge(X, y, alpha)
    model = Ridge(alpha=alpha).fit(X, y)
    assert rel_err(model.coef_, coef) < 1e-10
    assert abs(model.intercept_ - b) / abs(b) < 1e-10


def test_nearly_collinear_columns():
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    X = np.column_stack([z, z + 1e-7 * rng.normal(size=200), rng.normal(size=200)]) + 100.0
    y = 1.0 + X @ [1.0, 2.0, -1.0] + 0.1 * rng.normal(size=200)
    coef, b = exact_ridge(X, y, 0.0)
    model = Ridge(alpha=0.0).fit(X, y)
    assert model.solver_ == "refine"
    assert rel_err(model.coef_, coef) < 1e-9
    assert abs(model.intercept_ - b) / abs(b) < 1e-9
    plain = np.linalg.lstsq(np.column_stack([np.ones(200), X]), y, rcond=None)[0]
    assert rel_err(model.coef_, coef) < 1e-3 * rel_err(plain[1:], coef)  # far beyond lstsq


def test_alpha_to_zero_is_continuous():
    rng = np.random.default_rng(1)
    X = np.vander(np.linspace(0, 1, 30), 6, increasing=True)[:, 1:]
    y = rng.normal(size=30)
    at_zero = Ridge(alpha=0.0).fit(X, y).coef_
    near_zero = Ridge(alpha=1e-14).fit(X, y).coef_
    coef, _ = exact_ridge(X, y, 1e-14)
    assert rel_err(near_zero, coef) < 1e-9
    assert rel_err(near_zero, at_zero) < 1e-6


def test_an_intercept_near_zero_is_judged_against_the_spread_of_y():
    # Large column means: recovering an intercept near zero from centered data cancels. Its
    # error is small on the scale it acts on, |b| + sd(y), so nothing is refined (the old
    # check measured it against |b| = 1e-6 alone and re-solved by QR in double-double).
    rng = np.random.default_rng(3)
    X = 1e3 + rng.normal(size=(80, 3))
    w = np.array([1.0, -2.0, 0.5])
    Y = np.column_stack([5e3 + X @ w + 0.01 * rng.normal(size=80), X @ w + 1e-6])
    model = Ridge(alpha=0.0).fit(X, Y)
    assert model.solver_ == "cholesky"
    for j in range(2):
        coef, b = exact_ridge(X, Y[:, j], 0.0)
        assert rel_err(model.coef_[j], coef) < 1e-10
        assert abs(model.intercept_[j] - b) <= 1e-12 * (abs(b) + Y[:, j].std())
        single = Ridge(alpha=0.0).fit(X, Y[:, j])
        np.testing.assert_allclose(model.coef_[j], single.coef_, rtol=1e-12)


def test_only_the_targets_that_need_it_are_refined():
    # Means a million times the spread: the intercept's error is large even against the
    # spread of y for the target whose intercept is near zero; only that target is refined.
    rng = np.random.default_rng(3)
    X = 1e6 + rng.normal(size=(80, 3))
    w = np.array([1.0, -2.0, 0.5])
    Y = np.column_stack([5e6 + X @ w + 0.01 * rng.normal(size=80), X @ w + 1e-3])
    model = Ridge(alpha=0.0).fit(X, Y)
    assert model.solver_ == "cholesky+refine"
    for j in range(2):
        coef, b = exact_ridge(X, Y[:, j], 0.0)
        assert rel_err(model.coef_[j], coef) < 1e-9
        assert abs(model.intercept_[j] - b) <= 1e-8 * abs(b)
        single = Ridge(alpha=0.0).fit(X, Y[:, j])
        assert single.solver_ == ("cholesky" if j == 0 else "refine")
        np.testing.assert_allclose(model.coef_[j], single.coef_, rtol=1e-12)


# ------------------------------------------------- data at the edges of float64's range
def _data(seed=0, n=40, p=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X @ np.arange(1.0, p + 1) + rng.normal(size=n)


@pytest.mark.parametrize(("sx", "sy", "alpha"), [
    (1e100, 1e300, 1.0),      # X'y overflows: NaN coefficients before
    (1e150, 1e150, 1e308),    # alpha at the top of float64
    (1e154, 1.0, 1.0),        # the gram overflows ("Eigenvalues did not converge" before)
    (1e-308, 1.0, 1.0),       # features at the bottom of float64
    (1.0, 1e300, 1.0),
])
@pytest.mark.parametrize("solver", ["auto", "eigen", "svd", "cg", "lsqr", "refine"])
def test_ridge_at_the_edges_of_float64_matches_a_rescaled_exact_solve(sx, sy, alpha, solver):
    X, y = _data()
    # the same problem on unit-scale data: w = (sy / sx) w', b = sy b', alpha' = alpha / sx^2
    scaled_alpha = mpmath.mpf(alpha) / mpmath.mpf(sx) ** 2
    if scaled_alpha > 1e100:  # w' = X_c'y_c / alpha' to a relative 1e-600
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        coef = (Xc.T @ yc) / alpha * sx * sx  # underflows: compared in its own units below
        expected = (Xc.T @ yc) / alpha * sx * sy
        b = y.mean() - X.mean(axis=0) @ ((Xc.T @ yc) / alpha) * sx * sx
    else:
        coef, b = exact_ridge(X, y, scaled_alpha)
        expected = coef * (sy / sx)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow leaks out either
        model = Ridge(alpha=alpha, solver=solver, tol=1e-14, max_iter=1000).fit(X * sx, y * sy)
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-7)
    np.testing.assert_allclose(model.intercept_, b * sy, rtol=1e-7)
    assert np.all(np.isfinite(model.predict(X * sx)))


def test_unrepresentable_ridge_solution_is_a_clear_error():
    X, y = _data()
    with pytest.raises(ValueError, match="not representable in float64.*Rescale X and y"):
        Ridge(alpha=0.0).fit(X * 1e-300, y * 1e300)  # |w| ~ 1e600


@pytest.mark.parametrize("cv", [None, 5])
@pytest.mark.parametrize(("sx", "sy", "alphas"), [
    (1e154, 1.0, None), (1e100, 1e300, None), (1e154, 1.0, [1.0, 10.0]),
    (1.0, 1e-200, None), (1e-120, 1.0, [1e-241, 1e-239])])
def test_ridgecv_on_rescaled_data_picks_the_same_model(sx, sy, alphas, cv):
    X, y = _data(1)
    scaled_alphas = None if alphas is None else np.asarray(alphas) / sx / sx
    ref = RidgeCV(alphas=scaled_alphas, cv=cv).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = RidgeCV(alphas=alphas, cv=cv).fit(X * sx, y * sy)
    np.testing.assert_allclose(model.alpha_, ref.alpha_ * sx * sx, rtol=1e-9)
    np.testing.assert_allclose(model.coef_, ref.coef_ * (sy / sx), rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, ref.intercept_ * sy, rtol=1e-9, atol=0)
    assert np.all(np.isfinite(model.cv_results_["alphas"]))


def test_ridgecv_where_no_alpha_is_representable_says_so():
    X, y = _data()
    with pytest.raises(ValueError, match="alpha chosen for this data is not representable"):
        RidgeCV().fit(X * 1e-308, y)


@pytest.mark.parametrize("cv", [None, 5])
def test_ridgecv_on_constant_X_predicts_the_mean(cv):
    _, y = _data()
    model = RidgeCV(alphas=[0.1, 1.0], cv=cv).fit(np.ones((40, 3)), y)
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == pytest.approx(y.mean(), rel=1e-14)
    # LOO of the mean alone: (y_i - mean) / (1 - 1/n)
    if cv is None:
        loo = (y - y.mean()) / (1 - 1 / y.size)
        assert -model.best_score_ == pytest.approx(np.mean(loo**2), rel=1e-12)


@pytest.mark.parametrize("cv", [None, 5])
def test_ridgecv_with_one_positive_weight_names_sample_weight(cv):
    X, y = _data()
    s = np.zeros(40)
    s[3] = 1.0
    with pytest.raises(ValueError, match="at least 2 samples with positive sample_weight"):
        RidgeCV(cv=cv).fit(X, y, sample_weight=s)


def test_ridgecv_fold_without_weight_names_the_fold():
    X, y = _data()
    s = np.ones(40)
    s[:8] = 0.0
    with pytest.raises(ValueError, match="Fold 0 has no held-out row with positive "
                                         "sample_weight.*shuffle"):
        RidgeCV(cv=5).fit(X, y, sample_weight=s)


@pytest.mark.parametrize("cv", [None, "gcv", 5])
def test_alpha_at_the_top_of_float64_is_no_failure(cv):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = RidgeCV(alphas=[1e308], cv=cv).fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    np.testing.assert_allclose(model.coef_, Xc.T @ yc / 1e308, rtol=1e-12)
