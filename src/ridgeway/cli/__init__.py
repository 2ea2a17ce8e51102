"""The ``ridgeway`` command: parser, commands, the fit job, the report and the model file.

Nothing else in the package imports this subpackage; it sits on top of the library.
"""

from .app import main

__all__ = ["main"]
