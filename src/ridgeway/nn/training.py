"""A small training loop with weight decay, early stopping and a history; a weight-decay search.

``fit`` minimizes, for a loss ``L`` as the user reduces it (usually a batch mean),

    L(theta) + penalty/2 * ||w||^2 + sum_attached l * ||W||^2

with the optimizer's own ``weight_decay`` on top (coupled for SGD/Adam, decoupled for AdamW).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._plan import ATTR, DEFAULT_EXCLUDE, check_strength, decay_plan, group_by_strength
from ._torch import nn, torch
from .penalty import WeightDecayPenalty

__all__ = ["EarlyStopping", "History", "fit"]

_OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD"}


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    patience : int, default=5
        Epochs without improvement before stopping.
    min_delta : float, default=0.0
        An epoch improves if its validation loss is below ``best - min_delta``.
    restore_best : bool, default=True
        Load the weights of the best epoch when training ends.
    """

    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.patience, bool) or not isinstance(self.patience, int):
            raise TypeError(f"patience must be an integer, got {self.patience!r}.")
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}.")
        check_strength(self.min_delta, "min_delta")


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run (epochs count from 1).

    Attributes
    ----------
    epoch, train_loss, val_loss, weight_norm, lr, penalty : list
        ``train_loss`` is the data loss (without penalty), averaged over the epoch's samples;
        ``val_loss`` is NaN without validation data; ``weight_norm`` is ``||w||_2`` over the
        weights that ``exclude`` leaves penalizable (biases and norm layers out by default).
    best_epoch : int or None
        Epoch with the lowest validation loss.
    stopped_epoch : int or None
        Epoch at which early stopping (or a callback) ended training; None if it ran all
        epochs.
    restored : bool
        Whether the best epoch's weights were loaded at the end.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    weight_norm: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    penalty: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    restored: bool = False

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss (NaN without validation data)."""
        vals = [v for v in self.val_loss if not math.isnan(v)]
        return min(vals) if vals else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of lists and scalars (JSON-serializable)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}


def _batches(data: Any, batch_size: int | None, generator: Any) -> Iterable[tuple[Any, Any]]:
    """Yield (X, y) batches from a (X, y) pair of tensors or a re-iterable of batches."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and torch.is_tensor(data[0]):
        X, y = data
        if batch_size is None or batch_size >= len(X):
            yield X, y
            return
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
        return
    for batch in data:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise TypeError(
                "train/val must be a pair (X, y) of tensors or an iterable of (X, y) batches "
                f"(e.g. a DataLoader over a TensorDataset); got a batch of type "
                f"{type(batch).__name__}."
            )
        yield batch[0], batch[1]


def _check_data(data: Any, name: str) -> None:
    if isinstance(data, (tuple, list)) and len(data) == 2 and torch.is_tensor(data[0]):
        X, y = data
        if not torch.is_tensor(y) or len(X) != len(y):
            raise ValueError(
                f"{name}: X and y must be tensors with the same number of rows, got "
                f"{len(X)} and {len(y) if hasattr(y, '__len__') else type(y).__name__}."
            )
        if len(X) == 0:
            raise ValueError(f"{name} is empty.")
    elif not isinstance(data, Iterable) or isinstance(data, (str, bytes, Mapping)):
        raise TypeError(
            f"{name} must be a pair (X, y) of tensors or an iterable of (X, y) batches, got "
            f"{type(data).__name__}."
        )


def _make_optimizer(
    model: Any, optimizer: Any, lr: float, weight_decay: float, exclude: Any, per_layer: Any,
    independent_decay: bool,
) -> Any:
    if independent_decay and optimizer != "adamw":
        raise ValueError(
            "independent_decay=True scales decoupled decay by lr/lr_max; it needs "
            f"optimizer='adamw', got {optimizer!r}."
        )
    # Decoupled AdamW decays by lr_t * wd per step; with wd = weight_decay / lr_max the decay
    # per step is (lr_t / lr_max) * weight_decay, independent of the choice of lr_max.
    # Parameters with an attached L2(l) are penalized by the penalty term (coupled, 2*l) and
    # nowhere else: the attached strength overrides the optimizer's global decay for them.
    plan = [
        replace(e, strength=0.0) if e.attached else e
        for e in decay_plan(model, weight_decay, exclude=exclude, per_layer=per_layer)
    ]
    if independent_decay:
        plan = [replace(e, strength=e.strength / lr) for e in plan]
    groups = [
        {"params": [e.param for e in es], "weight_decay": s, "param_names": [e.name for e in es]}
        for s, es in group_by_strength(plan)
    ]
    if callable(optimizer):
        return optimizer(groups, lr)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(_OPTIMIZERS)} or a callable (param_groups, lr) "
            f"-> torch.optim.Optimizer, got {optimizer!r}."
        )
    return getattr(torch.optim, _OPTIMIZERS[optimizer])(groups, lr=lr)


