"""CV splitting: scikit-learn's splitters, and the checks a ridge k-fold needs of its folds."""

from __future__ import annotations

import numpy as np


def check_cv(cv, y=None, *, classifier: bool = False):
    """Turn ``cv`` (int, splitter or iterable of splits) into a scikit-learn splitter.

    An integer ``k`` gives ``KFold(k)`` (``StratifiedKFold(k)`` for classifiers), unshuffled, as in
    scikit-learn.
    """
    from sklearn.model_selection import check_cv as _sk_check_cv

    return _sk_check_cv(cv, y, classifier=classifier)


def weighted_folds(cv, X, y, sample_weight: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, test)`` splits of ``cv``; an error naming the fold where one has fewer than
    two training rows or no row of positive weight on a side."""
    splits = list(check_cv(cv, y).split(X, y))
    if any(len(train) < 2 for train, _ in splits):
        raise ValueError(
            f"Too few samples for the folds: {X.shape[0]} samples in "
            f"{len(splits)} folds leave fewer than 2 training rows in a fold."
        )
    for k, (train, test) in enumerate(splits):
        if not (np.sum(sample_weight[train]) > 0 and np.sum(sample_weight[test]) > 0):
            part = "training" if not np.sum(sample_weight[train]) > 0 else "held-out"
            raise ValueError(
                f"Fold {k} has no {part} row with positive sample_weight. Use fewer "
                "folds, shuffle them (cv=KFold(k, shuffle=True, random_state=0)), or "
                "drop the rows of weight 0.")
    return splits


def is_partition(splits, n: int) -> bool:
    """Whether the test folds cover the ``n`` rows once each, with train = the rest."""
    sizes = sum(len(test) for _, test in splits)
    if sizes != n:
        return False
    seen = np.zeros(n, dtype=bool)
    for train, test in splits:
        if len(train) + len(test) != n:
            return False
        seen[test] = True
    return bool(seen.all())
