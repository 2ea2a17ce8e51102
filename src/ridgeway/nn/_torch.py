"""The one place where ridgeway imports PyTorch (extra ``ridgeway[torch]``)."""

from __future__ import annotations

from ridgeway._optional import import_optional

torch = import_optional("torch", extra="torch")
nn = torch.nn

__all__ = ["nn", "torch"]
