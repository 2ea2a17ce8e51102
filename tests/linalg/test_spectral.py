"""RidgeSpectrum: every per-alpha answer against its formula computed the slow way."""

import numpy as np
import pytest
import scipy.sparse as sp

from ridgeway import Ridge, RidgeSpectrum
from tests.conftest import make_regression, ridge_closed_form

ALPHAS = np.array([1e-4, 0.1, 1.0, 10.0, 1e3])


def brute_force_loo(X, y, alpha, s):
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        coef, b = ridge_closed_form(X[keep], y[keep], alpha, s[keep])
        out[i] = y[i] - X[i] @ coef - b
    return out


@pytest.mark.parametrize("shape", [(40, 6), (15, 30)])
@pytest.mark.parametrize("weighted", [False, True])
def test_coef_and_intercept_equal_closed_form(shape, weighted):
    X, y = make_regression(*shape, seed=11)
    s = np.random.default_rng(1).uniform(0.5, 2, shape[0]) if weighted else None
    spec = RidgeSpectrum.from_data(X, y, s)
    coefs, intercepts = spec.coef(ALPHAS[1:]), spec.intercept(ALPHAS[1:])
    for a, alpha in enumerate(ALPHAS[1:]):
        coef, b = ridge_closed_form(X, y, alpha, s)
        np.testing.assert_allclose(coefs[a], coef, rtol=1e-8, atol=1e-10 * np.abs(coef).max())
        np.testing.assert_allclose(intercepts[a], b, rtol=1e-8)


@pytest.mark.parametrize("shape", [(40, 6), (15, 30)])
def test_loo_residuals_equal_brute_force(shape):
    X, y = make_regression(*shape, seed=12)
    s = np.random.default_rng(2).uniform(0.5, 2, shape[0])
    spec = RidgeSpectrum.from_data(X, y, s)
    resid = np.concatenate([r for _, _, r in spec.loo_blocks(X, y, s, ALPHAS[1:], chunk_rows=7)])
    for a, alpha in enumerate(ALPHAS[1:]):
        np.testing.assert_allclose(resid[:, a, 0], brute_force_loo(X, y, alpha, s), rtol=1e-7)


def test_gcv_and_df_equal_hat_matrix_formulas():
    X, y = make_regression(30, 5, seed=13)
    spec = RidgeSpectrum.from_data(X, y)
    n = len(y)
    Xc = X - X.mean(axis=0)
    for _a, alpha in enumerate(ALPHAS):
        H = Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(5), Xc.T) + 1.0 / n
        coef, b = ridge_closed_form(X, y, alpha)
        rss = np.sum((y - X @ coef - b) ** 2)
        assert spec.df(alpha)[0] == pytest.approx(np.trace(H) - 1, rel=1e-10)
        assert spec.rss(alpha)[0, 0] == pytest.approx(rss, rel=1e-8)
        gcv = (rss / n) / (1 - np.trace(H) / n) ** 2
        assert spec.gcv(alpha)[0, 0] == pytest.approx(gcv, rel=1e-8)


def test_shrinkage_factors_are_singular_value_ratios():
    X, y = make_regression(50, 4, seed=14)
    sv = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    spec = RidgeSpectrum.from_data(X, y)
    np.testing.assert_allclose(spec.shrinkage(2.0)[0], sv**2 / (sv**2 + 2.0), rtol=1e-10)


def test_dual_equals_primal_and_sparse_equals_dense():
    X, y = make_regression(25, 10, seed=15)
    s = np.random.default_rng(3).uniform(0.5, 2, 25)
    primal = RidgeSpectrum.from_data(X, y, s, mode="primal")
    dual = RidgeSpectrum.from_data(X, y, s, mode="dual")
    np.testing.assert_allclose(dual.coef(ALPHAS), primal.coef(ALPHAS), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dual.df(ALPHAS), primal.df(ALPHAS), rtol=1e-9)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.5, X, 0.0))
    for mode in ("primal", "dual"):
        a = RidgeSpectrum.from_data(Xs, y, s, mode=mode)
        b = RidgeSpectrum.from_data(Xs.toarray(), y, s, mode=mode)
        np.testing.assert_allclose(a.coef(ALPHAS), b.coef(ALPHAS), rtol=1e-7, atol=1e-9)


