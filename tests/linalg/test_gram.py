"""GramStats: accuracy against direct formulas, merge and downdate as exact inverses."""

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeway.linalg import GramStats


def direct_stats(X, y, s):
    W = s.sum()
    xm = s @ X / W
    ym = s @ y / W
    Xc, yc = X - xm, y - ym
    return W, xm, ym, (Xc * s[:, None]).T @ Xc, (Xc * s[:, None]).T @ yc, (yc * s[:, None]).T @ yc


def assert_stats_equal(a: GramStats, b: GramStats, rtol=1e-10, reference: GramStats = None):
    """Equal up to ``rtol`` times the magnitude of each statistic in ``reference`` (default b).

    Downdating removes rows from a larger set, so its rounding error scales with the
    statistics of that larger set, which is then passed as ``reference``.
    """
    reference = b if reference is None else reference
    assert a.n == b.n
    np.testing.assert_allclose(a.weight_sum, b.weight_sum, rtol=rtol)
    for name in ("x_mean", "y_mean", "xx", "xy", "yy"):
        va, vb = getattr(a, name), getattr(b, name)
        scale = max(np.max(np.abs(getattr(reference, name))), 1e-300)
        np.testing.assert_allclose(va, vb, rtol=0, atol=rtol * scale, err_msg=name)


@pytest.mark.parametrize("weighted", [False, True])
def test_matches_direct_formulas(weighted):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 6)) * [1, 10, 0.1, 1e3, 1, 1] + 50
    y = rng.normal(size=(500, 2))
    s = rng.uniform(0.1, 3, 500) if weighted else np.ones(500)
    g = GramStats.from_arrays(X, y, s if weighted else None, chunk_rows=37)
    W, xm, _ym, xx, xy, yy = direct_stats(X, y, s)
    np.testing.assert_allclose(g.weight_sum, W)
    np.testing.assert_allclose(g.x_mean, xm, rtol=1e-13)
    np.testing.assert_allclose(g.xx, xx, rtol=1e-11, atol=1e-9 * np.abs(xx).max())
    np.testing.assert_allclose(g.xy, xy, rtol=1e-11, atol=1e-9 * np.abs(xy).max())
    np.testing.assert_allclose(g.yy, yy, rtol=1e-11)


def test_large_means_stay_accurate():
    """Columns with mean 1e8 and spread 1: a naive X'X - W m m' would keep no digit."""
    rng = np.random.default_rng(2)
    X = 1e8 + rng.normal(size=(2000, 3))
    y = rng.normal(size=2000)
    g = GramStats.from_arrays(X, y, chunk_rows=100)
    Xc = (X - 1e8) - (X - 1e8).mean(axis=0)
    np.testing.assert_allclose(g.xx, Xc.T @ Xc, rtol=1e-6)


def test_sparse_equals_dense():
    X = sp.random(200, 15, density=0.2, format="csr", random_state=3)
    y = np.random.default_rng(3).normal(size=200)
    s = np.random.default_rng(4).uniform(0.5, 2, 200)
    assert_stats_equal(GramStats.from_arrays(X, y, s), GramStats.from_arrays(X.toarray(), y, s))


def test_float32_input_gives_float64_statistics():
    X, y = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32), np.ones(50)
    g = GramStats.from_arrays(X, y)
    assert g.xx.dtype == np.float64
    np.testing.assert_allclose(g.xx, GramStats.from_arrays(X.astype(np.float64), y).xx)


@given(
    n=st.integers(4, 60),
    p=st.integers(1, 5),
    cut=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
)
def test_merge_of_any_split_equals_whole(n, p, cut, seed, weighted):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 100, p) + rng.normal(scale=100, size=p)
    y = rng.normal(size=n)
    s = rng.uniform(0.1, 5, n) if weighted else np.ones(n)
    k = min(max(1, int(cut * n)), n - 1)
    perm = rng.permutation(n)
    a, b = perm[:k], perm[k:]
    whole = GramStats.from_arrays(X, y, s)
    merged = GramStats.from_arrays(X[a], y[a], s[a]) + GramStats.from_arrays(X[b], y[b], s[b])
    assert_stats_equal(merged, whole, rtol=1e-9)
    downdated = whole - GramStats.from_arrays(X[b], y[b], s[b])
    part = GramStats.from_arrays(X[a], y[a], s[a])
    assert_stats_equal(downdated, part, rtol=1e-9, reference=whole)


def test_from_batches_equals_from_arrays():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(103, 4)), rng.normal(size=103)
    batches = [(X[i : i + 10], y[i : i + 10]) for i in range(0, 103, 10)]
    assert_stats_equal(GramStats.from_batches(batches), GramStats.from_arrays(X, y))


def test_bad_combinations_raise():
    X, y = np.ones((5, 2)), np.ones(5)
    g = GramStats.from_arrays(X, y)
    with pytest.raises(ValueError, match="shapes differ"):
        g + GramStats.from_arrays(np.ones((5, 3)), y)
    with pytest.raises(ValueError, match="nothing"):
        g - g
    with pytest.raises(ValueError, match="No batches"):
        GramStats.from_batches([])


def test_uncentered_fast_path_is_as_accurate_as_centering():
    """Unweighted float64 data with |mean| <= sd take X'X - n m m' (at most one bit lost)."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3000, 5)) * [1, 2, 3, 4, 5] + [0.5, -1, 2, 0, 3]
    y = rng.normal(size=3000)
    g = GramStats.from_arrays(X, y)
    _, _, _, xx, xy, _ = direct_stats(X, y, np.ones(3000))
    np.testing.assert_allclose(g.xx, xx, rtol=1e-13, atol=1e-13 * np.abs(xx).max())
    np.testing.assert_allclose(g.xy[:, 0], xy, rtol=1e-11, atol=1e-12 * np.abs(xx).max())
    chunked = GramStats.from_arrays(X, y, np.ones(3000))  # weights force the centered path
    assert_stats_equal(g, chunked, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_statistics_of_any_split_into_batches_merge_to_the_whole(data):
    n = data.draw(st.integers(2, 60))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    shift = data.draw(st.sampled_from([0.0, 1e3, 1e6]))
    X = rng.normal(size=(n, 3)) + shift
    y = rng.normal(size=(n, 2))
    s = rng.uniform(0.1, 2, n) if data.draw(st.booleans()) else np.ones(n)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n - 1), max_size=6))))
    bounds = [0, *cuts, n]
    parts = [GramStats.from_arrays(X[a:b], y[a:b], s[a:b]) for a, b in pairwise(bounds)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    whole = GramStats.from_arrays(X, y, s)
    # the merge is exact up to rounding of the means: relative 1e-10 of each statistic,
    # co-moments measured against their own size (they are ~1 while the means are ~shift)
    assert_stats_equal(merged, whole, rtol=1e-9 if shift >= 1e6 else 1e-10)


def test_rows_of_weight_zero_only_count():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    s = np.ones(30)
    s[10:20] = 0.0
    zero = GramStats.from_arrays(X[10:20], y[10:20], s[10:20])
    assert zero.n == 10 and zero.weight_sum == 0 and np.all(zero.xx == 0)
    a = GramStats.from_arrays(X[:10], y[:10])
    b = GramStats.from_arrays(X[20:], y[20:])
    whole = GramStats.from_arrays(X, y, s)
    for merged in (zero + a + b, a + zero + b, a + b + zero):
        assert_stats_equal(merged, whole)
    assert (zero + zero).n == 20
