"""``ridgeway fit`` modelling options and terminal output (issue 9 items 3, 4, 5, 8, 9)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv

from ridgeway.cli import main
from ridgeway.cli.modelfile import load_model
from ridgeway.exceptions import DataError
from ridgeway.io import read_table

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _write(path, columns):
    csv.write_csv(pa.table(columns), path)
    return path


def _fit(capsys, *args):
    code = main(["fit", *map(str, args)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return " ".join(out.out.split())


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=(n, 3))
    exposure = rng.uniform(0.5, 4.0, n)
    y = rng.poisson(exposure * np.exp(0.2 + 0.5 * x[:, 0] - 0.3 * x[:, 1]))
    path = _write(tmp_path_factory.mktemp("counts") / "claims.csv",
                  {"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "years": exposure,
                   "log_years": np.log(exposure), "claims": y})
    return path, x, y, exposure


def test_count_hint_only_for_count_like_targets(counts, tmp_path, capsys):
    path = counts[0]
    text = _fit(capsys, path, "-t", "claims", "--drop", "years", "log_years", "--no-report",
                "--out", tmp_path / "a")
    assert "looks like counts" in text and "--model poisson" in text
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    salary = np.round(np.exp(6 + 0.3 * x + 0.4 * rng.normal(size=300)), 1)  # skewed, not counts
    medv = np.round(22 + 3 * x + rng.normal(size=300), 1)
    wage = np.round(100 + 30 * x + 20 * rng.normal(size=300)).astype(int)  # integers, large
    p = _write(tmp_path / "s.csv", {"x": x, "salary": salary, "medv": medv, "wage": wage})
    for target in ("salary", "medv", "wage"):
        others = [c for c in ("salary", "medv", "wage") if c != target]
        text = _fit(capsys, p, "-t", target, "--drop", *others, "--no-report", "--out",
                    tmp_path / target)
        assert "--model poisson" not in text, target


def _offset_fit(X, y, log_e, alpha):
    """Poisson regression with an offset, written directly: minimize
    sum_i exp(f_i + log e_i) - y_i (f_i + log e_i) + alpha/2 ||w||^2."""
    from scipy.optimize import minimize

    def objective(theta):
        w, b = theta[:-1], theta[-1]
        f = X @ w + b + log_e
        mu = np.exp(f)
        return np.sum(mu - y * f) + alpha / 2 * w @ w, np.append(X.T @ (mu - y) + alpha * w,
                                                                 np.sum(mu - y))

    res = minimize(objective, np.zeros(X.shape[1] + 1), jac=True, method="BFGS",
                   options={"gtol": 1e-10, "maxiter": 10_000})
    return res.x[:-1], res.x[-1]


@pytest.mark.parametrize("flag,column", [("--exposure", "years"), ("--offset", "log_years")])
def test_poisson_exposure_equals_the_offset_model(counts, tmp_path, capsys, flag, column):
    path, _, y, exposure = counts
    out = tmp_path / "p"
    other = "log_years" if column == "years" else "years"
    text = _fit(capsys, path, "-t", "claims", "--model", "poisson", flag, column, "--drop",
                other, "--test-size", "0", "--cv", "3", "--no-report", "--out", out)
    assert "exposure from column" in text
    model = load_model(out / "model.json")
    assert model.preprocessor.columns == ["x0", "x1", "x2"]
    assert model.summary["exposure"] == column
    X = model.preprocessor.transform(read_table(path))
    w, b = _offset_fit(X, y.astype(float), np.log(exposure), model.estimator.alpha)
    np.testing.assert_allclose(model.estimator.coef_, w, rtol=1e-5, atol=1e-7)
    assert model.estimator.intercept_ == pytest.approx(b, rel=1e-5)


def test_exposure_is_for_poisson_only(counts, capsys):
    assert main(["fit", str(counts[0]), "-t", "claims", "--exposure", "years"]) == 2
    assert "--exposure is for --model poisson only" in capsys.readouterr().err


def test_poisson_conventions_rows_reproduce_the_peers(counts, tmp_path, capsys):
    from sklearn.linear_model import PoissonRegressor

    path, _, y, _ = counts
    out = tmp_path / "c"
    text = _fit(capsys, path, "-t", "claims", "--model", "poisson", "--drop", "years",
                "log_years", "--test-size", "0", "--cv", "3", "--no-report", "--out", out)
    model = load_model(out / "model.json")
    alpha, n = model.estimator.alpha, len(y)
    for tool in ("scikit-learn PoissonRegressor alpha", "glmnet lambda", "glum"):
        assert tool in text
    value = float(text.split("scikit-learn PoissonRegressor alpha │")[1].split("│")[0])
    assert value == pytest.approx(alpha / n, rel=1e-3)
    X = model.preprocessor.transform(read_table(path))
    ref = PoissonRegressor(alpha=alpha / n, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.estimator.coef_, ref.coef_, rtol=1e-5, atol=1e-8)


def test_svm_conventions_row_is_linear_svc_C(tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2))
    path = _write(tmp_path / "b.csv", {"x0": x[:, 0], "x1": x[:, 1],
                                       "y": (x[:, 0] + rng.normal(size=200) > 0).astype(int)})
    text = _fit(capsys, path, "-t", "y", "--model", "svm", "--no-report", "--out",
                tmp_path / "o")
    alpha = load_model(tmp_path / "o" / "model.json").estimator.alpha
    value = float(text.split("scikit-learn LogisticRegression / LinearSVC C │")[1]
                  .split("│")[0])
    assert value == pytest.approx(1 / alpha, rel=1e-3)
    assert "liblinear also penalizes the intercept" in text


def test_binary_categories_one_column_and_trimmed_levels(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n = 200
    division = rng.choice(["E", "W"], n)
    gender = rng.choice([" Male", "Female ", "Male"], n)  # padded levels
    league = rng.choice(["A", "N", "X"], n)
    y = 60 * (division == "W") + rng.normal(size=n)
    path = _write(tmp_path / "h.csv", {"Division": division, "Gender": gender,
                                       "League": league, "Salary": y})
    text = _fit(capsys, path, "-t", "Salary", "--no-report", "--out", tmp_path / "o")
    assert "Division (2 levels: one 0/1 column, 1 = 'W')" in text
    model = load_model(tmp_path / "o" / "model.json")
    names = model.preprocessor.feature_names
    assert "Division=W" in names and "Division=E" not in names
    assert "Gender=Male" in names and not any(n.startswith("Gender= ") for n in names)
    assert sum(n.startswith("League=") for n in names) == 3  # K > 2: full one-hot
    j = names.index("Division=W")
    original = model.estimator.coef_[j] / model.preprocessor.scale[j]
    assert original == pytest.approx(60, rel=0.05)  # the whole effect in one coefficient


def test_time_split_holds_out_the_latest_rows_and_folds_forward(tmp_path, capsys):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import TimeSeriesSplit

    rng = np.random.default_rng(4)
    n = 120
    days = rng.permutation(n)  # rows are not in time order in the file
    dates = np.array(np.datetime64("2024-01-01") + days, dtype="datetime64[D]").astype(str)
    x = rng.normal(size=(n, 2))
    y = x @ np.array([1.0, -1.0]) + 0.01 * days + rng.normal(size=n)
    path = _write(tmp_path / "t.csv", {"date": dates, "x0": x[:, 0], "x1": x[:, 1], "y": y})
    out = tmp_path / "o"
    text = _fit(capsys, path, "-t", "y", "--split", "time", "--time-column", "date",
                "--alphas", "0.1,1,10", "--no-report", "--out", out)
    assert "5 forward (time-ordered) folds" in text
    held = read_table(out / "heldout_predictions.csv").to_pydict()
    test_days = days[np.array(held["row"])]
    assert sorted(test_days) == list(range(n - 24, n))
    # the CV curve equals scikit-learn's Ridge on forward folds of the time-ordered rows
    model = load_model(out / "model.json")
    order = np.argsort(days)[: n - 24]
    X = model.preprocessor.transform(read_table(path))[order]
    yt = y[order]
    curve = read_table(out / "cv_curve.csv").to_pydict()
    for alpha, mse in zip(curve["alpha"], curve["mean_MSE"], strict=True):
        errs = [np.mean((yt[te] - Ridge(alpha=alpha).fit(X[tr], yt[tr]).predict(X[te])) ** 2)
                for tr, te in TimeSeriesSplit(5).split(X)]
        assert mse == pytest.approx(np.mean(errs), rel=1e-8)
    assert main(["fit", str(path), "-t", "y", "--split", "time"]) == 2
    assert "--split time needs --time-column" in capsys.readouterr().err


def test_alphas_auto_reaches_the_glm_estimators(tmp_path, capsys):
    """The default grid's best alpha is at its small end here; 'auto' must widen it.

    Needs LogisticRegressionCV(alphas="auto") from the GLM branch: on this branch alone the
    estimator rejects the string and this test fails."""
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.normal(size=(n, 2))
    y = (x @ np.array([3.0, -2.0]) + rng.logistic(size=n) > 0).astype(int)
    path = _write(tmp_path / "a.csv", {"x0": x[:, 0], "x1": x[:, 1], "y": y})
    _fit(capsys, path, "-t", "y", "--no-report", "--out", tmp_path / "grid")
    grid = np.array(read_table(tmp_path / "grid" / "cv_curve.csv").to_pydict()["alpha"])
    _fit(capsys, path, "-t", "y", "--alphas", "auto", "--no-report", "--out",
         tmp_path / "auto")
    auto = np.array(read_table(tmp_path / "auto" / "cv_curve.csv").to_pydict()["alpha"])
    assert auto.min() < grid.min()


def test_cv_prefers_almost_no_penalty(tmp_path, capsys):
    rng = np.random.default_rng(6)
    n = 3000
    x = rng.normal(size=(n, 3))
    y = x @ np.array([5.0, -4.0, 3.0]) + 0.1 * rng.normal(size=n)
    path = _write(tmp_path / "big.csv", {"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "y": y})
    text = _fit(capsys, path, "-t", "y", "--no-report", "--out", tmp_path / "o")
    assert "CV prefers almost no penalty" in text
    assert "smallest of the grid" not in text


def test_glm_df_is_reported(tmp_path, capsys):
    from scipy.special import expit

    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(int)
    path = _write(tmp_path / "d.csv", {**{f"x{j}": x[:, j] for j in range(4)}, "y": y})
    text = _fit(capsys, path, "-t", "y", "--test-size", "0", "--no-report", "--out",
                tmp_path / "o")
    model = load_model(tmp_path / "o" / "model.json")
    X = model.preprocessor.transform(read_table(path))
    est = model.estimator
    p = expit(X @ est.coef_.ravel() + est.intercept_)
    X1 = np.column_stack([X, np.ones(len(X))])
    A = X1.T @ ((p * (1 - p))[:, None] * X1)
    df = float(np.trace(np.linalg.solve(A + est.alpha * np.diag([1.0] * 4 + [0.0]), A))) - 1
    assert 0 < df < 4
    assert f"│ {df:.3g} │" in text


def test_convergence_notes_become_one_line_with_an_option(tmp_path, capsys):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(80, 40))
    y = (x[:, 0] + rng.normal(size=80) > 0).astype(int)
    path = _write(tmp_path / "k.csv", {**{f"x{j}": x[:, j] for j in range(40)}, "y": y})
    text = _fit(capsys, path, "-t", "y", "--max-iter", "1", "--no-report", "--out",
                tmp_path / "o")
    assert text.count("iteration limit") == 1
    assert "--max-iter 2" in text
    assert "Increase max_iter" not in text


def test_main_does_not_silence_warnings(monkeypatch, tmp_path):
    import ridgeway.cli.app as cli
    from ridgeway.cli import commands

    def noisy(options, progress):
        warnings.warn("a warning from below", UserWarning, stacklevel=1)
        raise DataError("stop here")

    monkeypatch.setattr(commands, "run_fit", noisy)
    with pytest.warns(UserWarning, match="a warning from below"):
        assert cli.main(["fit", str(tmp_path / "x.csv"), "-t", "y"]) == 2


def test_piped_output_honours_COLUMNS(counts, tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC}
    widths = {}
    for columns in ("60", "200"):
        res = subprocess.run([sys.executable, "-m", "ridgeway", "fit", str(counts[0]),
                              "-t", "claims", "--no-report", "--out", str(tmp_path / columns)],
                             capture_output=True, text=True, env={**env, "COLUMNS": columns},
                             timeout=300)
        assert res.returncode == 0, res.stderr
        widths[columns] = max(len(line) for line in res.stdout.splitlines())
    assert widths["60"] <= 60 < 110 < widths["200"] <= 200


def test_report_command_line_repeats_the_run():
    """FitOptions.command_line() parses back (through the real parser) to the same options."""
    import shlex

    from ridgeway.cli import app as cli
    from ridgeway.cli.options import FitOptions

    original = FitOptions(data=Path("my data.csv"), target="default", model="logistic",
                          cv="3", alphas="0.1,1", selection="1se", test_size=0.3,
                          standardize=False, drop=["id", "x y"], impute="mean",
                          random_state=5, positive="Yes", class_weight="balanced",
                          split="time", time_column="date", l1=False, max_iter=50)
    words = shlex.split(original.command_line())
    assert words[:2] == ["ridgeway", "fit"]
    args = cli.build_parser().parse_args(words[1:])
    assert FitOptions.from_args(args) == original


def test_the_report_command_line_spells_every_option_of_the_table():
    """FitOptions.command_line() is derived from the parser's table: the file options (--sep,
    --drop-missing-target) and --no-report repeat the run too."""
    import shlex

    from ridgeway.cli import app as cli
    from ridgeway.cli.options import FIT_FLAGS, FitOptions

    assert {f.field for f in FIT_FLAGS} | {"data"} == set(FitOptions.__dataclass_fields__)
    original = FitOptions(data=Path("d.csv"), target="y", sep=";", drop_missing_target=True,
                          report=False, model="poisson", exposure="years")
    words = shlex.split(original.command_line())
    assert "--sep" in words and "--drop-missing-target" in words and "--no-report" in words
    args = cli.build_parser().parse_args(words[1:])
    assert FitOptions.from_args(args) == original


def test_no_module_of_the_command_imports_in_a_circle_or_inside_a_function():
    """The command's modules import each other at the top only, and without a cycle
    (function-level imports are left to optional dependencies such as matplotlib)."""
    import ast

    import ridgeway.cli

    folder = Path(ridgeway.cli.__file__).parent
    graph = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = {node for node in tree.body if isinstance(node, ast.ImportFrom)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and node not in top:
                raise AssertionError(f"{path.name}:{node.lineno} imports ridgeway inside a "
                                     "function")
        graph[path.stem] = {a.name if n.module is None else n.module for n in top
                            if n.level == 1 for a in n.names}
    seen, done = set(), set()

    def visit(name, trail):
        assert name not in seen - done, f"import cycle: {' -> '.join(trail)}"
        if name in done:
            return
        seen.add(name)
        for dep in graph.get(name, ()):
            visit(dep, [*trail, dep])
        done.add(name)

    for name in graph:
        visit(name, [name])
