"""The ``ridgeway`` command: fit, predict, demo, check, path.

``ridgeway fit DATA --target COL`` reads a CSV or Parquet file, standardizes the features,
chooses alpha by cross-validation, prints what was found, and writes ``model.json`` (code-free)
and ``report.html`` to ``--out``. ``ridgeway demo`` does the same on bundled data. Any problem
with the input ends the command with one line on stderr and a non-zero exit status (2; 1 for a
``check`` alert), and no partial output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import _commands, _output
from ._fitjob import MODELS, FitOptions, fit_option_extras, run_fit

__all__ = ["main"]

EXIT_ERROR = 2
EXIT_ALERT = 1
EXIT_INTERNAL = 3


def _add_fit_options(p: argparse.ArgumentParser, *, demo: bool) -> None:
    if not demo:
        p.add_argument("data", nargs="?", type=Path,
                       help="CSV or Parquet file (default: the bundled diabetes data)")
        p.add_argument("--target", "-t", help="name of the target column")
    p.add_argument("--model", choices=MODELS,
                   help="model (default: chosen from the target and printed)")
    p.add_argument("--cv", help="K (folds), loo, gcv (ridge) or alo (default: loo for ridge, "
                                "5 folds for the GLMs)")
    p.add_argument("--alphas", help="comma-separated candidate alphas, or 'auto' "
                                    "(default: a data-driven grid of 100 values)")
    p.add_argument("--selection", choices=("min", "1se"), default="min",
                   help="best CV score, or the largest alpha within one standard error")
    p.add_argument("--test-size", type=float, default=0.2,
                   help="fraction of rows held out to measure the generalization gap")
    p.add_argument("--no-standardize", action="store_true",
                   help="fit on the raw features (the penalty then depends on their units)")
    p.add_argument("--drop", nargs="+", default=[], metavar="COL", help="columns to ignore")
    p.add_argument("--impute", choices=("none", "mean", "median"), default="none",
                   help="fill missing feature values (default: missing values are an error)")
    p.add_argument("--out", type=Path, default=Path("ridgeway-demo" if demo else "ridgeway-out"),
                   help="output folder for model.json, report.html and the plots")
    p.add_argument("--no-report", action="store_true",
                   help="skip the report, the plots and the L1 comparison (fastest)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the split")
    p.add_argument("--positive", metavar="LABEL",
                   help="positive class of a binary target (default: a label such as 1, Yes, "
                        "True, Bad or default if there is one, else the minority class)")
    p.add_argument("--class-weight", choices=("balanced", "none"),
                   help="balanced: weigh each class by n / (classes x its count)")
    p.add_argument("--exposure", metavar="COL",
                   help="Poisson: exposure of each row (time, area...); the model fits rates")
    p.add_argument("--offset", metavar="COL", help="Poisson: log of the exposure")
    p.add_argument("--split", choices=("random", "time"),
                   help="held-out rows: random (default) or the most recent (--time-column)")
    p.add_argument("--time-column", metavar="COL",
                   help="orders the rows for --split time (not used as a feature)")
    p.add_argument("--no-l1", action="store_true",
                   help="skip the L1 comparison of the report (its costliest part)")
    p.add_argument("--max-iter", type=int, metavar="N",
                   help="iteration limit of the GLM solvers (default: theirs)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ridgeway`` command."""
    parser = argparse.ArgumentParser(
        prog="ridgeway", description="L2-regularized learning: choose alpha, see what it does.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"ridgeway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit = sub.add_parser("fit", help="fit a model to a table and report on it")
    _add_fit_options(fit, demo=False)
    demo = sub.add_parser("demo", help="the fit command on bundled data (diabetes)")
    _add_fit_options(demo, demo=True)
    pred = sub.add_parser("predict", help="apply a saved model to a table")
    pred.add_argument("model", type=Path, help="model.json written by ridgeway fit")
    pred.add_argument("data", type=Path, help="CSV or Parquet file")
    pred.add_argument("--out", type=Path, help="CSV file to write (default: stdout)")
    check = sub.add_parser("check", help="score a saved model on new labeled data; exit 1 "
                                         "when the generalization gap exceeds --max-gap")
    check.add_argument("model", type=Path)
    check.add_argument("data", type=Path)
    check.add_argument("--max-gap", type=float, required=True,
                       help="largest tolerated drop of the metric from training to new data")
    check.add_argument("--metric", help="metric of the gap (default: r2 for regression, "
                                        "accuracy for classification)")
    path = sub.add_parser("path", help="the regularization path of ridge, as a table and a plot")
    path.add_argument("data", nargs="?", type=Path)
    path.add_argument("--target", "-t")
    path.add_argument("--drop", nargs="+", default=[], metavar="COL")
    path.add_argument("--impute", choices=("none", "mean", "median"), default="none")
    path.add_argument("--n-alphas", type=int, default=50)
    path.add_argument("--out", type=Path, default=Path("ridgeway-out"))
    return parser


def _fit_options(args: argparse.Namespace) -> FitOptions:
    return FitOptions(
        data=getattr(args, "data", None), target=getattr(args, "target", None),
        model=args.model, cv=args.cv, alphas=args.alphas, selection=args.selection,
        test_size=args.test_size, standardize=not args.no_standardize, drop=list(args.drop),
        impute=args.impute, extras=not args.no_report, random_state=args.seed,
        **fit_option_extras(args))


def cmd_fit(args: argparse.Namespace) -> int:
    """``ridgeway fit`` and ``ridgeway demo``."""
    console = _output.console()
    options = _fit_options(args)
    with _output.progress_bar() as progress:
        outcome = run_fit(options, progress)
        files = _output.prepare_outputs(outcome, report=not args.no_report, progress=progress)
    written = _output.write_files(files, args.out)
    _output.print_fit(console, outcome, written)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``ridgeway predict``."""
    return _commands.predict(args.model, args.data, args.out)


def cmd_check(args: argparse.Namespace) -> int:
    """``ridgeway check``."""
    ok = _commands.check(_output.console(), args.model, args.data, args.max_gap, args.metric)
    return 0 if ok else EXIT_ALERT


def cmd_path(args: argparse.Namespace) -> int:
    """``ridgeway path``."""
    return _commands.path(_output.console(), args)


_COMMANDS = {"fit": cmd_fit, "demo": cmd_fit, "predict": cmd_predict, "check": cmd_check,
             "path": cmd_path}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ridgeway`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 1 ``check`` alert, 2 bad input, 3 internal error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError, KeyError, ArithmeticError) as exc:
        print(f"ridgeway: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ridgeway: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("RIDGEWAY_DEBUG"):
            raise
        print(f"ridgeway: internal error: {type(exc).__name__}: {_one_line(exc)} (this is a "
              "bug; set RIDGEWAY_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
