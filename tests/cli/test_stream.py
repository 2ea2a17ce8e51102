"""``ridgeway fit --stream`` and ``ridgeway predict --stream`` (issue 11).

The streamed command is compared with an independent in-memory computation on the same rows:
the held-out rows are those of the documented hash (``streamjob.held_out``), the folds
``fold_of`` of the training position (or the fold column), the preprocessing
``Preprocessor.from_table`` + ``fit_transform`` and the fit ``RidgeCV.fit`` with those splits.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv

from ridgeway.cli import streamjob
from ridgeway.cli.app import main
from ridgeway.cli.modelfile import load_model
from ridgeway.cli.preprocess import Preprocessor
from ridgeway.linalg import fold_of
from ridgeway.linear_model import RidgeCV


def _table(n=3000, seed=0, missing=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 100.0, -5.0, 1.0]
    city = rng.choice(["north", "south", "east"], n)
    y = x @ [2.0, 0.1, -3.0, 0.5] + (city == "north") * 1.5 + rng.normal(size=n)
    if missing:
        x[rng.choice(n, 40, replace=False), 2] = np.nan
    return pa.table({**{f"f{j}": x[:, j] for j in range(4)}, "city": city,
                     "fold": np.arange(n) % 4, "price": y})


def _in_memory(table, k, seed=0, test_size=0.2, impute="none", fold_column=None):
    """(coef, intercept, alpha) of the stream's fit computed in memory on the same rows."""
    n = table.num_rows
    out = streamjob.held_out(np.arange(n), test_size, seed)
    train = np.flatnonzero(~out)
    features = ["f0", "f1", "f2", "f3", "city"]
    pre = Preprocessor.from_table(table, features, impute=impute)
    X = pre.fit_transform(table, train, len(train))
    y = table["price"].to_numpy()[train]
    folds = (table[fold_column].to_numpy()[train] if fold_column
             else fold_of(np.arange(len(train)), k))
    splits = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(k)]
    est = RidgeCV(cv=splits).fit(X, y)
    return est.coef_, est.intercept_, est.alpha_, pre


def _fit(path, out, *extra):
    return main(["fit", str(path), "--target", "price", "--drop", "fold", "--no-report",
                 "--out", str(out), *map(str, extra)])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_stream_fit_equals_the_in_memory_fit_on_the_same_rows(tmp_path, fmt):
    table = _table()
    path = tmp_path / f"d.{fmt}"
    (pq.write_table if fmt == "parquet" else csv.write_csv)(table, path)
    assert _fit(path, tmp_path / "m", "--stream", "--cv", "5") == 0
    model = load_model(tmp_path / "m" / "model.json")
    coef, intercept, alpha, pre = _in_memory(table, 5)
    assert model.estimator.alpha == pytest.approx(alpha, rel=1e-10)
    np.testing.assert_allclose(model.estimator.coef_, coef, rtol=1e-10)
    assert model.estimator.intercept_ == pytest.approx(intercept, rel=1e-10)
    assert model.preprocessor.categories == pre.categories
    np.testing.assert_allclose(model.preprocessor.scale, pre.scale, rtol=1e-12)


@pytest.mark.parametrize("how", [[], ["--stream", "--impute", "mean"]])
def test_standardization_of_huge_means_is_exact(tmp_path, how):
    # columns 1e12 + N(0, 1) and 1e9 + 1e-3 N(0, 1): in memory and in the stream's levels
    # pass (--impute mean), the mean and SD equal the exact ones (rational arithmetic on
    # the stored doubles) to 1e-13; a plain two-pass SD is off by ~1e-8 here
    from fractions import Fraction

    rng = np.random.default_rng(21)
    n = 40_000  # two batches of the stream
    m12 = 1e12 + rng.normal(size=n)
    m9 = 1e9 + 1e-3 * rng.normal(size=n)
    x = rng.normal(size=n)
    y = 2 * (m12 - 1e12) + 3e3 * (m9 - 1e9) + x + rng.normal(size=n)
    pq.write_table(pa.table({"m12": m12, "m9": m9, "x": x, "fold": np.zeros(n), "price": y}),
                   tmp_path / "d.parquet")
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--test-size", "0", "--cv", "gcv",
                *how) == 0
    pre = load_model(tmp_path / "m" / "model.json").preprocessor
    for j, col in enumerate((m12, m9)):
        exact = [Fraction(float(v)) for v in col]
        mean = sum(exact) / n
        var = sum((v - mean) ** 2 for v in exact) / n
        assert pre.mean[j] == pytest.approx(float(mean), rel=1e-15)
        assert pre.scale[j] == pytest.approx(float(var) ** 0.5, rel=1e-13)


