"""The registry of model kinds (ridgeway.linear_model.kinds)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, r2_score

import ridgeway
from ridgeway.inspection import model_metrics
from ridgeway.linear_model.kinds import KINDS, get, kind_of, neg_mean_squared_hinge


def _data(kind, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    eta = X @ [0.8, -0.5, 0.3]
    if KINDS[kind].classifier:
        y = np.where(eta + 0.3 * rng.normal(size=n) > 0, "yes", "no")
        if kind == "logistic":
            y[::7] = "maybe"  # multiclass
        return X, y
    if KINDS[kind].rates:
        return X, rng.poisson(np.exp(eta)).astype(float)
    return X, eta + 0.1 * rng.normal(size=n)


def test_every_public_estimator_belongs_to_exactly_one_kind():
    classes = [c for k in KINDS.values() for c in (k.estimator, k.cv_estimator)]
    assert sorted(c.__name__ for c in classes) == sorted(ridgeway.ESTIMATORS)
    for k in KINDS.values():
        assert kind_of(k.estimator()) is k and kind_of(k.cv_estimator()) is k
        assert k.saved_as == k.estimator.__name__
    assert kind_of(object()) is None
    with pytest.raises(ValueError, match="unknown model kind 'lasso'.*ridge, logistic"):
        get("lasso")


@pytest.mark.parametrize("kind", list(KINDS))
def test_final_estimator_is_the_cv_fit_with_the_shared_hyperparameters(kind):
    spec = KINDS[kind]
    X, y = _data(kind)
    extra = {} if spec.spectral else {"max_iter": 300, "cv": 3}
    cv = spec.cv_estimator(**extra).fit(X, y)
    final = spec.final_estimator(cv)
    assert type(final) is spec.estimator and final.alpha == cv.alpha_
    assert final.fit_intercept == cv.fit_intercept
    if not spec.spectral:
        assert final.max_iter == 300
    np.testing.assert_array_equal(final.predict(X), cv.predict(X))
    # the kind's prediction from the linear predictor is the estimator's own
    cols = spec.predict_columns(final, spec.linear_predictor(final, X))
    np.testing.assert_array_equal(cols["prediction"], final.predict(X))
    if spec.link == "logit":
        proba = final.predict_proba(X)
        for k, c in enumerate(final.classes_):
            np.testing.assert_array_equal(cols[f"proba_{c}"], proba[:, k])
    else:
        assert set(cols) == {"prediction"}


def test_the_svm_cv_score_is_minus_the_mean_squared_hinge_loss():
    X, y = _data("svm")
    est = ridgeway.LinearSVC(alpha=1.0).fit(X, y)
    sign = np.where(y == est.classes_[1], 1.0, -1.0)
    expected = np.mean(np.maximum(0.0, 1.0 - sign * est.decision_function(X)) ** 2)
    assert neg_mean_squared_hinge(est, X, y) == pytest.approx(-expected, rel=1e-12)
    w = np.arange(1.0, len(y) + 1)
    weighted = np.sum(w * np.maximum(0.0, 1.0 - sign * est.decision_function(X)) ** 2) / w.sum()
    assert neg_mean_squared_hinge(est, X, y, w) == pytest.approx(-weighted, rel=1e-12)


def test_model_metrics_takes_the_estimator_and_reads_its_kind():
    X, y = _data("ridge")
    est = ridgeway.Ridge(alpha=1.0).fit(X, y)
    m = model_metrics(est, X, y)
    assert m == pytest.approx({"mse": mean_squared_error(y, est.predict(X)),
                               "r2": r2_score(y, est.predict(X))}, rel=1e-12)
    Xp, yp = _data("poisson")
    assert "mean_poisson_deviance" in model_metrics(ridgeway.PoissonRegressor().fit(Xp, yp),
                                                    Xp, yp)
    with pytest.warns(DeprecationWarning, match=r"model_metrics\(estimator, X, y\)"):
        assert model_metrics("ridge", est, X, y) == m


def test_model_metrics_of_another_librarys_estimator_needs_its_kind():
    from sklearn.linear_model import Lasso

    X, y = _data("ridge")
    lasso = Lasso(alpha=0.01).fit(X, y)
    with pytest.raises(ValueError, match="cannot tell the model kind of a Lasso; pass kind="):
        model_metrics(lasso, X, y)
    assert model_metrics(lasso, X, y, kind="ridge")["mse"] == pytest.approx(
        mean_squared_error(y, lasso.predict(X)), rel=1e-12)
