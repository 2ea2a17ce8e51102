"""End-to-end tests of the ``ridgeway`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import RidgeCV as SklearnRidgeCV

from ridgeway.cli.modelfile import load_model
from ridgeway.io import read_table

SRC = str(Path(__file__).resolve().parents[2] / "src")


def ridgeway(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m ridgeway.cli ARGS`` in ``cwd``; returns the finished process."""
    return subprocess.run([sys.executable, "-m", "ridgeway", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _regression_table(n: int = 240, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[:, 1] = x[:, 0] + 0.1 * rng.normal(size=n)  # correlated pair
    city = rng.choice(["north", "south", "east"], size=n)
    y = x @ np.array([2.0, 1.0, -1.0, 0.5, 0.0, 0.0]) + (city == "north") * 1.5
    y += rng.normal(size=n)
    cols = {f"f{j}": x[:, j] for j in range(6)}
    return pa.table({**cols, "city": city, "price": y})


@pytest.fixture(scope="module")
def regression_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "houses.csv"
    from pyarrow import csv

    csv.write_csv(_regression_table(), path)
    return path


@pytest.fixture(scope="module")
def classification_parquet(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=(n, 4))
    logit = 2 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2]
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "churn", "stay")
    path = tmp_path_factory.mktemp("data") / "churn.parquet"
    pq.write_table(pa.table({**{f"x{j}": x[:, j] for j in range(4)}, "status": label}), path)
    return path


def test_demo_prints_tables_and_writes_report(tmp_path):
    res = ridgeway("demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    for title in ("Chosen regularization strength", "other tools' conventions",
                  "Train vs held-out", "Coefficients, by standardized magnitude",
                  "Prediction error reduction", "unregularized", "L1 (CV)"):
        assert title in out
    demo = tmp_path / "ridgeway-demo"
    assert {"model.json", "report.html", "path.png", "cv_curve.png", "bias_variance.png",
            "shrinkage.png", "coefficients.png", "l1_vs_l2.png"} <= {p.name for p in
                                                                    demo.iterdir()}
    model = load_model(demo / "model.json")
    assert f"{model.summary['alpha']:.4g}" in out
    # the coefficient table lists features by decreasing standardized magnitude
    coef = np.asarray(model.estimator.coef_)
    names = model.preprocessor.feature_names
    order = [names[j] for j in np.argsort(-np.abs(coef))]
    positions = [out.index(f"│ {name} ") for name in order]
    assert positions == sorted(positions)
    assert "Traceback" not in res.stderr


def test_fit_csv_regression_and_predict_round_trip(tmp_path, regression_csv):
    res = ridgeway("fit", regression_csv, "--target", "price", "--no-report",
                   "--out", tmp_path / "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "one-hot encoded: city (3 categories)" in res.stdout
    assert "ridge: target 'price' is numeric" in res.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".ridgeway-run", "cv_curve.csv", "heldout_predictions.csv", "model.json"]
    pred = ridgeway("predict", tmp_path / "out" / "model.json", regression_csv,
                    "--out", tmp_path / "pred.csv", cwd=tmp_path)
    assert pred.returncode == 0, pred.stderr
    lines = (tmp_path / "pred.csv").read_text().splitlines()
    assert lines[0] == '"prediction"' or lines[0] == "prediction"
    got = np.array([float(v) for v in lines[1:]])
    model = load_model(tmp_path / "out" / "model.json")
    table = read_table(regression_csv)
    expected = model.predict_columns(table)["prediction"]
    assert got.shape == (table.num_rows,)
    np.testing.assert_array_equal(got, expected)
    # and the model is scikit-learn's LOO-selected ridge on the training rows (those not in
    # heldout_predictions.csv), one-hot encoded and standardized on those rows
    held = np.genfromtxt(tmp_path / "out" / "heldout_predictions.csv", delimiter=",",
                         names=True)
    y = table.column("price").to_numpy()
    np.testing.assert_array_equal(held["actual"], y[held["row"].astype(int)])
    train = np.setdiff1d(np.arange(len(y)), held["row"].astype(int))
    city = np.asarray(table.column("city").to_pylist())
    raw = np.column_stack([table.column(f"f{j}").to_numpy() for j in range(6)]
                          + [city == c for c in ("east", "north", "south")]).astype(float)
    X = (raw - raw[train].mean(0)) / raw[train].std(0)
    alphas = np.genfromtxt(tmp_path / "out" / "cv_curve.csv", delimiter=",", names=True)["alpha"]
    ref = SklearnRidgeCV(alphas=alphas).fit(X[train], y[train])
    assert model.estimator.alpha == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(got, ref.predict(X), rtol=1e-9, atol=1e-9)


def test_fit_parquet_classification_and_predict_probabilities(tmp_path,
                                                              classification_parquet):
    res = ridgeway("fit", classification_parquet, "--target", "status", "--cv", "alo",
                   "--out", tmp_path / "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "logistic: target 'status' holds text (2 classes)" in res.stdout
    assert "approximate leave-one-out" in res.stdout
    for metric in ("log_loss", "accuracy", "f1", "roc_auc"):
        assert metric in res.stdout
    assert (tmp_path / "out" / "report.html").is_file()
    pred = ridgeway("predict", tmp_path / "out" / "model.json", classification_parquet,
                    cwd=tmp_path)
    assert pred.returncode == 0, pred.stderr
    rows = [line.replace('"', "").split(",") for line in pred.stdout.strip().splitlines()]
    assert rows[0] == ["prediction", "proba_churn", "proba_stay"]
    model = load_model(tmp_path / "out" / "model.json")
    expected = model.predict_columns(pq.read_table(classification_parquet))
    assert [r[0] for r in rows[1:]] == list(expected["prediction"])
    proba = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_array_equal(proba[:, 0], expected["proba_churn"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_check_exit_codes(tmp_path, regression_csv):
    out = tmp_path / "out"
    assert ridgeway("fit", regression_csv, "-t", "price", "--no-report", "--out", out,
                    cwd=tmp_path).returncode == 0
    ok = ridgeway("check", out / "model.json", regression_csv, "--max-gap", "0.2", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "ok: gap of r2" in ok.stdout
    # new data where the relation has changed: the alert fires
    drifted = _regression_table(seed=5)
    drifted = drifted.set_column(7, "price", pa.array(
        np.random.default_rng(2).normal(size=drifted.num_rows) * 3))
    from pyarrow import csv

    csv.write_csv(drifted, tmp_path / "drifted.csv")
    alert = ridgeway("check", out / "model.json", tmp_path / "drifted.csv", "--max-gap", "0.2",
                     cwd=tmp_path)
    assert alert.returncode == 1
    assert alert.stderr.startswith("ridgeway: alert: generalization gap of r2")
    assert len(alert.stderr.strip().splitlines()) == 1


def test_path_table_and_files(tmp_path, regression_csv):
    res = ridgeway("path", regression_csv, "--target", "price", "--drop", "city",
                   "--n-alphas", "20", "--out", tmp_path / "p", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Ridge path of 'price'" in res.stdout
    lines = (tmp_path / "p" / "path.csv").read_text().replace('"', "").splitlines()
    assert lines[0].split(",") == ["alpha", "df", "f0", "f1", "f2", "f3", "f4", "f5"]
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert table.shape == (20, 8)
    from ridgeway.linalg import RidgeSpectrum

    data = read_table(regression_csv)
    X = np.column_stack([data.column(f"f{j}").to_numpy() for j in range(6)])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    spec = RidgeSpectrum.from_data(X, data.column("price").to_numpy())
    np.testing.assert_allclose(table[:, 2:], spec.coef(table[:, 0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table[:, 1], spec.df(table[:, 0]), rtol=1e-12)
    assert (tmp_path / "p" / "path.png").read_bytes()[:4] == b"\x89PNG"


def test_model_json_is_plain_json(tmp_path, regression_csv):
    assert ridgeway("fit", regression_csv, "-t", "price", "--no-report", "--impute", "mean",
                    "--model", "ridge", "--cv", "5", "--selection", "1se",
                    "--out", tmp_path, cwd=tmp_path).returncode == 0
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["format"] == "ridgeway-model" and doc["format_version"] == 1
    assert doc["model"]["class"] == "Ridge"
    assert doc["summary"]["selection"] == "1se" and doc["summary"]["cv"] == "5-fold CV"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal(tmp_path):
    import threading

    master, slave = os.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # read while the child writes, so it never blocks on a full pty
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-m", "ridgeway", "demo", "--no-report",
                           "--out", str(tmp_path / "a")], cwd=tmp_path, stdout=subprocess.PIPE,
                          stderr=slave, timeout=300)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "reading data" in shown and "selecting alpha" in shown
    plain = ridgeway("demo", "--no-report", "--out", tmp_path / "b", cwd=tmp_path)
    assert plain.returncode == 0 and plain.stderr == ""