def test_stream_fit_with_a_fold_column_and_mean_imputation(tmp_path):
    table = _table(missing=True)
    pq.write_table(table, tmp_path / "d.parquet")
    assert main(["fit", str(tmp_path / "d.parquet"), "--target", "price", "--no-report",
                 "--fold-column", "fold", "--cv", "4", "--impute", "mean",
                 "--out", str(tmp_path / "m")]) == 0
    model = load_model(tmp_path / "m" / "model.json")
    coef, _, alpha, pre = _in_memory(table, 4, impute="mean", fold_column="fold")
    assert model.estimator.alpha == pytest.approx(alpha, rel=1e-10)
    np.testing.assert_allclose(model.estimator.coef_, coef, rtol=1e-10)
    assert model.preprocessor.fill["f2"] == pytest.approx(pre.fill["f2"], rel=1e-13)


def test_stream_held_out_metrics_are_exact_over_all_held_out_rows(tmp_path, capsys):
    """The metrics come from statistics, not from the plots' sample: equal to sklearn's on
    every held-out row even when the sample is smaller, and the table counts every row."""
    from sklearn.metrics import mean_squared_error, r2_score

    table = _table(n=5000)
    pq.write_table(table, tmp_path / "d.parquet")
    streamjob.SAMPLE_ROWS, old = 300, streamjob.SAMPLE_ROWS
    try:
        assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream") == 0
    finally:
        streamjob.SAMPLE_ROWS = old
    model = load_model(tmp_path / "m" / "model.json")
    out = streamjob.held_out(np.arange(5000), 0.2, 0)
    test = table.filter(pa.array(out))
    pred = model.predict_columns(test)["prediction"]
    y = test["price"].to_numpy()
    metrics = json.loads((tmp_path / "m" / "model.json").read_text())["summary"]["test_metrics"]
    assert metrics["mse"] == pytest.approx(mean_squared_error(y, pred), rel=1e-9)
    assert metrics["r2"] == pytest.approx(r2_score(y, pred), rel=1e-9)
    assert f"Train vs held-out ({5000 - out.sum()} / {out.sum()} rows)" in capsys.readouterr().out


def test_stream_report_is_written(tmp_path):
    pq.write_table(_table(n=1500), tmp_path / "d.parquet")
    assert main(["fit", str(tmp_path / "d.parquet"), "--target", "price", "--drop", "fold",
                 "--stream", "--out", str(tmp_path / "m")]) == 0
    html = (tmp_path / "m" / "report.html").read_text()
    assert "read 2 times" in html


def test_large_file_implies_stream(tmp_path, monkeypatch, capsys):
    """A file over a quarter of the memory is fitted by the stream (here: memory made tiny)."""
    pq.write_table(_table(n=800), tmp_path / "d.parquet")
    monkeypatch.setattr(streamjob, "total_memory", lambda: 4 * 1024)
    assert _fit(tmp_path / "d.parquet", tmp_path / "m") == 0
    summary = json.loads((tmp_path / "m" / "model.json").read_text())["summary"]
    assert summary.get("stream") is True and summary["cv"] == "5-fold CV"


def test_predict_stream_equals_in_memory_predict(tmp_path):
    table = _table(n=2000)
    pq.write_table(table, tmp_path / "d.parquet")
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream") == 0
    new = _table(n=70_000, seed=1)
    new = new.set_column(4, "city", pa.array(
        np.where(np.arange(70_000) == 69_000, "west", new["city"].to_numpy(False))))
    pq.write_table(new, tmp_path / "new.parquet")
    model = tmp_path / "m" / "model.json"
    assert main(["predict", str(model), str(tmp_path / "new.parquet"), "--id", "fold",
                 "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["predict", str(model), str(tmp_path / "new.parquet"), "--id", "fold",
                 "--stream", "--out", str(tmp_path / "b.csv")]) == 0
    a, b = csv.read_csv(tmp_path / "a.csv"), csv.read_csv(tmp_path / "b.csv")
    assert a.column_names == b.column_names == ["fold", "prediction"]
    assert a.num_rows == b.num_rows == 70_000
    np.testing.assert_array_equal(a["prediction"].to_numpy(), b["prediction"].to_numpy())


