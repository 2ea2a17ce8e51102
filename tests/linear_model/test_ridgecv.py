"""RidgeCV: grids, selection rules, every cv mode per target, and the alpha search."""

import numpy as np
import pytest
from sklearn.model_selection import KFold

from ridgeway import Ridge, RidgeCV, RidgeSpectrum
from ridgeway.exceptions import AlphaEdgeWarning
from ridgeway.linalg import GramStats
from ridgeway.selection import RidgeKFold
from tests.conftest import make_regression


def test_default_grid_spans_df_from_rank_to_zero():
    X, y = make_regression(100, 10, seed=1)
    cv = RidgeCV().fit(X, y)
    alphas, df = cv.cv_results_["alphas"], cv.cv_results_["df"]
    assert alphas.size == 100 and np.all(np.diff(alphas) < 0)
    assert df[-1] >= 10 / 1.01 - 1e-9 and df[0] <= 0.01 + 1e-12
    np.testing.assert_allclose(np.diff(np.log(alphas)), np.diff(np.log(alphas))[0])


def test_gcv_is_its_own_criterion_not_loo():
    X, y = make_regression(60, 8, seed=2, noise=2.0)
    alphas = np.logspace(-2, 3, 30)
    gcv = RidgeCV(alphas=alphas, cv="gcv").fit(X, y)
    loo = RidgeCV(alphas=alphas).fit(X, y)
    spec = RidgeSpectrum.from_data(X, y)
    np.testing.assert_allclose(-gcv.cv_results_["mean_test_score"], spec.gcv(alphas)[:, 0])
    assert gcv.cv_mode_ == "gcv" and loo.cv_mode_ == "loo"
    assert not np.allclose(gcv.cv_results_["mean_test_score"], loo.cv_results_["mean_test_score"])


@pytest.mark.parametrize("cv", [None, "gcv", 4, KFold(3, shuffle=True, random_state=1)])
def test_alpha_per_target_equals_separate_fits(cv):
    X, Y = make_regression(90, 6, t=3, seed=3, noise=3.0)
    Y[:, 2] = X[:, 0] + 0.01 * np.random.default_rng(0).normal(size=90)
    alphas = np.logspace(-3, 3, 25)
    joint = RidgeCV(alphas=alphas, cv=cv, alpha_per_target=True).fit(X, Y)
    for j in range(3):
        single = RidgeCV(alphas=alphas, cv=cv).fit(X, Y[:, j])
        assert joint.alpha_[j] == single.alpha_
        np.testing.assert_allclose(joint.coef_[j], single.coef_, rtol=1e-9)
        np.testing.assert_allclose(joint.best_score_[j], single.best_score_, rtol=1e-9)
    assert len(set(joint.alpha_)) > 1


@pytest.mark.parametrize("cv", [None, 5])
def test_one_standard_error_rule(cv):
    X, y = make_regression(80, 20, seed=4, noise=4.0)
    alphas = np.logspace(-2, 4, 40)
    best = RidgeCV(alphas=alphas, cv=cv).fit(X, y)
    one_se = RidgeCV(alphas=alphas, cv=cv, selection="1se").fit(X, y)
    res = one_se.cv_results_
    i_best = int(np.argmax(res["mean_test_score"]))
    threshold = res["mean_test_score"][i_best] - res["sem_test_score"][i_best]
    within = alphas[res["mean_test_score"] >= threshold]
    assert one_se.alpha_ == within.max()
    assert one_se.alpha_ >= best.alpha_
    assert best.alpha_ == alphas[i_best]


def test_edge_of_grid_warns_with_direction():
    X, y = make_regression(60, 5, seed=5, noise=0.01)
    with pytest.warns(AlphaEdgeWarning, match="smallest of the grid.*Widen the grid downward"):
        RidgeCV(alphas=[10.0, 100.0, 1000.0]).fit(X, y)
    X2, y2 = make_regression(60, 5, seed=5, noise=50.0)
    y2 = np.random.default_rng(0).normal(size=60)
    with pytest.warns(AlphaEdgeWarning, match="largest of the grid.*upward"):
        RidgeCV(alphas=[1e-4, 1e-3, 1e-2]).fit(X2, y2)


@pytest.mark.parametrize("cv", [None, 5])
def test_auto_widens_and_refines_to_the_continuous_minimum(cv):
    X, y = make_regression(120, 10, seed=6, noise=3.0)
    auto = RidgeCV(alphas="auto", cv=cv).fit(X, y)
    fine = np.geomspace(auto.alpha_ / 3, auto.alpha_ * 3, 601)
    scan = RidgeCV(alphas=fine, cv=cv).fit(X, y)
    assert auto.best_score_ >= scan.best_score_ - 1e-12 * abs(scan.best_score_)
    assert abs(np.log(auto.alpha_ / scan.alpha_)) <= np.log(fine[1] / fine[0]) * 1.01
    grid = RidgeCV(cv=cv).fit(X, y)
    assert auto.best_score_ >= grid.best_score_


