"""The other models and options of ``ridgeway fit``, through ``main()`` in-process."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv
from sklearn.linear_model import Ridge as SklearnRidge

from ridgeway.cli import main
from ridgeway.cli.modelfile import load_model
from ridgeway.io import read_table


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=(n, 3))
    counts = rng.poisson(np.exp(0.3 + 0.5 * x[:, 0] - 0.3 * x[:, 1]))
    label = (x[:, 0] - x[:, 2] + 0.5 * rng.normal(size=n) > 0).astype(int)
    wide = {f"x{j}": x[:, j] for j in range(3)}
    csv.write_csv(pa.table({**wide, "visits": counts}), tmp / "counts.csv")
    csv.write_csv(pa.table({**wide, "bought": label}), tmp / "bought.csv")
    return tmp


def test_poisson_model(tables, capsys):
    out = tables / "poisson"
    assert main(["fit", str(tables / "counts.csv"), "-t", "visits", "--model", "poisson",
                 "--cv", "3", "--no-report", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "poisson (as asked with --model)" in text and "CV Poisson deviance" in text
    model = load_model(out / "model.json")
    assert type(model.estimator).__name__ == "PoissonRegressor"
    pred = model.predict_columns(read_table(tables / "counts.csv"))["prediction"]
    assert np.all(pred > 0)
    assert model.estimator.coef_[0] > 0 > model.estimator.coef_[1]


def test_svm_and_binary_numeric_target(tables, capsys):
    assert main(["fit", str(tables / "bought.csv"), "-t", "bought", "--no-report",
                 "--out", str(tables / "logit")]) == 0
    assert "logistic: target 'bought' takes 2 values" in capsys.readouterr().out
    out = tables / "svm"
    assert main(["fit", str(tables / "bought.csv"), "-t", "bought", "--model", "svm",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "CV squared hinge loss" in text and "error_rate" in text
    model = load_model(out / "model.json")
    assert type(model.estimator).__name__ == "LinearSVC"
    cols = model.predict_columns(read_table(tables / "bought.csv"))
    assert set(cols) == {"prediction"} and set(np.unique(cols["prediction"])) <= {0, 1}
    assert (out / "report.html").is_file()


def test_no_standardize_and_no_holdout(tables, capsys):
    out = tables / "raw"
    assert main(["fit", str(tables / "counts.csv"), "-t", "visits", "--no-standardize",
                 "--test-size", "0", "--cv", "gcv", "--alphas", "0.1,1,10,100",
                 "--no-report", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "raw features (--no-standardize)" in text and "Train vs held-out" not in text
    model = load_model(out / "model.json")
    assert model.preprocessor.scale is None
    # GCV from its definition, (RSS/n) / (1 - tr(H)/n)^2 with H the hat matrix of ridge with
    # an unpenalized intercept, on every row and the raw features
    table = read_table(tables / "counts.csv")
    X = np.column_stack([table.column(f"x{j}").to_numpy() for j in range(3)])
    y = table.column("visits").to_numpy().astype(float)
    A = np.column_stack([np.ones(len(y)), X])
    alphas = np.array([0.1, 1.0, 10.0, 100.0])
    gcv = []
    for alpha in alphas:
        H = A @ np.linalg.solve(A.T @ A + alpha * np.diag([0.0, 1.0, 1.0, 1.0]), A.T)
        gcv.append(np.mean((y - H @ y) ** 2) / (1 - np.trace(H) / len(y)) ** 2)
    curve = np.genfromtxt(out / "cv_curve.csv", delimiter=",", names=True)
    np.testing.assert_allclose(curve["alpha"], alphas)
    np.testing.assert_allclose(curve["mean_MSE"], gcv, rtol=1e-10)
    assert model.estimator.alpha == alphas[np.argmin(gcv)]
    ref = SklearnRidge(alpha=model.estimator.alpha).fit(X, y)
    np.testing.assert_allclose(model.estimator.coef_, ref.coef_, rtol=1e-10)
    assert model.estimator.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)


def test_bad_option_values(tables, capsys):
    data = str(tables / "counts.csv")
    assert main(["fit", data, "-t", "visits", "--test-size", "1.5"]) == 2
    assert "--test-size must be in [0, 1)" in capsys.readouterr().err
    assert main(["fit", data, "-t", "visits", "--alphas", "1,-2"]) == 2
    assert "--alphas 1,-2: negative alphas are invalid" in capsys.readouterr().err
    assert main(["fit", data, "-t", "visits", "--cv", "1"]) == 2
    assert "at least 2 folds" in capsys.readouterr().err
    assert main(["fit", data, "-t", "visits", "--drop", "x9"]) == 2
    assert "unknown column in --drop 'x9'" in capsys.readouterr().err


def test_identifier_column_is_pointed_out(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    csv.write_csv(pa.table({"id": np.arange(60), "x": x, "y": 2 * x + rng.normal(size=60)}),
                  tmp_path / "ids.csv")
    assert main(["fit", str(tmp_path / "ids.csv"), "-t", "y", "--no-report",
                 "--out", str(tmp_path / "o")]) == 0
    assert "column 'id' looks like an identifier" in capsys.readouterr().out
    assert main(["fit", str(tmp_path / "ids.csv"), "-t", "y", "--drop", "id", "--no-report",
                 "--out", str(tmp_path / "o")]) == 0
    assert "looks like an identifier" not in capsys.readouterr().out


def test_drop_swallowing_the_data_file_is_explained(tables, capsys):
    data = str(tables / "counts.csv")
    assert main(["fit", "--drop", "x2", data, "--target", "visits"]) == 2
    assert "--drop took the file name" in capsys.readouterr().err
