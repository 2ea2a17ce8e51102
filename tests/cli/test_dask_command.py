"""``ridgeway fit --dask`` (issue 11): the same model as ``--stream`` on the same file.

The stream's job is itself compared with an in-memory fit in ``test_stream.py``; here the
cluster's job must reproduce it (coefficients to 1e-10 relative, the same alpha) for Parquet
and CSV, k-fold, GCV and exact LOO, and a fold column; the held-out metrics, which both jobs
compute from statistics of the same held-out rows, must agree too.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv

from ridgeway.cli.app import main

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def address():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _table(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [0.0, 100.0, -5.0]
    city = rng.choice(["north", "south", "east"], n)
    y = x @ [2.0, 0.1, -3.0] + (city == "north") * 1.5 + rng.normal(size=n)
    return pa.table({**{f"f{j}": x[:, j] for j in range(3)}, "city": city,
                     "fold": np.arange(n) % 4, "price": y})


def _write(tmp_path, fmt, table=None, files=4):
    """The table in ``files`` files (a dask partition each at least): a directory of Parquet
    files, a glob of CSV files, or one file for ``files=1``."""
    table = _table() if table is None else table
    folder = tmp_path / "data"
    folder.mkdir()
    bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
    for k in range(files):
        part, path = table.slice(bounds[k], bounds[k + 1] - bounds[k]), folder / f"{k}.{fmt}"
        if fmt == "parquet":
            pq.write_table(part, path)
        else:
            csv.write_csv(part, path)
    return path if files == 1 else folder if fmt == "parquet" else folder / "*.csv"


def _model(path, out, *extra):
    rc = main(["fit", str(path), "--target", "price", "--no-report", "--out", str(out),
               *map(str, extra)])
    assert rc == 0
    return json.loads((out / "model.json").read_text())


def _assert_same(a, b):
    fa, fb = a["model"]["fitted"], b["model"]["fitted"]
    np.testing.assert_allclose(fb["coef_"], fa["coef_"], rtol=1e-10)
    np.testing.assert_allclose(fb["intercept_"], fa["intercept_"], rtol=1e-10)
    np.testing.assert_allclose(b["summary"]["alpha"], a["summary"]["alpha"], rtol=1e-10)
    np.testing.assert_allclose(b["summary"]["test_metrics"]["mse"],
                               a["summary"]["test_metrics"]["mse"], rtol=1e-9)
    assert a["summary"]["n_train"] == b["summary"]["n_train"]


@pytest.mark.parametrize(("fmt", "extra"), [
    ("parquet", ["--drop", "fold", "--cv", "5"]),
    ("csv", ["--drop", "fold", "--cv", "5"]),
    ("parquet", ["--drop", "fold", "--cv", "gcv", "--selection", "min"]),
    ("parquet", ["--drop", "fold", "--cv", "loo", "--test-size", "0.3"]),
    ("csv", ["--fold-column", "fold", "--cv", "4", "--seed", "3"]),
])
def test_dask_equals_stream(tmp_path, address, fmt, extra):
    path = _write(tmp_path, fmt)
    stream = _model(path, tmp_path / "s", "--stream", *extra)
    dask = _model(path, tmp_path / "d", "--dask", address, *extra)
    _assert_same(stream, dask)
    rows = [csv.read_csv(tmp_path / d / "heldout_predictions.csv")["row"] for d in "sd"]
    assert rows[0].equals(rows[1])  # the same held-out rows (the plots' sample)


@pytest.mark.parametrize("mode", ["--dask", "--stream"])
def test_train_metrics_are_those_of_the_training_rows(tmp_path, address, mode):
    """The training MSE from the statistics (the partitions' or the stream's) equals the
    model's squared error on the training rows recomputed from the file (the hash's training
    rows, preprocessed)."""
    from ridgeway.cli.modelfile import load_model
    from ridgeway.cli.streamjob import held_out

    table = _table()
    path = _write(tmp_path, "parquet", table)
    how = ["--dask", address] if mode == "--dask" else ["--stream"]
    m = _model(path, tmp_path / "d", *how, "--drop", "fold")
    train = ~held_out(np.arange(table.num_rows), 0.2, 0)
    model = load_model(tmp_path / "d" / "model.json")
    pred = model.predict_columns(table)["prediction"]
    y = table["price"].to_numpy()
    mse = np.mean((y[train] - np.asarray(pred)[train]) ** 2)
    np.testing.assert_allclose(m["summary"]["train_metrics"]["mse"], mse, rtol=1e-9)


def test_row_counts_and_conventions_use_every_row_not_the_plot_sample(
        tmp_path, address, capsys, monkeypatch):
    # a plot sample smaller than the data: the counts, the n of the conventions table and
    # the lambdas written from it are those of all training rows, as with --stream
    from ridgeway.cli import daskjob, streamjob

    monkeypatch.setattr(streamjob, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(daskjob, "SAMPLE_ROWS", 50)
    path = _write(tmp_path, "parquet")
    outs = {}
    for mode, how in (("s", ["--stream"]), ("d", ["--dask", address])):
        m = _model(path, tmp_path / mode, *how, "--drop", "fold")
        outs[mode] = capsys.readouterr().out
        n_train = m["summary"]["n_train"]
        assert f"Train vs held-out ({n_train} / {2000 - n_train} rows)" in outs[mode]
        assert f"n = {n_train};" in outs[mode]
    lam = [[line for line in outs[k].splitlines() if "glmnet" in line] for k in "sd"]
    assert lam[0] and lam[0] == lam[1]


@pytest.mark.parametrize("mode", ["memory", "--stream", "--dask"])
def test_heldout_rows_are_rows_of_the_input_after_dropped_targets(tmp_path, address, mode):
    # rows with a missing target dropped (some of them in the first of the 4 files): each
    # held-out row's `row` is its row of the input, whose target is its `actual`
    table = _table()
    y = table["price"].to_numpy().copy()
    y[[3, 40, 41, 700, 1499, 1500]] = np.nan
    table = table.set_column(5, "price", pa.array(y))
    path = _write(tmp_path, "parquet", table)
    how = {"memory": [], "--stream": ["--stream"], "--dask": ["--dask", address]}[mode]
    _model(path, tmp_path / "o", *how, "--drop", "fold", "--drop-missing-target")
    held = csv.read_csv(tmp_path / "o" / "heldout_predictions.csv")
    rows, actual = held["row"].to_numpy(), held["actual"].to_numpy()
    assert len(rows) > 300 and rows.max() > 1500
    np.testing.assert_array_equal(actual, y[rows])


def test_dask_local_starts_its_own_cluster(tmp_path):
    path = _write(tmp_path, "parquet", files=1)
    stream = _model(path, tmp_path / "s", "--stream", "--drop", "fold")
    dask = _model(path, tmp_path / "d", "--dask", "local", "--drop", "fold")
    _assert_same(stream, dask)


def test_bad_address_is_a_user_error_naming_it(tmp_path, capsys):
    path = _write(tmp_path, "csv")
    rc = main(["fit", str(path), "--target", "price", "--out", str(tmp_path / "o"),
               "--dask", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "tcp://127.0.0.1:9" in err and "dask scheduler" in err and "--dask local" in err
    assert not (tmp_path / "o").exists()


def test_a_workers_data_error_is_one_line_without_its_log(tmp_path, capfd):
    # the workers of --dask local are processes writing to this stderr: their log of the
    # failed task (a traceback) must not reach the user, only ridgeway's named error
    table = _table()
    fold = np.arange(2000) % 4
    fold[1500] = 7
    path = _write(tmp_path, "parquet", table.set_column(4, "fold", pa.array(fold)), files=1)
    rc = main(["fit", str(path), "--target", "price", "--fold-column", "fold", "--cv", "4",
               "--out", str(tmp_path / "o"), "--dask", "local"])
    err = capfd.readouterr().err
    assert rc == 2
    assert "7 on row 1501" in err  # 1-based, as every error names rows
    assert "Traceback" not in err and "Compute Failed" not in err
    assert not (tmp_path / "o").exists()


def test_glm_kinds_are_refused_naming_ridge(tmp_path, capsys):
    path = _write(tmp_path, "csv")
    rc = main(["fit", str(path), "--target", "price", "--model", "poisson",
               "--out", str(tmp_path / "o"), "--dask", "local"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "--dask fits ridge only" in err and "poisson" in err
    assert not (tmp_path / "o").exists()


def test_a_bad_fold_id_on_a_worker_is_a_user_error(tmp_path, address, capsys):
    table = _table()
    folds = table["fold"].to_numpy().copy()
    folds[1500] = 7
    path = _write(tmp_path, "parquet", table.set_column(4, "fold", pa.array(folds)))
    rc = main(["fit", str(path), "--target", "price", "--fold-column", "fold", "--cv", "4",
               "--out", str(tmp_path / "o"), "--dask", address])
    err = capsys.readouterr().err
    assert rc == 2
    assert "fold column 'fold'" in err and "7" in err and "partition 3" in err
    assert not (tmp_path / "o").exists()
