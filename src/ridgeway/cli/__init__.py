"""The ``ridgeway`` command, on top of the library; nothing else in the package imports it.

Imports flow down this list: ``app`` (parser, exit codes) -> ``commands`` (each command: what it
computes and which files it writes) -> ``output`` (terminal tables) and ``report`` (the HTML
report) -> ``rows`` (the rows both show) -> ``fitjob`` (the fit as a function) ->
``modelfile`` (``model.json``), ``preprocess`` (tables to features), ``options`` (the fit
options, one table for the parser and the report's command line) and ``atomic`` (all-or-
nothing writes). Model kinds come from :mod:`ridgeway.linear_model.kinds`, errors from
:mod:`ridgeway.exceptions`.
"""

from .app import main

__all__ = ["main"]
