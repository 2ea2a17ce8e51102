"""Losses and penalty of ridgeway.glm: formulas, derivatives, stability; solver contracts."""

import numpy as np
import pytest
from scipy.special import logsumexp

from ridgeway.glm import (
    LBFGS,
    GLMData,
    L2Penalty,
    LogisticLoss,
    MultinomialLoss,
    NewtonCG,
    NewtonCholesky,
    Objective,
    PoissonLoss,
    SquaredHingeLoss,
    check_compatible,
    resolve_solver,
    solve,
)

rng = np.random.default_rng(0)


def make_case(loss, n=7, k=3):
    if isinstance(loss, MultinomialLoss):
        y = np.eye(k)[rng.integers(0, k, n)]
        eta = rng.standard_normal((n, k))
    elif isinstance(loss, PoissonLoss):
        y = rng.poisson(2.0, (n, 1)).astype(float)
        eta = rng.standard_normal((n, 1))
    else:
        y = rng.choice([-1.0, 1.0], (n, 1))
        eta = rng.standard_normal((n, 1)) * 2
    return y, eta, rng.uniform(0.5, 2, n)


LOSSES = [LogisticLoss(), MultinomialLoss(), SquaredHingeLoss(), PoissonLoss()]


def naive_value(loss, y, eta):
    """The formula of each docstring, written directly (moderate margins only)."""
    if isinstance(loss, LogisticLoss):
        return np.log(1 + np.exp(-y * eta))
    if isinstance(loss, MultinomialLoss):
        return (logsumexp(eta, axis=1) - np.sum(y * eta, axis=1))[:, None]
    if isinstance(loss, SquaredHingeLoss):
        return np.maximum(0, 1 - y * eta) ** 2
    mu = np.exp(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return ylogy - y + mu


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_value_matches_docstring_formula(loss):
    y, eta, sw = make_case(loss)
    expected = float(sw @ naive_value(loss, y, eta).sum(axis=1))
    assert loss.value(y, eta, sw) == pytest.approx(expected, rel=1e-12)
    assert loss.gradient(y, eta, sw)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_gradient_and_hessian_match_finite_differences(loss):
    y, eta, sw = make_case(loss)
    if isinstance(loss, SquaredHingeLoss):  # stay away from the kink at margin 1
        eta = np.where(np.abs(1 - y * eta) < 0.05, eta + 0.2, eta)
    _, grad = loss.gradient(y, eta, sw)
    blocks = loss.hessian(y, eta, sw)
    h = 1e-6
    for k in range(eta.shape[1]):
        e = np.zeros_like(eta)
        e[:, k] = h
        per_sample = lambda t: sw[:, None] * naive_value(loss, y, t)  # noqa: E731
        fd = (per_sample(eta + e) - per_sample(eta - e)).sum(axis=1) / (2 * h)
        np.testing.assert_allclose(grad[:, k], fd, rtol=1e-6, atol=1e-8)
        g_plus = loss.gradient(y, eta + e, sw)[1]
        g_minus = loss.gradient(y, eta - e, sw)[1]
        np.testing.assert_allclose(blocks[:, :, k], (g_plus - g_minus) / (2 * h), atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_hessian_operator_equals_blocks(loss):
    y, eta, sw = make_case(loss)
    v = rng.standard_normal(eta.shape)
    expected = np.einsum("ikl,il->ik", loss.hessian(y, eta, sw), v)
    np.testing.assert_allclose(loss.hessian_operator(y, eta, sw)(v), expected, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
@pytest.mark.parametrize("margin", [1e4, -1e4])
def test_huge_margins_stay_finite(loss, margin):
    y, eta, sw = make_case(loss)
    eta = np.full_like(eta, margin)
    eta[:, 0] = -margin
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grad = loss.gradient(y, eta, sw)
        blocks = loss.hessian(y, eta, sw)
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(blocks))


def test_logistic_large_margin_values_are_exact():
    y = np.array([[1.0], [-1.0]])
    eta = np.array([[-1e4], [-1e4]])
    # log(1 + exp(1e4)) = 1e4 exactly in float64, log(1 + exp(-1e4)) = 0
    assert LogisticLoss().value(y, eta, np.array([1.0, 0.0])) == 1e4
    assert LogisticLoss().value(y, eta, np.array([0.0, 1.0])) == 0.0


def test_penalty_formula_with_gamma_and_w0():
    gamma = np.array([[1.0, 2.0], [0.0, 3.0], [1.0, 1.0]])
    w0 = np.array([0.5, -1.0])
    pen = L2Penalty(2.0, gamma, w0)
    W = np.array([[1.0], [2.0]])
    d = W[:, 0] - w0
    assert pen.value(W) == pytest.approx(0.5 * 2.0 * np.sum((gamma @ d) ** 2))
    np.testing.assert_allclose(pen.gradient(W)[:, 0], 2.0 * gamma.T @ gamma @ d)
    vector = L2Penalty(3.0, np.array([1.0, 0.0]))
    assert vector.value(W) == pytest.approx(1.5 * 1.0)
    assert L2Penalty(0.0).is_zero and L2Penalty(1.0, np.zeros(2)).is_zero


def test_per_feature_penalty_factor_zero_leaves_feature_unpenalized():
    X = rng.standard_normal((200, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.standard_normal(200) > 0) * 2.0 - 1
    data = GLMData(X, y[:, None], np.ones(200), True)
    pen = L2Penalty(5.0, np.array([1.0, 0.0, 1.0]))
    fit = solve(Objective(data, LogisticLoss(), pen), "newton-cholesky")
    eta = X @ fit.coef[:, 0] + fit.intercept[0]
    resid = 1 / (1 + np.exp(-eta)) - (y > 0)
    assert abs(X[:, 1] @ resid) < 1e-6  # unpenalized: its loss gradient vanishes alone


class ValueOnlyLoss:
    def value(self, y, eta, sw):
        return 0.0

    def gradient(self, y, eta, sw):
        return 0.0, np.zeros_like(eta)


def test_solver_contract_names_the_missing_operation():
    with pytest.raises(TypeError, match="NewtonCholesky is not compatible with ValueOnlyLoss: "
                       "it must implement hessian"):
        check_compatible(NewtonCholesky(), ValueOnlyLoss())
    with pytest.raises(TypeError, match="must implement hessian_operator"):
        check_compatible(NewtonCG(), ValueOnlyLoss())
    check_compatible(LBFGS(), ValueOnlyLoss())


def test_auto_solver_is_resolved_by_shape_and_sparsity():
    assert resolve_solver("auto", 1000, 51, 1, sparse=False) == "newton-cholesky"
    assert resolve_solver("auto", 1000, 51, 1, sparse=True) == "newton-cg"
    assert resolve_solver("auto", 1000, 101, 10, sparse=False) == "lbfgs"
    assert resolve_solver("auto", 10, 51, 1, sparse=False) == "newton-cholesky"
    assert resolve_solver("auto", 10, 601, 1, sparse=False) == "lbfgs"
    assert resolve_solver("lbfgs", 1000, 51, 1, sparse=False) == "lbfgs"
    with pytest.raises(ValueError, match="solver must be one of"):
        resolve_solver("newton", 10, 2, 1, sparse=False)
