"""Warnings and errors raised by ridgeway.

Each subclasses scikit-learn's class of the same meaning where one exists, so filters and
``except`` clauses written for scikit-learn also catch ridgeway's (``warnings.simplefilter(
"ignore", sklearn.exceptions.ConvergenceWarning)`` silences both). An estimator used before
``fit`` raises scikit-learn's own ``NotFittedError``.
"""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative solver stopped before reaching its tolerance."""


class AlphaEdgeWarning(UserWarning):
    """The selected alpha lies on the edge of the candidate grid."""


class SeparableDataError(ValueError):
    """The unpenalized loss has no finite minimizer (the data are perfectly separated)."""


class PredictionOverflowError(ValueError, ArithmeticError):
    """A prediction is not representable in float64 (e.g. ``exp`` of a huge linear predictor).

    Attributes
    ----------
    rows : ndarray of int
        Rows whose prediction overflows.
    """

    def __init__(self, message: str, rows=()):
        super().__init__(message)
        self.rows = rows


class BatchError(ValueError):
    """A batch of a stream (``partial_fit``, ``fit_stream``) is unusable.

    The estimator is left as it was before that batch.

    Attributes
    ----------
    batch : int
        1-based number of the batch in the stream.
    rows : tuple of int
        ``(start, stop)``: the batch's rows as 0-based positions in the whole stream.
    """

    def __init__(self, message: str, batch: int = 0, rows: tuple[int, int] = (0, 0)):
        super().__init__(message)
        self.batch = batch
        self.rows = rows
