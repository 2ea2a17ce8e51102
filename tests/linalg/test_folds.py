"""fold_of: the documented splitmix64 formula, balance, and independence from batching."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridgeway.linalg import fold_of

MASK = 2**64 - 1


def splitmix64(i: int, seed: int) -> int:
    """The formula of the docstring with Python integers (no numpy wrap-around)."""
    z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def test_first_output_is_splitmix64s_published_value():
    # splitmix64 seeded with 0 first returns 0xE220A8397B1DCDAF (Vigna's reference code)
    assert splitmix64(0, 0) == 0xE220A8397B1DCDAF
    for k in (2, 3, 5, 7, 10, 97):
        assert fold_of([0], k)[0] == 0xE220A8397B1DCDAF % k


@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=50), st.integers(2, 50),
       st.integers(0, 2**40))
def test_matches_the_formula_in_python_integers(positions, k, seed):
    expected = [splitmix64(i, seed) % k for i in positions]
    np.testing.assert_array_equal(fold_of(np.array(positions), k, seed=seed), expected)


def test_folds_are_balanced_and_seeds_differ():
    folds = fold_of(np.arange(200_000), 5)
    counts = np.bincount(folds, minlength=5)
    # multinomial sd is sqrt(n p (1-p)) ~ 179 rows
    assert np.all(np.abs(counts - 40_000) < 5 * 179)
    other = fold_of(np.arange(200_000), 5, seed=1)
    assert 0.15 < np.mean(folds == other) < 0.25  # independent assignments agree 1/5 of the time


@pytest.mark.parametrize("args, pattern", [
    (([-1, 2], 3), "non-negative integers"),
    (([0.5], 3), "non-negative integers"),
    (([0], 1), "n_folds must be an integer of at least 2"),
    (([0], 3, -2), "seed must be a non-negative integer"),
])
def test_bad_arguments(args, pattern):
    with pytest.raises(ValueError, match=pattern):
        fold_of(*args)