def test_rank_deficient_alpha_to_zero_is_minimum_norm_least_squares():
    rng = np.random.default_rng(16)
    base = rng.normal(size=(40, 3))
    X = np.column_stack([base, base @ [1.0, -2.0, 0.5], base[:, 0] * 3])  # rank 3 of 5
    y = base @ [1.0, 2.0, 3.0] + 0.1 * rng.normal(size=40)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    min_norm = np.linalg.pinv(Xc) @ yc
    spec = RidgeSpectrum.from_data(X, y)
    assert spec.rank == 3
    np.testing.assert_allclose(spec.coef([0.0])[0], min_norm, rtol=1e-8)
    np.testing.assert_allclose(spec.coef([1e-10])[0], min_norm, rtol=1e-6)
    for solver in ("auto", "svd", "eigen", "refine"):
        np.testing.assert_allclose(Ridge(alpha=0.0, solver=solver).fit(X, y).coef_, min_norm,
                                   rtol=1e-7, err_msg=solver)


def test_test_sse_from_statistics_equals_explicit_residuals():
    from ridgeway import GramStats

    X, y = make_regression(80, 5, seed=17)
    s = np.random.default_rng(4).uniform(0.5, 2, 80)
    train, test = np.arange(60), np.arange(60, 80)
    spec = RidgeSpectrum.from_data(X[train], y[train], s[train])
    sse = spec.test_sse(GramStats.from_arrays(X[test], y[test], s[test]), ALPHAS)
    for a, alpha in enumerate(ALPHAS):
        coef, b = ridge_closed_form(X[train], y[train], alpha, s[train])
        direct = np.sum(s[test] * (y[test] - X[test] @ coef - b) ** 2)
        assert sse[a, 0] == pytest.approx(direct, rel=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_low_rank_alpha_basis_keeps_loo_exact(weighted):
    # many alphas and well-separated eigenvalues: the leverages go through a low-rank basis
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 60)) + 2.0
    Y = X @ rng.normal(size=(60, 2)) * 0.3 + rng.normal(size=(300, 2))
    s = rng.uniform(0.5, 2.0, 300) if weighted else np.ones(300)
    alphas = np.logspace(-1, 3, 80)
    spec = RidgeSpectrum.from_data(X, Y, s)
    left, right = spec.alpha_basis(alphas)
    assert left.shape[1] <= 20
    g = 1.0 / (spec.eigenvalues[:, None] + alphas[None, :])
    assert np.max(np.abs(left @ right - g) / g) <= 1e-13
    loo = np.concatenate([r for _, _, r in spec.loo_blocks(X, Y, s, alphas, chunk_rows=40)])
    for k in (0, 39, 79):
        for j in range(2):
            ref = brute_force_loo(X, Y[:, j], alphas[k], s)
            np.testing.assert_allclose(loo[:, k, j], ref, rtol=1e-10, atol=1e-12)


def test_alpha_basis_declines_when_the_rank_is_not_low():
    spec = RidgeSpectrum.from_data(*make_regression(200, 12))
    assert spec.alpha_basis(np.logspace(-3, 3, 6)) is None  # too few alphas to gain
    d = np.logspace(-10, 10, 60)  # eigenvalues spread over the alphas: no low rank
    wide = RidgeSpectrum(d, np.eye(60), np.ones((60, 1)), np.zeros(60), np.zeros(1),
                         np.ones(1), 100.0, 100)
    assert wide.alpha_basis(np.logspace(-10, 10, 60)) is None
