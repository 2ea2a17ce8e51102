"""GLM estimators: scikit-learn contract, invariants, bad input."""


import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeway import LinearSVC, LogisticRegression, PoissonRegressor
from ridgeway.exceptions import ConvergenceWarning, SeparableDataError


def binary_data(n=120, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + rng.standard_normal(n) > 0).astype(int)
    return X, y


ESTIMATORS = [LogisticRegression, LinearSVC]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n_classes=st.sampled_from([2, 3]))
def test_permuting_rows_changes_nothing(seed, n_classes):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 3))
    y = rng.integers(0, n_classes, 60)
    y[:n_classes] = np.arange(n_classes)
    perm = rng.permutation(60)
    a = LogisticRegression(0.5).fit(X, y)
    b = LogisticRegression(0.5).fit(X[perm], y[perm])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), row=st.integers(0, 39))
def test_duplicating_a_row_equals_weight_two(seed, row):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    y = rng.poisson(2.0, 40).astype(float)
    y[0] = 1.0
    w = np.ones(40)
    w[row] = 2.0
    a = PoissonRegressor(0.3).fit(X, y, sample_weight=w)
    b = PoissonRegressor(0.3).fit(np.vstack([X, X[row]]), np.append(y, y[row]))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("est", [LogisticRegression, LinearSVC, PoissonRegressor])
def test_coefficient_norm_decreases_with_alpha(est):
    X, y = binary_data()
    norms = [np.linalg.norm(est(a).fit(X, y).coef_) for a in [0.1, 1, 10, 100, 1000]]
    assert np.all(np.diff(norms) < 0)


@pytest.mark.parametrize("est", [*ESTIMATORS, PoissonRegressor])
def test_sparse_and_dense_agree(est):
    X, y = binary_data()
    dense = est(2.0).fit(X, y)
    sparse = est(2.0).fit(sp.csr_matrix(X), y)
    assert sparse.solver_ == "newton-cg"
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=1e-6, atol=1e-9)


def test_solver_is_stored_not_rewritten():
    X, y = binary_data()
    clf = LogisticRegression().fit(X, y)
    assert clf.solver == "auto" and clf.solver_ == "newton-cholesky"
    y3 = np.arange(len(y)) % 3
    assert LogisticRegression(solver="lbfgs").fit(X, y3).solver_ == "lbfgs"


def test_multinomial_probabilities_and_centered_intercept():
    X, _ = binary_data()
    y = np.arange(len(X)) % 4
    clf = LogisticRegression(1.0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert abs(clf.intercept_.sum()) < 1e-10
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])


def test_string_labels_and_linear_svc_ovr_shapes():
    X, y = binary_data()
    labels = np.array(["a", "b", "c"])[np.arange(len(y)) % 3]
    svc = LinearSVC().fit(X, labels)
    assert svc.coef_.shape == (3, X.shape[1]) and isinstance(svc.n_iter_, int)
    assert set(svc.predict(X)) <= set(labels)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("est", ESTIMATORS)
def test_one_class_only(est):
    X, _ = binary_data()
    with pytest.raises(ValueError, match="only one class"):
        est().fit(X, np.ones(len(X)))


@pytest.mark.parametrize("est", ESTIMATORS)
def test_continuous_labels_rejected(est):
    X, _ = binary_data()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        est().fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize("solver", ["newton-cholesky", "newton-cg", "lbfgs"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_separable_data_without_penalty_raises(solver, n_classes):
    X, _ = binary_data()
    y = np.digitize(X[:, 0], [-0.3, 0.3])[:, None].ravel() if n_classes == 3 else X[:, 0] > 0
    with pytest.raises(SeparableDataError, match="perfectly separable.*Use alpha > 0"):
        LogisticRegression(0.0, solver=solver).fit(X, y)
    LogisticRegression(1e-3, solver=solver).fit(X, y)  # any alpha > 0 has a solution


def test_negative_counts_rejected():
    X, _ = binary_data()
    y = np.ones(len(X))
    y[7] = -1
    with pytest.raises(ValueError, match="negative.*row 7"):
        PoissonRegressor().fit(X, y)
    with pytest.raises(ValueError, match="zero everywhere"):
        PoissonRegressor().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("est", [*ESTIMATORS, PoissonRegressor])
@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "inf")])
def test_non_finite_X_names_row_and_column(est, value, word):
    X, y = binary_data()
    X[5, 2] = value
    with pytest.raises(ValueError, match=f"contains {word} \\(first at row 5, column 2"):
        est().fit(X, y)


def test_non_finite_y_rejected():
    X, y = binary_data()
    y = y.astype(float)
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PoissonRegressor().fit(X, y)


@pytest.mark.parametrize(
    "weights, message",
    [
        (lambda n: -np.ones(n), "Negative values in sample_weight"),
        (lambda n: np.ones(n - 1), "sample_weight.shape"),
        (lambda n: np.zeros(n), "sums to zero"),
        (lambda n: np.full(n, np.nan), "non-finite"),
    ],
)
def test_bad_sample_weight(weights, message):
    X, y = binary_data()
    with pytest.raises(ValueError, match=message):
        LogisticRegression().fit(X, y, sample_weight=weights(len(y)))


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"alpha": -1.0}, ValueError, "alpha must be non-negative"),
        ({"alpha": [1.0, 2.0]}, ValueError, "single non-negative number"),
        ({"solver": "sag"}, ValueError, "solver='sag' is not available"),
        ({"solver": "newton"}, ValueError, "solver must be one of"),
        ({"tol": 0}, ValueError, "tol must be a positive number"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
    ],
)
def test_bad_hyperparameters(params, error, message):
    X, y = binary_data()
    with pytest.raises(error, match=message):
        LogisticRegression(**params).fit(X, y)


def test_non_convergence_warns_with_norm_reached():
    X, y = binary_data()
    with pytest.warns(ConvergenceWarning, match="relative gradient norm reached"):
        LogisticRegression(1e-3, solver="lbfgs", max_iter=2).fit(X, y)
