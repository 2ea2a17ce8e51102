"""CV paths in the eigenbasis of the design, approximate leverages and effective df.

Checked on several data generators (independent and AR(1)-correlated features, balanced and
rare classes, zero and large intercepts, centered and shifted features): a scheme tuned to one
generator proves little.
"""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from ridgeway import (
    LinearSVC,
    LinearSVCCV,
    LogisticRegression,
    LogisticRegressionCV,
    PoissonRegressor,
    PoissonRegressorCV,
)
from ridgeway.glm import (
    GLMData,
    L2Penalty,
    LogisticLoss,
    MultinomialLoss,
    Objective,
    PoissonLoss,
    alo_predictor,
    fit_path,
)
from ridgeway.glm import path as glm_path
from ridgeway.glm.cvpath import SCORE_RTOL, Arrow, SpectralCV, SpectralDesign, arrow_leverages
from ridgeway.glm.path import effective_df

GENERATORS = {
    "iid": {},
    "ar1": {"rho": 0.9},
    "rare": {"intercept": -3.0},
    "large-intercept-shifted": {"intercept": 2.0, "shift": 50.0},
}


def make(n, p, *, rho=0.0, intercept=0.0, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    w = rng.standard_normal(p) * 2 / np.sqrt(p)
    y = (X @ w + intercept + rng.logistic(size=n) > 0).astype(int)
    return X + shift, y


def explicit_df(X, A, alpha, fit_intercept=True):
    """Trace of the n x n hat matrix X~ (X~'AX~ + alpha J)^{-1} X~' A, less the intercept's 1."""
    Xt = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    J = np.eye(Xt.shape[1])
    if fit_intercept:
        J[-1, -1] = 0.0
    H = Xt.T @ (Xt * A[:, None]) + alpha * J
    hat = Xt @ np.linalg.solve(H, Xt.T * A[None, :])
    return float(np.trace(hat)) - fit_intercept


# --- effective degrees of freedom ------------------------------------------------------------


class SquaredLoss:
    """0.5 (y - eta)^2: the closed form of df is the ridge hat-matrix trace."""

    def value(self, y, eta, sw):
        return float(0.5 * np.sum(sw[:, None] * (y - eta) ** 2))

    def gradient(self, y, eta, sw):
        return self.value(y, eta, sw), (eta - y) * sw[:, None]

    def hessian(self, y, eta, sw):
        return np.broadcast_to(sw[:, None, None], (len(sw), 1, 1)).copy()

    def hessian_operator(self, y, eta, sw):
        return lambda v: v * sw[:, None]


@pytest.mark.parametrize("alpha", [0.0, 0.3, 30.0, 1e6])
def test_df_squared_loss_closed_form(alpha):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5)) + 3.0
    y = rng.standard_normal((60, 1))
    obj = Objective(GLMData(X, y, np.ones(60)), SquaredLoss(), L2Penalty(alpha))
    lam = np.linalg.eigvalsh((X - X.mean(0)).T @ (X - X.mean(0)))
    expected = float(np.sum(lam / (lam + alpha)))  # the intercept is not counted
    assert effective_df(obj, np.zeros((6, 1))) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("loss_name", ["logistic", "poisson", "hinge"])
@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_df_equals_the_explicit_hat_matrix_trace(loss_name, alpha):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 4))
    if loss_name == "poisson":
        y, est = rng.poisson(np.exp(0.5 * X[:, 0])), PoissonRegressor(alpha)
        fit = est.fit(X, y)
        A = np.exp(X @ fit.coef_ + fit.intercept_)
    else:
        y = (X[:, 0] + rng.logistic(size=80) > 0).astype(int)
        fit = LogisticRegression(alpha).fit(X, y)
        if loss_name == "hinge":
            fit = LinearSVC(alpha).fit(X, y)
            margin = (2 * y - 1) * (X @ fit.coef_[0] + fit.intercept_[0])
            A = 2.0 * (margin < 1)
        else:
            p = 1 / (1 + np.exp(-(X @ fit.coef_[0] + fit.intercept_[0])))
            A = p * (1 - p)
    assert fit.df_ == pytest.approx(explicit_df(X, A, alpha), rel=1e-6)


def test_df_at_the_extremes():
    X, y = make(300, 6)
    assert LogisticRegression(0.0).fit(X, y).df_ == pytest.approx(6.0, rel=1e-6)
    assert LogisticRegression(1e12).fit(X, y).df_ == pytest.approx(0.0, abs=1e-6)


