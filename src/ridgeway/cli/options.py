"""The options of ``ridgeway fit``: one table (:data:`FIT_FLAGS`) from which the parser, the
:class:`FitOptions` of parsed arguments and the command line of the report are all derived."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..linear_model.kinds import KINDS

__all__ = ["FIT_FLAGS", "FitOptions", "Flag"]


@dataclass(frozen=True)
class Flag:
    """One option of ``ridgeway fit``: the :class:`FitOptions` field it sets, its spellings,
    its help, and its other ``argparse`` keywords.

    ``switch_off``: a ``--no-X`` switch, the field is True unless it is given. ``fit_only``:
    not an option of ``ridgeway demo`` (it is about a data file).
    """

    field: str
    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    switch_off: bool = False
    fit_only: bool = False

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments."""
        return self.flags[0].lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add this option to ``parser``."""
        kwargs = {"action": "store_true"} if self.switch_off else self.kwargs
        parser.add_argument(*self.flags, help=self.help, **kwargs)


SEP = Flag("sep", ("--sep",), "field separator of a CSV file, e.g. ';' or tab (default: "
           "detected from the header line)")
DROP_MISSING_TARGET = Flag("drop_missing_target", ("--drop-missing-target",),
                           "drop the rows whose target is missing (default: an error)",
                           {"action": "store_true"}, fit_only=True)

#: every option of ``ridgeway fit`` that :class:`FitOptions` holds, in ``--help`` order
FIT_FLAGS: tuple[Flag, ...] = (
    Flag("target", ("--target", "-t"), "name of the target column", fit_only=True),
    Flag("model", ("--model",), "model (default: chosen from the target and printed)",
         {"choices": tuple(KINDS)}),
    Flag("cv", ("--cv",), "K (folds), loo, gcv (ridge) or alo (default: loo for ridge, 5 folds "
         "for the GLMs)"),
    Flag("alphas", ("--alphas",), "comma-separated candidate alphas >= 0 (0: no penalty), or "
         "'auto' (default: a data-driven grid of 100 values)"),
    Flag("selection", ("--selection",), "best CV score, or the largest alpha within one "
         "standard error", {"choices": ("min", "1se"), "default": "min"}),
    Flag("test_size", ("--test-size",), "fraction of rows held out to measure the "
         "generalization gap", {"type": float, "default": 0.2}),
    Flag("standardize", ("--no-standardize",), "fit on the raw features (the penalty then "
         "depends on their units)", switch_off=True),
    Flag("drop", ("--drop",), "columns to ignore", {"nargs": "+", "default": [],
                                                    "metavar": "COL"}),
    Flag("impute", ("--impute",), "fill missing feature values (default: missing values are "
         "an error)", {"choices": ("none", "mean", "median"), "default": "none"}),
    SEP,
    DROP_MISSING_TARGET,
    Flag("report", ("--no-report",), "skip the report, the plots and the L1 comparison "
         "(fastest)", switch_off=True),
    Flag("positive", ("--positive",), "positive class of a binary target (default: a label "
         "such as 1, Yes, True, Bad or default if there is one, else the minority class)",
         {"metavar": "LABEL"}),
    Flag("class_weight", ("--class-weight",), "balanced: weigh each class by n / (classes x "
         "its count)", {"choices": ("balanced", "none")}),
    Flag("exposure", ("--exposure",), "Poisson: exposure of each row (time, area...); the "
         "model fits rates", {"metavar": "COL"}),
    Flag("offset", ("--offset",), "Poisson: log of the exposure", {"metavar": "COL"}),
    Flag("split", ("--split",), "held-out rows: random (default) or the most recent "
         "(--time-column)", {"choices": ("random", "time")}),
    Flag("time_column", ("--time-column",), "orders the rows for --split time (not used as a "
         "feature)", {"metavar": "COL"}),
    Flag("l1", ("--no-l1",), "skip the L1 comparison of the report (its costliest part)",
         switch_off=True),
    Flag("max_iter", ("--max-iter",), "iteration limit of the GLM solvers (default: theirs)",
         {"type": int, "metavar": "N"}),
    Flag("stream", ("--stream",), "fit ridge batch by batch in bounded memory (implied for a "
         "directory, a glob, or a file over a quarter of the machine's memory; docs/scale.md)",
         {"action": "store_true"}, fit_only=True),
    Flag("fold_column", ("--fold-column",), "integer fold ids 0..K-1 of the CV (implies "
         "--stream; --cv K)", {"metavar": "COL"}, fit_only=True),
    Flag("dask", ("--dask",), "fit ridge on a Dask cluster: a scheduler address "
         "(tcp://host:8786) or 'local' to start 2 workers here (docs/scale.md)",
         {"metavar": "ADDRESS"}, fit_only=True),
    Flag("random_state", ("--seed",), "random seed of the split", {"type": int, "default": 0}),
)


@dataclass
class FitOptions:
    """Options of ``ridgeway fit`` (see ``ridgeway fit --help`` and :data:`FIT_FLAGS`)."""

    data: Path | None = None
    target: str | None = None
    model: str | None = None
    cv: str | None = None
    alphas: str | None = None
    selection: str = "min"
    test_size: float = 0.2
    standardize: bool = True
    drop: list[str] = field(default_factory=list)
    impute: str = "none"
    report: bool = True
    random_state: int = 0
    sep: str | None = None
    drop_missing_target: bool = False
    positive: str | None = None
    class_weight: str | None = None
    exposure: str | None = None
    offset: str | None = None
    split: str = "random"
    time_column: str | None = None
    l1: bool = True
    max_iter: int | None = None
    stream: bool = False
    fold_column: str | None = None
    dask: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> FitOptions:
        """The options of parsed ``ridgeway fit`` (or ``demo``) arguments; an option that is
        not given, or not one of the command's, takes its default here."""
        defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        values: dict[str, Any] = {"data": getattr(args, "data", None)}
        for flag in FIT_FLAGS:
            value = getattr(args, flag.dest, None)
            if flag.switch_off:
                value = not value
            elif isinstance(value, list):
                value = list(value)
            elif value is None:
                value = defaults.get(flag.field)
            values[flag.field] = value
        return cls(**values)

    def command_line(self) -> str:
        """A ``ridgeway fit`` command line that repeats this run: every option that differs
        from its default, and the seed."""
        words = ["ridgeway", "fit", str(self.data)] if self.data is not None else [
            "ridgeway", "demo"]
        defaults = FitOptions()
        for flag in FIT_FLAGS:
            value, name = getattr(self, flag.field), flag.flags[0]
            if flag.switch_off or flag.kwargs.get("action") == "store_true":
                words += [name] if value != getattr(defaults, flag.field) else []
            elif isinstance(value, list):
                words += [name, *value] if value else []
            elif flag.field == "random_state" or (
                    value is not None and value != getattr(defaults, flag.field)):
                words += [name, str(value)]
        return " ".join(shlex.quote(w) for w in words)