def test_predict_stream_to_stdout_writes_nothing_when_a_late_batch_fails(tmp_path, capfd):
    pq.write_table(_table(n=2000), tmp_path / "d.parquet")
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream") == 0
    capfd.readouterr()
    new = _table(n=70_000, seed=1)
    new = new.set_column(0, "f0", pa.array(
        np.where(np.arange(70_000) == 69_000, np.nan, new["f0"].to_numpy())))
    pq.write_table(new, tmp_path / "new.parquet")
    code = main(["predict", str(tmp_path / "m" / "model.json"), str(tmp_path / "new.parquet"),
                 "--stream"])
    out, err = capfd.readouterr()
    assert code == 2 and "f0" in err
    assert out == ""  # the first batches' predictions are not left on stdout


def _error(capsys, *args):
    code = main([str(a) for a in args])
    return code, " ".join(capsys.readouterr().err.split())


def test_stream_refuses_glm_kinds_naming_what_streams(tmp_path, capsys):
    pq.write_table(_table(n=200), tmp_path / "d.parquet")
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price", "--stream",
                       "--model", "logistic", "--out", tmp_path / "m")
    assert code == 2 and "--stream fits ridge only" in err
    assert not (tmp_path / "m").exists()


def test_stream_nan_in_a_late_batch_names_file_batch_rows_and_writes_nothing(tmp_path,
                                                                           capsys):
    table = _table(n=100_000)
    f1 = table["f1"].to_numpy().copy()
    f1[90_000] = np.nan
    pq.write_table(table.set_column(1, "f1", pa.array(f1)), tmp_path / "d.parquet")
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price", "--stream",
                       "--drop", "fold", "--out", tmp_path / "m")
    assert code == 2
    assert "d.parquet, batch 3 (rows 65537-98304 of the file): column 'f1' has 1 missing" \
        " value(s) (first on row 90001 of" in err and "--impute mean" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("mode", ["--stream", "--dask"])
def test_missing_category_is_refused_without_impute_as_in_memory(tmp_path, capsys, mode):
    table = _table(n=3000)
    city = table["city"].to_pylist()
    city[2500] = None
    pq.write_table(table.set_column(4, "city", pa.array(city)), tmp_path / "d.parquet")
    how = ["--stream"] if mode == "--stream" else ["--dask", "local"]
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price", *how,
                       "--drop", "fold", "--out", tmp_path / "m")
    assert code == 2 and "column 'city' has 1 missing value(s) (first on row 2501" in err
    assert "--impute mean" in err and "--drop city" in err
    assert not (tmp_path / "m").exists()
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price",
                       "--drop", "fold", "--out", tmp_path / "m")  # in memory: refused too
    assert code == 2 and "city (1)" in err
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", *how, "--impute", "mean") == 0


@pytest.mark.parametrize("mode", ["--stream", "--dask"])
def test_a_0_1_target_is_noted_as_a_linear_probability_model(tmp_path, capsys, mode):
    # 3% ones: ridge is fitted as asked, and the output says what in memory would be fitted
    table = _table(n=4000)
    rng = np.random.default_rng(5)
    rare = (rng.uniform(size=4000) < 0.03).astype(np.int64)
    pq.write_table(table.set_column(6, "price", pa.array(rare)), tmp_path / "d.parquet")
    how = ["--stream"] if mode == "--stream" else ["--dask", "local"]
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", *how) == 0
    out = " ".join(capsys.readouterr().out.split())
    share = 100 * rare[~streamjob.held_out(np.arange(4000), 0.2, 0)].mean()
    assert f"holds only 0 and 1 ({share:.3g}% ones)" in out and "logistic regression" in out
    pq.write_table(table, tmp_path / "e.parquet")  # a continuous target: no such note
    assert _fit(tmp_path / "e.parquet", tmp_path / "n", *how) == 0
    assert "holds only 0 and 1" not in capsys.readouterr().out


def test_stream_csv_ending_mid_row_and_text_in_a_late_block(tmp_path, capsys):
    text = "a,b,price\n" + "".join(f"{i % 7}.5,{i % 3},{i % 11}\n" for i in range(700_000))
    (tmp_path / "cut.csv").write_text(text + "5,6")
    code, err = _error(capsys, "fit", tmp_path / "cut.csv", "--target", "price", "--stream",
                       "--out", tmp_path / "m")
    assert code == 2 and "cut.csv ends mid-row: its last line has 2 of 3 fields" in err
    (tmp_path / "bad.csv").write_text(text + "x1,2,3\n")
    code, err = _error(capsys, "fit", tmp_path / "bad.csv", "--target", "price", "--stream",
                       "--out", tmp_path / "m")
    assert code == 2 and "column 'a' holds 'x1', not a double as in the first batch" in err
    assert not (tmp_path / "m").exists()


