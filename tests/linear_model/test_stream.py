"""Streaming fits (partial_fit, fit_stream) equal the in-memory fit on the concatenated batches.

The reference is always ``fit`` on all rows at once, which for k-fold is given the same folds
as a scikit-learn splitter (``PredefinedSplit`` of the fold column, or explicit index lists);
the in-memory fit uses the dual (p > n), the data's own QR refinement or the splitter's
indices where the streaming fit only has the statistics.
"""

import warnings
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit

from ridgeway import Ridge, RidgeCV
from ridgeway.exceptions import AlphaEdgeWarning, BatchError
from ridgeway.linalg import fold_of

RTOL = 1e-10


@pytest.fixture(autouse=True)
def _quiet_edges():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaEdgeWarning)
        warnings.filterwarnings("ignore", "RidgeCV.partial_fit: no model yet", UserWarning)
        yield


def make_data(n=400, p=6, t=1, shift=0.0, seed=0, dtype=np.float64, signal=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3, p) + shift
    w = signal * rng.normal(size=(p, t))
    y = (X - shift) @ w + 0.7 * rng.normal(size=(n, t)) + 5.0
    return X.astype(dtype), (y[:, 0] if t == 1 else y)


def cuts(n, sizes):
    """Row slices of consecutive batches of the given sizes (the last takes the rest)."""
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    bounds = [*bounds[bounds < n].tolist(), n]
    return [slice(a, b) for a, b in pairwise(bounds)]


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)


def assert_same_model(stream, memory, rtol=RTOL, X=None, y=None, sw=None, curve_rtol=None):
    """Equal fitted models, each number to ``rtol`` of its own size.

    Given the data X, the intercept ``b = y_mean - x_mean.w`` is compared on the scale of the
    terms it is computed from, ``|b| + |x_mean|.|w|`` (the error of ``w`` reaches it through
    the means). With ``alphas="auto"`` (pass the data) the alpha refined by the bounded search
    is not determined by the criterion beyond its flatness at the minimum, so the score there
    is compared, and the coefficients against ``Ridge`` at the streamed alpha. ``curve_rtol``
    (default ``rtol``) applies to ``cv_results_`` and ``best_score_``.
    """
    refined = isinstance(memory, RidgeCV) and isinstance(memory.alphas, str)
    if refined:
        close(stream.best_score_, memory.best_score_, 1e-9)
        memory_fit = memory
        memory = Ridge(alpha=stream.alpha_, fit_intercept=memory.fit_intercept).fit(X, y, sw)
    close(stream.coef_, memory.coef_, rtol)
    if X is None:
        close(stream.intercept_, memory.intercept_, rtol)
    else:
        terms = np.abs(np.average(X, axis=0, weights=sw)) @ np.abs(np.atleast_2d(memory.coef_).T)
        np.testing.assert_allclose(stream.intercept_, memory.intercept_, rtol=0,
                                   atol=rtol * np.max(np.abs(memory.intercept_) + terms))
    assert stream.coef_.dtype == memory.coef_.dtype
    assert stream.n_features_in_ == memory.n_features_in_
    if refined:
        memory = memory_fit
    elif isinstance(memory, RidgeCV):
        close(stream.alpha_, memory.alpha_, 1e-9)
        close(stream.best_score_, memory.best_score_, curve_rtol or rtol)
    if isinstance(memory, RidgeCV):
        assert stream.cv_mode_ == memory.cv_mode_
        assert set(stream.cv_results_) == set(memory.cv_results_)
        for key, value in memory.cv_results_.items():
            if np.all(np.isnan(value)):
                assert np.all(np.isnan(stream.cv_results_[key])), key
            else:
                close(stream.cv_results_[key], value, curve_rtol or rtol)


def feed(est, X, y, slices, sw=None, fold=None):
    for s in slices:
        kwargs = {} if fold is None else {"fold": fold[s]}
        est.partial_fit(X[s], y[s], None if sw is None else sw[s], **kwargs)
    return est


