"""Choose the weight decay on validation loss: one training run per candidate."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._plan import check_strength
from ._torch import nn, torch
from .training import History, fit

__all__ = ["WeightDecaySearch", "select_weight_decay"]


@dataclass(frozen=True)
class WeightDecaySearch:
    """Result of :func:`select_weight_decay`.

    Attributes
    ----------
    weight_decays : tuple of float
        The candidates, in the order given.
    val_losses : tuple of float
        Validation loss of the model each run returns (the best epoch if early stopping
        restored it, else the last epoch): the validation curve.
    train_losses : tuple of float
        Training loss at the same epoch.
    histories : tuple of History
        The full per-epoch record of each run.
    best_index : int
        Index of the lowest validation loss (ties: the larger decay, the simpler model).
    best_model : torch.nn.Module
        The model trained with the best decay (best-epoch weights when early stopping
        restores them).
    """

    weight_decays: tuple[float, ...]
    val_losses: tuple[float, ...]
    train_losses: tuple[float, ...]
    histories: tuple[History, ...]
    best_index: int
    best_model: Any

    @property
    def best_weight_decay(self) -> float:
        """The candidate with the lowest validation loss."""
        return self.weight_decays[self.best_index]

    @property
    def best_val_loss(self) -> float:
        """Validation loss of the best candidate."""
        return self.val_losses[self.best_index]


def _check_grid(weight_decays: Sequence[float]) -> tuple[float, ...]:
    grid = tuple(check_strength(w, "weight_decays entry") for w in weight_decays)
    if not grid:
        raise ValueError("weight_decays is empty: give at least one candidate.")
    return grid


def select_weight_decay(
    build_model: Callable[[], Any],
    train: Any,
    val: Any,
    *,
    weight_decays: Sequence[float],
    loss: Callable[[Any, Any], Any],
    seed: int = 0,
    **fit_kwargs: Any,
) -> WeightDecaySearch:
    """Train one model per weight decay and keep the one with the lowest validation loss.

    Each run minimizes the objective of :func:`~ridgeway.nn.fit` with ``weight_decay`` set to
    the candidate; the score is the validation loss of the model the run returns (the best
    epoch when early stopping restores it, the last epoch otherwise).

    Parameters
    ----------
    build_model : callable
        ``build_model() -> torch.nn.Module``, a fresh model; called after
        ``torch.manual_seed(seed)`` so that every candidate starts from the same weights.
    train : pair (X, y) of tensors, or iterable of (X, y) batches
        Training data, as in :func:`~ridgeway.nn.fit`.
    val : pair (X, y) of tensors, or iterable of (X, y) batches
        Validation data (required).
    weight_decays : sequence of float
        Non-negative candidates, e.g. ``np.logspace(-5, -1, 5)``.
    loss : callable
        As in :func:`~ridgeway.nn.fit`.
    seed : int, default=0
        Seed for the initial weights and the minibatch order of every run.
    **fit_kwargs
        Passed to :func:`~ridgeway.nn.fit` (optimizer, lr, epochs, early_stopping, ...).

    Returns
    -------
    WeightDecaySearch
        The candidates, their validation and training losses, histories and the best model.
    """
    grid = _check_grid(weight_decays)
    if val is None:
        raise ValueError("select_weight_decay needs validation data: pass val=(X_val, y_val).")
    if "weight_decay" in fit_kwargs:
        raise TypeError("pass the candidates as weight_decays=[...], not weight_decay.")
    histories, models = [], []
    for wd in grid:
        torch.manual_seed(seed)
        model = build_model()
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"build_model must return a torch.nn.Module, got {type(model).__name__}."
            )
        histories.append(fit(model, train, val, loss=loss, weight_decay=wd, seed=seed,
                             **fit_kwargs))
        models.append(model)
    # Score each run by the model it returns: the best epoch if early stopping restored it,
    # else the last epoch.
    at = [(h.best_epoch if h.restored else len(h.epoch)) - 1 for h in histories]
    val_losses = tuple(h.val_loss[i] for h, i in zip(histories, at, strict=True))
    finite = [i for i, v in enumerate(val_losses) if not math.isnan(v)]
    if not finite:
        raise ValueError("every run gave a NaN validation loss; lower lr or check the data.")
    best = min(finite, key=lambda i: (val_losses[i], -grid[i]))
    train_losses = tuple(h.train_loss[i] for h, i in zip(histories, at, strict=True))
    return WeightDecaySearch(grid, val_losses, train_losses, tuple(histories), best,
                             models[best])
