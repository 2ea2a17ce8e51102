"""Which parameters decay, and how strongly: the one mask shared by penalty and optimizer groups.

The rule, applied to every parameter in order:

1. an ``L2`` regularizer attached to the parameter's module (``L2(l).attach(layer)``) sets its
   strength to ``2 * l`` (Keras adds ``l * sum w^2``, which is ``(2 l)/2 * sum w^2``);
2. otherwise, an ``exclude`` rule that matches gives strength 0 (default: biases and
   normalization layers; frozen parameters are always excluded);
3. otherwise, the first ``per_layer`` entry that matches gives its strength;
4. otherwise the global strength applies.

The strength means the coefficient ``a`` of the gradient contribution ``a * w``: the ``alpha``
of ``alpha/2 * ||w||^2`` for :func:`~ridgeway.nn.l2_penalty`, the ``weight_decay`` of an
optimizer group for :func:`~ridgeway.nn.param_groups`.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from ._torch import nn

__all__ = ["DEFAULT_EXCLUDE", "DecayEntry", "check_strength", "decay_plan", "is_norm_layer"]

DEFAULT_EXCLUDE: tuple[str, ...] = ("norm", "bias")
_KEYWORDS = {
    "bias": "bias",
    "norm": "normalization layer",
    "embedding": "embedding",
    "1d": "1-D tensor",
}
_NORM_TYPES = tuple(
    getattr(nn, name)
    for name in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d",
        "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "GroupNorm", "RMSNorm",
        "LocalResponseNorm",
    )
    if hasattr(nn, name)
)
_NORM_NAME = re.compile(r"Norm(\d[dD])?$")
ATTR = "_ridgeway_l2"

Key = Any  # str pattern, compiled regex, or nn.Module subclass


@dataclass(frozen=True, eq=False)
class DecayEntry:
    """One parameter of the plan.

    Attributes
    ----------
    name : str
        Qualified parameter name, e.g. ``"net.0.weight"``.
    param : torch.nn.Parameter
        The parameter itself.
    module_type : str
        Class name of the module that owns it.
    strength : float
        Coefficient ``a`` of the gradient contribution ``a * w`` (0 = no decay).
    reason : str
        Why it got that strength, for display only.
    attached : bool
        Whether the strength comes from an ``L2(l)`` regularizer attached to the owning module
        (then it is ``2 * l``, applied by the penalty term rather than by the optimizer).
    """

    name: str
    param: Any
    module_type: str
    strength: float
    reason: str
    attached: bool = False


def check_strength(value: object, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite non-negative number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a non-negative number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}.")
    return value


def is_norm_layer(module: Any) -> bool:
    """Tell whether ``module`` is a normalization layer.

    Parameters
    ----------
    module : torch.nn.Module
        Any module.

    Returns
    -------
    bool
        True for torch's BatchNorm*, SyncBatchNorm, InstanceNorm*, LayerNorm, GroupNorm,
        RMSNorm, LocalResponseNorm and any class whose name ends in ``Norm`` (e.g.
        ``LlamaRMSNorm``).
    """
    return isinstance(module, _NORM_TYPES) or bool(_NORM_NAME.search(type(module).__name__))


def _describe(key: Key) -> str:
    if isinstance(key, type):
        return key.__name__
    if isinstance(key, re.Pattern):
        return f"re {key.pattern!r}"
    return repr(key)


def _matches(key: Key, name: str, module_name: str, owner: Any) -> bool:
    if isinstance(key, type):
        return isinstance(owner, key)
    if isinstance(key, re.Pattern):
        return key.search(name) is not None
    return fnmatch.fnmatchcase(name, key) or fnmatch.fnmatchcase(module_name, key)


def _check_key(key: object, what: str) -> Key:
    if isinstance(key, (str, re.Pattern)) or (isinstance(key, type) and issubclass(key, nn.Module)):
        return key
    raise TypeError(
        f"{what} keys must be name patterns (str, fnmatch style, e.g. 'encoder.*'), compiled "
        f"regular expressions, or nn.Module subclasses; got {key!r}."
    )


def _excluded(item: Key, local: str, name: str, module_name: str, owner: Any, p: Any) -> str:
    """Reason string if exclusion rule ``item`` matches, else ''."""
    if isinstance(item, str) and item in _KEYWORDS:
        hit = {
            "bias": local == "bias" or local.endswith("_bias"),
            "norm": is_norm_layer(owner),
            "embedding": isinstance(owner, (nn.Embedding, nn.EmbeddingBag)),
            "1d": p.ndim <= 1,
        }[item]
        label = _KEYWORDS[item]
        if item == "norm":
            label = f"normalization layer ({type(owner).__name__})"
        return f"excluded: {label}" if hit else ""
    return f"excluded: {_describe(item)}" if _matches(item, name, module_name, owner) else ""


def _iter_params(module: Any) -> Iterable[tuple[str, str, str, Any, Any]]:
    """(qualified name, local name, module name, owner module, parameter), tied ones once."""
    seen: set[int] = set()
    for module_name, owner in module.named_modules():
        for local, p in owner.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            name = f"{module_name}.{local}" if module_name else local
            yield name, local, module_name, owner, p


def _check_inputs(module, exclude, per_layer) -> tuple[list[Key], dict[Key, float]]:
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}.")
    if isinstance(exclude, (str, type, re.Pattern)):
        exclude = (exclude,)
    exclude = [_check_key(item, "exclude") for item in (exclude or ())]
    if per_layer is not None and not isinstance(per_layer, Mapping):
        raise TypeError(
            "per_layer must be a mapping {pattern or module type: strength}, got "
            f"{type(per_layer).__name__}."
        )
    layers = {
        _check_key(k, "per_layer"): check_strength(v, f"per_layer[{_describe(k)}]")
        for k, v in (per_layer or {}).items()
    }
    return exclude, layers


def decay_plan(
    module: Any,
    strength: float,
    *,
    exclude: Iterable[Key] | None = DEFAULT_EXCLUDE,
    per_layer: Mapping[Key, float] | None = None,
    use_attached: bool = True,
) -> list[DecayEntry]:
    """Decide the decay strength of every parameter of ``module`` (see the module docstring).

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    strength : float
        Global strength for parameters no other rule covers.
    exclude : iterable, default=("norm", "bias")
        Keywords ``"bias"``, ``"norm"``, ``"embedding"``, ``"1d"`` (every tensor with at most
        one dimension, optax's default), fnmatch patterns on parameter or module names,
        compiled regexes, or module types.
    per_layer : mapping, optional
        ``{key: strength}``; keys as in ``exclude``. The first matching key wins.
    use_attached : bool, default=True
        Whether attached ``L2`` regularizers set their parameters' strength (rule 1).

    Returns
    -------
    list of DecayEntry
        One entry per parameter, in ``named_parameters`` order.

    Raises
    ------
    ValueError
        If a ``per_layer`` key or an ``exclude`` pattern matches no parameter.
    """
    strength = check_strength(strength, "strength")
    exclude, layers = _check_inputs(module, exclude, per_layer)
    used: dict[int, list[str]] = {id(k): [] for k in [*exclude, *layers]}
    plan = [
        _decide(item, strength, exclude, layers, used, use_attached)
        for item in _iter_params(module)
    ]
    _check_used(exclude, layers, used)
    return plan


def _decide(item, strength, exclude, layers, used, use_attached) -> DecayEntry:
    name, local, module_name, owner, p = item
    mtype = type(owner).__name__
    attached = getattr(owner, ATTR, {}) if use_attached else {}
    if local in attached:
        lam = attached[local]
        return DecayEntry(name, p, mtype, 2.0 * lam, f"L2({lam:g}) attached: 2*l", attached=True)
    if not p.requires_grad:
        return DecayEntry(name, p, mtype, 0.0, "excluded: frozen (requires_grad=False)")
    for rule in exclude:
        reason = _excluded(rule, local, name, module_name, owner, p)
        if reason:
            used[id(rule)].append(name)
            return DecayEntry(name, p, mtype, 0.0, reason)
    for key, value in layers.items():
        if _matches(key, name, module_name, owner):
            used[id(key)].append(name)
            return DecayEntry(name, p, mtype, value, f"per_layer {_describe(key)}")
    return DecayEntry(name, p, mtype, strength, "default")


def _check_used(exclude, layers, used) -> None:
    for rule in exclude:
        if isinstance(rule, str) and rule in _KEYWORDS:
            continue
        if not used[id(rule)]:
            raise ValueError(
                f"exclude entry {_describe(rule)} matches no parameter (none that an earlier "
                f"rule had not already excluded). Keywords are "
                f"{sorted(_KEYWORDS)}; other strings are fnmatch patterns on parameter or "
                "module names (e.g. 'encoder.*'). Check the names with decay_table(model, ...)."
            )
    for key in layers:
        if not used[id(key)]:
            raise ValueError(
                f"per_layer entry {_describe(key)} matches no penalized parameter (none at all, "
                "or only parameters that are excluded, e.g. biases and normalization layers, "
                "or claimed by an earlier entry). Check the names with decay_table(model, ...)."
            )


def group_by_strength(plan: list[DecayEntry]) -> list[tuple[float, list[DecayEntry]]]:
    """Entries grouped by strength, groups in order of first appearance."""
    groups: dict[float, list[DecayEntry]] = {}
    for entry in plan:
        groups.setdefault(entry.strength, []).append(entry)
    return list(groups.items())


def same_device_dtype(plan: list[DecayEntry]) -> dict[tuple[Any, Any], list[DecayEntry]]:
    """Entries split by (device, dtype), as foreach kernels need."""
    out: dict[tuple[Any, Any], list[DecayEntry]] = {}
    for entry in plan:
        out.setdefault((entry.param.device, entry.param.dtype), []).append(entry)
    return out

