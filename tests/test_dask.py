"""ridgeway.dask on a real two-worker ``distributed.LocalCluster`` (one thread per worker).

The shared cluster runs its workers as threads of this process (on a shared 2-core machine a
task costs several milliseconds in a process cluster); the failure test starts a cluster of
worker processes, so the fits' functions and data also travel through pickling there.

Every fitted model is compared with the in-memory estimator on the same rows (ridge to 1e-10,
GLMs to 1e-8 relative); k-fold comparisons pass the in-memory estimator the same folds
(``PredefinedSplit`` of ``ridgeway.linalg.fold_of``).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import PredefinedSplit

import ridgeway
from ridgeway.linalg import GramStats, fold_of

from .conftest import ridge_closed_form

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import ridgeway.dask as rd  # noqa: E402
from ridgeway.dask._blocks import row_blocks  # noqa: E402
from ridgeway.dask._ridge import distributed_stats  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def local_cluster(processes: bool):
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                    dashboard_address=None, silence_logs=50)


@pytest.fixture(scope="module")
def client():
    with local_cluster(processes=False) as cluster, distributed.Client(cluster) as c:
        yield c


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def data(n=97, p=5, t=None, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3, p) + rng.normal(scale=3, size=p) + offset
    w = rng.normal(size=(p,) if t is None else (p, t))
    y = 2.0 + (X - offset) @ w + rng.normal(size=(n,) if t is None else (n, t))
    return X, y, rng.uniform(0.2, 3.0, n)


CHUNKINGS = {
    "even": lambda n: 25,
    "uneven-with-empty": lambda n: (40, 0, 1, 30, n - 71),
    "one-row": lambda n: 1,  # with n <= 40: each partition is a task of a few milliseconds
}


def dask_of(a, rows):
    chunks = (rows,) + ((a.shape[1],) if a.ndim == 2 else ())
    return da.from_array(a, chunks=chunks)


def folds_of(n, k=5):
    return PredefinedSplit(fold_of(np.arange(n), k))


# ---------------------------------------------------------------------------- ridge
@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_equals_in_memory(client, chunking, weighted):
    X, y, w = data(n=30 if chunking == "one-row" else 97)
    sw = w if weighted else None
    rows = CHUNKINGS[chunking](len(y))
    sw_d = None if sw is None else dask_of(sw, rows)
    m = rd.Ridge(alpha=2.5).fit(dask_of(X, rows), dask_of(y, rows), sample_weight=sw_d)
    ref = ridgeway.Ridge(alpha=2.5).fit(X, y, sample_weight=sw)
    assert isinstance(m.coef_, np.ndarray)
    assert rel(m.coef_, ref.coef_) < 1e-10
    assert abs(m.intercept_ - ref.intercept_) < 1e-10 * (1 + abs(ref.intercept_))
    pred = m.predict(dask_of(X, rows))
    assert isinstance(pred, da.Array)
    assert rel(pred.compute(), ref.predict(X)) < 1e-10


def test_ridge_large_means_match_closed_form(client):
    """The partitions merge centered statistics: a column mean of 1e7 loses no accuracy."""
    X, y, w = data(n=200, offset=1e7)
    m = rd.Ridge(alpha=1.0).fit(dask_of(X, (50, 1, 149)), dask_of(y, (50, 1, 149)),
                                sample_weight=dask_of(w, (50, 1, 149)))
    coef, intercept = ridge_closed_form(X - 1e7, y, 1.0, w)  # shifted: well conditioned
    assert rel(m.coef_, coef) < 1e-8
    assert abs((m.intercept_ + 1e7 * m.coef_.sum()) - intercept) < 1e-6 * abs(intercept)


@pytest.mark.parametrize("cv", [None, "gcv", 5])
@pytest.mark.parametrize("chunking", ["even", "uneven-with-empty"])
def test_ridgecv_equals_in_memory(client, cv, chunking):
    X, y, w = data(n=120)
    rows = CHUNKINGS[chunking](len(y))
    m = rd.RidgeCV(cv=cv).fit(dask_of(X, rows), dask_of(y, rows),
                              sample_weight=dask_of(w, rows))
    ref = ridgeway.RidgeCV(cv=folds_of(len(y)) if cv == 5 else cv).fit(X, y, sample_weight=w)
    assert m.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert rel(m.coef_, ref.coef_) < 1e-10
    assert set(m.cv_results_) == set(ref.cv_results_)
    for key, value in ref.cv_results_.items():
        np.testing.assert_allclose(m.cv_results_[key], value, rtol=1e-10, err_msg=key)
    assert m.cv_mode_ == ref.cv_mode_


@pytest.mark.parametrize("cv", [None, 4])
def test_ridgecv_per_target_and_one_se(client, cv):
    X, y, _ = data(n=90, t=3, seed=1)
    params = {"alpha_per_target": True, "selection": "1se", "alphas": np.geomspace(1e-2, 1e3, 30)}
    m = rd.RidgeCV(cv=cv, **params).fit(dask_of(X, 20), dask_of(y, 20))
    ref = ridgeway.RidgeCV(cv=folds_of(len(y), 4) if cv else None, **params).fit(X, y)
    np.testing.assert_allclose(m.alpha_, ref.alpha_, rtol=1e-12)
    assert rel(m.coef_, ref.coef_) < 1e-10
    np.testing.assert_allclose(m.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-10)


def test_ridgecv_fold_column_equals_the_same_split_in_memory(client):
    X, y, _ = data(n=100)
    fold = np.arange(100) % 3
    m = rd.RidgeCV(cv=3).fit(dask_of(X, 30), dask_of(y, 30), fold=dask_of(fold, 30))
    ref = ridgeway.RidgeCV(cv=PredefinedSplit(fold)).fit(X, y)
    assert m.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(m.cv_results_["split2_test_score"],
                               ref.cv_results_["split2_test_score"], rtol=1e-10)


def test_dataframe_input_and_row_order(client):
    pd = pytest.importorskip("pandas")
    X, y, _ = data(n=80)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    ddf = dd.from_pandas(frame, npartitions=3)
    ys = dd.from_pandas(pd.Series(y), npartitions=3)
    m = rd.RidgeCV(cv="gcv").fit(ddf, ys)
    ref = ridgeway.RidgeCV(cv="gcv").fit(frame, y)
    assert list(m.feature_names_in_) == list(frame.columns)
    assert rel(m.coef_, ref.coef_) < 1e-10
    perm = np.random.default_rng(3).permutation(len(y))
    shuffled = rd.RidgeCV(cv="gcv").fit(dask_of(X[perm], 17), dask_of(y[perm], 17))
    assert rel(shuffled.coef_, m.coef_) < 1e-10
    assert rel(m.predict(ddf).compute(), ref.predict(frame)) < 1e-10


@settings(max_examples=12, deadline=None)
@given(cuts=st.lists(st.integers(0, 60), min_size=0, max_size=6), weighted=st.booleans())
def test_partition_statistics_merge_to_the_whole(client, cuts, weighted):
    X, y, w = data(n=60, seed=4)
    edges = np.sort(np.array([0, *cuts, 60]))
    rows = tuple(int(r) for r in np.diff(edges))
    sw = w if weighted else None
    blocks = row_blocks(dask_of(X, rows), dask_of(y, rows),
                        None if sw is None else dask_of(sw, rows))
    got = distributed_stats(blocks)
    whole = GramStats.from_arrays(X, y, sw)
    assert got.n == 60
    for name in ("weight_sum", "x_mean", "y_mean", "xx", "xy", "yy"):
        np.testing.assert_allclose(getattr(got, name), getattr(whole, name), rtol=1e-11,
                                   atol=1e-11 * np.max(np.abs(whole.xx)), err_msg=name)


# ---------------------------------------------------------------------------- GLMs
def classification(n=300, p=4, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + rng.normal(size=p)
    eta = X @ rng.normal(size=p)
    y = (np.digitize(eta, np.quantile(eta, np.linspace(0, 1, classes + 1)[1:-1]))
         + (rng.uniform(size=n) < 0.15)) % classes
    return X, y, rng.uniform(0.3, 2.0, n)


@pytest.mark.parametrize("classes,chunking,weighted", [
    (2, "uneven-with-empty", False), (2, "uneven-with-empty", True), (2, "one-row", True),
    (3, "uneven-with-empty", False), (3, "even", True)])
def test_logistic_equals_in_memory(client, classes, chunking, weighted):
    X, y, w = classification(n=40 if chunking == "one-row" else 300, classes=classes)
    sw = w if weighted else None
    rows = CHUNKINGS[chunking](len(y))
    Xd = dask_of(X, rows)
    m = rd.LogisticRegression(C=0.7).fit(Xd, dask_of(y, rows),
                                         sample_weight=None if sw is None else dask_of(sw, rows))
    ref = ridgeway.LogisticRegression(C=0.7).fit(X, y, sample_weight=sw)
    assert rel(m.coef_, ref.coef_) < 1e-8
    assert rel(m.intercept_, ref.intercept_) < 1e-8
    np.testing.assert_array_equal(m.classes_, ref.classes_)
    proba = m.predict_proba(Xd)
    assert isinstance(proba, da.Array)
    assert rel(proba.compute(), ref.predict_proba(X)) < 1e-8
    np.testing.assert_array_equal(m.predict(Xd).compute(), ref.predict(X))


def test_logistic_lbfgs_and_class_weight(client):
    X, y, _ = classification(n=200, seed=2)
    for params in ({"solver": "lbfgs", "tol": 1e-10}, {"class_weight": "balanced"}):
        m = rd.LogisticRegression(alpha=0.5, **params).fit(dask_of(X, 33), dask_of(y, 33))
        ref = ridgeway.LogisticRegression(alpha=0.5, **params).fit(X, y)
        assert rel(m.coef_, ref.coef_) < 1e-8, params


@pytest.mark.parametrize("weighted", [False, True])
def test_poisson_equals_in_memory(client, weighted):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(250, 4))
    y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2, 0.1, 0.0])))
    sw = rng.uniform(0.5, 2, 250) if weighted else None
    rows = (100, 0, 1, 149)
    m = rd.PoissonRegressor(alpha=3.0).fit(dask_of(X, rows), dask_of(y, rows),
                                           sample_weight=None if sw is None else dask_of(sw, rows))
    ref = ridgeway.PoissonRegressor(alpha=3.0).fit(X, y, sample_weight=sw)
    assert rel(m.coef_, ref.coef_) < 1e-8
    assert abs(m.intercept_ - ref.intercept_) < 1e-8 * (1 + abs(ref.intercept_))
    assert rel(m.predict(dask_of(X, rows)).compute(), ref.predict(X)) < 1e-8


def test_logistic_cv_equals_in_memory_with_the_same_folds(client):
    X, y, w = classification(n=250, seed=3)
    alphas = np.geomspace(1e-2, 1e2, 8)
    m = rd.LogisticRegressionCV(alphas=alphas, cv=4).fit(dask_of(X, (60, 0, 190)),
                                                         dask_of(y, (60, 0, 190)),
                                                         sample_weight=dask_of(w, (60, 0, 190)))
    ref = ridgeway.LogisticRegressionCV(alphas=alphas, cv=folds_of(250, 4),
                                        solver="newton-cholesky").fit(X, y, sample_weight=w)
    assert m.alpha_ == ref.alpha_
    assert rel(m.coef_, ref.coef_) < 1e-8
    assert set(m.cv_results_) == set(ref.cv_results_)
    for key in ("mean_test_score", "split0_test_score", "split3_test_score"):
        # both fold paths stop at the CV path tolerance (1e-6 relative gradient)
        np.testing.assert_allclose(m.cv_results_[key], ref.cv_results_[key], rtol=1e-6)
    assert m.coefs_paths_[1].shape == ref.coefs_paths_[1].shape


@pytest.fixture
def subset_hessians(monkeypatch):
    """Newton's Hessian from every m-th partition even on small data; records the strides."""
    import ridgeway.dask._glm as glm

    monkeypatch.setattr(glm, "HESSIAN_ROWS_PER_PARAM", 20)
    strides = []
    run = glm.Passes.run

    def spy(self, requests):
        strides.extend(m for _, _, m in requests if m)
        return run(self, requests)

    monkeypatch.setattr(glm.Passes, "run", spy)
    return strides