def test_stream_refuses_median_imputation_and_time_split(tmp_path, capsys):
    pq.write_table(_table(n=200), tmp_path / "d.parquet")
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price", "--stream",
                       "--impute", "median", "--out", tmp_path / "m")
    assert code == 2 and "with --stream use --impute mean" in err
    code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price",
                       "--fold-column", "fold", "--cv", "3", "--out", tmp_path / "m")
    assert code == 2 and "the fold column 'fold'" in err and "integers 0 to 2): 3" in err


def test_a_directory_of_parquet_parts_is_streamed_as_one_table(tmp_path):
    """A directory (or glob) can only be streamed: the fit equals the single-file stream."""
    table = _table(n=2400)
    (tmp_path / "parts").mkdir()
    for k in range(3):
        pq.write_table(table.slice(800 * k, 800), tmp_path / "parts" / f"p{k}.parquet")
    pq.write_table(table, tmp_path / "whole.parquet")
    assert _fit(tmp_path / "parts", tmp_path / "a") == 0
    assert _fit(tmp_path / "whole.parquet", tmp_path / "b", "--stream") == 0
    a, b = (load_model(tmp_path / d / "model.json").estimator for d in "ab")
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


# ------------------------------------------------------------- one pass (numeric features only)
def _numeric_table(n=4000, seed=2, missing_at=None):
    """Numeric features only, means up to 1e3 and a large intercept, one of them boolean."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * [1.0, 30.0, 0.2] + [0.0, 1000.0, -400.0]
    flag = rng.random(n) < 0.3
    y = 5e4 + x @ [2.0, 0.05, -3.0] + 4.0 * flag + 40.0 * rng.normal(size=n)
    if missing_at is not None:
        x[missing_at, 2] = np.nan
    return pa.table({"f0": x[:, 0], "f1": x[:, 1], "f2": x[:, 2], "flag": flag,
                     "fold": np.arange(n) % 4, "price": y})


def _in_memory_numeric(table, cv, fold_column=None, test_size=0.2, standardize=True):
    n = table.num_rows
    train = np.flatnonzero(~streamjob.held_out(np.arange(n), test_size, 0))
    features = ["f0", "f1", "f2", "flag"]
    pre = Preprocessor.from_table(table, features)
    X = pre.fit_transform(table, train, len(train), standardize=standardize)
    y = table["price"].to_numpy()[train]
    if cv == "gcv":
        return RidgeCV(cv="gcv").fit(X, y), pre, X, y
    folds = (table[fold_column].to_numpy()[train] if fold_column
             else fold_of(np.arange(len(train)), cv))
    splits = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(cv)]
    return RidgeCV(cv=splits).fit(X, y), pre, X, y


@pytest.mark.parametrize(("fmt", "cv", "fold_column"), [
    ("parquet", "5", None), ("csv", "5", None), ("parquet", "gcv", None),
    ("parquet", "4", "fold")])
def test_numeric_stream_reads_once_and_equals_the_in_memory_fit(tmp_path, capsys, fmt, cv,
                                                                fold_column):
    """Every feature numeric: one pass, the standardization applied to the statistics; the
    model file (coefficients, intercept, alpha, means and scales) and the held-out metrics
    equal the in-memory fit on the same rows."""
    from sklearn.metrics import mean_squared_error

    table = _numeric_table()
    path = tmp_path / f"d.{fmt}"
    (pq.write_table if fmt == "parquet" else csv.write_csv)(table, path)
    extra = ["--fold-column", fold_column] if fold_column else ["--drop", "fold"]
    assert main(["fit", str(path), "--target", "price", "--stream", "--cv", cv,
                 "--out", str(tmp_path / "m"), *extra]) == 0
    model = load_model(tmp_path / "m" / "model.json")
    memory, pre, _, _ = _in_memory_numeric(table, int(cv) if cv.isdigit() else cv, fold_column)
    assert model.estimator.alpha == pytest.approx(memory.alpha_, rel=1e-10)
    np.testing.assert_allclose(model.estimator.coef_, memory.coef_, rtol=1e-10)
    assert model.estimator.intercept_ == pytest.approx(memory.intercept_, rel=1e-10)
    np.testing.assert_allclose(model.preprocessor.mean, pre.mean, rtol=1e-12)
    np.testing.assert_allclose(model.preprocessor.scale, pre.scale, rtol=1e-12)
    out = streamjob.held_out(np.arange(table.num_rows), 0.2, 0)
    test = table.filter(pa.array(out))
    mse = mean_squared_error(test["price"].to_numpy(),
                             model.predict_columns(test)["prediction"])
    summary = json.loads((tmp_path / "m" / "model.json").read_text())["summary"]
    assert summary["test_metrics"]["mse"] == pytest.approx(mse, rel=1e-9)
    train = table.filter(pa.array(~out))
    mse = mean_squared_error(train["price"].to_numpy(),
                             model.predict_columns(train)["prediction"])
    assert summary["train_metrics"]["mse"] == pytest.approx(mse, rel=1e-9)
    assert "read once" in (tmp_path / "m" / "report.html").read_text()


def test_numeric_stream_plot_samples_are_standardized_rows(tmp_path, monkeypatch):
    """The one-pass mode standardizes the plots' samples after the pass: they are rows of the
    in-memory standardized matrix."""
    table = _numeric_table(n=3000)
    pq.write_table(table, tmp_path / "d.parquet")
    seen = {}
    real = streamjob.statistics_outcome

    def spy(*args, **kw):
        seen["samples"] = kw["samples"]
        return real(*args, **kw)

    monkeypatch.setattr(streamjob, "statistics_outcome", spy)
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream") == 0
    _, _, X, _ = _in_memory_numeric(table, 5)
    train = np.flatnonzero(~streamjob.held_out(np.arange(3000), 0.2, 0))
    sample = seen["samples"][0]
    rows = np.searchsorted(train, sample.positions)
    np.testing.assert_allclose(sample.arrays(4)[0], X[rows], rtol=1e-12, atol=1e-12)


def test_numeric_stream_refuses_a_missing_value_naming_row_and_impute(tmp_path, capsys):
    """One pass cannot impute: a missing value (here in a held-out row of a late batch, and in
    a training row) is refused with the file, batch, column, row and --impute mean; with
    --impute mean the stream reads twice and fits."""
    for row in (90_004, 90_000):
        table = _numeric_table(n=100_000, missing_at=row)
        pq.write_table(table, tmp_path / "d.parquet")
        code, err = _error(capsys, "fit", tmp_path / "d.parquet", "--target", "price",
                           "--stream", "--drop", "fold", "--out", tmp_path / "m")
        assert code == 2, err
        assert (f"d.parquet, batch 3 (rows 65537-98304 of the file): column 'f2' has 1 missing"
                f" or infinite value(s) (first on row {row + 1} of") in err
        assert "--impute mean" in err and "--drop f2" in err
        assert not (tmp_path / "m").exists()
    assert main(["fit", str(tmp_path / "d.parquet"), "--target", "price", "--stream",
                 "--drop", "fold", "--impute", "mean", "--no-report",
                 "--out", str(tmp_path / "m")]) == 0


def test_numeric_stream_without_standardization_equals_the_in_memory_fit(tmp_path):
    """--no-standardize in one pass: the statistics are used as they are (identity map)."""
    table = _numeric_table()
    pq.write_table(table, tmp_path / "d.parquet")
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream", "--no-standardize") == 0
    model = load_model(tmp_path / "m" / "model.json")
    memory, _, _, _ = _in_memory_numeric(table, 5, standardize=False)
    assert model.preprocessor.mean is None
    assert model.estimator.alpha == pytest.approx(memory.alpha_, rel=1e-10)
    np.testing.assert_allclose(model.estimator.coef_, memory.coef_, rtol=1e-10)
    assert model.estimator.intercept_ == pytest.approx(memory.intercept_, rel=1e-10)


def test_stream_conventions_use_the_sd_of_every_training_target(tmp_path, monkeypatch):
    """With more training rows than the plots' sample, the conventions table (glmnet's lambda
    scales with sd(y)) takes sd(y) over all training rows, as the in-memory fit does, not over
    the sample."""
    from dataclasses import replace

    from ridgeway.cli.rows import convention_rows

    n = 2 * streamjob.SAMPLE_ROWS
    table = _numeric_table(n=n)
    pq.write_table(table, tmp_path / "d.parquet")
    seen = {}
    real = streamjob.statistics_outcome

    def spy(*args, **kw):
        seen["outcome"] = real(*args, **kw)
        return seen["outcome"]

    monkeypatch.setattr(streamjob, "statistics_outcome", spy)
    assert _fit(tmp_path / "d.parquet", tmp_path / "m", "--stream") == 0
    outcome = seen["outcome"]
    train = ~streamjob.held_out(np.arange(n), 0.2, 0)
    y_train = table["price"].to_numpy()[train]
    assert len(outcome.y_train) < len(y_train)  # the plots' sample only
    assert outcome.y_train_sd == pytest.approx(float(np.std(y_train)), rel=1e-10)
    everything = replace(outcome, y_train=y_train, y_train_sd=None)
    assert convention_rows(outcome) == convention_rows(everything)
    assert convention_rows(outcome) != convention_rows(replace(outcome, y_train_sd=None))
