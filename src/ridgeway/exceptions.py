"""Warnings and errors raised by ridgeway."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before reaching its tolerance."""


class AlphaEdgeWarning(UserWarning):
    """The selected alpha lies on the edge of the candidate grid."""


class SeparableDataError(ValueError):
    """The unpenalized loss has no finite minimizer (the data are perfectly separated)."""