@pytest.mark.parametrize("classes", [2, 3])
def test_subset_hessian_newton_reaches_the_in_memory_optimum_on_sorted_partitions(
        client, subset_hessians, classes):
    # rows sorted by label and first feature: the first partitions' Hessian is far from the
    # whole one's, yet the exact gradient and line search keep the same optimum (a tighter
    # tol on both sides: the steps converge linearly, stopping just under tol)
    X, y, w = classification(n=1200, classes=classes, seed=7)
    order = np.lexsort((X[:, 0], y))
    X, y, w = X[order], y[order], w[order]
    m = rd.LogisticRegression(C=2.0, tol=1e-10).fit(dask_of(X, 60), dask_of(y, 60),
                                                    sample_weight=dask_of(w, 60))
    ref = ridgeway.LogisticRegression(C=2.0, tol=1e-10).fit(X, y, sample_weight=w)
    assert max(subset_hessians) > 1  # some steps took the Hessian of a partition subset
    assert rel(m.coef_, ref.coef_) < 1e-8
    assert rel(m.intercept_, ref.intercept_) < 1e-8


def test_subset_hessian_cv_folds_and_poisson(client, subset_hessians):
    X, y, w = classification(n=800, seed=8)
    order = np.argsort(X[:, 1])
    X, y, w = X[order], y[order], w[order]
    alphas = np.geomspace(1e-2, 1e2, 5)
    m = rd.LogisticRegressionCV(alphas=alphas, cv=4, tol=1e-10).fit(
        dask_of(X, 50), dask_of(y, 50), sample_weight=dask_of(w, 50))
    ref = ridgeway.LogisticRegressionCV(alphas=alphas, cv=folds_of(800, 4), tol=1e-10,
                                        solver="newton-cholesky").fit(X, y, sample_weight=w)
    assert max(subset_hessians) > 1
    assert m.alpha_ == ref.alpha_
    assert rel(m.coef_, ref.coef_) < 1e-8
    np.testing.assert_allclose(m.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-6)
    rng = np.random.default_rng(9)
    Xp = np.sort(rng.normal(size=(900, 3)), axis=0)
    yp = rng.poisson(np.exp(0.3 + Xp @ np.array([0.4, -0.3, 0.2])))
    mp = rd.PoissonRegressor(alpha=1.0, tol=1e-10).fit(dask_of(Xp, 45), dask_of(yp, 45))
    refp = ridgeway.PoissonRegressor(alpha=1.0, tol=1e-10).fit(Xp, yp)
    assert rel(mp.coef_, refp.coef_) < 1e-8


