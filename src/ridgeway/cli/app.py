"""The ``ridgeway`` command: fit, predict, demo, check, path.

``ridgeway fit DATA --target COL`` reads a CSV or Parquet file, standardizes the features,
chooses alpha by cross-validation, prints what was found, and writes ``model.json`` (code-free)
and ``report.html`` to ``--out``. ``ridgeway demo`` does the same on bundled data. Any problem
with the input ends the command with one line on stderr, exit status 2 and no partial output
(1 is a ``check`` alert, 3 a bug in ridgeway).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..exceptions import DataError, ModelFileError, OutputError, SeparableDataError
from ..linear_model.kinds import KINDS
from . import commands, output
from .options import DROP_MISSING_TARGET, FIT_FLAGS, SEP, FitOptions

__all__ = ["main"]

EXIT_ERROR = 2
EXIT_ALERT = 1
EXIT_INTERNAL = 3


def _add_fit_options(p: argparse.ArgumentParser, *, demo: bool) -> None:
    if not demo:
        p.add_argument("data", nargs="?", type=Path, help="CSV or Parquet file (required; the "
                       "bundled demo is `ridgeway demo`)")
    for flag in FIT_FLAGS:
        if not (demo and flag.fit_only):
            flag.add_to(p)
    p.add_argument("--out", type=Path, default=Path("ridgeway-demo" if demo else "ridgeway-out"),
                   help="output folder for model.json, report.html and the plots (replaced "
                        "as a whole by each run)")
    _add_debug(p)


def _add_file_options(p: argparse.ArgumentParser, *, target: bool = False) -> None:
    """Options on how DATA is read (shared by every command that reads a table)."""
    SEP.add_to(p)
    if target:
        DROP_MISSING_TARGET.add_to(p)
    _add_debug(p)


def _add_debug(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the traceback of an internal error")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ridgeway`` command."""
    parser = argparse.ArgumentParser(
        prog="ridgeway", description="L2-regularized learning: choose alpha, see what it does.",
        epilog="Exit status: 0 success, 1 a check alert, 2 a problem with the input or the "
               "output folder, 3 an internal error (a bug; --debug shows the traceback).")
    parser.add_argument("--version", action="version", version=f"ridgeway {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit = sub.add_parser("fit", help="fit a model to a table and report on it")
    _add_fit_options(fit, demo=False)
    demo = sub.add_parser("demo", help="the fit command on bundled data (diabetes)")
    _add_fit_options(demo, demo=True)
    pred = sub.add_parser("predict", help="apply a saved model to a table")
    pred.add_argument("model", type=Path, help="model.json written by ridgeway fit")
    pred.add_argument("data", type=Path, help="CSV or Parquet file")
    pred.add_argument("--out", type=Path, help="CSV file to write (default: stdout)")
    pred.add_argument("--id", action="append", default=[], metavar="COL",
                      help="copy this column into the predictions (repeatable)")
    pred.add_argument("--stream", action="store_true",
                      help="predict batch by batch in bounded memory (implied for files over "
                           "a quarter of the machine's memory)")
    _add_file_options(pred)
    check = sub.add_parser("check", help="score a saved model on new labeled data; exit 1 "
                                         "when the generalization gap exceeds --max-gap")
    check.add_argument("model", type=Path)
    check.add_argument("data", type=Path)
    check.add_argument("--max-gap", type=float, required=True,
                       help="largest tolerated drop of the metric from training to new data")
    check.add_argument("--metric", help="metric of the gap (default: r2 for regression, "
                                        "accuracy for classification)")
    _add_file_options(check, target=True)
    path = sub.add_parser("path", help="the regularization path of any model kind, as a "
                                       "table and a plot")
    path.add_argument("data", type=Path)
    path.add_argument("--target", "-t")
    path.add_argument("--model", choices=tuple(KINDS),
                      help="model (default: chosen from the target, as for fit)")
    path.add_argument("--drop", nargs="+", default=[], metavar="COL")
    path.add_argument("--impute", choices=("none", "mean", "median"), default="none")
    path.add_argument("--n-alphas", type=int, default=50)
    _add_file_options(path, target=True)
    path.add_argument("--out", type=Path, default=Path("ridgeway-path"),
                      help="output folder for path.csv and path.png (replaced as a whole)")
    return parser


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--alphas -1,2`` -> ``--alphas=-1,2``: argparse takes ``-1,2`` for an option."""
    out = []
    for arg in argv:
        if (out and out[-1] == "--alphas" and len(arg) > 1 and arg[0] == "-"
                and arg[1] in "0123456789."):
            out[-1] = f"--alphas={arg}"
        else:
            out.append(arg)
    return out


def cmd_fit(args: argparse.Namespace) -> int:
    """``ridgeway fit`` and ``ridgeway demo``."""
    if args.command == "fit" and args.data is None and not any(
            Path(c).suffix and Path(c).is_file() for c in args.drop):  # explained by run_fit
        raise DataError("ridgeway fit needs a DATA file: ridgeway fit DATA --target COL "
                        "(the bundled demo is `ridgeway demo`).")
    return commands.fit(output.console(), FitOptions.from_args(args), args.out)


def cmd_predict(args: argparse.Namespace) -> int:
    """``ridgeway predict``."""
    return commands.predict(args.model, args.data, args.out, ids=args.id, sep=args.sep,
                            stream=args.stream)


def cmd_check(args: argparse.Namespace) -> int:
    """``ridgeway check``."""
    ok = commands.check(output.console(), args.model, args.data, args.max_gap, args.metric,
                         sep=args.sep, drop_missing_target=args.drop_missing_target)
    return 0 if ok else EXIT_ALERT


def cmd_path(args: argparse.Namespace) -> int:
    """``ridgeway path``."""
    return commands.path(output.console(), args)


_COMMANDS = {"fit": cmd_fit, "demo": cmd_fit, "predict": cmd_predict, "check": cmd_check,
             "path": cmd_path}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _raised_in_ridgeway(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is ridgeway's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)


_PACKAGE = Path(__file__).resolve().parent.parent
#: ridgeway's error classes for input the user can fix (messages written for the user)
_USER_ERRORS = (DataError, ModelFileError, OutputError, SeparableDataError)


def is_user_error(exc: BaseException) -> bool:
    """Exit 2 (the user can fix it) rather than 3 (a bug in ridgeway).

    Ridgeway's own error classes, ``OSError`` (missing, unreadable or unwritable paths) and a
    ``ValueError`` that ridgeway's own validation raised are the user's; anything else,
    including a ``ValueError`` from inside numpy, scipy or scikit-learn, is a bug.
    """
    if isinstance(exc, (*_USER_ERRORS, OSError)):
        return True
    return type(exc) is ValueError and _raised_in_ridgeway(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ridgeway`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 1 ``check`` alert, 2 a problem with the input or the output
        (one line on stderr naming the file, column or row and the fix), 3 an internal error
        (a bug: ``internal error in ridgeway X.Y (please report it)``; ``--debug`` or
        ``RIDGEWAY_DEBUG=1`` adds the traceback).
    """
    parser = build_parser()
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    debug = getattr(args, "debug", False) or bool(os.environ.get("RIDGEWAY_DEBUG"))
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("ridgeway: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("ridgeway: error: out of memory while working on the data; use a smaller file "
              "(or fewer columns with --drop), or fit ridge with --stream.",
              file=sys.stderr)
        return EXIT_ERROR
    except SeparableDataError:
        print("ridgeway: error: the classes are perfectly separable, so alpha 0 (no penalty) "
              "has no finite solution; use alphas > 0 (e.g. --alphas 0.001,1) or drop the "
              "separating features with --drop.", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if is_user_error(exc):
            print(f"ridgeway: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_ERROR
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"ridgeway: internal error in ridgeway {__version__} (please report it): "
              f"{type(exc).__name__}: {_one_line(exc)}"
              + ("" if debug else " (rerun with --debug for the traceback)"), file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
