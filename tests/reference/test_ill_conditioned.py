"""Accuracy on ill-conditioned designs against 60-digit mpmath solutions of the same data."""

import mpmath
import numpy as np
import pytest

from ridgeway import Ridge

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
