"""Every public error and warning class lives in ridgeway.exceptions, re-exported at the root."""

from __future__ import annotations

import importlib
import pkgutil

import sklearn.exceptions

import ridgeway
from ridgeway import exceptions

CLASSES = {"AlphaEdgeWarning": UserWarning, "ConvergenceWarning":
           sklearn.exceptions.ConvergenceWarning, "DataError": ValueError,
           "ModelFileError": ValueError, "OutputError": OSError,
           "PredictionOverflowError": ArithmeticError, "SeparableDataError": ValueError}


def test_each_class_is_defined_once_and_reexported_at_the_root():
    assert sorted(exceptions.__all__) == sorted(CLASSES)
    for name, base in CLASSES.items():
        cls = getattr(exceptions, name)
        assert cls.__module__ == "ridgeway.exceptions" and issubclass(cls, base)
        assert getattr(ridgeway, name) is cls and name in ridgeway.__all__


def test_no_other_module_defines_or_lists_an_error_or_warning_class():
    for info in pkgutil.walk_packages(ridgeway.__path__, "ridgeway."):
        if info.name in ("ridgeway.exceptions", "ridgeway.dask", "ridgeway.__main__") \
                or ".nn" in info.name:
            continue  # optional dependencies
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                raise AssertionError(f"{info.name} lists {name}; import it from "
                                     "ridgeway.exceptions")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, (Exception, Warning)) \
                    and obj.__module__ == info.name and not obj.__name__.startswith("_"):
                raise AssertionError(f"{info.name} defines {obj.__name__}")
