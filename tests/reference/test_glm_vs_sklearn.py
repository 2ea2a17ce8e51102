"""ridgeway's GLMs against scikit-learn on the same objective, and optimality conditions.

Conversions (see docs/glm.md):
* LogisticRegression / LinearSVC: ridgeway ``alpha = 1 / C``.
* PoissonRegressor: scikit-learn averages the deviance, ``1/(2 sum s) sum s d + a/2 ||w||^2``,
  ridgeway sums half-deviances, so ``alpha = a * sum(s)``.
"""

import numpy as np
import pytest
import sklearn.linear_model as sk
import sklearn.svm as sksvm
from scipy.special import expit, softmax

from ridgeway import LinearSVC, LogisticRegression, PoissonRegressor

SOLVERS = ["newton-cholesky", "newton-cg", "lbfgs"]


def rel_err(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))


def classification_data(n_classes, n=300, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, n_classes))
    y = np.argmax(X @ W + 1.5 * rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y, rng.uniform(0.2, 3.0, n)


def logistic_gradient(X, y, sw, coef, intercept, alpha, classes):
    """Gradient of sum_i s_i loss_i + alpha/2 ||W||^2, written out independently of ridgeway."""
    if len(classes) == 2:
        resid = (expit(X @ coef[0] + intercept[0]) - (y == classes[1])) * sw
        return np.append(X.T @ resid + alpha * coef[0], resid.sum())
    Y = (y[:, None] == classes[None, :]).astype(float)
    resid = (softmax(X @ coef.T + intercept, axis=1) - Y) * sw[:, None]
    return np.vstack([X.T @ resid + alpha * coef.T, resid.sum(axis=0)]).ravel()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weights", ["none", "sample", "class"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_logistic_matches_sklearn(n_classes, weights, solver):
    X, y, sw = classification_data(n_classes)
    alpha = 3.0
    sample_weight = sw if weights == "sample" else None
    class_weight = {0: 2.0, 1: 0.5, 2: 1.0} if weights == "class" else None
    ours = LogisticRegression(alpha, class_weight=class_weight, solver=solver).fit(
        X, y, sample_weight=sample_weight
    )
    ref = sk.LogisticRegression(
        C=1 / alpha, class_weight=class_weight, tol=1e-12, max_iter=10_000
    ).fit(X, y, sample_weight=sample_weight)
    assert rel_err(ours.coef_, ref.coef_) < 1e-6
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)

    s = np.ones(len(y)) if sample_weight is None else sample_weight.copy()
    if class_weight is not None:
        s *= np.array([class_weight[c] for c in y])
    g = logistic_gradient(X, y, s, ours.coef_, ours.intercept_, alpha, ours.classes_)
    g0 = logistic_gradient(X, y, s, 0 * ours.coef_, 0 * ours.intercept_, alpha, ours.classes_)
    assert np.max(np.abs(g)) <= 1e-7 * np.max(np.abs(g0))


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("solver", SOLVERS)
def test_linear_svc_matches_liblinear_without_intercept(n_classes, solver):
    X, y, _ = classification_data(n_classes, seed=1)
    alpha = 2.0
    ours = LinearSVC(alpha, fit_intercept=False, solver=solver).fit(X, y)
    ref = sksvm.LinearSVC(
        C=1 / alpha, loss="squared_hinge", dual=False, fit_intercept=False, tol=1e-12,
        max_iter=100_000,
    ).fit(X, y)
    assert rel_err(ours.coef_, ref.coef_) < 1e-6
    # optimality of each one-vs-rest problem: 2 sum_i s_i * (-y_i) slack_i x_i + alpha w = 0
    targets = [1 * (y == ours.classes_[1])] if n_classes == 2 else [
        1 * (y == c) for c in ours.classes_
    ]
    for w, t in zip(ours.coef_, targets, strict=False):
        sign = 2.0 * t - 1
        slack = np.maximum(0, 1 - sign * (X @ w))
        g = X.T @ (-2 * sign * slack) + alpha * w
        g0 = X.T @ (-2 * sign)
        assert np.max(np.abs(g)) <= 1e-7 * np.max(np.abs(g0))