# --------------------------------------------------------------------------------------- Ridge
@pytest.mark.parametrize("case", ["plain", "weights", "multi", "float32", "shifted", "wide",
                                  "no_intercept", "penalty_factor", "alpha_per_target"])
def test_ridge_partial_fit_equals_fit(case):
    kw = {"alpha": 2.5}
    data = {"n": 300, "p": 6, "t": 1}
    if case == "multi":
        data["t"] = 3
    if case == "float32":
        data["dtype"] = np.float32
    if case == "shifted":
        data["shift"] = 1e6
    if case == "wide":
        data.update(n=40, p=90)
    if case == "no_intercept":
        kw["fit_intercept"] = False
    if case == "penalty_factor":
        kw["penalty_factor"] = [0.0, 1, 2, 0.5, 1, 3]
    if case == "alpha_per_target":
        data["t"], kw["alpha"] = 2, [0.1, 30.0]
    X, y = make_data(**data)
    sw = np.random.default_rng(3).uniform(0, 3, X.shape[0]) if case == "weights" else None
    stream = feed(Ridge(**kw), X, y, cuts(X.shape[0], [7, 100, 1, 55, 13]), sw)
    memory = Ridge(**kw).fit(X, y, sw)
    assert_same_model(stream, memory, 1e-6 if case == "float32" else RTOL)
    assert stream.n_samples_seen_ == X.shape[0]


def test_ridge_model_after_each_call_is_that_of_the_rows_so_far():
    X, y = make_data(n=200)
    est = Ridge(alpha=1.0)
    for stop in (30, 31, 120, 200):
        est.partial_fit(X[est.n_samples_seen_ if hasattr(est, "n_samples_seen_") else 0:stop],
                        y[getattr(est, "n_samples_seen_", 0):stop])
        assert_same_model(est, Ridge(alpha=1.0).fit(X[:stop], y[:stop]))


def test_ridge_fit_stream_equals_fit_with_weights():
    X, y = make_data(n=250, t=2)
    sw = np.random.default_rng(1).uniform(0.1, 2, 250)
    batches = [(X[s], y[s], sw[s]) for s in cuts(250, [60, 60, 60])]
    assert_same_model(Ridge(alpha=4.0).fit_stream(batches), Ridge(alpha=4.0).fit(X, y, sw))


# ------------------------------------------------------------------------------------- RidgeCV
CV_CASES = {
    "given": {"alphas": np.geomspace(1e-2, 1e3, 25)},
    "default": {},
    "auto": {"alphas": "auto"},
    "1se": {"selection": "1se"},
    "per_target": {"alpha_per_target": True},
    "no_intercept": {"fit_intercept": False},
}


def _cv_data(case, t=1, **data):
    t = 3 if case == "per_target" else t
    if case in ("auto", "1se"):  # an optimum inside the grid: much noise, many features
        data.update(p=15, signal=0.05)
    return make_data(t=t, **data)


