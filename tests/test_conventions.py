"""ridgeway.conventions: every conversion checked against the tool's own objective and by fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeway import conventions as C
from ridgeway.conventions import convert, from_alpha, known_conventions, table, to_alpha

# ---------------------------------------------------------------------------------------------
# Each tool's objective, written from its documentation (shared/conventions-facts.md), NOT from
# the scale table of the module. f = X w + b; "sq" = squared loss, "log" = logistic loss.
# ---------------------------------------------------------------------------------------------


def _nll(y, f):
    return np.logaddexp(0.0, f) - y * f


def _data(loss, y, f):
    """Per-sample loss as each tool writes it: the squared error (no 1/2), the log-loss, the
    Poisson negative log-likelihood exp(f) - y f, or the squared hinge (y in {-1, +1})."""
    if loss == "poisson":
        return np.exp(f) - y * f
    if loss == "squared_hinge":
        return np.maximum(0.0, 1.0 - (2 * y - 1) * f) ** 2
    return (y - f) ** 2 if loss == "squared" else _nll(y, f)


def _tool_objective(name, loss, reduction, value, w, f, y, sd_y):
    n = len(y)
    e = _data(loss, y, f)
    ww = float(w @ w)
    red = np.mean if reduction == "mean" else np.sum
    if name == "ridgeway":
        per = 0.5 * e if loss == "squared" else e  # squared hinge: no 1/2
        return per.sum() + value / 2 * ww
    if name == "sklearn":
        return e.sum() + value * ww
    if name == "sklearn_C":  # LogisticRegression / LinearSVC (squared hinge ~ squared loss)
        return value * e.sum() + 0.5 * ww
    if name == "sklearn_sgd":  # squared_error uses 1/2 (y - f)^2
        per = 0.5 * e if loss == "squared" else e
        return per.mean() + value * 0.5 * ww
    if name == "sklearn_enet":
        return e.sum() / (2 * n) + value / 2 * ww
    if name == "mlp":  # full batch: mean loss (squared: mean((y-f)^2)/2) + alpha/(2n) ||W||^2
        per = 0.5 * e if loss == "squared" else e
        return per.mean() + value / (2 * n) * ww
    if name == "glmnet":  # gaussian: ridge term acts with lambda/sd_y on the original scale
        if loss == "squared":
            return e.sum() / (2 * n) + value / sd_y / 2 * ww
        return e.mean() + value / 2 * ww
    if name == "glum":  # 1/(2n) sum deviance; binomial / Poisson deviance = 2 nll + const
        dev = e if loss == "squared" else 2 * e
        return dev.sum() / (2 * n) + value / 2 * ww
    if name == "sklearn_glm":  # PoissonRegressor: 1/(2n) sum deviance + alpha/2 ||w||^2
        return (2 * e).sum() / (2 * n) + value / 2 * ww
    if name == "spark":
        if loss == "squared":
            return e.sum() / (2 * n) + (value / sd_y) / 2 * ww
        return e.mean() + value / 2 * ww
    if name == "statsmodels":  # OLS: 0.5 RSS / n ; GLM: -loglik / n
        per = 0.5 * e if loss == "squared" else e
        return per.mean() + value / 2 * ww
    if name in ("torch_sgd", "torch_adam", "adamw", "optax"):  # gradient + wd * w
        return red(e) + value / 2 * ww  # MSELoss has no 1/2
    if name in ("keras", "seed_sum"):
        return red(e) + value * ww
    if name == "dask_ml":  # lamduh = 1/C on (w, b); the tests evaluate with b unpenalized
        return e.sum() + 1 / value / 2 * ww
    if name == "dask_glm":
        return e.sum() + value / 2 * ww
    if name == "seed_2m":
        per = 0.5 * e if loss == "squared" else e
        return per.mean() + value / (2 * n) * ww
    raise AssertionError(name)


def _usable(name, loss):
    return loss in C._APPLIES.get(name, ("squared", "log"))


def _cases():
    for name, conv in C.CONVENTIONS.items():
        for loss in ("squared", "log", "poisson", "squared_hinge"):
            if not _usable(name, loss):
                continue
            reductions = ("mean", "sum") if conv.reduction else (None,)
            for reduction in reductions:
                yield name, loss, reduction


@pytest.mark.parametrize("name,loss,reduction", list(_cases()))
def test_tool_objective_is_positive_multiple_of_ridgeway_objective(name, loss, reduction):
    rng = np.random.default_rng(0)
    n, p = 30, 4
    X = rng.normal(size=(n, p))
    y = {"squared": rng.normal(size=n) * 3 + 1,
         "poisson": rng.poisson(2.0, n).astype(float)}.get(
        loss, rng.integers(0, 2, n).astype(float))
    sd_y = float(np.std(y))
    value = 0.37
    alpha = to_alpha(value, name, n=n, sd_y=sd_y, loss=loss, reduction=reduction)
    assert alpha > 0
    points = [(rng.normal(size=p), rng.normal()) for _ in range(6)]
    tool = [_tool_objective(name, loss, reduction, value, w, X @ w + b, y, sd_y)
            for w, b in points]
    ours = [_tool_objective("ridgeway", loss, None, alpha, w, X @ w + b, y, sd_y)
            for w, b in points]
    # Same minimizer <=> tool = c * ours + const with c > 0 (checked on differences).
    dt, do = np.diff(tool), np.diff(ours)
    ratio = dt / do
    assert np.all(ratio > 0)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)


def test_wrong_factor_is_detected():
    # The objective check above has teeth: glmnet without the sd_y effect fails it.
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20) * 4
    alpha_wrong = 20 * 0.5  # n * lambda, ignoring sd_y
    pts = [rng.normal(size=3) for _ in range(4)]
    tool = [_tool_objective("glmnet", "squared", None, 0.5, w, X @ w, y, np.std(y)) for w in pts]
    ours = [_tool_objective("ridgeway", "squared", None, alpha_wrong, w, X @ w, y, 1.0)
            for w in pts]
    ratio = np.diff(tool) / np.diff(ours)
    assert not np.allclose(ratio, ratio[0], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Fits of the installed peers, through the conversion.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reg_data():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(80, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(size=80) + 2.0
    return X, y


@pytest.fixture(scope="module")
def clf_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 4))
    y = (X @ np.array([1.0, -1.0, 0.5, 2.0]) + rng.logistic(size=120) > 0).astype(float)
    return X, y


def _ridge(X, y, alpha):
    from sklearn.linear_model import Ridge  # the identity convention: alpha is sklearn's

    return Ridge(alpha=alpha).fit(X, y)


def test_glum_alpha_matches_ridge(reg_data):
    glum = pytest.importorskip("glum")
    X, y = reg_data
    alpha = 7.0
    a = from_alpha(alpha, "glum", n=len(y))
    model = glum.GeneralizedLinearRegressor(alpha=a, l1_ratio=0.0, family="normal",
                                            gradient_tol=1e-12).fit(X, y)
    ref = _ridge(X, y, alpha)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-7)


def test_glum_binomial_alpha_matches_logistic_C(clf_data):
    glum = pytest.importorskip("glum")
    from sklearn.linear_model import LogisticRegression

    X, y = clf_data
    alpha = 3.0
    a = from_alpha(alpha, "glum", n=len(y), loss="log")
    model = glum.GeneralizedLinearRegressor(alpha=a, l1_ratio=0.0, family="binomial",
                                            gradient_tol=1e-12).fit(X, y)
    c = from_alpha(alpha, "sklearn_C", loss="log")
    assert c == pytest.approx(1 / alpha)
    ref = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_.ravel(), rtol=1e-6)


@pytest.fixture(scope="module")
def count_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 4))
    y = rng.poisson(np.exp(0.4 + X @ np.array([0.5, -0.3, 0.2, 0.0]))).astype(float)
    return X, y


def _ridgeway_poisson(X, y, alpha):
    from ridgeway.linear_model import PoissonRegressor

    return PoissonRegressor(alpha=alpha, tol=1e-12).fit(X, y)


def test_sklearn_poisson_alpha_is_alpha_over_n(count_data):
    from sklearn.linear_model import PoissonRegressor

    X, y = count_data
    alpha = 12.0
    a = from_alpha(alpha, "sklearn_glm", n=len(y), loss="poisson")
    assert a == pytest.approx(alpha / len(y))
    ref = PoissonRegressor(alpha=a, tol=1e-12, max_iter=10_000).fit(X, y)
    ours = _ridgeway_poisson(X, y, alpha)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


def test_glum_poisson_alpha_matches(count_data):
    glum = pytest.importorskip("glum")
    X, y = count_data
    alpha = 12.0
    a = from_alpha(alpha, "glum", n=len(y), loss="poisson")
    model = glum.GeneralizedLinearRegressor(alpha=a, l1_ratio=0.0, family="poisson",
                                            gradient_tol=1e-12).fit(X, y)
    ours = _ridgeway_poisson(X, y, alpha)
    np.testing.assert_allclose(model.coef_, ours.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, ours.intercept_, rtol=1e-6)


def test_glmnet_poisson_lambda_against_its_objective(count_data):
    # glmnet (family="poisson", alpha=0) minimizes -1/n sum (y f - exp f) + lambda/2 ||w||^2
    from scipy.optimize import minimize

    X, y = count_data
    alpha = 12.0
    lam = from_alpha(alpha, "glmnet", n=len(y), loss="poisson")
    assert lam == pytest.approx(alpha / len(y))

    def objective(theta):
        w, b = theta[:-1], theta[-1]
        f = X @ w + b
        r = np.exp(f) - y
        value = np.mean(np.exp(f) - y * f) + lam / 2 * w @ w
        return value, np.append(X.T @ r / len(y) + lam * w, r.mean())

    res = minimize(objective, np.zeros(X.shape[1] + 1), jac=True, method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10_000})
    ours = _ridgeway_poisson(X, y, alpha)
    np.testing.assert_allclose(res.x[:-1], ours.coef_, rtol=1e-5, atol=1e-8)


def test_linear_svc_C_is_one_over_alpha(clf_data):
    from sklearn.svm import LinearSVC as SkLinearSVC

    from ridgeway.linear_model import LinearSVC

    X, y = clf_data
    alpha = 4.0
    c = from_alpha(alpha, "sklearn_C", loss="squared_hinge")
    assert c == pytest.approx(1 / alpha)
    ref = SkLinearSVC(C=c, loss="squared_hinge", dual=False, fit_intercept=False,
                      tol=1e-12, max_iter=100_000).fit(X, y)
    ours = LinearSVC(alpha=alpha, fit_intercept=False, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(np.ravel(ours.coef_), np.ravel(ref.coef_), rtol=1e-6, atol=1e-9)


def test_multinomial_logistic_C_and_glmnet_lambda():
    # scikit-learn's multinomial LogisticRegression(C) and glmnet's multinomial objective
    # (-1/n loglik + lambda/2 ||W||_F^2) both map to alpha as in the binary case.
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression as SkLogistic

    from ridgeway.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 3))
    y = np.argmax(X @ rng.normal(size=(3, 3)) + rng.gumbel(size=(150, 3)), axis=1)
    alpha = 5.0
    ours = LogisticRegression(alpha=alpha, tol=1e-12).fit(X, y)
    ref = SkLogistic(C=from_alpha(alpha, "sklearn_C", loss="log"), tol=1e-12,
                     max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    lam = from_alpha(alpha, "glmnet", n=len(y), loss="log")
    Y = np.eye(3)[y]

    def objective(theta):
        W, b = theta[:9].reshape(3, 3), theta[9:]
        F = X @ W + b
        F -= F.max(axis=1, keepdims=True)
        P = np.exp(F) / np.exp(F).sum(axis=1, keepdims=True)
        value = -np.mean(np.sum(Y * np.log(P), axis=1)) + lam / 2 * np.sum(W ** 2)
        G = (P - Y) / len(y)
        return value, np.concatenate([(X.T @ G + lam * W).ravel(), G.sum(axis=0)])

    res = minimize(objective, np.zeros(12), jac=True, method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10_000})
    W = res.x[:9].reshape(3, 3)
    np.testing.assert_allclose(W - W.mean(axis=1, keepdims=True), ours.coef_.T, atol=2e-5)


def test_elasticnet_l1_ratio_0_matches_ridge(reg_data):
    from sklearn.linear_model import ElasticNet

    X, y = reg_data
    alpha = 4.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn advises Ridge for l1_ratio=0
        model = ElasticNet(alpha=from_alpha(alpha, "sklearn_enet", n=len(y)), l1_ratio=0.0,
                           tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, _ridge(X, y, alpha).coef_, rtol=1e-8)


def test_mlp_lbfgs_linear_net_matches_ridge(reg_data):
    from sklearn.neural_network import MLPRegressor

    X, y = reg_data
    alpha = 5.0
    mlp = MLPRegressor(hidden_layer_sizes=(), alpha=from_alpha(alpha, "mlp"), solver="lbfgs",
                       max_iter=20_000, tol=1e-14, random_state=0).fit(X, y)
    ref = _ridge(X, y, alpha).coef_
    # lbfgs stops on its own gradient tolerance: compare in norm.
    assert np.linalg.norm(mlp.coefs_[0].ravel() - ref) / np.linalg.norm(ref) < 1e-5
    # a wrong factor of 2 would be far off
    ref2 = _ridge(X, y, 2 * alpha).coef_
    assert np.linalg.norm(mlp.coefs_[0].ravel() - ref2) / np.linalg.norm(ref2) > 1e-3


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_torch_sgd_weight_decay_matches_ridge(reg_data, reduction):
    torch = pytest.importorskip("torch")
    X, y = reg_data
    n, alpha = len(y), 6.0
    wd = from_alpha(alpha, "torch_sgd", n=n, reduction=reduction)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w], "weight_decay": wd}, {"params": [b]}],
                          lr=0.2 if reduction == "mean" else 0.2 / n)
    mse = torch.nn.MSELoss(reduction=reduction)
    for _ in range(400):
        opt.zero_grad()
        mse(Xt @ w + b, yt).backward()
        opt.step()
    ref = _ridge(X, y, alpha)
    np.testing.assert_allclose(w.detach().numpy(), ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(float(b.detach()), ref.intercept_, rtol=1e-9)


def test_seed_sum_log_is_not_C_equals_one_over_lambda():
    # The seed says LogisticRegression C = 1/lambda for "loss + lambda sum w^2"; it is 1/(2 lambda).
    lam = 0.25
    assert convert(lam, from_="seed_sum", to="sklearn_C", loss="log") == pytest.approx(2.0)
    assert convert(lam, from_="seed_sum", to="sklearn", loss="squared") == pytest.approx(lam)


def test_documented_examples():
    assert to_alpha(0.01, "keras", n=100) == pytest.approx(1.0)  # facts: A = n * l
    assert to_alpha(0.01, "keras", n=100, loss="log") == pytest.approx(2.0)  # C = 1/(2 n l)
    assert to_alpha(0.02, "torch_sgd", n=100) == pytest.approx(1.0)  # A = n * wd / 2
    assert to_alpha(0.02, "torch_sgd", n=100, loss="log") == pytest.approx(2.0)  # C = 1/(n wd)
    assert to_alpha(0.1, "glmnet", n=50, sd_y=2.0) == pytest.approx(2.5)  # n lambda / sd_y
    assert to_alpha(0.1, "glmnet", n=50, loss="log") == pytest.approx(5.0)
    assert to_alpha(2.0, "sklearn_C", loss="squared") == pytest.approx(0.25)  # 1/(2C)
    assert to_alpha(math.inf, "sklearn_C", loss="log") == 0.0
    assert from_alpha(0.0, "sklearn_C", loss="log") == math.inf
    assert to_alpha(3.0, "seed_2m") == 3.0


# ---------------------------------------------------------------------------------------------
# Properties.
# ---------------------------------------------------------------------------------------------

names = st.sampled_from(known_conventions())
losses = st.sampled_from(["squared", "log", "poisson", "squared_hinge"])
positive = st.floats(min_value=1e-8, max_value=1e8, allow_nan=False)
ns = st.floats(min_value=1.0, max_value=1e6)


@settings(max_examples=200, deadline=None)
@given(value=positive, name=names, loss=losses, n=ns, sd_y=positive)
def test_round_trip(value, name, loss, n, sd_y):
    if not _usable(name, loss):
        return
    alpha = to_alpha(value, name, n=n, sd_y=sd_y, loss=loss)
    back = from_alpha(alpha, name, n=n, sd_y=sd_y, loss=loss)
    assert back == pytest.approx(value, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(value=positive, a=names, b=names, loss=losses, n=ns, sd_y=positive)
def test_convert_round_trip_and_identity(value, a, b, loss, n, sd_y):
    if not (_usable(a, loss) and _usable(b, loss)):
        return
    there = convert(value, from_=a, to=b, n=n, sd_y=sd_y, loss=loss)
    assert convert(there, from_=b, to=a, n=n, sd_y=sd_y, loss=loss) == pytest.approx(
        value, rel=1e-12)
    assert convert(value, from_=a, to=a, n=n, sd_y=sd_y, loss=loss) == pytest.approx(value)


@settings(max_examples=100, deadline=None)
@given(v1=positive, v2=positive, name=names, loss=losses, n=ns)
def test_monotone(v1, v2, name, loss, n):
    if not _usable(name, loss) or abs(v1 - v2) <= 1e-9 * max(v1, v2):
        return  # (equal up to rounding: the order may tie)
    a1 = to_alpha(v1, name, n=n, sd_y=1.0, loss=loss)
    a2 = to_alpha(v2, name, n=n, sd_y=1.0, loss=loss)
    inverse = name in ("sklearn_C", "dask_ml")
    assert (a1 < a2) == ((v1 < v2) != inverse)


def test_table_agrees_with_from_alpha():
    rows = table(2.0, n=40, sd_y=3.0)
    by_name = {r.convention: r for r in rows}
    assert set(by_name) == {c for c in known_conventions() if _usable(c, "squared")}
    for name, row in by_name.items():
        assert row.value == pytest.approx(from_alpha(2.0, name, n=40, sd_y=3.0))
    assert not by_name["adamw"].exact and "SGD limit" in by_name["adamw"].note
    log_rows = {r.convention: r for r in table(2.0, loss="log")}
    assert "sklearn" not in log_rows  # Ridge alpha is undefined for the log loss
    assert log_rows["sklearn_C"].value == pytest.approx(0.5)
    assert log_rows["glum"].value is None and log_rows["glum"].note.startswith("needs n")


# ---------------------------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------------------------


def test_unknown_convention_lists_known():
    with pytest.raises(ValueError, match=r"Unknown convention 'pytorch'.*torch_sgd.*keras"):
        to_alpha(1.0, "pytorch")
    with pytest.raises(ValueError, match="Unknown convention"):
        convert(1.0, from_="sklearn", to="tensorflow")


def test_n_required():
    with pytest.raises(ValueError, match="needs n, the number of training samples"):
        to_alpha(0.1, "glum")
    with pytest.raises(ValueError, match="needs n"):
        from_alpha(1.0, "torch_sgd")
    assert to_alpha(0.1, "torch_sgd", reduction="sum") == pytest.approx(0.05)  # no n needed


def test_sd_y_required_for_glmnet_gaussian_only():
    with pytest.raises(ValueError, match=r"needs sd_y.*lambda/sd_y"):
        to_alpha(0.1, "glmnet", n=10)
    assert to_alpha(0.1, "glmnet", n=10, loss="log") == pytest.approx(1.0)


@pytest.mark.parametrize("bad,match", [
    (-1.0, "value must be non-negative"),
    (float("nan"), "value must be finite"),
    (float("inf"), "value must be finite"),
])
def test_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        to_alpha(bad, "keras", n=10)


def test_bad_alpha_and_n():
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        from_alpha(-0.5, "sklearn")
    with pytest.raises(ValueError, match="alpha must be finite"):
        table(float("nan"))
    with pytest.raises(ValueError, match="n must be positive"):
        to_alpha(1.0, "glum", n=0)
    with pytest.raises(TypeError, match="value must be a real number"):
        to_alpha("1.0", "sklearn")
    with pytest.raises(ValueError, match="value must be positive"):
        to_alpha(0.0, "sklearn_C", loss="log")


def test_bad_loss_and_reduction():
    with pytest.raises(ValueError, match="squared loss only; for LogisticRegression use"):
        to_alpha(1.0, "sklearn", loss="log")
    with pytest.raises(ValueError, match="loss must be one of"):
        to_alpha(1.0, "glum", n=3, loss="hinge")
    with pytest.raises(ValueError, match="reduction='mean' does not apply to convention 'glum'"):
        to_alpha(1.0, "glum", n=3, reduction="mean")
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        to_alpha(1.0, "keras", n=3, reduction="batch")
    with pytest.raises(ValueError, match="does not apply"):
        convert(1.0, from_="glum", to="sklearn", n=3, reduction="sum")