@pytest.fixture
def sample_starts(monkeypatch):
    """Newton started from the in-memory fit of every m-th row even on small data; records
    whether each fit's start came from its sample."""
    import ridgeway.dask._glm as glm

    monkeypatch.setattr(glm, "START_ROWS_PER_PARAM", 4)
    used = []
    sample_start = glm.sample_start

    def spy(sample, target, alpha, start, total):
        theta = sample_start(sample, target, alpha, start, total)
        used.append(theta is not start)
        return theta

    monkeypatch.setattr(glm, "sample_start", spy)
    return used


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("intercept", [True, False])
def test_sample_start_reaches_the_in_memory_optimum(client, sample_starts, classes, intercept):
    # the rows sorted by label: the sample (every m-th row by position) still covers them all
    X, y, w = classification(n=1500, classes=classes, seed=11)
    order = np.argsort(y, kind="stable")
    X, y, w = X[order], y[order], w[order]
    m = rd.LogisticRegression(C=0.5, fit_intercept=intercept, class_weight="balanced").fit(
        dask_of(X, 70), dask_of(y, 70), sample_weight=dask_of(w, 70))
    ref = ridgeway.LogisticRegression(C=0.5, fit_intercept=intercept, class_weight="balanced",
                                      tol=1e-12).fit(X, y, sample_weight=w)
    assert sample_starts == [True]
    assert rel(m.coef_, ref.coef_) < 1e-7
    if intercept:
        assert rel(m.intercept_, ref.intercept_) < 1e-7
    rng = np.random.default_rng(12)
    Xp = rng.normal(size=(1000, 3))
    yp = rng.poisson(np.exp(0.3 + Xp @ np.array([0.4, -0.3, 0.2])))
    mp = rd.PoissonRegressor(alpha=1.0).fit(dask_of(Xp, 45), dask_of(yp, 45))
    refp = ridgeway.PoissonRegressor(alpha=1.0, tol=1e-12).fit(Xp, yp)
    assert sample_starts == [True, True]
    assert rel(mp.coef_, refp.coef_) < 1e-7


