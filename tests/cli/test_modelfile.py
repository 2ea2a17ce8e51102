"""model.json: a code-free round trip, and clear errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from ridgeway import LogisticRegression, RidgeCV
from ridgeway.cli.modelfile import (
    FORMAT_VERSION,
    SavedModel,
    load_model,
    save_model,
)
from ridgeway.cli.preprocess import Preprocessor
from ridgeway.exceptions import ModelFileError


def _table(seed=0, n=80):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    colour = rng.choice(["red", "blue"], size=n)
    return pa.table({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "colour": colour}), x, colour


def _fit(kind):
    table, x, colour = _table()
    pre = Preprocessor.from_table(table, ["x0", "x1", "x2", "colour"])
    X = pre.fit_transform(table, np.arange(table.num_rows), table.num_rows)
    if kind == "ridge":
        y = x @ [1.0, -2.0, 0.5] + (colour == "red") + np.random.default_rng(2).normal(size=80)
        est = RidgeCV().fit(X, y)
        from ridgeway import Ridge

        final = Ridge(alpha=est.alpha_)
        final.coef_, final.intercept_, final.n_features_in_ = est.coef_, est.intercept_, X.shape[1]
    else:
        y = np.where(x[:, 0] + 0.3 * np.random.default_rng(1).normal(size=len(x)) > 0, "a", "b")
        final = LogisticRegression(alpha=0.7).fit(X, y)
    return SavedModel(pre, final, "y", kind, {"alpha": 1.0}), table


@pytest.mark.parametrize("kind", ["ridge", "logistic"])
def test_round_trip_predicts_identically(tmp_path, kind):
    model, table = _fit(kind)
    path = save_model(model, tmp_path / "model.json")
    text = path.read_text()
    assert "pickle" not in text and json.loads(text)["format_version"] == FORMAT_VERSION
    loaded = load_model(path)
    before, after = model.predict_columns(table), loaded.predict_columns(table)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    assert type(loaded.estimator) is type(model.estimator)
    assert loaded.preprocessor.feature_names == model.preprocessor.feature_names


def _doc(tmp_path):
    model, _ = _fit("ridge")
    return json.loads(save_model(model, tmp_path / "m.json").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format_version=FORMAT_VERSION + 1), "is newer than this ridgeway reads"),
    (lambda d: d.update(format="something-else"), "not a ridgeway model file"),
    (lambda d: d["model"].update({"class": "os.system"}), "field 'model.class' must be one"),
    (lambda d: d.pop("preprocessing"), "field 'preprocessing' is missing"),
    (lambda d: d["model"]["fitted"].update(coef_=[1.0]),
     "field 'model.fitted.coef_' must have 4 entries, not 1"),  # x0-x2, colour as one 0/1 column
    (lambda d: d["preprocessing"].update(mean=[0.0]),
     "field 'preprocessing.mean' must have 4 entries, not 1"),  # x0-x2, colour as one 0/1 column
])
def test_bad_model_files(tmp_path, mutate, message):
    doc = _doc(tmp_path)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert message in str(info.value)


def test_truncated_and_binary_files(tmp_path):
    text = (tmp_path / "m.json").read_text() if (tmp_path / "m.json").exists() else json.dumps(
        _doc(tmp_path))
    (tmp_path / "t.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(tmp_path / "t.json")
    (tmp_path / "b.json").write_bytes(b"\x80\x04\x95 pickle-like bytes")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(tmp_path / "b.json")


def test_predict_needs_the_model_columns(tmp_path):
    model, table = _fit("ridge")
    loaded = load_model(save_model(model, tmp_path / "m.json"))
    with pytest.raises(ValueError, match="unknown column .*'colour'"):
        loaded.predict_columns(table.drop_columns(["colour"]))