def test_df_of_multinomial_leaves_out_the_intercepts():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = rng.integers(0, 3, 400)
    assert LogisticRegression(1e12).fit(X, y).df_ == pytest.approx(0.0, abs=1e-5)
    # unpenalized: 3 x 3 coefficients, of which the common shift over classes is fixed by the
    # centering (the 2 identified intercepts are not counted)
    assert LogisticRegression(1e-10).fit(X, y).df_ == pytest.approx(6.0, rel=1e-4)


def test_df_row_sketch_and_hutchinson_agree_with_the_exact_trace(monkeypatch):
    X, y = make(6000, 20)
    data = GLMData(X, (2.0 * y - 1)[:, None], np.ones(len(y)))
    obj = Objective(data, LogisticLoss(), L2Penalty(300.0))
    theta = fit_path(data, LogisticLoss(), L2Penalty(), [300.0]).theta(0)
    eta = data.predictor(theta)[:, 0]
    p = 1 / (1 + np.exp(-eta))
    exact = explicit_df(X, p * (1 - p), 300.0)
    assert effective_df(obj, theta) == pytest.approx(exact, rel=0.03)  # 2000-row sketch
    monkeypatch.setattr(glm_path, "_DF_DENSE_PARAMS", 0)
    assert effective_df(obj, theta, n_probes=64) == pytest.approx(exact, rel=0.1)


