"""Public API docstrings: numpydoc structure, and every estimator states its objective."""

import importlib
import inspect

import pytest
from numpydoc.validate import validate

import ridgeway

MODULES = ["ridgeway", "ridgeway.glm", "ridgeway.nn", "ridgeway.inspection",
           "ridgeway.conventions", "ridgeway.linalg", "ridgeway.selection", "ridgeway.datasets",
           "ridgeway.cli.modelfile", "ridgeway.io"]


def _public_objects():
    seen = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")]):
            obj = getattr(module, attr)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", "").startswith("ridgeway"):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return sorted(seen)


PUBLIC = _public_objects()


def test_public_api_is_found():
    assert len(PUBLIC) > 40


@pytest.mark.parametrize("qualname", PUBLIC)
def test_docstring_has_a_summary(qualname):
    errors = {code for code, _ in validate(qualname)["errors"]}
    assert not errors & {"GL08", "SS01"}, f"{qualname}: missing docstring or summary line"


@pytest.mark.parametrize("name", ridgeway.ESTIMATORS)
def test_estimator_documents_every_parameter_and_its_objective(name):
    est = getattr(ridgeway, name)
    errors = [(c, m) for c, m in validate(f"{est.__module__}.{est.__qualname__}")["errors"]
              if c in ("PR01", "PR02")]
    assert not errors, errors
    doc = est.__doc__
    assert "alpha" in doc and ("sum" in doc or "\\sum" in doc), f"{name} states no objective"
