"""Plots of training histories and weight-decay searches (``ridgeway.nn``), with matplotlib.

Nothing here imports torch: the functions read the lists of a ``History`` (``epoch``,
``train_loss``, ``val_loss``, ``weight_norm``, ``best_epoch``) and of a ``WeightDecaySearch``
(``weight_decays``, ``val_losses``, ``train_losses``, ``best_index``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["HistoryDisplay", "WeightDecayCurveDisplay", "plot_history", "plot_weight_decay_search"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.0))
    return ax


def _require(obj: Any, names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise TypeError(
            f"{what} must have attributes {list(names)} (as returned by ridgeway.nn); "
            f"{type(obj).__name__} lacks {missing}."
        )


@dataclass
class HistoryDisplay:
    """Train/validation loss per epoch, the weight norm on a twin axis, the best epoch marked.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the losses.
    ax_norm_ : matplotlib Axes or None
        Twin axes of the weight norm (None when the history has no norms).
    figure_ : matplotlib Figure
    """

    ax_: Any
    ax_norm_: Any
    figure_: Any


def plot_history(history: Any, ax: Any = None, *, weight_norm: bool = True) -> HistoryDisplay:
    """Plot a ``ridgeway.nn.History``: losses per epoch and ``||w||_2`` per epoch.

    Parameters
    ----------
    history : ridgeway.nn.History
        The record returned by ``ridgeway.nn.fit``.
    ax : matplotlib Axes, optional
        Axes to draw the losses on; a new figure if None.
    weight_norm : bool, default=True
        Also draw the weight norm on a twin y axis.

    Returns
    -------
    HistoryDisplay
        The axes and figure drawn on.
    """
    _require(history, ("epoch", "train_loss", "val_loss", "weight_norm", "best_epoch"),
             "history")
    if not history.epoch:
        raise ValueError("history is empty: it has no epoch to plot.")
    ax = _axes(ax)
    ax.plot(history.epoch, history.train_loss, label="train loss", color="C0")
    if any(not math.isnan(v) for v in history.val_loss):
        ax.plot(history.epoch, history.val_loss, label="validation loss", color="C1")
    if history.best_epoch is not None:
        best = history.best_epoch
        ax.axvline(best, color="0.5", ls=":", label=f"best epoch {best}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax_norm = None
    if weight_norm and history.weight_norm:
        ax_norm = ax.twinx()
        ax_norm.plot(history.epoch, history.weight_norm, color="C2", ls="--", label="||w||")
        ax_norm.set_ylabel("weight norm ||w||")
    handles, labels = ax.get_legend_handles_labels()
    if ax_norm is not None:
        h2, l2 = ax_norm.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="best")
    return HistoryDisplay(ax, ax_norm, ax.figure)


@dataclass
class WeightDecayCurveDisplay:
    """Validation (and training) loss against the weight decay, best candidate marked.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    ax_: Any
    figure_: Any


def plot_weight_decay_search(search: Any, ax: Any = None) -> WeightDecayCurveDisplay:
    """Plot a ``ridgeway.nn.WeightDecaySearch``: loss against weight decay (log x axis).

    Parameters
    ----------
    search : ridgeway.nn.WeightDecaySearch
        The result of ``ridgeway.nn.select_weight_decay``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure if None.

    Returns
    -------
    WeightDecayCurveDisplay
        The axes and figure drawn on.
    """
    _require(search, ("weight_decays", "val_losses", "train_losses", "best_index"), "search")
    wds = list(search.weight_decays)
    positive = [w for w in wds if w > 0]
    # 0 has no place on a log axis: draw it one decade left of the smallest positive value.
    floor = min(positive) / 10 if positive else 1.0
    x = [w if w > 0 else floor for w in wds]
    ax = _axes(ax)
    ax.plot(x, search.train_losses, "o-", label="train loss", color="C0")
    ax.plot(x, search.val_losses, "o-", label="validation loss", color="C1")
    best = search.best_index
    ax.plot([x[best]], [search.val_losses[best]], "k*", ms=12,
            label=f"best weight_decay = {wds[best]:g}")
    ax.set_xscale("log")
    ax.set_xlabel("weight_decay" + (" (0 drawn at left edge)" if 0 in wds else ""))
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    return WeightDecayCurveDisplay(ax, ax.figure)
