"""The L2 penalty ``alpha/2 * ||w - w0||^2`` on a module's weights, as a value or as a gradient."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._plan import (
    DEFAULT_EXCLUDE,
    DecayEntry,
    check_strength,
    decay_plan,
    group_by_strength,
    same_device_dtype,
)
from ._torch import nn, torch

__all__ = ["WeightDecayPenalty", "l2_penalty", "snapshot"]


def snapshot(module: Any) -> dict[str, Any]:
    """Copy of the module's parameters, detached, for use as ``reference`` (L2-SP).

    Parameters
    ----------
    module : torch.nn.Module
        E.g. a pretrained model before fine-tuning.

    Returns
    -------
    dict
        ``{parameter name: tensor}``, independent of later updates of ``module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}.")
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def _reference_for(plan: list[DecayEntry], reference: Any) -> dict[str, Any]:
    """Map penalized parameter names to their reference tensors (on their device/dtype)."""
    if reference is None:
        return {}
    if isinstance(reference, nn.Module):
        reference = snapshot(reference)
    if not isinstance(reference, Mapping):
        raise TypeError(
            "reference must be a mapping {parameter name: tensor} (e.g. snapshot(model) or "
            f"model.state_dict()) or a torch.nn.Module, got {type(reference).__name__}."
        )
    refs = {}
    for entry in plan:
        if entry.strength == 0 or entry.name not in reference:
            continue
        ref = torch.as_tensor(reference[entry.name])
        if ref.shape != entry.param.shape:
            raise ValueError(
                f"reference[{entry.name!r}] has shape {tuple(ref.shape)} but the parameter has "
                f"shape {tuple(entry.param.shape)}."
            )
        refs[entry.name] = ref.detach().to(entry.param.device, entry.param.dtype)
    if not refs and any(e.strength > 0 for e in plan):
        raise ValueError(
            "reference shares no parameter name with the penalized parameters; pass "
            "snapshot(model) or a state_dict of the same architecture."
        )
    return refs


class _HalfSquaredNorm(torch.autograd.Function):
    """``alpha/2 * sum_k ||p_k - r_k||^2`` with a foreach forward and backward.

    Cheaper than building ``(p - r) ** 2`` through autograd: no squared copies in the forward;
    the backward writes ``alpha * g * (p - r)`` once per tensor.
    """

    @staticmethod
    def forward(ctx: Any, alpha: float, refs: list | None, *params: Any) -> Any:
        diffs = list(params) if refs is None else torch._foreach_sub(list(params), refs)
        norms = torch._foreach_norm(diffs)
        ctx.alpha, ctx.refs = alpha, refs
        ctx.save_for_backward(*params)
        return 0.5 * alpha * torch.stack(norms).square().sum()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Any) -> tuple:
        params = list(ctx.saved_tensors)
        diffs = params if ctx.refs is None else torch._foreach_sub(params, ctx.refs)
        grads = torch._foreach_mul(diffs, grad * ctx.alpha)
        return (None, None, *grads)