def test_linear_svc_intercept_is_unpenalized():
    X, y, _ = classification_data(2, seed=2)
    y = np.where(X[:, 0] + 0.3 * np.random.default_rng(0).standard_normal(len(y)) > 1.0, 1, 0)
    ours = LinearSVC(5.0).fit(X, y)
    sign = 2.0 * y - 1
    margin = X @ ours.coef_[0] + ours.intercept_[0]
    slack = np.maximum(0, 1 - sign * margin)
    assert abs(np.sum(-2 * sign * slack)) < 1e-6 * len(y)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_poisson_matches_sklearn(weighted, solver):
    rng = np.random.default_rng(3)
    n, p = 400, 5
    X = rng.standard_normal((n, p)) * 0.5
    y = rng.poisson(np.exp(X @ rng.standard_normal(p) * 0.5 + 0.3)).astype(float)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    a = 0.01
    ref = sk.PoissonRegressor(alpha=a, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(
        X, y, sample_weight=sw
    )
    s = np.ones(n) if sw is None else sw
    alpha = a * s.sum()
    ours = PoissonRegressor(alpha, solver=solver).fit(X, y, sample_weight=sw)
    assert rel_err(ours.coef_, ref.coef_) < 1e-6
    assert abs(ours.intercept_ - ref.intercept_) < 1e-6
    resid = (np.exp(X @ ours.coef_ + ours.intercept_) - y) * s
    g = np.append(X.T @ resid + alpha * ours.coef_, resid.sum())
    g0 = np.append(X.T @ ((1 - y) * s), ((1 - y) * s).sum())
    assert np.max(np.abs(g)) <= 1e-7 * np.max(np.abs(g0))


def test_unpenalized_logistic_matches_sklearn_when_not_separable():
    X, y, _ = classification_data(2, n=400, seed=4)
    ours = LogisticRegression(0.0).fit(X, y)
    ref = sk.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert rel_err(ours.coef_, ref.coef_) < 1e-6


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sub_sampled_newton_reaches_the_same_solution(n_classes):
    """n >> n_params: Newton-Cholesky estimates its Hessian from a subset of rows; the
    solution is still the exact minimizer (gradient and stopping rule are exact)."""
    X, y, sw = classification_data(n_classes, n=6000, p=5, seed=7)
    ours = LogisticRegression(1.0, solver="newton-cholesky").fit(X, y, sample_weight=sw)
    ref = sk.LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=sw)
    assert rel_err(ours.coef_, ref.coef_) < 1e-6
    g = logistic_gradient(X, y, sw, ours.coef_, ours.intercept_, 1.0, ours.classes_)
    g0 = logistic_gradient(X, y, sw, 0 * ours.coef_, 0 * ours.intercept_, 1.0, ours.classes_)
    assert np.max(np.abs(g)) <= 1e-7 * np.max(np.abs(g0))


@pytest.mark.parametrize("solver", SOLVERS)
def test_kernel_optimality_with_gamma_w0_and_weights(solver):
    """The kernels' general penalty alpha/2 ||Gamma (W - w0)||^2, multinomial, weighted."""
    from ridgeway.glm import GLMData, L2Penalty, MultinomialLoss, Objective, solve

    X, y, sw = classification_data(3, n=400, p=4, seed=8)
    Y = np.eye(3)[y]
    rng = np.random.default_rng(0)
    gamma = rng.standard_normal((6, 4))
    w0 = rng.standard_normal((4, 3))
    pen = L2Penalty(2.0, gamma, w0)
    fit = solve(Objective(GLMData(X, Y, sw), MultinomialLoss(), pen), solver, tol=1e-8)
    assert fit.converged
    resid = (softmax(X @ fit.coef + fit.intercept, axis=1) - Y) * sw[:, None]
    g = np.vstack([X.T @ resid + 2.0 * gamma.T @ gamma @ (fit.coef - w0), resid.sum(axis=0)])
    resid0 = (1 / 3 - Y) * sw[:, None]
    g0 = np.vstack([X.T @ resid0 - 2.0 * gamma.T @ gamma @ w0, resid0.sum(axis=0)])
    assert np.max(np.abs(g)) <= 1.001e-8 * np.max(np.abs(g0))
