"""Every public error and warning class of ridgeway, each importable from here (and from
``ridgeway`` itself) and nowhere else.

Each subclasses scikit-learn's or Python's class of the same meaning, so filters and ``except``
clauses written for those also catch ridgeway's (``warnings.simplefilter("ignore",
sklearn.exceptions.ConvergenceWarning)`` silences both; ``except ValueError`` catches a
:class:`DataError`). An estimator used before ``fit`` raises scikit-learn's own
``NotFittedError``.

The ``ridgeway`` command ends with exit status 2 and the message on one line for
:class:`DataError`, :class:`ModelFileError`, :class:`OutputError` and
:class:`SeparableDataError` (the user can fix them), and with exit status 3 for anything that
is a bug in ridgeway.
"""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = ["AlphaEdgeWarning", "ConvergenceWarning", "DataError", "ModelFileError",
           "OutputError", "PredictionOverflowError", "SeparableDataError"]


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative solver stopped before reaching its tolerance."""


class AlphaEdgeWarning(UserWarning):
    """The selected alpha lies on the edge of the candidate grid."""


class SeparableDataError(ValueError):
    """The unpenalized loss has no finite minimizer (the data are perfectly separated)."""


class DataError(ValueError):
    """A data file cannot be used as asked; the message says why and what to do."""


class ModelFileError(ValueError):
    """A model file is corrupt, of another format, or of a newer version."""


class OutputError(OSError):
    """An output file or folder cannot be written; the message names it and the fix."""


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

    Parameters
    ----------
    message : str
    batch : int
    rows : tuple of int

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