def _make_penalty(model: Any, penalty: Any, exclude: Any) -> WeightDecayPenalty | None:
    if isinstance(penalty, WeightDecayPenalty):
        return penalty
    alpha = 0.0 if penalty is None else check_strength(penalty, "penalty")
    has_attached = any(hasattr(m, ATTR) for m in model.modules())
    if alpha == 0 and not has_attached:
        return None
    return WeightDecayPenalty(model, alpha, exclude=exclude)


class _Stopper:
    """Early-stopping state for one run."""

    def __init__(self, rule: EarlyStopping | None) -> None:
        self.rule, self.best, self.wait, self.state = rule, math.inf, 0, None

    def update(self, model: Any, val_loss: float, epoch: int, history: History) -> bool:
        """Record the epoch; return True to stop."""
        delta = self.rule.min_delta if self.rule else 0.0
        if val_loss < self.best - delta or history.best_epoch is None:
            self.best, self.wait, history.best_epoch = val_loss, 0, epoch
            if self.rule is not None and self.rule.restore_best:
                self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.wait += 1
        return self.rule is not None and self.wait >= self.rule.patience

    def finish(self, model: Any, history: History) -> None:
        if self.rule is not None and self.rule.restore_best and self.state is not None:
            model.load_state_dict(self.state)
            history.restored = True


def _run_epoch(model, batches, loss, opt, pen) -> float:
    model.train()
    total, count = 0.0, 0
    for X, y in batches:
        opt.zero_grad(set_to_none=True)
        value = loss(model(X), y)
        value.backward()
        if pen is not None:
            pen.add_grad_()
        opt.step()
        total += float(value.detach()) * len(X)
        count += len(X)
    if count == 0:
        raise ValueError(
            "train yielded no batches. A generator is used up after one epoch: pass a "
            "DataLoader, a list of (X, y) batches, or the pair (X, y)."
        )
    return total / count


@torch.no_grad()
def _evaluate(model, batches, loss) -> float:
    model.eval()
    total, count = 0.0, 0
    for X, y in batches:
        total += float(loss(model(X), y)) * len(X)
        count += len(X)
    return total / count if count else math.nan


@torch.no_grad()
def _weight_norm(params: Sequence[Any]) -> float:
    if not params:
        return 0.0
    return math.sqrt(sum(float(n) ** 2 for n in torch._foreach_norm(list(params))))


def _progress(enabled: bool | None, epochs: int) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=False)
    bar.start()
    bar.add_task("training", total=epochs)
    return bar


