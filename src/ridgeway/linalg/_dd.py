"""Double-double ("float128-ish") arithmetic on numpy arrays, for accurate residuals.

A value is an unevaluated sum ``hi + lo`` of two float64 with ``|lo| <= ulp(hi)/2``, giving
about 32 significant digits. Built from the error-free transformations TwoSum (Knuth) and
TwoProduct with Veltkamp splitting (Dekker, 1971); no FMA is needed.
"""

from __future__ import annotations

import numpy as np

_SPLIT = 134217729.0  # 2**27 + 1


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b = s + e`` exactly, with ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b = p + e`` exactly, with ``p = fl(a * b)`` (barring overflow/underflow)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def dd_add(ah, al, bh, bl) -> tuple[np.ndarray, np.ndarray]:
    """Sum of two double-double numbers."""
    s, e = two_sum(ah, bh)
    e = e + (al + bl)
    hi = s + e
    return hi, e - (hi - s)


def dd_sum(hi: np.ndarray, lo: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise double-double sum of ``hi + lo`` along ``axis``."""
    hi = np.moveaxis(np.asarray(hi, dtype=np.float64), axis, 0)
    lo = np.moveaxis(np.asarray(lo, dtype=np.float64), axis, 0)
    while hi.shape[0] > 1:
        if hi.shape[0] % 2:
            pad = np.zeros((1, *hi.shape[1:]))
            hi, lo = np.concatenate([hi, pad]), np.concatenate([lo, pad])
        hi, lo = dd_add(hi[0::2], lo[0::2], hi[1::2], lo[1::2])
    return hi[0], lo[0]


def dd_matvec(A: np.ndarray, xh: np.ndarray, xl: np.ndarray | None = None):
    """``A @ (xh + xl)`` in double-double, summing over the last axis of ``A``."""
    ph, pl = two_prod(A, xh[None, :])
    if xl is not None:
        pl = pl + A * xl[None, :]
    return dd_sum(ph, pl, axis=1)
