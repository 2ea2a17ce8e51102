"""``ridgeway fit`` on classification targets: rare classes, the positive class, class weights,
leakage, the one-class warning, CSV outputs and the multiclass SVM (issue 9 items 1, 2, 9;
issue 8 section 5)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv
from sklearn import metrics as skm

from ridgeway.cli import main
from ridgeway.cli.modelfile import load_model
from ridgeway.io import read_table


def _write(path, columns):
    csv.write_csv(pa.table(columns), path)
    return path


@pytest.fixture(scope="module")
def rare(tmp_path_factory):
    """Caravan-like: 6% "Yes", weak signal: the L2 model predicts "No" for every row."""
    rng = np.random.default_rng(0)
    n, p = 1500, 8
    X = rng.normal(size=(n, p))
    logit = -2.9 + 0.35 * X[:, 0] - 0.25 * X[:, 1]
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    path = _write(tmp_path_factory.mktemp("rare") / "caravan.csv",
                  {**{f"x{j}": X[:, j] for j in range(p)}, "Purchase": y})
    return path, X, y


def _fit(capsys, *args):
    code = main(["fit", *map(str, args)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return " ".join(out.out.split())  # the console wraps long lines


def test_rare_class_metrics_baseline_and_one_class_warning(rare, tmp_path, capsys):
    path, _, y = rare
    out = tmp_path / "o"
    text = _fit(capsys, path, "-t", "Purchase", "--no-report", "--out", out)
    assert "positive class: 'Yes' (base rate" in text
    assert "always 'No'" in text  # the majority-class baseline column
    assert "predicts 'No' for 100.0% of the held-out rows" in text
    assert "--class-weight balanced" in text
    model = load_model(out / "model.json")
    assert model.summary["positive"] == "Yes"
    test = model.summary["test_metrics"]
    for key in ("precision", "recall", "f1", "roc_auc", "pr_auc", "balanced_accuracy"):
        assert key in test
    # every held-out metric recomputed from the written predictions with scikit-learn
    pred = read_table(out / "heldout_predictions.csv").to_pydict()
    actual, p_yes = np.array(pred["actual"]), np.array(pred["proba_Yes"])
    assert test["roc_auc"] == pytest.approx(skm.roc_auc_score(actual == "Yes", p_yes))
    assert test["pr_auc"] == pytest.approx(skm.average_precision_score(actual == "Yes", p_yes))
    assert test["recall"] == 0.0 and test["f1"] == 0.0
    assert test["accuracy"] == pytest.approx(np.mean(actual == "No"))
    # the rows are input rows: their labels match the input file
    assert np.array_equal(y[np.array(pred["row"])], actual)


def test_balanced_class_weight_matches_sklearn(rare, tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression as SkLogistic

    path, _, y = rare
    out = tmp_path / "b"
    text = _fit(capsys, path, "-t", "Purchase", "--class-weight", "balanced", "--no-report",
                "--test-size", "0", "--out", out)
    assert "class weights: balanced" in text
    assert "predicts 'No' for" not in text
    model = load_model(out / "model.json")
    Xs = model.preprocessor.transform(read_table(path))
    ref = SkLogistic(C=1 / model.estimator.alpha, class_weight="balanced", tol=1e-12,
                     max_iter=10_000).fit(Xs, y)
    np.testing.assert_allclose(np.ravel(model.estimator.coef_), ref.coef_[0], rtol=1e-5,
                               atol=1e-8)
    assert model.summary["train_metrics"]["recall"] > 0.3


def test_positive_label_default_and_option(tmp_path, capsys):
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    # "Bad" is the MAJORITY here: the conventional label wins over the minority rule
    y = np.where(x + rng.normal(size=n) > -0.8, "Bad", "Good")
    path = _write(tmp_path / "gb.csv", {"x": x, "z": rng.normal(size=n), "risk": y})
    _fit(capsys, path, "-t", "risk", "--no-report", "--out", tmp_path / "a")
    assert load_model(tmp_path / "a" / "model.json").summary["positive"] == "Bad"
    _fit(capsys, path, "-t", "risk", "--positive", "Good", "--no-report", "--out",
         tmp_path / "b")
    model = load_model(tmp_path / "b" / "model.json")
    assert model.summary["positive"] == "Good"
    pred = read_table(tmp_path / "b" / "heldout_predictions.csv").to_pydict()
    hit = np.array(pred["prediction"]) == "Good"
    truth = np.array(pred["actual"]) == "Good"
    assert model.summary["test_metrics"]["precision"] == pytest.approx(
        skm.precision_score(truth, hit, zero_division=0.0))
    assert main(["fit", str(path), "-t", "risk", "--positive", "Maybe", "--out",
                 str(tmp_path / "c")]) == 2
    assert "--positive 'Maybe' is not a class" in capsys.readouterr().err
    # without a conventional label the minority class is positive
    path2 = _write(tmp_path / "ab.csv", {"x": x, "k": np.where(y == "Bad", "alpha", "beta")})
    _fit(capsys, path2, "-t", "k", "--no-report", "--out", tmp_path / "d")
    assert load_model(tmp_path / "d" / "model.json").summary["positive"] == "beta"


def test_leakage_warning_names_the_feature(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n = 400
    today = rng.normal(size=n)
    lags = rng.normal(size=(n, 3))
    direction = np.where(today > 0, "Up", "Down")
    path = _write(tmp_path / "smarket.csv", {**{f"Lag{j}": lags[:, j] for j in range(3)},
                                             "Today": today, "Direction": direction})
    text = _fit(capsys, path, "-t", "Direction", "--no-report", "--out", tmp_path / "o")
    assert "near perfect: check for leakage" in text
    assert "'Today' (alone ROC AUC 1.000)" in text
    assert "--drop Today" in text
    # regression: bikers = casual + registered
    casual, registered = rng.poisson(30, n), rng.poisson(150, n)
    path = _write(tmp_path / "bike.csv", {"hour": rng.integers(0, 24, n), "casual": casual,
                                          "registered": registered,
                                          "bikers": casual + registered})
    text = _fit(capsys, path, "-t", "bikers", "--no-report", "--out", tmp_path / "r")
    assert "held-out R^2 = 0.9999 is near perfect" in text
    assert "--drop registered casual" in text


def test_no_leakage_warning_on_an_ordinary_fit(rare, tmp_path, capsys):
    text = _fit(capsys, rare[0], "-t", "Purchase", "--no-report", "--out", tmp_path / "o")
    assert "check for leakage" not in text


def test_multiclass_svm_fits_and_reports(tmp_path, capsys):
    """Issue 8: decision scores reached roc_auc_score(multi_class="ovr") and crashed."""
    rng = np.random.default_rng(4)
    n = 300
    X = rng.normal(size=(n, 3))
    cls = np.array(["a", "b", "c"])[np.argmax(X @ rng.normal(size=(3, 3)) + rng.normal(
        size=(n, 3)), axis=1)]
    path = _write(tmp_path / "multi.csv", {"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2],
                                           "cls": cls})
    out = tmp_path / "svm"
    text = _fit(capsys, path, "-t", "cls", "--model", "svm", "--out", out)
    assert "CV squared hinge loss" in text
    model = load_model(out / "model.json")
    pred = read_table(out / "heldout_predictions.csv").to_pydict()
    scores = np.column_stack([pred[f"score_{c}"] for c in "abc"])
    actual = np.array(pred["actual"])
    expected = np.mean([skm.roc_auc_score(actual == c, scores[:, k])
                        for k, c in enumerate("abc")])
    assert model.summary["test_metrics"]["roc_auc"] == pytest.approx(expected)
    assert (out / "confusion_matrix.png").exists() and (out / "roc.png").exists()
    # multiclass coefficient rows are norms: no sign
    cells = [c.strip() for c in text.split("│")]
    rows = [cells[i + 1:i + 3] for i, c in enumerate(cells) if c in ("x0", "x1", "x2")]
    assert len(rows) == 3
    assert all(not v.startswith(("+", "-")) and float(v) > 0 for row in rows for v in row)


def test_multiclass_logistic_auc_equals_sklearn_ovr(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 300
    X = rng.normal(size=(n, 2))
    cls = np.array(["p", "q", "r"])[np.argmax(X @ rng.normal(size=(2, 3)) + rng.gumbel(
        size=(n, 3)), axis=1)]
    path = _write(tmp_path / "m.csv", {"x0": X[:, 0], "x1": X[:, 1], "cls": cls})
    out = tmp_path / "lr"
    _fit(capsys, path, "-t", "cls", "--no-report", "--out", out)
    pred = read_table(out / "heldout_predictions.csv").to_pydict()
    proba = np.column_stack([pred[f"proba_{c}"] for c in "pqr"])
    ref = skm.roc_auc_score(pred["actual"], proba, multi_class="ovr", labels=list("pqr"))
    assert load_model(out / "model.json").summary["test_metrics"]["roc_auc"] == \
        pytest.approx(ref)


def test_cv_curve_csv_matches_the_model_file(rare, tmp_path, capsys):
    out = tmp_path / "o"
    _fit(capsys, rare[0], "-t", "Purchase", "--no-report", "--out", out)
    curve = read_table(out / "cv_curve.csv").to_pydict()
    alphas = np.array(curve["alpha"])
    assert np.all(np.diff(alphas) > 0)
    model = json.loads((out / "model.json").read_text())
    best = alphas[np.argmin(curve["mean_log_loss"])]
    assert best == pytest.approx(model["summary"]["alpha"])
    folds = np.column_stack([curve[f"fold{k}_log_loss"] for k in range(5)])
    np.testing.assert_allclose(folds.mean(axis=1), curve["mean_log_loss"], rtol=1e-12)


def test_check_defaults_to_a_metric_that_alerts_on_a_rare_class(tmp_path, capsys):
    """Shuffled outcomes keep the base rate: accuracy barely moves, the ROC AUC collapses."""
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    sys.path.insert(0, str(examples))
    try:
        from make_credit import credit_table
    finally:
        sys.path.remove(str(examples))
    table = credit_table(3000, 0)
    csv.write_csv(table, tmp_path / "credit.csv")
    shuffled = np.random.default_rng(0).permutation(table.column("default").to_numpy(
        zero_copy_only=False))
    csv.write_csv(table.set_column(table.schema.get_field_index("default"), "default",
                                   pa.array(shuffled)), tmp_path / "new.csv")
    _fit(capsys, tmp_path / "credit.csv", "-t", "default", "--drop", "customer_id",
         "--no-report", "--out", tmp_path / "o")
    model = str(tmp_path / "o" / "model.json")
    assert main(["check", model, str(tmp_path / "new.csv"), "--max-gap", "0.1",
                 "--metric", "accuracy"]) == 0
    capsys.readouterr()
    assert main(["check", model, str(tmp_path / "new.csv"), "--max-gap", "0.1"]) == 1
    assert "generalization gap of roc_auc" in capsys.readouterr().err
