"""Displays plot the estimators' own numbers; diagnostics obey their identities."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.linear_model import Lasso
from sklearn.linear_model import Ridge as SkRidge

from ridgeway import Ridge, RidgeCV
from ridgeway.inspection import (
    BiasVarianceDisplay,
    CoefficientDisplay,
    CVCurveDisplay,
    L1L2Display,
    RegularizationPathDisplay,
    ShrinkageDisplay,
    bias_variance,
    coefficient_table,
    error_reduction_unregularized,
    generalization_gap,
    model_metrics,
)
from ridgeway.linalg import RidgeSpectrum


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6)) @ rng.normal(size=(6, 6))
    y = X @ rng.normal(size=6) + rng.normal(size=120) * 2
    return X, y


def test_path_lines_are_ridge_coefficients_and_df(data):
    X, y = data
    est = RidgeCV().fit(X, y)
    disp = RegularizationPathDisplay.from_estimator(est, X, y)
    alphas = np.sort(est.cv_results_["alphas"])
    spec = RidgeSpectrum.from_data(X, y)
    assert len(disp.lines_) == X.shape[1]
    for j, line in enumerate(disp.lines_):
        np.testing.assert_array_equal(line.get_xdata(), alphas)
        np.testing.assert_allclose(line.get_ydata(), spec.coef(alphas)[:, j], rtol=1e-12)
    np.testing.assert_allclose(disp.df_line_.get_ydata(), spec.df(alphas), rtol=1e-12)
    # independent check against scikit-learn at three alphas on the path
    for i in (0, len(alphas) // 2, len(alphas) - 1):
        ref = SkRidge(alpha=alphas[i]).fit(X, y).coef_
        got = [line.get_ydata()[i] for line in disp.lines_]
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())
    assert disp.df_ax_.get_ylabel().startswith("effective degrees of freedom")


def test_cv_curve_marks_min_and_one_se(data):
    X, y = data
    est = RidgeCV(cv=5).fit(X, y)
    est_1se = RidgeCV(cv=5, selection="1se").fit(X, y)
    disp = CVCurveDisplay.from_estimator(est, negate=True, score_name="CV MSE")
    assert disp.alpha_min == pytest.approx(est.alpha_)
    assert disp.alpha_1se == pytest.approx(est_1se.alpha_)
    assert disp.alpha_1se >= disp.alpha_min
    order = np.argsort(est.cv_results_["alphas"])
    np.testing.assert_array_equal(disp.line_.get_xdata(), est.cv_results_["alphas"][order])
    np.testing.assert_array_equal(disp.line_.get_ydata(),
                                  -est.cv_results_["mean_test_score"][order])
    assert np.all(np.diff(disp.line_.get_xdata()) > 0)
    assert disp.min_line_.get_xdata()[0] == pytest.approx(est.alpha_)
    assert disp.se_line_.get_xdata()[0] == pytest.approx(est_1se.alpha_)


def test_coefficient_display_sorted_bars(data):
    X, y = data
    Xs = (X - X.mean(0)) / X.std(0)
    est = Ridge(alpha=3.0).fit(Xs, y)
    disp = CoefficientDisplay.from_estimator(est, feature_names=list("abcdef"))
    widths = [b.get_width() for b in disp.bars_]
    order = np.argsort(-np.abs(est.coef_))
    np.testing.assert_allclose(widths, est.coef_[order])
    assert disp.feature_names == [list("abcdef")[j] for j in order]
    # raw-scale model: scale by the feature SDs gives the same standardized coefficients
    raw = Ridge(alpha=3.0).fit(X, y)
    disp2 = CoefficientDisplay.from_estimator(raw, scale=X.std(0))
    np.testing.assert_allclose(sorted(np.abs(disp2.coef)), sorted(np.abs(raw.coef_ * X.std(0))))


def test_shrinkage_factors_from_singular_values(data):
    X, y = data
    est = Ridge(alpha=5.0).fit(X, y)
    disp = ShrinkageDisplay.from_estimator(est, X, y)
    s = np.linalg.svd(X - X.mean(0), compute_uv=False)
    for a, line in zip([0.5, 5.0, 50.0], disp.lines_, strict=False):
        np.testing.assert_allclose(line.get_ydata(), s**2 / (s**2 + a), rtol=1e-10)


def test_bias_variance_sum_matches_test_error_with_known_noise():
    rng = np.random.default_rng(3)
    n, m, p, sigma = 150, 400, 40, 1.5
    w = rng.normal(size=p) * 0.3
    X_train, X_test = rng.normal(size=(n, p)), rng.normal(size=(m, p))
    f_train, f_test = X_train @ w, X_test @ w
    y_train = f_train + sigma * rng.normal(size=n)
    y_test = f_test + sigma * rng.normal(size=m)
    alphas = np.geomspace(0.1, 1e4, 8)
    res = bias_variance(X_train, y_train, X_test, y_test, alphas, n_bootstrap=60,
                        f_test=f_test, random_state=0)
    assert res.noise == pytest.approx(sigma**2, rel=0.15)
    np.testing.assert_allclose(res.bias2 + res.variance + res.noise, res.test_error, rtol=0.08)
    assert np.all(np.diff(res.variance) < 0)  # variance falls with alpha
    assert res.bias2[-1] > 3 * res.bias2[0]  # bias grows with alpha
    # without the noiseless target, bias^2 (holding the noise) + variance is the error exactly
    res2 = bias_variance(X_train, y_train, X_test, y_test, alphas, n_bootstrap=10)
    np.testing.assert_allclose(res2.bias2 + res2.variance, res2.test_error, rtol=1e-12)
    disp = BiasVarianceDisplay(res).plot()
    np.testing.assert_allclose(disp.lines_["sum"].get_ydata(),
                               res.bias2 + res.variance + res.noise)
    np.testing.assert_array_equal(disp.lines_["test_error"].get_ydata(), res.test_error)


def test_l1_l2_on_correlated_features_the_seeds_example():
    rng = np.random.RandomState(42)
    age = rng.normal(60, 12, 200)
    bmi = age * 0.3 + rng.normal(0, 2, 200)
    X = np.column_stack([age, bmi])
    y = age * 0.5 + bmi * 0.4 + rng.normal(0, 3, 200)
    disp = L1L2Display.from_data(X, y, l2_alpha=1.0, l1_alpha=0.5, feature_names=["age", "bmi"])
    ridge, lasso = Ridge(alpha=1.0).fit(X, y), Lasso(alpha=0.5).fit(X, y)
    got = dict(zip(disp.feature_names, zip(disp.l2_coef, disp.l1_coef, strict=False), strict=False))
    for j, name in enumerate(["age", "bmi"]):
        assert got[name] == pytest.approx((ridge.coef_[j], lasso.coef_[j]))
    assert np.all(ridge.coef_ != 0)
    widths = [b.get_width() for b in disp.bars_["L2"]]
    np.testing.assert_allclose(widths, disp.l2_coef)


def test_gap_signs_and_coefficient_table(data):
    X, y = data
    est = Ridge(alpha=1.0).fit(X[:80], y[:80])
    train = model_metrics(est, X[:80], y[:80])
    test = model_metrics(est, X[80:], y[80:])
    rows = {r.metric: r for r in generalization_gap(train, test)}
    assert rows["mse"].gap == pytest.approx(test["mse"] - train["mse"])
    assert rows["r2"].gap == pytest.approx(train["r2"] - test["r2"])
    table = coefficient_table(np.array([0.5, -2.0, 1.0]), ["a", "b", "c"],
                              np.array([2.0, 4.0, 1.0]))
    assert [r.feature for r in table] == ["b", "c", "a"]
    assert table[0].original == pytest.approx(-0.5)


def test_ridge_beats_unregularized_with_50_features_and_150_samples():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 50))
    y = X @ (rng.normal(size=50) * 0.2) + rng.normal(size=300) * 2
    est = RidgeCV().fit(X[:150], y[:150])
    err = model_metrics(est, X[150:], y[150:])["mse"]
    red = error_reduction_unregularized("ridge", err, "mse", X[:150], y[:150], X[150:], y[150:])
    ols = SkRidge(alpha=1e-10).fit(X[:150], y[:150])
    ols_err = np.mean((ols.predict(X[150:]) - y[150:]) ** 2)
    assert red.competitor == pytest.approx(ols_err, rel=1e-6)
    assert red.reduction_pct == pytest.approx(100 * (ols_err - err) / ols_err)
    assert red.reduction_pct > 5
    # the same from the spectrum RidgeCV already computed (2-D y, as RidgeCV keeps it)
    spec = RidgeSpectrum.from_data(X[:150], y[:150, None])
    red2 = error_reduction_unregularized("ridge", err, "mse", X[:150], y[:150], X[150:],
                                         y[150:], spectrum=spec)
    assert red2.competitor == pytest.approx(ols_err, rel=1e-6)


def test_glm_path_from_refits_equals_single_fits():
    from ridgeway import LogisticRegression

    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=150) > 0).astype(int)
    alphas = np.array([10.0, 0.1, 1.0])
    est = LogisticRegression(alpha=1.0).fit(X, y)
    disp = RegularizationPathDisplay.from_refits(est, X, y, alphas)
    assert disp.df is None and disp.df_ax_ is None and disp.alpha == 1.0
    for j, line in enumerate(disp.lines_):
        np.testing.assert_array_equal(line.get_xdata(), [0.1, 1.0, 10.0])
        ref = [LogisticRegression(alpha=a).fit(X, y).coef_[0, j] for a in (0.1, 1.0, 10.0)]
        np.testing.assert_allclose(line.get_ydata(), ref, rtol=1e-10)


# --------------------------------------------------------------------------- GLM df, L1 path
def _hat_trace(X, h, alpha):
    """tr of the penalized hat matrix with an appended, unpenalized column of ones:
    H^{1/2} X1 (X1' H X1 + alpha diag(1..1, 0))^{-1} X1' H^{1/2}, minus 1 for the intercept."""
    X1 = np.column_stack([X, np.ones(len(X))])
    pen = alpha * np.diag(np.r_[np.ones(X.shape[1]), 0.0])
    A = X1.T @ (h[:, None] * X1)
    return float(np.trace(np.linalg.solve(A + pen, A))) - 1.0


@pytest.mark.parametrize("kind", ["logistic", "poisson", "svm"])
def test_glm_df_is_the_trace_of_the_penalized_hat_matrix(kind):
    from scipy.special import expit

    from ridgeway.linear_model import LinearSVC, LogisticRegression, PoissonRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)) + 1.5
    alpha = 7.0
    if kind == "poisson":
        y = rng.poisson(np.exp(0.3 * X[:, 0]))
        est = PoissonRegressor(alpha=alpha).fit(X, y)
        h = est.predict(X)
    elif kind == "logistic":
        y = (X[:, 0] + rng.normal(size=120) > 1.5).astype(int)
        est = LogisticRegression(alpha=alpha).fit(X, y)
        p = expit(X @ est.coef_.ravel() + est.intercept_)
        h = p * (1 - p)
    else:
        y = (X[:, 0] + rng.normal(size=120) > 1.5).astype(int)
        est = LinearSVC(alpha=alpha).fit(X, y)
        margin = np.where(y == 1, 1, -1) * est.decision_function(X)
        h = 2.0 * (margin < 1)
    assert est.df_ == pytest.approx(_hat_trace(X, h, alpha), rel=1e-8)


def test_glm_df_multinomial_against_the_full_hessian():
    from ridgeway.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n, p, K = 90, 3, 3
    X = rng.normal(size=(n, p))
    y = rng.integers(0, K, n)
    alpha = 2.0
    est = LogisticRegression(alpha=alpha).fit(X, y)
    P = est.predict_proba(X)
    X1 = np.column_stack([X, np.ones(n)])
    d = p + 1
    H = np.zeros((K * d, K * d))
    for k in range(K):
        for m in range(K):
            w = P[:, k] * ((k == m) - P[:, m])
            H[k * d:(k + 1) * d, m * d:(m + 1) * d] = X1.T @ (w[:, None] * X1)
    w_idx = [k * d + j for k in range(K) for j in range(p)]
    b_idx = [k * d + p for k in range(K)]
    S = H[np.ix_(w_idx, w_idx)] - H[np.ix_(w_idx, b_idx)] @ np.linalg.pinv(
        H[np.ix_(b_idx, b_idx)]) @ H[np.ix_(b_idx, w_idx)]
    expected = float(np.trace(np.linalg.solve(S + alpha * np.eye(K * p), S)))
    assert est.df_ == pytest.approx(expected, rel=1e-7)


def test_l1_path_matches_sklearn_l1_logistic():
    from sklearn.linear_model import LogisticRegression as SkLogistic

    from ridgeway.inspection._l1 import _design_targets, l1_path

    rng = np.random.default_rng(2)
    n = 300
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] - X[:, 1] + rng.normal(size=n) > 0.5).astype(int)
    lam = 0.03
    _, fits = l1_path(X, _design_targets(y, np.array([0, 1]), "logistic"), "logistic",
                      np.array([0.2, 0.1, lam]), tol=1e-11, max_iter=200_000)
    W, b = fits[-1]
    ref = SkLogistic(C=1 / (n * lam), l1_ratio=1.0, solver="saga", tol=1e-12,
                     max_iter=200_000).fit(X, y)
    np.testing.assert_allclose(W[:, 0], ref.coef_[0], atol=1e-6)
    assert b[0] == pytest.approx(ref.intercept_[0], abs=1e-6)
    assert np.count_nonzero(W) < 6  # L1 zeroes some coefficients


def test_l1_l2_legend_never_says_alpha_zero():
    from ridgeway.inspection._l1 import L1LogisticClassifier

    l2 = Ridge(alpha=2.0).fit(np.eye(3), [1.0, 2.0, 3.0])
    l1 = L1LogisticClassifier(np.array([0, 1]), np.ones((1, 3)), np.zeros(1), 0.05, "logistic")
    disp = L1L2Display.from_estimators(l2, l1)
    assert disp.l1_label == "L1 (alpha=0.05)" and disp.l2_label == "L2 (alpha=2)"

    class NoStrength:
        coef_ = np.ones(3)

    assert L1L2Display.from_estimators(l2, NoStrength()).l1_label == "L1"
    plt.close("all")


def test_path_labels_only_the_top_k(data):
    X, y = data
    rng = np.random.default_rng(3)
    wide = np.column_stack([X, rng.normal(size=(X.shape[0], 20))])
    spec = RidgeSpectrum.from_data(wide, y)
    disp = RegularizationPathDisplay.from_spectrum(spec)
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    features = [lab for lab in labels if not lab.startswith("alpha")]
    assert len(features) == 8
    peak = np.max(np.abs(disp.coefs), axis=0)
    assert set(features) == {disp.feature_names[j] for j in np.argsort(-peak)[:8]}
    grey = [line for line in disp.lines_ if line.get_color() == "0.75"]
    assert len(grey) == wide.shape[1] - 8
    plt.close("all")
