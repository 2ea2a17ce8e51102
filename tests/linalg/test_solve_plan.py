"""``plan_solver``: the one place where ridge's ``solver="auto"`` becomes a concrete plan.

The expected plans are the choices the solver made before the plan existed (``solve_ridge``
deciding dual and refinement itself), and they agree with what ``Ridge.solver_`` reports.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from ridgeway import Ridge
from ridgeway.linalg.solve import SPARSE_GRAM_MAX_FEATURES, SolverPlan, plan_solver

rng = np.random.default_rng(0)
TALL = rng.standard_normal((40, 5))
WIDE = rng.standard_normal((10, 30))


@pytest.mark.parametrize(
    ("X", "pf", "solver", "expected"),
    [
        (TALL, None, "auto", SolverPlan("cholesky", dual=False, check_accuracy=True)),
        (WIDE, None, "auto", SolverPlan("cholesky", dual=True, check_accuracy=False)),
        # an unpenalized feature has no dual: the primal gram, with the accuracy check
        (WIDE, np.r_[0.0, np.ones(29)], "auto", SolverPlan("cholesky", check_accuracy=True)),
        (WIDE, np.full(30, 2.0), "auto", SolverPlan("cholesky", dual=True)),
        (WIDE, None, "cholesky", SolverPlan("cholesky", dual=True)),
        (TALL, None, "cholesky", SolverPlan("cholesky")),
        (sp.csr_matrix(TALL), None, "auto", SolverPlan("cholesky")),
        (sp.csr_matrix(WIDE), None, "auto", SolverPlan("cholesky", dual=True)),
        (sp.csr_matrix((5, SPARSE_GRAM_MAX_FEATURES + 1)), None, "auto", SolverPlan("cg")),
        (TALL, None, "refine", SolverPlan("refine")),
        (WIDE, None, "eigen", SolverPlan("eigen")),
        (TALL, None, "lsqr", SolverPlan("lsqr")),
    ],
)
def test_plan_is_the_choice_of_the_old_solver(X, pf, solver, expected):
    assert plan_solver(solver, X, pf) == expected


@pytest.mark.parametrize(
    ("X", "pf", "solver_"),
    [(TALL, None, "cholesky"), (WIDE, None, "cholesky-dual"),
     (WIDE, np.r_[0.0, np.ones(29)], "cholesky"), (sp.csr_matrix(WIDE), None, "cholesky-dual")],
)
def test_plan_matches_reported_solver(X, pf, solver_):
    y = rng.standard_normal(X.shape[0])
    assert Ridge(alpha=1.0, penalty_factor=pf).fit(X, y).solver_ == solver_


@pytest.mark.parametrize(
    ("X", "pf", "solver", "match"),
    [(sp.csr_matrix(TALL), None, "svd", "needs dense X"),
     (sp.csr_matrix(TALL), None, "refine", "needs dense X"),
     (TALL, np.r_[0.0, np.ones(4)], "eigen", "strictly positive penalty factors")],
)
def test_plan_refuses_incompatible_solvers(X, pf, solver, match):
    with pytest.raises(ValueError, match=match):
        plan_solver(solver, X, pf)
