"""Invariants of ridge, as hypothesis properties over random data, alphas and weights."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import KFold

from ridgeway import Ridge, RidgeCV, RidgeSpectrum

SOLVERS = st.sampled_from(["auto", "cholesky", "eigen", "svd", "lsqr", "refine"])


@st.composite
def problems(draw, min_n=6, max_n=40, max_p=8):
    n = draw(st.integers(min_n, max_n))
    p = draw(st.integers(1, max_p))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, p) + rng.normal(scale=5, size=p)
    y = X @ rng.normal(size=p) + rng.normal(size=n) + rng.normal(scale=3)
    s = rng.uniform(0.2, 3.0, n)
    return X, y, s


def close(a, b, rtol=1e-7):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(np.max(np.abs(b)), 1e-12)
    return np.max(np.abs(a - b)) <= rtol * scale


@given(problems(), st.floats(1e-3, 1e3), st.floats(1.1, 100.0))
def test_coefficient_norm_falls_as_alpha_grows(data, alpha, factor):
    X, y, s = data
    small = Ridge(alpha=alpha).fit(X, y, sample_weight=s).coef_
    large = Ridge(alpha=alpha * factor).fit(X, y, sample_weight=s).coef_
    assert np.linalg.norm(large) <= np.linalg.norm(small) * (1 + 1e-9)


@given(problems(max_p=12))
def test_df_falls_from_rank_to_zero(data):
    X, y, s = data
    spec = RidgeSpectrum.from_data(X, y, s)
    alphas = np.logspace(-12, 12, 50) * spec.eigenvalues.max()
    df = spec.df(alphas)
    rank = np.linalg.matrix_rank(X - s @ X / s.sum())
    assert np.all(np.diff(df) <= 1e-12)
    assert abs(df[0] - rank) < 1e-3 * rank + 1e-6
    assert df[-1] < 1e-9 * rank + 1e-12


@given(problems(), st.floats(1e-2, 1e2), st.floats(-50, 50).filter(lambda c: abs(c) > 1e-3),
       SOLVERS)
def test_scaling_y_scales_coefficients(data, alpha, c, solver):
    X, y, s = data
    base = Ridge(alpha=alpha, solver=solver).fit(X, y, sample_weight=s)
    scaled = Ridge(alpha=alpha, solver=solver).fit(X, c * y, sample_weight=s)
    assert close(scaled.coef_, c * base.coef_)
    assert close(scaled.intercept_, c * base.intercept_)


@given(problems(), st.floats(1e-2, 1e2), st.integers(0, 2**16), SOLVERS)
def test_permuting_rows_changes_nothing(data, alpha, seed, solver):
    X, y, s = data
    perm = np.random.default_rng(seed).permutation(len(y))
    a = Ridge(alpha=alpha, solver=solver).fit(X, y, sample_weight=s)
    b = Ridge(alpha=alpha, solver=solver).fit(X[perm], y[perm], sample_weight=s[perm])
    assert close(a.coef_, b.coef_, 1e-9)
    assert close(a.intercept_, b.intercept_, 1e-9)


@given(problems(), st.floats(1e-2, 1e2), st.data(), SOLVERS)
def test_duplicated_row_equals_weight_two(data, alpha, draw, solver):
    X, y, _ = data
    i = draw.draw(st.integers(0, len(y) - 1))
    dup = Ridge(alpha=alpha, solver=solver).fit(np.vstack([X, X[i]]), np.append(y, y[i]))
    w = np.ones(len(y))
    w[i] = 2.0
    weighted = Ridge(alpha=alpha, solver=solver).fit(X, y, sample_weight=w)
    assert close(dup.coef_, weighted.coef_, 1e-8)
    assert close(dup.intercept_, weighted.intercept_, 1e-8)


@given(problems(), st.floats(1e-2, 1e2))
def test_stacked_copies_with_double_alpha(data, alpha):
    X, y, s = data
    single = Ridge(alpha=alpha).fit(X, y, sample_weight=s)
    stacked = Ridge(alpha=2 * alpha).fit(np.vstack([X, X]), np.concatenate([y, y]),
                                         sample_weight=np.concatenate([s, s]))
    assert close(single.coef_, stacked.coef_, 1e-8)


@pytest.mark.filterwarnings("ignore::ridgeway.exceptions.AlphaEdgeWarning")
@given(problems(min_n=15, max_n=50), st.integers(2, 5), st.booleans())
def test_kfold_downdating_equals_refitting_each_fold(data, k, weighted):
    X, y, s = data
    s = s if weighted else np.ones(len(y))
    alphas = np.logspace(-2, 3, 7)
    folds = KFold(k, shuffle=True, random_state=0)
    cv = RidgeCV(alphas=alphas, cv=folds).fit(X, y, sample_weight=s)
    for f, (train, test) in enumerate(folds.split(X)):
        for a, alpha in enumerate(alphas):
            m = Ridge(alpha=alpha).fit(X[train], y[train], sample_weight=s[train])
            err = np.sum(s[test] * (y[test] - m.predict(X[test])) ** 2) / s[test].sum()
            got = -cv.cv_results_[f"split{f}_test_score"][a]
            assert abs(got - err) <= 1e-7 * max(err, np.var(y) * 1e-6)
