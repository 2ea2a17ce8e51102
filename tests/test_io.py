"""Reading and checking tables, atomic writes, the preprocessing and the bundled data."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyarrow import csv

from ridgeway.cli.atomic import atomic_write
from ridgeway.cli.preprocess import Preprocessor
from ridgeway.datasets import load_demo, load_demo_classification
from ridgeway.exceptions import DataError
from ridgeway.io import (
    check_columns,
    check_missing,
    iter_batches,
    read_table,
    source_rows,
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


# ------------------------------------------------------------------- streams (issue 11)
from ridgeway.io import DataSource, iter_blocks  # noqa: E402
from ridgeway.linear_model import RidgeCV  # noqa: E402


def _frame(n, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    return pa.table({"a": rng.normal(size=n) + offset, "b": rng.integers(0, 9, n),
                     "y": rng.normal(size=n)})


def test_stream_of_parquet_csv_glob_and_directory_yields_every_row_once(tmp_path):
    """The blocks of a file, a glob of its parts and their directory hold the rows of the
    whole table in order, whatever the batch size."""
    whole = _frame(2500)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k, start in enumerate(range(0, 2500, 1000)):
        pq.write_table(whole.slice(start, 1000), parts / f"part-{k}.parquet")
    from pyarrow import csv

    csv.write_csv(whole, tmp_path / "all.csv")
    csv_parts = tmp_path / "csv-parts"
    csv_parts.mkdir()
    for k, start in enumerate(range(0, 2500, 1000)):
        csv.write_csv(whole.slice(start, 1000), csv_parts / f"part-{k}.csv")
    (csv_parts / "_SUCCESS").write_text("")
    want = np.column_stack([whole["a"].to_numpy(), whole["b"].to_numpy()])
    for path, rows in ((parts, 300), (str(parts / "part-*.parquet"), 4096),
                       (tmp_path / "all.csv", 0), (csv_parts, 700)):
        source = DataSource(path, batch_rows=rows or 65536)
        blocks = list(iter_blocks(source, "y"))
        X = np.concatenate([b.X for b in blocks])
        np.testing.assert_array_equal(X, want)
        np.testing.assert_array_equal(np.concatenate([b.y for b in blocks]),
                                      whole["y"].to_numpy())
        assert [b.batch.start for b in blocks] == list(np.cumsum([0] + [len(b.y) for b in
                                                                        blocks])[:-1])
        assert blocks[-1].batch.bytes_read == source.nbytes
    assert len(list(iter_blocks(DataSource(parts, batch_rows=300), "y"))) == 4 + 4 + 2


def test_stream_csv_integers_then_decimals_read_as_numbers(tmp_path):
    """A CSV column of integers in its first block and decimals later is one numeric column
    (the in-memory reader infers from the whole file; a stream must not fail there)."""
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i}\n" for i in range(200_000)) + "1.5,2\n")
    X = np.concatenate([b.X for b in iter_blocks(DataSource(path), "y")])
    assert X.shape == (200_001, 1) and X[-1, 0] == 1.5


def test_stream_refuses_a_batch_with_other_columns_or_kinds(tmp_path):
    pq.write_table(_frame(50), tmp_path / "p0.parquet")
    pq.write_table(_frame(50).drop_columns(["b"]), tmp_path / "p1.parquet")
    with pytest.raises(DataError, match=r"p1.parquet: column\(s\) 'b' of the first file"):
        list(iter_blocks(DataSource(tmp_path), "y"))
    t = _frame(50)
    pq.write_table(t.set_column(1, "b", pa.array(["x"] * 50)), tmp_path / "p1.parquet")
    with pytest.raises(DataError, match=r"p1.parquet: column 'b' is categorical \(string\) "
                                        r"but numeric \(int64\)"):
        list(iter_blocks(DataSource(tmp_path), "y"))


def test_stream_refuses_text_in_a_numeric_column_of_a_late_block(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "".join(f"{i}.5,{i}\n" for i in range(300_000)) + "oops,1\n")
    with pytest.raises(DataError, match=r"d.csv, the batch after row \d+ \(line \d+\): column "
                                        r"'a' holds 'oops', not a double"):
        list(iter_blocks(DataSource(path), "y"))


def test_stream_refuses_nan_in_a_late_batch_naming_file_batch_and_row(tmp_path):
    t = _frame(1000)
    a = t["a"].to_numpy().copy()
    a[777] = np.nan
    pq.write_table(t.set_column(0, "a", pa.array(a)), tmp_path / "n.parquet")
    message = (r"n.parquet, batch 4 \(rows 601-800 of the file\): column 'a' has 1 missing or "
               r"infinite value\(s\) \(first on row 778 of .*n.parquet\)")
    with pytest.raises(DataError, match=message):
        [b.X for b in iter_blocks(DataSource(tmp_path / "n.parquet", batch_rows=200), "y")]
    # fit_stream reduces the blocks' columns without building X, and names the value alike,
    # with and without folds (the rows are gathered by fold first)
    for cv in ("gcv", 5):
        with pytest.raises(DataError, match=message):
            RidgeCV(cv=cv).fit_stream(
                lambda: iter_blocks(DataSource(tmp_path / "n.parquet", batch_rows=200), "y"))


def test_stream_refuses_nan_in_the_first_batch_and_inf_after_nulls(tmp_path):
    """A bad value in the first batch (whose means are the stream's shift) and an infinite
    value in a column that also has nulls are named as in a later batch."""
    t = _frame(400)
    a = t["a"].to_numpy().copy()
    a[5] = np.nan
    pq.write_table(t.set_column(0, "a", pa.array(a)), tmp_path / "f.parquet")
    with pytest.raises(DataError, match=r"batch 1 \(rows 1-200 of the file\): column 'a' has "
                                        r"1 missing .*first on row 6 of"):
        RidgeCV(cv=5).fit_stream(
            lambda: iter_blocks(DataSource(tmp_path / "f.parquet", batch_rows=200), "y"))
    b = pa.array([None if i == 250 else (np.inf if i == 300 else float(i)) for i in range(400)])
    pq.write_table(t.set_column(1, "b", b), tmp_path / "g.parquet")
    with pytest.raises(DataError, match=r"batch 2 \(rows 201-400 of the file\): column 'b' has "
                                        r"2 missing or infinite .*first on row 251 of"):
        RidgeCV(cv="gcv").fit_stream(
            lambda: iter_blocks(DataSource(tmp_path / "g.parquet", batch_rows=200), "y"))


def test_stream_refuses_a_csv_file_that_ends_mid_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i},{i}\n" for i in range(1000)) + "5,6")
    with pytest.raises(DataError, match=r"cut.csv ends mid-row: its last line has 2 of 3 "
                                        r"fields \('5,6'"):
        list(iter_blocks(DataSource(path), "y"))


def test_stream_refuses_a_truncated_parquet_file(tmp_path):
    pq.write_table(_frame(1000), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"t.parquet: cannot read the Parquet file \(it may be "
                                        r"truncated"):
        DataSource(tmp_path / "t.parquet")


def test_stream_fold_ids_out_of_range_are_named(tmp_path):
    t = _frame(100).append_column("f", pa.array(np.r_[np.zeros(99, int), 7]))
    pq.write_table(t, tmp_path / "f.parquet")
    with pytest.raises(DataError, match=r"batch 1 \(rows 1-100 of the file\): the fold column "
                                        r"'f' has 1 value\(s\) that are not fold ids \(integers"
                                        r" 0 to 4\): 7 on row 100"):
        list(iter_blocks(DataSource(tmp_path / "f.parquet"), "y", ["a", "b"], fold="f",
                         n_folds=5))


def test_prefetch_passes_a_reader_error_to_the_consumer_after_the_good_blocks(tmp_path):
    """The reader thread hands on the blocks before the bad one, then its error."""
    t = _frame(1000)
    y = t["y"].to_numpy().copy()
    y[950] = np.nan
    pq.write_table(t.set_column(2, "y", pa.array(y)), tmp_path / "m.parquet")
    seen = []
    with pytest.raises(DataError, match=r"batch 10 .*the target 'y' is missing on row 951"):
        for block in iter_blocks(DataSource(tmp_path / "m.parquet", batch_rows=100), "y",
                                 prefetch=1):
            seen.append(len(block.y))
    assert seen == [100] * 9
    kept = list(iter_blocks(DataSource(tmp_path / "m.parquet", batch_rows=100), "y",
                            drop_missing_target=True))
    assert sum(len(b.y) for b in kept) == 999


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_rows_after_dropped_targets_are_named_by_their_row_in_the_file(tmp_path, fmt):
    """With drop_missing_target, an error later in the batch names the row of the file, not
    its position among the rows kept."""
    t = _frame(300)
    y, a = t["y"].to_numpy().copy(), t["a"].to_numpy().copy()
    y[[105, 106, 140]] = np.nan
    a[160] = np.nan
    t = t.set_column(0, "a", pa.array(a)).set_column(2, "y", pa.array(y))
    path = tmp_path / f"m.{fmt}"
    pq.write_table(t, path) if fmt == "parquet" else csv.write_csv(t, path)
    line = r" \(line 162 of" if fmt == "csv" else " of"
    with pytest.raises(DataError, match=rf"batch \d .*column 'a' has 1 missing .*on row 161{line}"):
        [b.X for b in iter_blocks(DataSource(path, batch_rows=100), "y",
                                  drop_missing_target=True)]


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 400), st.sampled_from(["none", "mean"]))
def test_levels_pass_equals_the_in_memory_preprocessing(batch_rows, impute):
    """Preprocessor.from_stream over batches gives the categories, fill values and scaling
    of from_table + fit_transform on the whole table (training rows = a mask)."""
    rng = np.random.default_rng(batch_rows)
    n = 400
    a = rng.normal(size=n) * 3 + 1e3
    if impute == "mean":
        a[rng.choice(n, 20, replace=False)] = np.nan
    table = pa.table({"a": a, "c": rng.choice(["u", "v", "w"], n),
                      "d": rng.choice(["p", "q"], n)})
    train = rng.random(n) < 0.8
    rows = np.r_[np.flatnonzero(train), np.flatnonzero(~train)]
    whole = Preprocessor.from_table(table, ["a", "c", "d"], impute=impute)
    whole.fit_transform(table, rows, int(train.sum()))
    kinds = {"a": "numeric", "c": "categorical", "d": "categorical"}
    batches = [(table.slice(s, batch_rows), train[s:s + batch_rows])
               for s in range(0, n, batch_rows)]
    streamed = Preprocessor.from_stream(batches, ["a", "c", "d"], kinds, impute=impute)
    assert streamed.categories == whole.categories and streamed.binary == whole.binary
    assert streamed.fill.keys() == whole.fill.keys()
    for k in whole.fill:
        assert streamed.fill[k] == pytest.approx(whole.fill[k], rel=1e-13)
    np.testing.assert_allclose(streamed.mean, whole.mean, rtol=1e-13)
    np.testing.assert_allclose(streamed.scale, whole.scale, rtol=1e-12)


def test_levels_pass_refuses_late_missing_values_and_unseen_levels(tmp_path):
    table = pa.table({"a": [1.0, 2.0, None, 4.0], "c": ["u", "v", "u", "v"]})
    batches = [(table.slice(0, 2), np.ones(2, bool)), (table.slice(2), np.ones(2, bool))]
    kinds = {"a": "numeric", "c": "categorical"}
    with pytest.raises(DataError, match=r"column 'a' has 1 missing value\(s\) \(first on row "
                                        r"1 of the data\); use --impute mean"):
        Preprocessor.from_stream(batches, ["a", "c"], kinds)
    pre = Preprocessor.from_stream(batches, ["a", "c"], kinds, impute="mean")
    late = pa.table({"a": [1.0, 2.0], "c": ["u", "z"]})
    with pytest.raises(DataError, match=r"column 'c' has the level 'z' \(1 row\(s\), first on "
                                        r"row 2 of the data\) that the levels pass did not see"):
        pre.transform_known(late)


@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_source_rows_inverts_a_drop(dropped_mask):
    mask = np.array(dropped_mask)
    kept = np.flatnonzero(~mask)
    assert np.array_equal(source_rows(np.arange(len(kept)), np.flatnonzero(mask)), kept)