class WeightDecayPenalty:
    """The penalty ``sum_groups alpha_g/2 * ||w_g - w0_g||^2``, planned once, used every step.

    The exclusion and per-layer rules are those of :func:`ridgeway.nn.param_groups` (one shared
    mask). Use it as a differentiable value (``penalty()``, added to the loss) or, cheaper for
    big models, as a gradient: ``penalty.add_grad_()`` after ``loss.backward()`` adds
    ``alpha_g * (w - w0)`` to each ``.grad`` with fused foreach kernels and builds no graph.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    alpha : float
        Strength of ``alpha/2 * ||w||^2``, in the units of the loss it is added to (see
        :mod:`ridgeway.conventions` to convert).
    exclude : iterable, default=("norm", "bias")
        Parameters that are never penalized (see :func:`ridgeway.nn.decay_table`).
    per_layer : mapping, optional
        ``{name pattern, regex or module type: alpha}`` overriding ``alpha``.
    reference : mapping or torch.nn.Module, optional
        ``w0`` (L2-SP: decay toward pretrained weights). Penalized parameters missing from it
        decay toward 0, as new layers do in L2-SP.
    """

    def __init__(
        self,
        module: Any,
        alpha: float,
        *,
        exclude: Iterable[Any] | None = DEFAULT_EXCLUDE,
        per_layer: Mapping[Any, float] | None = None,
        reference: Any = None,
    ) -> None:
        check_strength(alpha, "alpha")
        self.plan = decay_plan(module, alpha, exclude=exclude, per_layer=per_layer)
        refs = _reference_for(self.plan, reference)
        self._groups = []
        for strength, entries in group_by_strength(self.plan):
            if strength == 0:
                continue
            for part in same_device_dtype(entries).values():  # foreach needs one device/dtype
                params = [e.param for e in part]
                ref = None
                if refs:  # parameters missing from the reference decay toward 0
                    ref = [refs.get(e.name, torch.zeros_like(e.param)) for e in part]
                self._groups.append((strength, params, ref))
        self._anchor = next(iter(module.parameters()), None)

    def _zero(self) -> Any:
        if self._anchor is None:
            return torch.zeros(())
        return torch.zeros((), device=self._anchor.device, dtype=self._anchor.dtype)

    def __call__(self) -> Any:
        """Differentiable penalty value (a 0-d tensor on the parameters' device and dtype)."""
        total = self._zero()
        for alpha, params, refs in self._groups:
            total = total + _HalfSquaredNorm.apply(alpha, refs, *params).to(total.device)
        return total

    @torch.no_grad()
    def value(self) -> float:
        """Penalty value as a float, without autograd (for logging)."""
        total = 0.0
        for alpha, params, refs in self._groups:
            diffs = params if refs is None else torch._foreach_sub(params, refs)
            norms = torch._foreach_norm(diffs)
            total += 0.5 * alpha * float(sum(float(n) ** 2 for n in norms))
        return total

    @torch.no_grad()
    def add_grad_(self) -> None:
        """Add the penalty's gradient ``alpha * (w - w0)`` to ``.grad`` (created if None)."""
        for alpha, params, refs in self._groups:
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            grads = [p.grad for p in params]
            torch._foreach_add_(grads, params, alpha=alpha)
            if refs is not None:
                torch._foreach_add_(grads, refs, alpha=-alpha)

    @property
    def n_penalized(self) -> int:
        """Number of scalar weights with a positive strength."""
        return sum(p.numel() for _, params, _ in self._groups for p in params)


def l2_penalty(
    module: Any,
    alpha: float,
    *,
    exclude: Iterable[Any] | None = DEFAULT_EXCLUDE,
    per_layer: Mapping[Any, float] | None = None,
    reference: Any = None,
) -> Any:
    """The differentiable L2 penalty ``alpha/2 * sum_w ||w - w0||^2`` over penalized weights.

    Added to a loss ``L``, training minimizes ``L + alpha/2 * ||w - w0||^2``; its gradient is
    ``alpha * (w - w0)``, the same as SGD's ``weight_decay=alpha`` on the same loss. Biases and
    normalization layers are excluded by default; ``L2(l)`` regularizers attached to layers
    contribute ``l * ||w||^2``.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    alpha : float
        Non-negative strength (convert other conventions with :mod:`ridgeway.conventions`).
    exclude : iterable, default=("norm", "bias")
        Keywords ``"bias"``, ``"norm"``, ``"embedding"``, ``"1d"``, name patterns, regexes or
        module types never penalized.
    per_layer : mapping, optional
        ``{name pattern, regex or module type: alpha}``; the first match wins.
    reference : mapping or torch.nn.Module, optional
        ``w0`` for L2-SP, e.g. ``snapshot(pretrained)``.

    Returns
    -------
    torch.Tensor
        0-d tensor on the parameters' device and dtype.

    Notes
    -----
    For large models in a training loop, build :class:`WeightDecayPenalty` once and call its
    ``add_grad_()`` after ``backward()``: same gradient, no autograd graph.
    """
    return WeightDecayPenalty(
        module, alpha, exclude=exclude, per_layer=per_layer, reference=reference
    )()