def test_sample_start_is_near_the_optimum_and_saves_passes(client, monkeypatch):
    # 400 sampled rows of 8,000, their weights scaled to all rows: the start's error is of
    # the order of sqrt(parameters / sampled rows) = 0.11, and Newton from it takes fewer
    # passes than from zero to the same optimum
    import ridgeway.dask._glm as glm

    monkeypatch.setattr(glm, "START_ROWS_PER_PARAM", 80)
    starts = []
    sample_start = glm.sample_start
    monkeypatch.setattr(glm, "sample_start",
                        lambda *a: starts.append(sample_start(*a)) or starts[-1])
    rng = np.random.default_rng(14)
    X = rng.normal(size=(8000, 4))
    y = (rng.uniform(size=8000) < 1 / (1 + np.exp(-(X @ [1.5, -1.0, 0.5, 2.0] + 0.5))))
    ref = ridgeway.LogisticRegression(C=1 / 20, tol=1e-12).fit(X, y)
    best = np.append(ref.coef_.ravel(), ref.intercept_)
    warm = rd.LogisticRegression(C=1 / 20).fit(dask_of(X, 500), dask_of(y, 500))
    assert len(starts) == 1 and rel(starts[0].ravel(), best) < 0.3
    monkeypatch.setattr(glm, "START_MIN_STRIDE", 10**9)
    cold = rd.LogisticRegression(C=1 / 20).fit(dask_of(X, 500), dask_of(y, 500))
    assert len(starts) == 1
    assert warm.n_passes_ < cold.n_passes_
    assert rel(warm.coef_, ref.coef_) < 1e-7 and rel(cold.coef_, ref.coef_) < 1e-7


