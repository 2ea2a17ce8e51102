"""Cross-validation folds of rows known only by their position in a stream.

A streamed row's fold must not depend on how the stream is cut into batches, and two passes
over the same file must agree. The fold of the row at global position ``i`` (0-based, counted
over the whole stream) is the ``(i + 1)``-th output of the splitmix64 generator (Steele, Lea and
Flood, 2014) started from the state ``seed``, reduced modulo the number of folds ``k``; all
arithmetic is on unsigned 64-bit integers (modulo ``2^64``)::

    z = seed + (i + 1) * 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z = z ^ (z >> 31)
    fold = z mod k

(For ``seed=0, i=0`` this is ``0xE220A8397B1DCDAF``, splitmix64's well-known first output.)
The finalizer is a bijection of 64-bit integers that mixes every input bit into every output
bit, so consecutive positions land in folds that look independent and uniform (the modulo
bias is below ``k / 2^64``); sorted or grouped files still get balanced folds.
"""

from __future__ import annotations

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def fold_of(positions, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold (in ``[0, n_folds)``) of the rows at global stream ``positions``.

    Parameters
    ----------
    positions : array-like of non-negative int
        0-based positions of the rows in the whole stream (not within a batch).
    n_folds : int
        Number of folds ``k`` (at least 2).
    seed : int
        A non-negative integer; another seed gives another assignment.

    Returns
    -------
    ndarray of int64, the shape of ``positions``
        ``mix(seed + (i + 1) * 0x9E3779B97F4A7C15) mod n_folds`` (module docstring).
    """
    pos = np.asarray(positions)
    if pos.dtype.kind not in "iu" or (pos.size and pos.min() < 0):
        raise ValueError("positions must be non-negative integers (0-based row positions).")
    if int(n_folds) != n_folds or n_folds < 2:
        raise ValueError(f"n_folds must be an integer of at least 2; got {n_folds!r}.")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    with np.errstate(over="ignore"):
        z = (pos.astype(np.uint64) + np.uint64(1)) * _GAMMA + np.uint64(int(seed) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z ^= z >> np.uint64(31)
    return (z % np.uint64(n_folds)).astype(np.int64)
