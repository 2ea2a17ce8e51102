"""The in-memory command's memory: the table is released column by column into the matrix,
and predictions are computed slice by slice, with the same numbers and errors as whole."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ridgeway import Ridge
from ridgeway.cli import commands, preprocess
from ridgeway.cli.modelfile import SavedModel
from ridgeway.cli.preprocess import Preprocessor
from ridgeway.exceptions import DataError


def _table(n: int = 20_000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols = {f"x{j}": pc.multiply(pa.array(rng.normal(size=n) * 3 + j), 1.0) for j in range(6)}
    cols["x1"] = pa.array(np.where(rng.random(n) < 0.1, None, rng.normal(size=n)))
    cols["colour"] = pa.array(rng.choice(["red", "blue", "green"], size=n))
    return pa.table(cols)


def test_handed_over_table_is_released_column_by_column(monkeypatch):
    names = [f"x{j}" for j in range(6)] + ["colour"]
    rows = np.random.default_rng(1).permutation(20_000)
    whole = Preprocessor.from_table(_table(), names, impute="mean")
    expected = whole.fit_transform(_table(), rows, 16_000)
    held_bytes = []
    monkeypatch.setattr(preprocess, "release_unused",
                        lambda: held_bytes.append(pa.total_allocated_bytes()))
    table = _table()
    start = pa.total_allocated_bytes()
    pre = Preprocessor.from_table(table, names, impute="mean")
    held = [table]
    del table
    X = pre.fit_transform(held, rows, 16_000)
    assert held == []
    np.testing.assert_array_equal(X, expected)  # bit for bit
    assert pre.to_dict() == whole.to_dict()
    column = 20_000 * 8
    # one release per input column; each frees about a column of the table
    assert len(held_bytes) == len(names)
    assert held_bytes[0] < start - 0.9 * column
    assert all(b <= a + 1e4 for a, b in itertools.pairwise(held_bytes))
    assert held_bytes[-1] < start - 5.5 * column


def _model(table: pa.Table) -> SavedModel:
    names = [c for c in table.column_names if c != "x1"]
    pre = Preprocessor.from_table(table, names)
    X = pre.fit_transform(table, np.arange(table.num_rows), table.num_rows)
    est = Ridge(alpha=1.0).fit(X, X @ np.linspace(-1, 1, X.shape[1]) + 2.0)
    return SavedModel(pre, est, "y", "ridge", {})


def test_predict_in_slices_matches_whole_table(monkeypatch):
    table = _table(n=1_001)
    model = _model(table)
    monkeypatch.setattr(commands, "PREDICT_ROWS", 64)
    sliced = commands._predict_in_slices(model, table)
    whole = model.predict_columns(table)
    assert sliced.keys() == whole.keys()
    for name in whole:
        np.testing.assert_array_equal(sliced[name], whole[name])


def test_predict_in_slices_error_names_every_row(monkeypatch):
    table = _table(n=1_001)
    model = _model(table)
    model.estimator.coef_ = np.full_like(model.estimator.coef_, 10.0)  # 1e308 overflows
    x0 = table.column("x0").to_numpy().copy()
    x0[[700, 900]] = 1e308
    bad = table.set_column(0, "x0", pa.array(x0))
    with pytest.raises(DataError) as whole:
        model.predict_columns(bad)
    monkeypatch.setattr(commands, "PREDICT_ROWS", 64)
    with pytest.raises(DataError) as sliced:
        commands._predict_in_slices(model, bad)
    assert str(sliced.value) == str(whole.value)
    assert "2 row(s) (row(s) 701, 901" in str(sliced.value)
