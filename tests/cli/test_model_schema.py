"""Corrupted model files: every field is checked on load, through the real command.

A valid ``model.json`` of each kind is corrupted systematically (each field set to NaN,
Infinity, null, 1e400, a string, an object, a list of the wrong length, removed, nested
deeply; scales made negative; the version and kind made wrong). ``ridgeway predict`` must
refuse every one with exit status 2 and a message naming the field, and never write a NaN
or infinite prediction.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

import ridgeway
from ridgeway.cli import main
from ridgeway.cli.modelfile import load_model
from ridgeway.exceptions import ModelFileError


def _data(kind: str, n: int = 40) -> str:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 2))
    colour = np.where(rng.random(n) > 0.5, "red", "blue")
    if kind == "ridge":
        y = [f"{v:.6f}" for v in x @ [1.0, -2.0] + rng.normal(size=n)]
    elif kind == "poisson":
        y = [str(v) for v in rng.poisson(np.exp(0.3 * x[:, 0]))]
    elif kind == "svm3":
        y = [["lo", "mid", "hi"][int(v)] for v in np.digitize(x[:, 0], [-0.4, 0.4])]
    else:
        y = ["yes" if v > 0 else "no" for v in x[:, 0] + 0.5 * rng.normal(size=n)]
    rows = "".join(f"{a:.6f},{b:.6f},{c},{t}\n" for (a, b), c, t in zip(x, colour, y,
                                                                        strict=True))
    return "x1,x2,colour,y\n" + rows


MODELS = {"ridge": "ridge", "logistic": "logistic", "svm": "svm", "poisson": "poisson",
          "svm3": "svm"}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    out = {}
    for name, model in MODELS.items():
        tmp = tmp_path_factory.mktemp(name)
        data = tmp / "d.csv"
        data.write_text(_data(name))
        if name == "svm3":  # saved through the API (the command's multiclass SVM metrics
            _save_multiclass_svm(data, tmp / "m" / "model.json")  # are another issue)
        else:
            assert main(["fit", str(data), "-t", "y", "--model", model, "--no-report",
                         "--out", str(tmp / "m")]) == 0
        out[name] = json.loads((tmp / "m" / "model.json").read_text()), data
    return out


def _save_multiclass_svm(data: Path, path: Path) -> None:
    from ridgeway import LinearSVC
    from ridgeway.cli.modelfile import SavedModel, save_model
    from ridgeway.cli.preprocess import Preprocessor
    from ridgeway.io import read_table

    table = read_table(data)
    pre = Preprocessor.from_table(table, ["x1", "x2", "colour"])
    X = pre.fit_transform(table, np.arange(table.num_rows), table.num_rows)
    est = LinearSVC(alpha=1.0).fit(X, np.asarray(table.column("y").to_pylist()))
    assert len(est.classes_) == 3
    save_model(SavedModel(pre, est, "y", "svm", {"alpha": 1.0, "train_metrics": {}}), path)


DEEP = {"a": 1}
for _ in range(200_000):
    DEEP = [DEEP]

#: what each field is set to in turn ("1e400" is written as the bare JSON number)
BAD_VALUES = [("nan", float("nan")), ("inf", float("inf")), ("null", None), ("1e400", "1e400"),
              ("string", "x"), ("object", {"a": 1}), ("true", True)]


def _paths(doc: dict, kind: str) -> list[tuple]:
    """Every field the loader reads, as key paths."""
    paths = [("format_version",), ("kind",), ("target",),
             ("preprocessing", "columns"), ("preprocessing", "kinds"),
             ("preprocessing", "categories"), ("preprocessing", "impute"),
             ("preprocessing", "mean", 0), ("preprocessing", "scale", 1),
             ("preprocessing", "kinds", "x1"), ("preprocessing", "categories", "colour"),
             ("preprocessing", "columns", 0),
             ("model", "class"), ("model", "params", "alpha"),
             ("model", "fitted", "n_features_in_"), ("model", "fitted", "coef_"),
             ("model", "fitted", "intercept_")]
    fitted = doc["model"]["fitted"]
    if isinstance(fitted["coef_"][0], list):
        paths += [("model", "fitted", "coef_", 0, 1), ("model", "fitted", "intercept_", 0),
                  ("model", "fitted", "classes_"), ("model", "fitted", "classes_", 0)]
    else:
        paths += [("model", "fitted", "coef_", 1)]
    return paths


def _set(doc: dict, path: tuple, value) -> None:
    *head, last = path
    node = doc
    for key in head:
        node = node[key]
    if value is _MISSING:
        del node[last]
    else:
        node[last] = value


_MISSING = object()


def _name(path: tuple) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def _corruptions(doc: dict, kind: str) -> list[tuple[str, dict, str]]:
    """(label, corrupted document, text the error must contain)."""
    out = []
    for path in _paths(doc, kind):
        field = _name(path)
        for label, value in BAD_VALUES:
            bad = copy.deepcopy(doc)
            _set(bad, path, value)
            if path == ("target",) and label == "string":
                continue  # any string is a valid target name
            expected = f"field '{field}"
            if path == ("preprocessing", "columns", 0) and label == "string":
                expected = "field 'preprocessing.kinds.x'"  # renamed: it has no kind now
            elif path[-2:] == ("classes_", 0):
                # a string relabels the class (valid); other values are the list's fault
                expected = None if label == "string" else "field 'model.fitted.classes_'"
            out.append((f"{field}={label}", bad, expected))
        if isinstance(path[-1], str):
            bad = copy.deepcopy(doc)
            _set(bad, path, _MISSING)
            # a missing hyperparameter takes its default: the file is still valid
            out.append((f"{field} missing", bad, None if "params" in path else f"field '{field}"))
    for path in (("model", "fitted", "coef_"), ("preprocessing", "scale"),
                 ("preprocessing", "mean")):
        bad = copy.deepcopy(doc)
        _set(bad, path, _get(doc, path) + _get(doc, path)[:1])
        out.append((f"{_name(path)} too long", bad, f"field '{_name(path)}"))
    for label, value in (("negative", -1.0), ("zero", 0.0)):
        bad = copy.deepcopy(doc)
        bad["preprocessing"]["scale"][0] = value
        out.append((f"scale {label}", bad, "field 'preprocessing.scale[0]"))
    for version in (0, -1, 1.5, "1", True):
        bad = copy.deepcopy(doc)
        bad["format_version"] = version
        out.append((f"format_version={version!r}", bad, "field 'format_version"))
    wrong_kind = {"ridge": "logistic", "poisson": "ridge"}.get(doc["kind"], "ridge")
    bad = copy.deepcopy(doc)
    bad["kind"] = wrong_kind
    out.append(("kind contradicts the class", bad, "field 'model.class"))
    bad = copy.deepcopy(doc)
    bad["preprocessing"]["categories"]["colour"] = ["blue", "blue"]
    out.append(("repeated category", bad, "field 'preprocessing.categories.colour"))
    bad = copy.deepcopy(doc)
    bad["summary"]["train_metrics"] = {"mse": float("nan")}
    out.append(("NaN train metric", bad, "field 'summary.train_metrics.mse"))
    bad = copy.deepcopy(doc)
    bad["model"]["params"]["solver"] = DEEP
    out.append(("deep nesting", bad, "nested too deeply"))
    if "classes_" in doc["model"]["fitted"]:
        classes = doc["model"]["fitted"]["classes_"]
        for label, value in (("three classes", [*classes, "other"]),
                             ("dict classes", [{"a": 1} for _ in classes]),
                             ("repeated", [classes[0]] * len(classes)),
                             ("mixed types", [1, *classes[1:]])):
            if label == "three classes" and len(classes) != 2:
                value = classes[:2]
            bad = copy.deepcopy(doc)
            bad["model"]["fitted"]["classes_"] = value
            out.append((f"classes_ {label}", bad, "field 'model.fitted."))
    return out


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _dump(doc) -> str:
    try:
        text = json.dumps(doc, allow_nan=True)
    except RecursionError:  # the deep document: write it as text
        text = json.dumps({**doc, "model": {**doc["model"], "params": "@DEEP@"}})
        text = text.replace('"@DEEP@"', "[" * 200_000 + "]" * 200_000)
    return text.replace('"1e400"', "1e400")


@pytest.mark.parametrize("kind", list(MODELS))
def test_every_corruption_is_refused_naming_the_field(tmp_path, fitted, kind, capsys):
    doc, data = fitted[kind]
    cases = _corruptions(doc, kind)
    assert len(cases) >= 100
    failures = []
    for label, bad, field in cases:
        path = tmp_path / "model.json"
        path.write_text(_dump(bad))
        out = tmp_path / "pred.csv"
        code = main(["predict", str(path), str(data), "--out", str(out)])
        err = capsys.readouterr().err
        if field is None:  # accepted: the predictions are finite numbers
            assert code == 0, (label, err)
            header, *rows = [line.split(",") for line in out.read_text().splitlines()]
            last = np.array([r[-1] for r in rows])
            if header[-1] != "prediction" or kind in ("ridge", "poisson"):  # numbers
                assert np.isfinite(last.astype(float)).all(), label
            out.unlink()
            continue
        if not (code == 2 and err.startswith("ridgeway: error: ") and err.count("\n") == 1
                and str(path) in err and field in err and not out.exists()):
            failures.append(f"{label} -> {code} {err.replace(str(path), 'PATH')[17:150]}")
    assert not failures, "\n".join(failures)


def test_a_valid_file_loads_and_strict_json_round_trips(fitted):
    doc, _ = fitted["logistic"]
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN/Infinity tokens


def test_load_model_is_public_and_documented(fitted, tmp_path):
    doc, _ = fitted["ridge"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    model = ridgeway.load_model(path)
    assert model.kind == "ridge" and model.target == "y"
    assert ridgeway.load_model is load_model
    assert "Raises" in ridgeway.load_model.__doc__
    with pytest.raises(ModelFileError, match="field 'model.fitted.coef_'"):
        doc = copy.deepcopy(doc)
        doc["model"]["fitted"]["coef_"] = 3.0
        path.write_text(json.dumps(doc))
        ridgeway.load_model(path)


def test_non_finite_metrics_are_saved_as_null_with_the_reason(tmp_path, capsys):
    data = tmp_path / "five.csv"
    data.write_text("a,y\n1,2.5\n2,3.1\n3,2.0\n4,5.5\n5,4.0\n")
    out = tmp_path / "m"
    assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(out)]) == 0
    text = (out / "model.json").read_text()

    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    doc = json.loads(text, parse_constant=refuse)
    assert doc["summary"]["test_metrics"]["r2"] is None  # one held-out row: R^2 undefined
    assert "test_metrics.r2" in doc["summary"]["null_values"]
    assert math.isfinite(doc["summary"]["test_metrics"]["mse"])
    load_model(out / "model.json")