@pytest.mark.parametrize("case", [c for c in CV_CASES if c != "1se"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_partial_fit_equals_fit(case, weighted):
    X, y = _cv_data(case, n=300)
    sw = np.random.default_rng(5).uniform(0, 2, 300) if weighted else None
    kw = {"cv": "gcv", **CV_CASES[case]}
    stream = feed(RidgeCV(**kw), X, y, cuts(300, [90, 1, 120]), sw)
    assert_same_model(stream, RidgeCV(**kw).fit(X, y, sw), X=X, y=y, sw=sw)


@pytest.mark.parametrize("case", list(CV_CASES))
@pytest.mark.parametrize("weighted", [False, True])
def test_kfold_fold_column_equals_predefined_split(case, weighted):
    X, y = _cv_data(case, n=360)
    rng = np.random.default_rng(7)
    fold = rng.integers(0, 4, 360)
    sw = rng.uniform(0, 2, 360) if weighted else None
    kw = CV_CASES[case]
    stream = feed(RidgeCV(cv=4, **kw), X, y, cuts(360, [50, 200, 3]), sw, fold)
    assert_same_model(stream, RidgeCV(cv=PredefinedSplit(fold), **kw).fit(X, y, sw), X=X, y=y,
                      sw=sw)


def test_kfold_default_folds_are_the_position_hash():
    X, y = make_data(n=500, t=2)
    splits = [(np.flatnonzero(fold_of(np.arange(500), 5) != j),
               np.flatnonzero(fold_of(np.arange(500), 5) == j)) for j in range(5)]
    stream = feed(RidgeCV(cv=5), X, y, cuts(500, [77, 150, 11, 99]))
    assert_same_model(stream, RidgeCV(cv=splits).fit(X, y))  # explicit (train, test) lists


@pytest.mark.parametrize("shape", ["shifted", "wide", "float32"])
def test_kfold_and_gcv_match_where_fit_takes_another_path(shape):
    data = {"shifted": {"n": 400, "shift": 1e4}, "wide": {"n": 60, "p": 80},
            "float32": {"n": 300, "dtype": np.float32}}[shape]
    X, y = make_data(**data)
    n = X.shape[0]
    fold = np.arange(n) % 3
    rtol = 1e-5 if shape == "float32" else RTOL
    stream = feed(RidgeCV(cv=3), X, y, cuts(n, [25, 25]), fold=fold)
    assert_same_model(stream, RidgeCV(cv=PredefinedSplit(fold)).fit(X, y), rtol, X=X)
    stream = feed(RidgeCV(cv="gcv"), X, y, cuts(n, [25, 25]))
    # p > n: at the grid's smallest alphas the fit nearly interpolates, and GCV's
    # RSS = y'y - sum q^2 (...) keeps only ~8 digits (the primal and dual spectra differ there)
    assert_same_model(stream, RidgeCV(cv="gcv").fit(X, y), rtol, X=X,
                      curve_rtol=1e-6 if shape == "wide" else None)


@pytest.mark.parametrize("shift", [1e7, 1e9])
def test_large_means_keep_full_accuracy(shift):
    """Columns with means 1e7-1e9 sd: the statistics are taken about the first batch's means,
    so merging carries no ``eps * |mean|`` error. In-memory k-fold does carry it (its fold
    statistics are about each fold's own mean: 1e-10 to 1e-8 here), so the reference for the
    curve and coefficients is the in-memory fit on the exactly shifted data ``X - shift``
    (every entry is exact), whose intercept maps back by ``- shift * sum(w)``."""
    X, y = make_data(n=400, shift=shift)
    fold = np.arange(400) % 3
    batches = [(X[s], y[s], None, fold[s]) for s in cuts(400, [25] * 15)]
    for est in (RidgeCV(cv=3), RidgeCV(cv="gcv"), RidgeCV(), Ridge(alpha=3.0)):
        reference = clone(est).set_params(**({"cv": PredefinedSplit(fold)} if est.get_params()
                                             .get("cv") == 3 else {}))
        exact = reference.fit(X - shift, y)
        stream = est.fit_stream(batches if est.get_params().get("cv") == 3
                                else [b[:2] for b in batches])
        close(stream.coef_, exact.coef_)
        if isinstance(est, RidgeCV):
            close(stream.alpha_, exact.alpha_)
            for key in ("mean_test_score", "std_test_score"):
                close(stream.cv_results_[key], exact.cv_results_[key])
        # b = y_mean - x_mean.w: the large product's rounding is the scale of its error
        b = exact.intercept_ - shift * exact.coef_.sum()
        np.testing.assert_allclose(stream.intercept_, b, rtol=0,
                                   atol=1e-10 * (abs(b) + shift * np.abs(exact.coef_).sum()))
    for est in (RidgeCV(cv="gcv"), Ridge(alpha=3.0)):  # in memory these are exact too
        stream = est.fit_stream([b[:2] for b in batches])
        assert_same_model(stream, clone(est).fit(X, y), X=X)


@pytest.mark.parametrize("weighted", [False, True])
def test_shift_far_from_the_data_keeps_full_accuracy(weighted):
    """The first batch (weight 0) sets the shift ~1e5 sd away from every later row: the raw
    products of those rows about the shift would cancel ~30 bits, so they are centered on
    their own mean before they are multiplied; the model equals the in-memory fit to 1e-10."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    X[:25] += 1e5 * rng.normal(size=5)
    y = X @ rng.normal(size=5) + rng.normal(size=400)
    sw = rng.uniform(0.5, 2, 400) if weighted else np.ones(400)
    sw[:25] = 0.0
    fold = np.arange(400) % 4
    batches = [(X[s], y[s], sw[s], fold[s]) for s in cuts(400, [25] * 15)]
    shift = np.abs(X[:25].mean(axis=0))
    for est, memory in ((RidgeCV(cv="gcv"), RidgeCV(cv="gcv")), (Ridge(alpha=3.0), Ridge(3.0)),
                        (RidgeCV(cv=4), RidgeCV(cv=PredefinedSplit(fold)))):
        stream = est.fit_stream(batches if est.get_params().get("cv") == 4
                                else [b[:3] for b in batches])
        memory.fit(X, y, sw)
        close(stream.coef_, memory.coef_)
        if isinstance(est, RidgeCV):
            close(stream.alpha_, memory.alpha_)
            close(stream.cv_results_["mean_test_score"], memory.cv_results_["mean_test_score"])
        # b = y_mean - x_mean.w with x_mean = shift + (mean about it): the shift's rounding
        np.testing.assert_allclose(stream.intercept_, memory.intercept_, rtol=0, atol=1e-10 * (
            abs(memory.intercept_) + shift @ np.abs(memory.coef_)))


def test_kfold_model_after_each_call_is_that_of_the_rows_so_far():
    X, y = make_data(n=300)
    fold = np.random.default_rng(2).integers(0, 3, 300)
    est = RidgeCV(cv=3)
    for s in cuts(300, [40, 100, 60]):
        est.partial_fit(X[s], y[s], fold=fold[s])
        rows = slice(0, s.stop)
        assert_same_model(est, RidgeCV(cv=PredefinedSplit(fold[rows])).fit(X[rows], y[rows]))


@pytest.mark.parametrize("case", list(CV_CASES))
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_fit_stream_equals_fit(case, weighted):
    X, y = _cv_data(case, n=240)
    sw = np.random.default_rng(11).uniform(0.2, 2, 240) if weighted else None
    parts = cuts(240, [100, 40, 1])
    batches = [(X[s], y[s], None if sw is None else sw[s]) for s in parts]
    kw = CV_CASES[case]
    assert_same_model(RidgeCV(**kw).fit_stream(lambda: iter(batches)),
                      RidgeCV(**kw).fit(X, y, sw), X=X, y=y, sw=sw)


def test_loo_fit_stream_wide_data_equals_dual_fit():
    X, y = make_data(n=50, p=70)
    batches = [(X[s], y[s]) for s in cuts(50, [20, 20])]
    assert_same_model(RidgeCV().fit_stream(batches), RidgeCV().fit(X, y), X=X)


def test_fit_stream_takes_fold_columns_and_none_entries():
    X, y = make_data(n=300)
    fold = np.arange(300) % 4
    batches = [(X[s], y[s], None, fold[s]) for s in cuts(300, [100, 100])]
    stream = RidgeCV(cv=4).fit_stream(lambda: iter(batches))
    assert_same_model(stream, RidgeCV(cv=PredefinedSplit(fold)).fit(X, y))


def test_feature_names_are_kept_and_checked():
    pd = pytest.importorskip("pandas")
    X, y = make_data(n=100, p=3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = RidgeCV(cv="gcv").partial_fit(frame[:50], y[:50])
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(BatchError, match=r"Batch 2 \(stream rows 50 to 99\).*feature names"):
        est.partial_fit(frame[50:].rename(columns={"c": "d"}), y[50:])


# ------------------------------------------------------------------------------ bad input
def _fitted_state(est):
    return {k: (v.copy() if isinstance(v, np.ndarray) else
                {a: b.copy() for a, b in v.items()} if isinstance(v, dict) else v)
            for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def assert_unchanged(est, before):
    after = _fitted_state(est)
    assert set(after) == set(before)
    for key, value in before.items():
        if isinstance(value, dict):
            for a, b in value.items():
                np.testing.assert_array_equal(after[key][a], b)
        else:
            np.testing.assert_array_equal(after[key], value)


@pytest.mark.parametrize("bad", ["columns", "nan", "fold_range", "dtype", "targets",
                                 "weights", "fold_float"])
def test_bad_batch_is_refused_and_leaves_the_model_as_it_was(bad):
    X, y = make_data(n=300)
    fold = np.arange(300) % 3
    est = RidgeCV(cv=3).partial_fit(X[:100], y[:100], fold=fold[:100])
    est.partial_fit(X[100:200], y[100:200], fold=fold[100:200])
    before = _fitted_state(est)
    Xb, yb, fb, sw = X[200:].copy(), y[200:].copy(), fold[200:].copy(), None
    patterns = {
        "columns": r"Batch 3 \(stream rows 200 to 299\).*X has 5 features.*expecting 6",
        "nan": r"Batch 3 \(stream rows 200 to 299\).*NaN \(first at row 17, column 2;",
        "fold_range": r"Batch 3 .*fold= has the value 3 at row 5 .*\[0, 3\)",
        "dtype": r"Batch 3 .*dtype float32 but the first batch had float64",
        "targets": r"Batch 3 .*y has shape \(100, 2\).*\(n,\)",
        "weights": r"Batch 3 .*Negative values in sample_weight",
        "fold_float": r"Batch 3 .*integer fold ids",
    }
    if bad == "columns":
        Xb = Xb[:, 1:]
    elif bad == "nan":
        Xb[17, 2] = np.nan
    elif bad == "fold_range":
        fb[5] = 3
    elif bad == "dtype":
        Xb = Xb.astype(np.float32)
    elif bad == "targets":
        yb = np.column_stack([yb, yb])
    elif bad == "weights":
        sw = np.ones(100)
        sw[4] = -1
    elif bad == "fold_float":
        fb = fb + 0.5
    with pytest.raises(BatchError, match=patterns[bad]) as info:
        est.partial_fit(Xb, yb, sw, fold=fb)
    assert info.value.batch == 3 and info.value.rows == (200, 300)
    assert_unchanged(est, before)
    # the stream goes on as if the bad batch had never come
    est.partial_fit(X[200:], y[200:], fold=fold[200:])
    assert_same_model(est, RidgeCV(cv=PredefinedSplit(fold)).fit(X, y))


def test_empty_batches_are_skipped_but_numbered():
    X, y = make_data(n=120)
    est = Ridge().partial_fit(X[:60], y[:60])
    est.partial_fit(X[:0], y[:0])
    Xb = X[60:].copy()
    Xb[0, 0] = np.inf
    with pytest.raises(BatchError, match=r"Batch 3 \(stream rows 60 to 119\)"):
        est.partial_fit(Xb, y[60:])
    est.partial_fit(X[60:], y[60:])
    assert_same_model(est, Ridge().fit(X, y))


def test_loo_has_no_partial_fit_and_says_so():
    X, y = make_data(n=50)
    assert not hasattr(RidgeCV(), "partial_fit") and hasattr(RidgeCV(cv="gcv"), "partial_fit")
    with pytest.raises(AttributeError, match="no partial_fit. Use .*fit_stream.*cv='gcv' or cv=k"):
        RidgeCV().partial_fit(X, y)


@pytest.mark.parametrize("kw, call, pattern", [
    ({"cv": "gcv"}, {"fold": np.zeros(50, int)}, "fold= assigns rows to the folds"),
    ({"cv": 3, "scoring": "r2"}, {}, "mean squared error only"),
    ({"cv": [(np.arange(10), np.arange(10, 20))]}, {}, "cv as a number of folds k"),
])
def test_what_cannot_stream_is_refused(kw, call, pattern):
    X, y = make_data(n=50)
    with pytest.raises(ValueError, match=pattern):
        RidgeCV(**kw).partial_fit(X, y, **call)


def test_changing_cv_mid_stream_is_refused():
    X, y = make_data(n=100)
    est = RidgeCV(cv=3).partial_fit(X[:50], y[:50])
    est.set_params(cv=4)
    with pytest.raises(ValueError, match="cv changed between partial_fit calls"):
        est.partial_fit(X[50:], y[50:])


def test_a_fold_without_rows_waits_in_partial_fit_and_fails_fit_stream():
    X, y = make_data(n=200)
    fold = np.repeat([0, 1, 2], [80, 80, 40])
    est = RidgeCV(cv=3)
    with pytest.warns(UserWarning, match=r"no model yet after batch 1 \(fold\(s\) 1, 2 of 3"):
        est.partial_fit(X[:80], y[:80], fold=fold[:80])
    assert not hasattr(est, "coef_")
    with pytest.warns(UserWarning, match=r"fold\(s\) 2 of 3"):
        est.partial_fit(X[80:160], y[80:160], fold=fold[80:160])
    est.partial_fit(X[160:], y[160:], fold=fold[160:])
    assert_same_model(est, RidgeCV(cv=PredefinedSplit(fold)).fit(X, y))
    with pytest.raises(ValueError, match=r"fold\(s\) 2 of 3 have no row.*fold column"):
        RidgeCV(cv=3).fit_stream([(X[:160], y[:160], None, fold[:160])])


def test_loo_fit_stream_refuses_one_shot_iterators_and_changing_batches():
    X, y = make_data(n=100)
    with pytest.raises(TypeError, match="zero-argument callable"):
        RidgeCV().fit_stream(iter([(X, y)]))
    calls = []

    def shrinking():
        calls.append(1)
        return iter([(X[: 100 - 10 * len(calls)], y[: 100 - 10 * len(calls)])])

    with pytest.raises(ValueError, match="first pass read 90 rows, the second 80"):
        RidgeCV().fit_stream(shrinking)


def test_fit_starts_a_new_stream():
    X, y = make_data(n=200)
    est = Ridge().partial_fit(X[:100], y[:100])
    est.fit(X[100:150], y[100:150])
    est.partial_fit(X[150:], y[150:])
    assert_same_model(est, Ridge().fit(X[150:], y[150:]))


def test_zero_weight_batch_counts_rows_only():
    X, y = make_data(n=150)
    sw = np.ones(150)
    sw[50:100] = 0.0
    est = feed(RidgeCV(cv=3), X, y, cuts(150, [50, 50]), sw)
    assert_same_model(est, RidgeCV(cv=PredefinedSplit(fold_of(np.arange(150), 3))).fit(
        X, y, sw))


# ----------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_row_order_does_not_change_the_model(data):
    seed = data.draw(st.integers(0, 2**16))
    X, y = make_data(n=120, p=4, seed=seed)
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, 3, 120)
    fold[:3] = [0, 1, 2]
    sw = rng.uniform(0, 2, 120)
    order = np.array(data.draw(st.permutations(range(120))))
    sizes = data.draw(st.lists(st.integers(1, 60), min_size=1, max_size=5))
    a = feed(RidgeCV(cv=3), X, y, cuts(120, [120]), sw, fold)
    b = feed(RidgeCV(cv=3), X[order], y[order], cuts(120, sizes), sw[order], fold[order])
    assert_same_model(b, a, 1e-9)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_fold_column_equals_the_splitter_in_memory(data):
    n = data.draw(st.integers(12, 80))
    k = data.draw(st.integers(2, 5))
    fold = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    fold[: 2 * k] = np.tile(np.arange(k), 2)  # every fold and training set has 2 rows
    X, y = make_data(n=n, p=3, seed=n)
    sizes = data.draw(st.lists(st.integers(1, n), min_size=1, max_size=4))
    stream = feed(RidgeCV(cv=k, alphas=np.geomspace(1e-2, 1e2, 9)), X, y, cuts(n, sizes),
                  fold=fold)
    memory = RidgeCV(cv=PredefinedSplit(fold), alphas=np.geomspace(1e-2, 1e2, 9)).fit(X, y)
    assert_same_model(stream, memory, 1e-9)


@pytest.mark.parametrize("est", [Ridge(alpha=2.0), RidgeCV(cv="gcv"), RidgeCV(cv=3), RidgeCV()])
def test_sparse_and_mixed_batches(est):
    sp = pytest.importorskip("scipy.sparse")
    X, y = make_data(n=240, shift=3.0)
    X[np.abs(X - 3.0) < 1.0] = 0.0
    parts = cuts(240, [80, 80])
    # a dense first batch sets the shift; the sparse batches are merged about it
    batches = [(X[s] if i == 0 else sp.csr_matrix(X[s]), y[s]) for i, s in enumerate(parts)]
    memory = clone(est)
    if est.get_params().get("cv") == 3:
        memory.set_params(cv=PredefinedSplit(fold_of(np.arange(240), 3)))
    assert_same_model(est.fit_stream(batches), memory.fit(sp.csr_matrix(X), y), X=X)


def test_statistics_beyond_float64_are_refused_and_leave_the_model():
    X, y = make_data(n=100)
    est = Ridge().partial_fit(X[:50], y[:50])
    before = _fitted_state(est)
    with pytest.raises(BatchError, match=r"Batch 2 \(stream rows 50 to 99\): the statistics "
                       "overflow float64.*Rescale X and y"):
        est.partial_fit(X[50:] * 1e200, y[50:])
    assert_unchanged(est, before)


@pytest.mark.parametrize("cv", [4, "gcv", None])
def test_fit_stream_of_file_blocks_equals_fit(tmp_path, cv):
    """``ridgeway.io.iter_blocks`` blocks are reduced from their Arrow columns without building
    X (an integer column is converted, float64 ones are read in place); the model equals the
    in-memory fit on the file's rows, with a weight and a fold column and means near 1e3."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ridgeway.io import DataSource, iter_blocks

    X, y = make_data(n=1500, p=5, shift=1e3, seed=3)
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 50, 1500)
    sw, fold = rng.uniform(0.2, 3, 1500), rng.integers(0, 4, 1500)
    table = pa.table({**{f"x{j}": X[:, j] for j in range(5)}, "k": counts, "y": y, "w": sw,
                      "f": fold})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=400)
    XX = np.column_stack([X, counts])
    names = [*(f"x{j}" for j in range(5)), "k"]
    source = DataSource(tmp_path / "d.parquet", batch_rows=300)
    kw = {"fold": "f", "n_folds": 4} if cv == 4 else {}
    stream = RidgeCV(cv=cv).fit_stream(lambda: iter_blocks(source, "y", names, weight="w", **kw))
    memory = RidgeCV(cv=PredefinedSplit(fold) if cv == 4 else cv).fit(XX, y, sample_weight=sw)
    assert_same_model(stream, memory, X=XX, sw=sw)
    close(stream.cv_results_["mean_test_score"], memory.cv_results_["mean_test_score"])