def test_auto_widens_when_the_optimum_is_off_the_default_grid():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(50, 5))
    y = rng.normal(size=50)  # pure noise: the best model is the constant (alpha -> inf)
    auto = RidgeCV(alphas="auto").fit(X, y)
    default = RidgeCV().fit(X, y)
    assert auto.cv_results_["alphas"].max() > default.cv_results_["alphas"].max()
    assert auto.best_score_ >= default.best_score_


def test_cv_results_layout():
    X, y = make_regression(50, 4, seed=8)
    alphas = np.logspace(-2, 2, 9)
    res = RidgeCV(alphas=alphas, cv=3).fit(X, y).cv_results_
    for key in ("alphas", "mean_test_score", "std_test_score", "sem_test_score", "df",
                "split0_test_score", "split1_test_score", "split2_test_score"):
        assert res[key].shape == (9,), key
    folds = np.stack([res[f"split{k}_test_score"] for k in range(3)])
    np.testing.assert_allclose(res["mean_test_score"], folds.mean(axis=0))
    np.testing.assert_allclose(res["std_test_score"], folds.std(axis=0))
    np.testing.assert_allclose(res["sem_test_score"], folds.std(axis=0) / np.sqrt(3))


def test_sparse_loo_equals_dense():
    import scipy.sparse as sp

    X, y = make_regression(80, 6, seed=9)
    X[np.abs(X) < 1.0] = 0.0
    alphas = np.logspace(-2, 3, 20)
    dense = RidgeCV(alphas=alphas).fit(X, y)
    sparse = RidgeCV(alphas=alphas).fit(sp.csr_matrix(X), y)
    assert dense.alpha_ == sparse.alpha_
    np.testing.assert_allclose(sparse.cv_results_["mean_test_score"],
                               dense.cv_results_["mean_test_score"], rtol=1e-8)


@pytest.mark.parametrize("cv", [None, 4])
def test_scorer_uses_the_sample_weights(cv):
    rng = np.random.default_rng(21)
    X = rng.normal(size=(120, 6))
    y = X @ rng.normal(size=6) + rng.normal(size=120)
    s = rng.uniform(0.1, 5.0, 120)
    alphas = np.logspace(-2, 3, 30)
    native = RidgeCV(alphas=alphas, cv=cv).fit(X, y, sample_weight=s)
    scored = RidgeCV(alphas=alphas, cv=cv, scoring="neg_mean_squared_error").fit(
        X, y, sample_weight=s)
    np.testing.assert_allclose(scored.cv_results_["mean_test_score"],
                               native.cv_results_["mean_test_score"], rtol=1e-9)
    assert scored.alpha_ == native.alpha_


def _mse_callable(est, X, y):
    return -np.mean((y - est.predict(X)) ** 2)


def _mae_no_weights(y_true, y_pred):
    return -np.mean(np.abs(y_true - y_pred))


def _weighted_worst_output(y_true, y_pred, sample_weight=None):
    """A multi-output score that is not the mean of per-column scores."""
    err = np.abs(y_true - y_pred).reshape(len(y_true), -1).max(axis=1)
    return -np.average(err, weights=sample_weight)