def test_sample_start_falls_back_on_a_separable_sample(client, sample_starts):
    # alpha = 0 on a sample whose classes a line separates: its fit diverges, so Newton
    # starts from zero; the whole data overlap, and the fit reaches their optimum
    rng = np.random.default_rng(13)
    X = rng.normal(size=(1200, 2))
    y = (X[:, 0] > 0).astype(int)
    flip = np.zeros(1200, bool)
    flip[1::2] = rng.uniform(size=600) < 0.3  # odd positions only: the sample (even) stays clean
    y[flip] = 1 - y[flip]
    m = rd.LogisticRegression(C=np.inf).fit(dask_of(X, 100), dask_of(y, 100))
    ref = ridgeway.LogisticRegression(C=np.inf, tol=1e-12).fit(X, y)
    assert sample_starts == [False]
    assert rel(m.coef_, ref.coef_) < 1e-7


def test_sample_start_needs_every_class_in_the_sample(client, sample_starts):
    # class 2 only at odd positions, the sample (every 50th row) has none of it: its fit would
    # push that intercept off, so Newton starts from the intercept-only optimum
    X, y, _ = classification(n=1000, classes=3, seed=15)
    y = np.where(y == 2, 0, y)
    y[1::2][: 100] = 2
    m = rd.LogisticRegression(C=0.5).fit(dask_of(X, 100), dask_of(y, 100))
    ref = ridgeway.LogisticRegression(C=0.5, tol=1e-12).fit(X, y)
    assert sample_starts == [False]
    assert rel(m.coef_, ref.coef_) < 1e-7
    assert rel(m.intercept_, ref.intercept_) < 1e-7


def test_nan_in_the_sample_is_named_by_the_first_pass(client, sample_starts):
    Xc, yc, _ = classification(n=1000)
    Xc[500, 1] = np.nan  # position 500: a sampled row (stride 1000 // 20 = 50)
    with pytest.raises(ValueError, match=r"partition 5, rows 500-599.*row 500, column 1"):
        rd.LogisticRegression().fit(dask_of(Xc, 100), dask_of(yc, 100))
    assert sample_starts == [False]


# ---------------------------------------------------------------------------- bad input
def test_nan_in_a_late_partition_names_partition_and_rows(client):
    X, y, _ = data(n=100)
    X[83, 2] = np.nan
    with pytest.raises(ValueError, match=r"partition 3, rows 75-99.*row 83, column 2"):
        rd.RidgeCV().fit(dask_of(X, 25), dask_of(y, 25))
    Xc, yc, _ = classification(n=100)
    Xc[83, 2] = np.inf
    with pytest.raises(ValueError, match=r"partition 3, rows 75-99"):
        rd.LogisticRegression().fit(dask_of(Xc, 25), dask_of(yc, 25))


def test_fold_out_of_range_and_misaligned_inputs(client):
    X, y, _ = data(n=40)
    fold = np.arange(40) % 3
    fold[31] = 7
    with pytest.raises(ValueError, match=r"0\.\.2 \(cv=3\); partition 3, rows 30-39 has 7"):
        rd.RidgeCV(cv=3).fit(dask_of(X, 10), dask_of(y, 10), fold=dask_of(fold, 10))
    with pytest.raises(ValueError, match="y has 39 rows but X has 40"):
        rd.Ridge().fit(dask_of(X, 10), y[:39])
    with pytest.raises(ValueError, match="takes cv as a number of folds k"):
        rd.RidgeCV(cv=folds_of(40)).fit(dask_of(X, 10), dask_of(y, 10))
    with pytest.raises(TypeError, match="dask.array or dask.dataframe"):
        rd.Ridge().fit(X, y)


