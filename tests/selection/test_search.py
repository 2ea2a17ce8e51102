"""selection.search_alpha: widening, the rules, refinement, on curves with a known minimum."""

import numpy as np
import pytest

from ridgeway.exceptions import AlphaEdgeWarning
from ridgeway.selection import CVCurve, SearchSpec, search_alpha


def quadratic(centres):
    """Loss ``(log alpha - log c_j)^2`` per target j: minimum exactly at ``c_j``."""
    logs = np.log(np.asarray(centres, dtype=float))
    calls = []

    def evaluate(alphas):
        calls.append(np.asarray(alphas).copy())
        mean = (np.log(alphas)[:, None] - logs[None, :]) ** 2
        return CVCurve(np.asarray(alphas), mean, np.full_like(mean, 0.5), None)

    return evaluate, calls


def test_auto_widens_past_the_edge_and_refines_to_the_minimum():
    evaluate, calls = quadratic([3.7e7])
    found = search_alpha(evaluate, np.logspace(2, -2, 9), SearchSpec(auto=True))
    assert found.alpha == pytest.approx(3.7e7, rel=1e-5)
    alphas = found.curve.alphas  # widened upward only, three decades a round, kept sorted
    assert np.all(np.diff(alphas) < 0) and 3.7e7 <= alphas.max() <= 3.7e10
    assert alphas.min() == pytest.approx(1e-2) and len(calls) > 2


def test_fixed_grid_warns_at_the_edge_and_does_not_widen():
    evaluate, calls = quadratic([3.7e7])
    with pytest.warns(AlphaEdgeWarning, match="largest of the grid"):
        found = search_alpha(evaluate, np.logspace(2, -2, 9), SearchSpec())
    assert found.alpha == 100.0 and len(calls) == 1


def test_per_target_and_one_se():
    evaluate, _ = quadratic([0.1, 10.0])
    grid = np.logspace(3, -3, 61)
    per = search_alpha(evaluate, grid, SearchSpec(per_target=True))
    np.testing.assert_allclose(per.alpha, [0.1, 10.0])
    # 1se: the largest alpha with loss <= best + 0.5, i.e. |log(a / c)| <= sqrt(0.5)
    one_se = search_alpha(evaluate, grid, SearchSpec(rule="1se", per_target=True))
    expected = np.array([0.1, 10.0]) * np.exp(np.sqrt(0.5))
    assert np.all(one_se.alpha <= expected) and np.all(one_se.alpha > expected / 10 ** 0.1)