@pytest.mark.parametrize("cv", [None, 5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("kind", ["callable", "make_scorer", "weighted_multi", "name"])
def test_custom_scorers_match_sklearn(kind, multi, weighted, cv):
    from sklearn.linear_model import RidgeCV as SkRidgeCV
    from sklearn.metrics import make_scorer

    scoring = {"callable": _mse_callable, "make_scorer": make_scorer(_mae_no_weights),
               "weighted_multi": make_scorer(_weighted_worst_output),
               "name": "r2"}[kind]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    Y = X @ rng.normal(size=(5, 3)) + rng.normal(size=(60, 3)) * np.array([1.0, 3.0, 5.0])
    y = Y if multi else Y[:, 0]
    sw = rng.uniform(0.5, 2.0, 60) if weighted else None
    alphas = [0.1, 1.0, 10.0]
    ours = RidgeCV(alphas=alphas, scoring=scoring, cv=cv).fit(X, y, sample_weight=sw)
    assert np.ndim(ours.best_score_) == 0
    if weighted and cv is None and kind in ("callable", "make_scorer"):
        # scikit-learn passes the weights to a scorer that cannot take them (TypeError);
        # ridgeway scores unweighted, as scikit-learn's routing does for such scorers
        unweighted = RidgeCV(alphas=alphas, scoring=scoring, cv=cv).fit(X, y)
        assert ours.best_score_ != unweighted.best_score_  # the fit itself is weighted
        return
    ref = SkRidgeCV(alphas=alphas, scoring=scoring, cv=cv).fit(X, y, sample_weight=sw)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.best_score_, ref.best_score_, rtol=1e-10)


def test_multi_output_scorer_scores_y_as_a_whole():
    from sklearn.metrics import make_scorer

    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    Y = X @ rng.normal(size=(4, 2)) + rng.normal(size=(50, 2))
    cv = RidgeCV(alphas=[0.5], scoring=make_scorer(_weighted_worst_output), cv=5).fit(X, Y)
    from sklearn.linear_model import Ridge as SkRidge
    from sklearn.model_selection import KFold as SkKFold

    folds = [_weighted_worst_output(Y[te], SkRidge(0.5).fit(X[tr], Y[tr]).predict(X[te]))
             for tr, te in SkKFold(5).split(X)]
    np.testing.assert_allclose(cv.best_score_, np.mean(folds), rtol=1e-10)


@pytest.mark.parametrize("cv", [None, 3])
def test_ties_take_the_largest_alpha(cv):
    # a constant score ties every alpha: the simplest model (largest alpha) is chosen
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    y = X @ np.ones(3) + rng.normal(size=30)
    alphas = [0.1, 10.0, 1.0]
    fit = RidgeCV(alphas=alphas, cv=cv, scoring=lambda est, X, y: 1.0).fit(X, y)
    assert fit.alpha_ == 10.0


def test_select_alpha_breaks_ties_toward_the_largest_alpha():
    from ridgeway.selection import select_alpha

    pick = select_alpha(np.array([1.0, 100.0, 10.0]), np.array([0.5, 0.5, 0.7]),
                        greater_is_better=False)
    assert pick.index == 1
    pick = select_alpha(np.array([1.0, 100.0, 10.0]), np.array([0.9, 0.2, 0.9]),
                        greater_is_better=True)
    assert pick.index == 2


@pytest.mark.parametrize("cv", [None, "gcv", 4])
def test_spectrum_answers_other_alphas_as_refits_do(cv):
    X, y = make_regression(50, 6, seed=11)
    est = RidgeCV(alphas=np.logspace(-2, 2, 9), cv=cv).fit(X, y)
    assert est.spectrum_.single_target and est.spectrum_.n_samples == 50
    for alpha in (0.03, 1.0, 70.0):
        np.testing.assert_allclose(est.spectrum_.coef([alpha])[0],
                                   Ridge(alpha=alpha).fit(X, y).coef_, rtol=1e-10)
    np.testing.assert_allclose(est.spectrum_.df(est.cv_results_["alphas"]),
                               est.cv_results_["df"])


def test_spectrum_keeps_the_target_axis_and_is_none_for_wide_data():
    X, y = make_regression(40, 5, seed=12)
    two = RidgeCV(alphas=[0.1, 1.0, 10.0]).fit(X, np.column_stack([y, -y]))
    assert not two.spectrum_.single_target and two.spectrum_.coef([1.0]).shape == (1, 5, 2)
    Xw, yw = make_regression(10, 30, seed=13)
    assert RidgeCV(alphas=[0.1, 1.0, 10.0]).fit(Xw, yw).spectrum_ is None


def test_kfold_curve_from_fold_statistics_equals_refits_per_fold():
    X, y = make_regression(60, 4, seed=14, noise=1.0)
    alphas = np.array([10.0, 1.0, 0.1])
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    stats = [GramStats.from_arrays(X[te], y[te, None], np.ones(len(te))) for _, te in folds]
    curve = RidgeKFold.from_fold_stats(stats).curve(alphas)
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate(alphas):
            fit = Ridge(alpha=alpha).fit(X[train], y[train])
            mse = np.mean((y[test] - fit.predict(X[test])) ** 2)
            assert curve.splits[k, a, 0] == pytest.approx(mse, rel=1e-9)


@pytest.mark.parametrize("shift", [1e7, 1e9])
def test_kfold_is_exact_for_columns_with_large_means(shift):
    # with an intercept the problem on X + c equals the problem on X: the fold statistics
    # must not lose eps * |mean| / sd when a fold is downdated from the total
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 6)) + shift
    y = X @ rng.standard_normal(6) + rng.standard_normal(500) + shift
    grid = np.logspace(-2, 3, 20)
    far = RidgeCV(alphas=grid, cv=KFold(5)).fit(X, y)
    near = RidgeCV(alphas=grid, cv=KFold(5)).fit(X - shift, y - shift)
    np.testing.assert_allclose(far.cv_results_["mean_test_score"],
                               near.cv_results_["mean_test_score"], rtol=1e-10)
    np.testing.assert_allclose(far.coef_, near.coef_, rtol=1e-10)
