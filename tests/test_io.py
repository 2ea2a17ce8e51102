"""Reading and checking tables, atomic writes, the preprocessing and the bundled data."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ridgeway.cli.atomic import atomic_write
from ridgeway.cli.preprocess import Preprocessor
from ridgeway.datasets import load_demo, load_demo_classification
from ridgeway.exceptions import DataError
from ridgeway.io import (
    check_columns,
    check_missing,
    iter_batches,
    read_table,
)


def _csv(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_csv_and_parquet_agree(tmp_path):
    table = pa.table({"a": [1.0, 2.5, 3.0], "b": ["x", "y", "x"], "c": [1, 2, 3]})
    pq.write_table(table, tmp_path / "t.parquet")
    from pyarrow import csv

    csv.write_csv(table, tmp_path / "t.csv")
    for path in (tmp_path / "t.parquet", tmp_path / "t.csv"):
        got = read_table(path)
        assert got.column_names == ["a", "b", "c"]
        assert got.column("a").to_pylist() == [1.0, 2.5, 3.0]
        assert got.column("b").to_pylist() == ["x", "y", "x"]
    # parquet detected by its magic bytes whatever the suffix
    os.replace(tmp_path / "t.parquet", tmp_path / "t.data")
    assert read_table(tmp_path / "t.data").num_rows == 3


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("a,b\n", "header but no data rows"),
    ("a,b\n1,2\n3,4,5\n", "cannot parse the CSV file: CSV parse error"),
    ("a,b,a\n1,2,3\n", "duplicate column name(s) 'a'"),
])
def test_read_errors(tmp_path, text, message):
    with pytest.raises(DataError, match=None) as info:
        read_table(_csv(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_corrupt_parquet(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "absent.csv")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="cannot read the Parquet file"):
        read_table(tmp_path / "bad.parquet")


def test_unknown_column_suggests_closest(tmp_path):
    table = read_table(_csv(tmp_path, "price,size,rooms\n1,2,3\n"))
    with pytest.raises(DataError, match=r"unknown target column 'prize'\. Did you mean 'price'"):
        check_columns(table, ["prize"], "target column")
    with pytest.raises(DataError, match=r"Did you mean 'rooms'"):
        check_columns(table, ["ROOMS"])


def test_missing_values_listed_or_imputed(tmp_path):
    table = read_table(_csv(tmp_path, "a,b,c,d\n1,,x,\n2,NA,,\n3,4,y,\n,5,y,\n"))
    with pytest.raises(DataError, match=r"column 'd' is entirely missing \(all 4 values"):
        check_missing(table, ["a", "b", "c", "d"], "none")
    with pytest.raises(DataError, match=r"missing values in 3 column\(s\): a \(1\), b \(2\), "
                                        r"c \(1\)"):
        check_missing(table, ["a", "b", "c"], "none")
    assert check_missing(table, ["a", "b", "c"], "median") == {"a": 1, "b": 2, "c": 1}
    pre = Preprocessor.from_table(table, ["a", "b", "c"], impute="median")
    X = pre.fit_transform(table, np.arange(4), 4, standardize=False)
    assert pre.feature_names == ["a", "b", "c=x", "c=y"]
    np.testing.assert_array_equal(X, [[1, 4.5, 1, 0], [2, 4.5, 0, 0], [3, 4, 0, 1],
                                      [2, 5, 0, 1]])


def test_imputation_covers_columns_complete_at_fit_time(tmp_path):
    train = pa.table({"a": [1.0, None, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 6.0]})
    pre = Preprocessor.from_table(train, ["a", "b"], impute="mean")
    pre.fit_transform(train, np.arange(4), 4, standardize=False)
    new = pa.table({"a": [None, 2.0], "b": [None, 5.0]})
    np.testing.assert_allclose(pre.transform(new), [[8 / 3, 3.0], [2.0, 5.0]])
    strict = Preprocessor.from_table(train.drop_columns(["a"]), ["b"])
    strict.fit_transform(train.drop_columns(["a"]), np.arange(4), 4, standardize=False)
    with pytest.raises(DataError, match=r"missing values in column\(s\) 'b'.*--impute"):
        strict.transform(pa.table({"b": [None, 1.0]}))


def test_constant_training_columns_are_named_errors():
    table = pa.table({"a": [1.0, 2.0, 3.0, 4.0], "k": [7.0, 7.0, 7.0, 1.0],
                      "c": ["u", "u", "u", "v"]})
    pre = Preprocessor.from_table(table, ["a", "k", "c"])
    with pytest.raises(DataError, match=r"constant column\(s\) on the training rows: 'k' "
                                        r"\(always 7\), 'c' \(always 'u'\).*--drop"):
        pre.fit_transform(table, np.arange(4), 3)
    # a level seen only outside the training rows is not an error (its column is all zero)
    ok = Preprocessor.from_table(table, ["a", "c"])
    X = ok.fit_transform(table, np.array([3, 0, 1, 2]), 3)
    assert np.all(np.isfinite(X))


def test_preprocessor_standardizes_with_training_rows_only(tmp_path):
    table = pa.table({"a": [1.0, 2.0, 3.0, 100.0], "b": ["u", "v", "u", "w"]})
    pre = Preprocessor.from_table(table, ["a", "b"])
    rows = np.array([2, 0, 1, 3])
    X = pre.fit_transform(table, rows, 3)
    train = np.array([3.0, 1.0, 2.0])
    assert pre.mean[0] == pytest.approx(train.mean())
    assert pre.scale[0] == pytest.approx(train.std())
    np.testing.assert_allclose(X[:, 0], (np.array([3.0, 1.0, 2.0, 100.0]) - 2.0) / train.std())
    again = Preprocessor.from_dict(pre.to_dict()).transform(table)
    np.testing.assert_allclose(again, X[np.argsort(rows)])
    # an unseen category encodes as zeros before scaling
    new = pa.table({"a": [2.0], "b": ["zzz"]})
    z = Preprocessor.from_dict(pre.to_dict()).transform(new)
    np.testing.assert_allclose(z[0, 1:], -np.asarray(pre.mean[1:]) / np.asarray(pre.scale[1:]))


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    atomic_write(tmp_path / "f.txt", "hello")
    assert (tmp_path / "f.txt").read_text() == "hello"

    class Boom(bytes):
        pass

    with pytest.raises(TypeError):
        atomic_write(tmp_path / "g.txt", 12345)  # not bytes/str: fails while writing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_iter_batches_covers_all_rows(tmp_path):
    n = 10_000
    pq.write_table(pa.table({"a": np.arange(n)}), tmp_path / "t.parquet")
    batches = list(iter_batches(tmp_path / "t.parquet", batch_size=3000))
    assert [b.num_rows for b in batches] == [3000, 3000, 3000, 1000]
    _csv(tmp_path, "a\n" + "\n".join(map(str, range(n))) + "\n")
    total = sum(b.num_rows for b in iter_batches(tmp_path / "t.csv"))
    assert total == n


def test_bundled_data():
    reg = load_demo()
    assert reg.X.shape == (442, 10) and reg.target_name == "progression"
    assert reg.feature_names[:4] == ["age", "sex", "bmi", "bp"]
    from sklearn.datasets import load_diabetes

    ref = load_diabetes(scaled=False)
    np.testing.assert_allclose(reg.X, ref.data, rtol=1e-6)
    np.testing.assert_array_equal(reg.y, ref.target)
    clf = load_demo_classification()
    assert clf.X.shape == (569, 30)
    assert set(clf.y) == {"malignant", "benign"}


def test_numbers_with_a_typo_are_not_categories(tmp_path):
    table = read_table(_csv(tmp_path, "a,y\n1.5,1\n2.5,2\n3x,3\n4.0,4\n5,5\n"))
    with pytest.raises(DataError, match=r"column 'a' holds numbers but also text such as '3x'"):
        Preprocessor.from_table(table, ["a"])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(4, 30), seed=st.integers(0, 2**16), n_train=st.integers(2, 30),
       standardize=st.booleans())
def test_saved_preprocessing_reproduces_the_training_matrix(n, seed, n_train, standardize):
    """fit_transform (shuffled) == transform of the saved preprocessor (input order)."""
    rng = np.random.default_rng(seed)
    n_train = min(n_train, n)
    table = pa.table({"a": rng.normal(size=n) * 10, "b": rng.integers(0, 3, size=n),
                      "c": rng.choice(["p", "q", "r"], size=n)})
    pre = Preprocessor.from_table(table, ["a", "b", "c"])
    rows = rng.permutation(n)
    train = rows[:n_train]
    assume(len(set(table["b"].to_numpy()[train])) > 1)  # a constant column is an error
    assume(len(set(table["c"].to_pylist()[i] for i in train)) > 1)
    X = pre.fit_transform(table, rows, n_train, standardize=standardize)
    again = Preprocessor.from_dict(pre.to_dict()).transform(table)
    np.testing.assert_array_equal(again[rows], X)
    if standardize:
        train = X[:n_train]
        np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-9)
        sd = train.std(axis=0)
        assert np.all((np.abs(sd - 1) < 1e-9) | (sd < 1e-12))