def test_non_numeric_column_and_negative_count(client):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(10.0), "b": list("xyxyxyxyxy")})
    with pytest.raises(ValueError, match="non-numeric column.*'b'"):
        rd.Ridge().fit(dd.from_pandas(frame, npartitions=2), np.arange(10.0))
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.ones(30)
    y[22] = -1
    with pytest.raises(ValueError, match=r"partition 2 \(rows 20-29\) has -1.0 at row 22"):
        rd.PoissonRegressor().fit(dask_of(X, 10), dask_of(y, 10))


def test_empty_partitions_change_nothing(client):
    """Empty partitions (frequent after filtering a data frame) contribute nothing."""
    X, y, _ = data(n=50)
    with_empty = rd.RidgeCV(cv=5).fit(dask_of(X, (0, 20, 0, 0, 30, 0)),
                                      dask_of(y, (0, 20, 0, 0, 30, 0)))
    plain = rd.RidgeCV(cv=5).fit(dask_of(X, 50), dask_of(y, 50))
    assert rel(with_empty.coef_, plain.coef_) < 1e-12
    np.testing.assert_allclose(with_empty.cv_results_["split1_test_score"],
                               plain.cv_results_["split1_test_score"], rtol=1e-12)


# ---------------------------------------------------------------------------- conventions
def test_dask_ml_lambda_conversion(client):
    """dask-ml's C through ``ridgeway.conventions``: exact without dask-glm's standardization
    and intercept; with its default standardization, the same model as ridgeway on X / sd."""
    dml = pytest.importorskip("dask_ml.linear_model")
    from ridgeway.conventions import to_alpha

    X, y, _ = data(n=200, p=3, seed=7)
    Xd, yd = dask_of(X, 50), dask_of(y, 50)
    opts = {"fit_intercept": False, "solver": "lbfgs", "tol": 1e-12, "max_iter": 500}
    raw = {"normalize": False}
    alpha = to_alpha(0.02, "dask_ml", loss="squared")
    lin = dml.LinearRegression(C=0.02, solver_kwargs=raw, **opts).fit(Xd, yd)
    ours = ridgeway.Ridge(alpha=alpha, fit_intercept=False).fit(X, y)
    assert rel(lin.coef_, ours.coef_) < 1e-5
    sd = X.std(axis=0)
    lin = dml.LinearRegression(C=0.02, **opts).fit(Xd, yd)
    ours = ridgeway.Ridge(alpha=alpha, fit_intercept=False).fit(X / sd, y)
    assert rel(lin.coef_, ours.coef_ / sd) < 1e-5
    Xc, yc, _ = classification(n=200, p=3, seed=8)
    log = dml.LogisticRegression(C=0.05, solver_kwargs=raw, **opts).fit(dask_of(Xc, 50),
                                                                       dask_of(yc, 50))
    ours = ridgeway.LogisticRegression(alpha=to_alpha(0.05, "dask_ml", loss="log"),
                                       fit_intercept=False).fit(Xc, yc)
    assert rel(log.coef_, ours.coef_[0]) < 1e-5
    assert to_alpha(3.0, "dask_glm", loss="log") == 3.0
    assert to_alpha(3.0, "dask_glm", loss="squared") == 1.5


# ---------------------------------------------------------------------------- failures
def _die_on_call(block, marker, call):
    """Kill the worker process at the ``call``-th block computed (counted in ``marker``)."""
    with open(marker, "a+") as fh:
        fh.seek(0)
        count = len(fh.read()) + 1
        fh.write("x")
    if count == call:
        os._exit(1)
    return block


def test_worker_killed_mid_fit_gives_the_right_model(client, tmp_path):
    """On a cluster of worker processes, a task kills its worker in the middle of a fit: dask
    reschedules the lost tasks (the nanny restarts the worker) and the fit completes with the
    model of the full data."""
    Xc, yc, _ = classification(n=120)
    marker = tmp_path / "calls"
    with local_cluster(processes=True) as cluster, distributed.Client(cluster):
        # 4 partitions per pass: the 10th block is in the third pass over X
        Xd = dask_of(Xc, 30).map_blocks(_die_on_call, str(marker), 10, meta=np.empty((0, 0)))
        glm = rd.LogisticRegression().fit(Xd, dask_of(yc, 30))
    assert marker.read_text().count("x") > 10  # the fit went on after the kill
    assert rel(glm.coef_, ridgeway.LogisticRegression().fit(Xc, yc).coef_) < 1e-8
