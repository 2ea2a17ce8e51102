"""Optimizer parameter groups with per-parameter weight decay, and the table that explains them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._plan import ATTR, DEFAULT_EXCLUDE, check_strength, decay_plan, group_by_strength
from ._torch import nn

__all__ = ["L2", "DecayRow", "DecayTable", "decay_table", "param_groups"]


def param_groups(
    module: Any,
    weight_decay: float,
    *,
    exclude: Iterable[Any] | None = DEFAULT_EXCLUDE,
    per_layer: Mapping[Any, float] | None = None,
) -> list[dict[str, Any]]:
    """Parameter groups for any torch optimizer, one per distinct weight decay.

    The mask is the one :func:`ridgeway.nn.l2_penalty` uses: with ``torch.optim.SGD`` (coupled
    decay, gradient ``+ wd * w``) the groups minimize ``L + wd/2 * ||w||^2`` over exactly the
    weights ``l2_penalty(module, wd)`` penalizes.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    weight_decay : float
        Non-negative decay for parameters no other rule covers.
    exclude : iterable, default=("norm", "bias")
        Parameters that get ``weight_decay=0`` (see :func:`decay_table`).
    per_layer : mapping, optional
        ``{name pattern, regex or module type: weight_decay}``; the first match wins.

    Returns
    -------
    list of dict
        ``{"params": [...], "weight_decay": float, "param_names": [...]}``; pass to e.g.
        ``torch.optim.AdamW(groups, lr=1e-3)``.
    """
    plan = decay_plan(module, weight_decay, exclude=exclude, per_layer=per_layer)
    return [
        {
            "params": [e.param for e in entries],
            "weight_decay": strength,
            "param_names": [e.name for e in entries],
        }
        for strength, entries in group_by_strength(plan)
    ]


@dataclass(frozen=True)
class DecayRow:
    """One parameter in a :class:`DecayTable`."""

    name: str
    shape: tuple[int, ...]
    module_type: str
    decay: float
    reason: str


@dataclass(frozen=True)
class DecayTable:
    """Which parameter gets which decay, and why. ``str(table)`` renders it as text."""

    rows: tuple[DecayRow, ...]

    @property
    def n_decayed(self) -> int:
        """Number of scalar weights with a positive decay."""
        return sum(_numel(r.shape) for r in self.rows if r.decay > 0)

    @property
    def n_total(self) -> int:
        """Number of scalar weights in all."""
        return sum(_numel(r.shape) for r in self.rows)

    def decayed_names(self) -> list[str]:
        """Names of the parameters with a positive decay."""
        return [r.name for r in self.rows if r.decay > 0]

    def __str__(self) -> str:
        head = ("parameter", "shape", "module", "decay", "reason")
        body = [(r.name, str(list(r.shape)), r.module_type, f"{r.decay:g}", r.reason)
                for r in self.rows]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"{self.n_decayed} of {self.n_total} weights decayed")
        return "\n".join(lines)


def _numel(shape: tuple[int, ...]) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def decay_table(
    module: Any,
    weight_decay: float,
    *,
    exclude: Iterable[Any] | None = DEFAULT_EXCLUDE,
    per_layer: Mapping[Any, float] | None = None,
) -> DecayTable:
    """A readable table: parameter name, shape, decay and the reason for it.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    weight_decay : float
        Global strength (the ``alpha`` of :func:`ridgeway.nn.l2_penalty` reads the same).
    exclude : iterable, default=("norm", "bias")
        As in :func:`param_groups`.
    per_layer : mapping, optional
        As in :func:`param_groups`.

    Returns
    -------
    DecayTable
        One row per parameter; ``print(decay_table(model, 1e-2))`` shows it.
    """
    plan = decay_plan(module, weight_decay, exclude=exclude, per_layer=per_layer)
    return DecayTable(tuple(
        DecayRow(e.name, tuple(e.param.shape), e.module_type, e.strength, e.reason)
        for e in plan
    ))


class L2:
    """Keras-style regularizer: ``L2(l).attach(layer)`` adds ``l * ||W||^2`` to the loss.

    As in Keras ``kernel_regularizer=l2(l)`` there is no 1/2: the gradient is ``2 l W``, i.e.
    ``l2_penalty`` with ``alpha = 2 l`` or SGD ``weight_decay = 2 l`` on the same loss. An
    attached regularizer overrides the global strength, ``exclude`` and ``per_layer`` for its
    parameters; :func:`ridgeway.nn.l2_penalty`, :func:`param_groups` and
    :func:`ridgeway.nn.fit` all collect it.

    Parameters
    ----------
    l : float
        Keras' ``l2`` factor (Keras' default is 0.01).
    """

    def __init__(self, l: float = 0.01) -> None:
        self.l = check_strength(l, "l")

    def __repr__(self) -> str:
        return f"L2({self.l:g})"

    def attach(self, layer: Any, params: Iterable[str] = ("weight",)) -> Any:
        """Attach to ``layer``'s own parameters ``params`` (default the kernel); return ``layer``.

        Parameters
        ----------
        layer : torch.nn.Module
            A layer with direct parameters, e.g. ``nn.Linear``.
        params : iterable of str, default=("weight",)
            Local parameter names, e.g. ``("weight", "bias")`` for Keras' bias_regularizer too.
        """
        if not isinstance(layer, nn.Module):
            raise TypeError(f"layer must be a torch.nn.Module, got {type(layer).__name__}.")
        own = dict(layer.named_parameters(recurse=False))
        params = [params] if isinstance(params, str) else list(params)
        for name in params:
            if name not in own:
                raise ValueError(
                    f"{type(layer).__name__} has no parameter {name!r} of its own (it has "
                    f"{sorted(own) or 'none'}). Attach to a layer such as nn.Linear, or use "
                    "per_layer={'pattern': alpha} for containers."
                )
        attached = dict(getattr(layer, ATTR, {}))
        attached.update(dict.fromkeys(params, self.l))
        object.__setattr__(layer, ATTR, attached)
        return layer

    @staticmethod
    def detach(layer: Any) -> Any:
        """Remove regularizers attached to ``layer``; return ``layer``."""
        if hasattr(layer, ATTR):
            object.__delattr__(layer, ATTR)
        return layer
