"""Import optional dependencies with one clear error per missing extra."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(name: str, extra: str) -> ModuleType:
    """Import module ``name`` or raise ``ImportError`` that names the extra to install.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"torch"``.
    extra : str
        The ridgeway extra that provides it, e.g. ``"torch"`` for ``pip install ridgeway[torch]``.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"This feature needs the optional dependency {name!r}, which is not installed "
            f"({exc}). Install it with: pip install 'ridgeway[{extra}]'"
        ) from exc
