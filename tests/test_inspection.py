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
    train = model_metrics("ridge", est, X[:80], y[:80])
    test = model_metrics("ridge", est, X[80:], y[80:])
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
    err = model_metrics("ridge", est, X[150:], y[150:])["mse"]
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