def test_stats_are_those_of_every_row_streamed_and_go_with_fit():
    """``stats_`` after a stream are the statistics of all its rows about their own means
    (equal to ``GramStats.from_arrays`` on the union, also with large means); after ``fit``
    or before any stream the attribute does not exist."""
    from ridgeway.linalg import GramStats

    X, y = make_data(n=300, shift=1e6)
    sw = np.random.default_rng(1).uniform(0.5, 2, 300)
    est = RidgeCV(cv=3)
    with pytest.raises(AttributeError, match="after partial_fit or fit_stream only"):
        _ = est.stats_
    for s in cuts(300, [40, 100]):
        est.partial_fit(X[s], y[s], sw[s])
    want = GramStats.from_arrays(X, y[:, None], sw)
    got = est.stats_
    assert (got.n, got.n_features) == (300, X.shape[1])
    close(got.weight_sum, want.weight_sum)
    for key in ("x_mean", "y_mean", "xx", "xy", "yy"):
        close(getattr(got, key), getattr(want, key), 1e-12)
    close(Ridge(alpha=2.0).fit_stream([(X, y)]).stats_.xx, GramStats.from_arrays(X, y).xx)
    est.fit(X, y)
    with pytest.raises(AttributeError, match="not fitted from a stream"):
        _ = est.stats_