def test_df_multinomial_dense_matches_hutchinson(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = np.argmax(X[:, :3] + rng.gumbel(size=(300, 3)), axis=1)
    data = GLMData(X, np.eye(3)[y], np.ones(300))
    theta = fit_path(data, MultinomialLoss(), L2Penalty(), [5.0]).theta(0)
    obj = Objective(data, MultinomialLoss(), L2Penalty(5.0))
    dense = effective_df(obj, theta)
    monkeypatch.setattr(glm_path, "_DF_DENSE_PARAMS", 0)
    assert effective_df(obj, theta, n_probes=200) == pytest.approx(dense, rel=0.05)


@pytest.mark.parametrize("method", ["kfold", "alo"])
def test_cv_results_df_against_the_explicit_trace(method):
    X, y = make(1500, 10, rho=0.5)
    folds = list(StratifiedKFold(3).split(X, y))
    alphas = np.array([300.0, 10.0, 0.3])
    cv = LogisticRegressionCV(alphas, cv=folds, method=method).fit(X, y)
    for a, alpha in enumerate(alphas):
        rows = [np.arange(len(y))] if method == "alo" else [tr for tr, _ in folds]
        expected = []
        for k, train in enumerate(rows):
            theta = cv.coefs_paths_[1][k, a]
            eta = X[train] @ theta[:-1] + theta[-1]
            p = 1 / (1 + np.exp(-eta))
            expected.append(explicit_df(X[train], p * (1 - p), alpha))
        assert cv.cv_results_["df"][a] == pytest.approx(np.mean(expected), rel=0.02)


# --- approximate leverages and the CV paths' accuracy ----------------------------------------


@pytest.mark.parametrize("block", [2**17, 7 * 5])
def test_products_with_the_squared_basis_equal_the_explicit_square(monkeypatch, block):
    """``Z2' M`` and ``Z2 M`` with ``Z2 = Z * Z`` squared a block of rows at a time (blocks of
    7 rows, the last one short, and one block) against the explicit square in float64."""
    from ridgeway.glm import cvpath

    monkeypatch.setattr(cvpath, "SQUARE_BLOCK", block)
    X, _ = make(123, 5, rho=0.5, shift=3.0)
    design = SpectralDesign.build(X, np.ones(len(X)), True)
    Z2 = design.Z.astype(np.float64) ** 2
    rng = np.random.default_rng(2)
    Mt = rng.uniform(0, 1, (len(X), 3)).astype(np.float32).astype(np.float64)
    M = rng.uniform(0, 1, (5, 2)).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(design.products("Z2T", Mt), Z2.T @ Mt, rtol=1e-5)
    np.testing.assert_allclose(design.products("Z2", M), Z2 @ M, rtol=1e-5)


def dense_arrow_leverages(Z, a, alpha):
    """``z~_i' H~^{-1} z~_i`` with the arrow matrix ``[[diag(Z2'a + alpha), Z'a], [a'Z, sum a]]``
    formed and inverted densely in float64 (``z~_i = [z_i, 1]``)."""
    Zt = np.column_stack([Z, np.ones(len(Z))])
    H = np.diag(np.append((Z * Z).T @ a + alpha, a.sum()))
    H[:-1, -1] = H[-1, :-1] = Z.T @ a
    return np.einsum("ij,ji->i", Zt, np.linalg.solve(H, Zt.T))


@pytest.mark.parametrize("name", ["iid", "large-intercept-shifted"])
def test_arrow_leverages_of_several_alphas_at_once_equal_the_dense_arrow_inverse(name):
    X, _ = make(400, 7, **GENERATORS[name])
    design = SpectralDesign.build(X, np.ones(len(X)), True)
    Z = design.Z.astype(np.float64)
    a = np.random.default_rng(1).uniform(0.01, 0.25, len(X))
    alphas = [1e3, 3.0, 1e-2]
    q = arrow_leverages(design, [Arrow.at(design, a, alpha) for alpha in alphas])
    assert q.shape == (len(X), len(alphas))
    for c, alpha in enumerate(alphas):
        np.testing.assert_allclose(q[:, c], dense_arrow_leverages(Z, a, alpha), rtol=1e-4)


@pytest.mark.parametrize("name", ["iid", "rare"])
def test_arrow_loo_predictors_equal_the_formula_at_each_solution(name):
    """The leave-one-out predictors ``eta_i + q_i g_i / (1 - a_i q_i)`` of the arrow engine,
    recomputed from each alpha's coefficients alone (float64 loss gradient and curvature,
    dense arrow leverages): the gradient and curvature the engine keeps are those at its
    solution."""
    X, y = make(600, 6, **GENERATORS[name])
    Y = (2.0 * y - 1)[:, None]
    data = GLMData(X, Y, np.ones(len(y)))
    alphas = np.geomspace(1e3, 0.1, 5)
    engine = SpectralCV(X, [data], [LogisticLoss()], [(np.arange(len(y)), np.arange(len(y)))],
                        "alo", 1000, leverages="arrow")
    design = engine.design
    for point, alpha in zip(engine.evaluate(alphas), alphas, strict=True):
        eta = data.predictor(point.thetas[0][0])[:, 0]
        mu = 1 / (1 + np.exp(-eta))
        g, a = mu - (Y[:, 0] + 1) / 2, mu * (1 - mu)
        q = dense_arrow_leverages((X - design.mean) @ design.V, a, alpha)
        expected = eta + q * g / (1 - a * q)
        np.testing.assert_allclose(point.held[0][:, 0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_arrow_alo_scores_agree_with_exact_leverages(name):
    """The approximate-LOO score with the arrow leverages is within 8% of the LOO optimism of
    the score with exact leverages (one Cholesky per alpha), at n / p = 100 (measured: 0.2-0.4%,
    7% with 7% positives; the error shrinks as n grows)."""
    X, y = make(3000, 30, **GENERATORS[name])
    Y = (2.0 * y - 1)[:, None]
    data = GLMData(X, Y, np.ones(len(y)))
    alphas = np.geomspace(3e3, 0.3, 6)
    engine = SpectralCV(X, [data], [LogisticLoss()], [(np.arange(len(y)), np.arange(len(y)))],
                        "alo", 1000, leverages="arrow")
    for point, alpha in zip(engine.evaluate(alphas), alphas, strict=True):
        theta = point.thetas[0][0]
        obj = Objective(data, LogisticLoss(), L2Penalty(alpha))
        exact = -LogisticLoss().value(Y, alo_predictor(obj, theta), data.sample_weight) / len(y)
        approx = -LogisticLoss().value(Y, point.held[0], data.sample_weight) / len(y)
        in_sample = -LogisticLoss().value(Y, data.predictor(theta), data.sample_weight) / len(y)
        assert abs(approx - exact) <= 0.08 * (in_sample - exact)


@pytest.mark.parametrize("name", list(GENERATORS))
@pytest.mark.parametrize("method", ["kfold", "alo"])
def test_cv_curve_and_alpha_agree_with_a_1e10_solve(name, method):
    """The stated accuracy of the CV paths: every point of the mean CV curve within 2% of the
    CV standard error of the curve solved to a relative gradient of 1e-10, the same alpha."""
    X, y = make(2000, 20, **GENERATORS[name])
    folds = list(StratifiedKFold(5).split(X, y))
    alphas = np.geomspace(1e4, 0.1, 12)
    fast = LogisticRegressionCV(alphas, cv=folds, method=method).fit(X, y)
    Y = (2.0 * y - 1)[:, None]
    ref = np.empty((len(folds), len(alphas)))
    if method == "kfold":
        for k, (train, test) in enumerate(folds):
            d = GLMData(X[train], Y[train], np.ones(len(train)))
            path = fit_path(d, LogisticLoss(), L2Penalty(), alphas, tol=1e-10)
            dt = GLMData(X[test], Y[test], np.ones(len(test)))
            for a in range(len(alphas)):
                ref[k, a] = -LogisticLoss().value(Y[test], dt.predictor(path.theta(a)),
                                                  np.ones(len(test))) / len(test)
    else:
        full = GLMData(X, Y, np.ones(len(y)))
        path = fit_path(full, LogisticLoss(), L2Penalty(), alphas, tol=1e-10)
        for a, alpha in enumerate(alphas):  # exact leverages, as the fast fit at this size
            obj = Objective(full, LogisticLoss(), L2Penalty(alpha))
            loo = alo_predictor(obj, path.theta(a))
            for k, (_, test) in enumerate(folds):
                ref[k, a] = -LogisticLoss().value(Y[test], loo[test], np.ones(len(test))) / len(
                    test)
    sem = ref.std(axis=0) / np.sqrt(len(folds))
    diff = np.abs(fast.cv_results_["mean_test_score"] - ref.mean(axis=0))
    assert np.all(diff <= 0.02 * sem)
    assert fast.alpha_ == alphas[int(np.argmax(ref.mean(axis=0)))]
    assert SCORE_RTOL <= 0.02


@pytest.mark.parametrize("name", ["ar1", "large-intercept-shifted"])
@pytest.mark.parametrize("method", ["kfold", "alo"])
def test_final_fit_is_solved_to_tol(name, method):
    """The final fit starts on the float32 basis, but ends solved in float64."""
    X, y = make(3000, 20, **GENERATORS[name])
    cv = LogisticRegressionCV(np.geomspace(1e3, 1, 5), method=method).fit(X, y)
    ref = LogisticRegression(cv.alpha_, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(cv.coef_, ref.coef_, rtol=1e-6, atol=1e-9)


def test_poisson_and_svm_spectral_paths_match_separate_fits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 6))
    counts = rng.poisson(np.exp(0.3 * X[:, 0] + 0.5))
    folds = [(np.arange(400), np.arange(400, 600))]
    cv = PoissonRegressorCV([30.0, 3.0], cv=folds).fit(X, counts)
    for a, alpha in enumerate([30.0, 3.0]):
        fit = PoissonRegressor(alpha).fit(X[:400], counts[:400])
        mu = fit.predict(X[400:])
        loss = PoissonLoss().pointwise(counts[400:].astype(float), np.log(mu))
        expected = -2 * loss.mean()
        assert abs(cv.cv_results_["split0_test_score"][a] - expected) <= (
            SCORE_RTOL * 2 * loss.std() / np.sqrt(200))
    labels = (X[:, 1] + rng.logistic(size=600) > 0).astype(int)
    svm = LinearSVCCV([30.0, 3.0], cv=folds, scoring="accuracy").fit(X, labels)
    for a, alpha in enumerate([30.0, 3.0]):
        acc = np.mean(LinearSVC(alpha).fit(X[:400], labels[:400]).predict(X[400:])
                      == labels[400:])
        assert svm.cv_results_["split0_test_score"][a] == pytest.approx(acc, abs=1 / 200)


def test_df_of_sparse_x_equals_dense():
    import scipy.sparse as sp

    X, y = make(300, 6)
    X[np.abs(X) < 0.5] = 0.0
    dense = LogisticRegression(3.0).fit(X, y).df_
    assert LogisticRegression(3.0).fit(sp.csr_matrix(X), y).df_ == pytest.approx(dense, rel=1e-6)


def test_near_separable_data_keep_finite_paths():
    """Breast cancer, standardized: at small alphas the fits run off towards separation; the
    path predictor must not overflow the float32 basis (it gave NaN scores)."""
    from sklearn.preprocessing import StandardScaler

    from ridgeway.datasets import load_demo_classification

    bc = load_demo_classification()
    X = StandardScaler().fit_transform(bc.X)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=42).split(X, bc.y))
    alphas = [1000, 100, 10, 1, 0.1, 0.01]
    cv = LogisticRegressionCV(alphas, cv=folds, scoring="neg_log_loss").fit(X, bc.y)
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate(cv.cv_results_["alphas"]):
            fit = LogisticRegression(alpha).fit(X[train], bc.y[train])
            idx = np.searchsorted(fit.classes_, bc.y[test])
            p = fit.predict_proba(X[test])[np.arange(len(test)), idx]
            se = np.std(np.log(p)) / np.sqrt(len(test))
            got = cv.cv_results_[f"split{k}_test_score"][a]
            assert abs(got - np.mean(np.log(p))) <= 0.02 * se