def fit(
    model: Any,
    train: Any,
    val: Any = None,
    *,
    loss: Callable[[Any, Any], Any],
    optimizer: str | Callable[..., Any] = "adamw",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    epochs: int = 10,
    penalty: float | WeightDecayPenalty | None = None,
    exclude: Iterable[Any] | None = DEFAULT_EXCLUDE,
    per_layer: Mapping[Any, float] | None = None,
    independent_decay: bool = False,
    scheduler: Callable[[Any], Any] | None = None,
    early_stopping: EarlyStopping | None = None,
    callbacks: Sequence[Callable[[dict, Any], Any]] = (),
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> History:
    """Train ``model`` with weight decay on biases-and-norms-excluded weights; return a History.

    Minimizes ``loss + penalty/2 * ||w||^2 (+ attached L2(l): l * ||W||^2)`` with the
    optimizer's ``weight_decay`` on the weights ``exclude`` leaves (coupled L2 for ``"sgd"`` and
    ``"adam"``, decoupled for ``"adamw"``: ``w <- w - lr * weight_decay * w`` per step).

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place.
    train, val : pair (X, y) of tensors, or iterable of (X, y) batches
        ``val`` is optional (needed for early stopping).
    loss : callable
        ``loss(model(X), y) -> scalar tensor``, e.g. ``torch.nn.MSELoss()``.
    optimizer : {"adamw", "adam", "sgd"} or callable, default="adamw"
        A callable gets ``(param_groups, lr)`` and returns an optimizer.
    lr : float, default=1e-3
        Learning rate (the peak one when ``scheduler`` changes it).
    weight_decay : float, default=0.0
        The optimizer's decay (convert with :mod:`ridgeway.conventions`).
    epochs : int, default=10
        Maximum number of epochs.
    penalty : float or WeightDecayPenalty, optional
        ``alpha`` of an explicit coupled penalty ``alpha/2 * ||w||^2`` (same ``exclude``), or a
        ready :class:`~ridgeway.nn.WeightDecayPenalty` (per-layer, L2-SP reference). Added as
        a gradient.
    exclude : iterable, default=("norm", "bias")
        Parameters without ``weight_decay`` (as in :func:`~ridgeway.nn.param_groups`).
    per_layer : mapping, optional
        Per-layer ``weight_decay`` (as in :func:`~ridgeway.nn.param_groups`).
    independent_decay : bool, default=False
        With ``"adamw"``: decay per step ``(lr_t / lr) * weight_decay`` instead of
        ``lr_t * weight_decay``, so that changing ``lr`` does not change the decay.
    scheduler : callable, optional
        ``scheduler(optimizer) -> LR scheduler``, stepped once per epoch.
    early_stopping : EarlyStopping, optional
        Stop on the validation loss, restoring the best weights by default.
    callbacks : sequence of callable
        ``callback(log, model)`` after each epoch, ``log`` a dict of that epoch's record;
        returning True stops training.
    batch_size : int, optional
        Minibatch size when ``train`` is a pair of tensors (full batch if None).
    seed : int, default=0
        Seed of the minibatch shuffling.
    progress : bool, optional
        Show a rich progress bar; default only when stderr is a terminal.

    Returns
    -------
    History
        Per-epoch losses, weight norm, learning rate and penalty; best and stopping epochs.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    _check_data(train, "train")
    if val is not None:
        _check_data(val, "val")
    elif early_stopping is not None:
        raise ValueError("early_stopping needs validation data: pass val=(X_val, y_val).")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    lr = check_strength(lr, "lr")
    if lr == 0:
        raise ValueError("lr must be positive, got 0.")
    weight_decay = check_strength(weight_decay, "weight_decay")
    opt = _make_optimizer(model, optimizer, lr, weight_decay, exclude, per_layer,
                          independent_decay)
    state = _Run(model, opt, _make_penalty(model, penalty, exclude), exclude, seed, batch_size)
    sched = scheduler(opt) if scheduler is not None else None
    return state.loop(train, val, loss, epochs, sched, _Stopper(early_stopping), callbacks,
                      progress)


class _Run:
    """The state of one fit: model, optimizer, penalty, norm mask, shuffling generator."""

    def __init__(self, model, opt, pen, exclude, seed, batch_size) -> None:
        self.model, self.opt, self.pen, self.batch_size = model, opt, pen, batch_size
        plan = decay_plan(model, 1.0, exclude=exclude, use_attached=False)
        self.weights = [e.param for e in plan if e.strength > 0]
        self.gen = torch.Generator().manual_seed(seed)

    def loop(self, train, val, loss, epochs, sched, stopper, callbacks, progress) -> History:
        history, bar = History(), _progress(progress, epochs)
        try:
            for epoch in range(1, epochs + 1):
                log = self._epoch(epoch, train, val, loss, sched)
                for key, value in log.items():
                    getattr(history, key).append(value)
                stop = stopper.update(self.model, log["val_loss"], epoch, history) \
                    if val is not None else False
                stop = any([bool(cb(dict(log), self.model)) for cb in callbacks]) or stop
                if bar is not None:
                    bar.update(bar.task_ids[0], advance=1, description=_describe(log))
                if stop:
                    history.stopped_epoch = epoch
                    break
        finally:
            if bar is not None:
                bar.stop()
        stopper.finish(self.model, history)
        return history

    def _epoch(self, epoch, train, val, loss, sched) -> dict[str, Any]:
        lr = self.opt.param_groups[0]["lr"]
        batches = _batches(train, self.batch_size, self.gen)
        train_loss = _run_epoch(self.model, batches, loss, self.opt, self.pen)
        if sched is not None:
            sched.step()
        val_loss = math.nan
        if val is not None:
            val_loss = _evaluate(self.model, _batches(val, None, None), loss)
        return {
            "epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
            "weight_norm": _weight_norm(self.weights), "lr": lr,
            "penalty": self.pen.value() if self.pen is not None else 0.0,
        }


def _describe(log: dict[str, Any]) -> str:
    return f"epoch {log['epoch']}: train {log['train_loss']:.4g}, val {log['val_loss']:.4g}"
