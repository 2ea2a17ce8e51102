"""Single-threaded LAPACK for small dense factorizations.

On 2 cores, a multi-threaded OpenBLAS factorization of a 500 x 500 matrix is slower than a
single-threaded one, and far slower when the cores are busy: threads spin waiting for each
other (measured here under load: Cholesky 0.8 s vs 1.5 ms, eigh 0.22 s vs 0.05 s). numpy and
scipy also ship separate OpenBLAS builds whose pools collide when calls alternate. Small
factorizations therefore run with one thread in every loaded BLAS; large ones keep them all.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

SMALL_DIMENSION = 1024
_controller = None


def small_dense(dim: int) -> AbstractContextManager:
    """Context in which LAPACK work on a ``dim x dim`` matrix runs single-threaded if small."""
    global _controller
    if dim > SMALL_DIMENSION:
        return nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
