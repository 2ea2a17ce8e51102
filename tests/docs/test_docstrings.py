"""Public API docstrings: numpydoc structure, and every estimator states its objective."""

import importlib
import inspect
import re

import numpy as np
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
def test_estimator_documents_every_parameter(name):
    est = getattr(ridgeway, name)
    errors = [(c, m) for c, m in validate(f"{est.__module__}.{est.__qualname__}")["errors"]
              if c in ("PR01", "PR02")]
    assert not errors, errors


# --- the objective in each estimator's docstring, read and checked against the fit ----------
#
# The formula is read from the docstring's summary (before "Parameters"), plain text, ``::``
# blocks or LaTeX alike: ``[1/2] sum_i s_i LOSS + alpha[/2] PENALTY``. Its loss is looked up
# in the table below (written from each model's definition, not from ridgeway's code), and the
# objective so read must be stationary at the estimator's fitted coefficients.

def _xlogy(a, b):
    return np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0) / b), 0.0)


LOSSES = {  # documented spelling (whitespace and '*' removed) -> loss(y, eta) per row
    "(y_i-x_i.w-b)^2": lambda y, eta: (y - eta) ** 2,
    "loss(y_i,x_iW+b)": lambda y, eta: np.logaddexp(0.0, -(2 * y - 1) * eta),
    "loss_i": lambda y, eta: np.logaddexp(0.0, -(2 * y - 1) * eta),
    "max(0,1-y_i(x_i.w+b))^2": lambda y, eta: np.maximum(0.0, 1 - (2 * y - 1) * eta) ** 2,
    "max(0,1-y_ieta_i)^2": lambda y, eta: np.maximum(0.0, 1 - (2 * y - 1) * eta) ** 2,
    "(y_ilog(y_i/mu_i)-y_i+mu_i)": lambda y, eta: _xlogy(y, np.exp(eta)) - y + np.exp(eta),
}
LOSS_NAMES = {"LogisticRegression": "log(1+exp(-yeta))", "LogisticRegressionCV": "logistic"}
PENALTY = re.compile(r"\+(alpha(?:/2)?)(\|\|w\|\|\^2|\|\|W\|\|_F\^2|sum_jpf_jw_j\^2)")
LATEX = [(r"\frac{1}{2}", "1/2"), (r"\frac{\alpha}{2}", "alpha/2"), (r"\sum", "sum"),
         (r"\mathrm{pf}", "pf"), (r"^\top", "."), (r"\alpha", "alpha")]


def _documented_objective(doc: str) -> tuple[float, str, float]:
    """(data-term factor, loss spelling, penalty factor) of ``[c] sum_i s_i LOSS + alpha[/2] P``."""
    text = re.sub(r"[\s*`]", "", doc.split("Parameters\n")[0])
    for latex, plain in LATEX:
        text = text.replace(latex, plain)
    penalty = PENALTY.search(text)
    assert penalty, "no penalty term 'alpha[/2] ||w||^2' in the docstring"
    data = text[: penalty.start()]
    start = data.rfind("sum_is_i")
    assert start >= 0, "no data term 'sum_i s_i loss_i' before the penalty"
    factor = 0.5 if data[:start].endswith("1/2") else 1.0
    return factor, data[start + len("sum_is_i"):], 0.5 if penalty.group(1) == "alpha/2" else 1.0


def _problem(name: str):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    eta = X @ np.array([0.8, -0.5, 0.3]) + 0.2
    if name.startswith("Ridge"):
        y = eta + rng.normal(size=60)
    elif name.startswith("Poisson"):
        y = rng.poisson(np.exp(eta)).astype(float)
    else:
        y = (eta + rng.normal(size=60) > 0).astype(int)
    return X, y, rng.uniform(0.5, 2.0, size=60)


@pytest.mark.parametrize("name", ridgeway.ESTIMATORS)
def test_documented_objective_is_what_the_estimator_minimizes(name):
    est = getattr(ridgeway, name)
    factor, loss_text, pen = _documented_objective(est.__doc__)
    assert loss_text in LOSSES, f"{name}: unknown loss {loss_text!r} in the objective"
    if name in LOSS_NAMES:
        assert LOSS_NAMES[name] in re.sub(r"\s", "", est.__doc__), f"{name} names no loss"
    loss = LOSSES[loss_text]
    X, y, s = _problem(name)
    alpha = 3.0
    fitted = est(alphas=[alpha]) if name.endswith("CV") else est(alpha=alpha)
    fitted.fit(X, y, sample_weight=s)
    theta = np.append(np.ravel(fitted.coef_), np.ravel(fitted.intercept_)[0])

    def terms(t):
        return (factor * np.sum(s * loss(y, X @ t[:-1] + t[-1])),
                pen * alpha * np.sum(t[:-1] ** 2))

    h = 1e-6
    grad = np.zeros((2, theta.size))
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        grad[:, k] = (np.array(terms(theta + e)) - np.array(terms(theta - e))) / (2 * h)
    total = np.abs(grad.sum(axis=0)).max()
    assert total <= 1e-5 * np.abs(grad).max(), (
        f"{name}: the documented objective is not stationary at the fit "
        f"(gradient {grad.sum(axis=0)})")
