"""What the command reads and writes: delimiters, binary files, missing targets, extreme and
non-finite numbers, identifiers and categories at predict time, ``check`` on undefined metrics,
``path`` for every model kind, ``--alphas`` edge values, and exit codes (2 for the user's
input, 3 for a bug)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv as pacsv

from ridgeway.cli import commands as _commands
from ridgeway.cli import csvfile, main
from ridgeway.exceptions import DataError
from ridgeway.io import read_table


def _table(n: int = 60, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x @ [1.0, 2.0, -1.0] + 0.5 * rng.normal(size=n)
    return pa.table({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2],
                     "colour": np.where(np.arange(n) % 2, "red", "blue"), "y": y})


def _csv(path: Path, table: pa.Table) -> Path:
    pacsv.write_csv(table, path)
    return path


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, *args) -> str:
    """Run a command that must fail with exit 2 and one line on stderr; return that line."""
    code, _, err = _run(capsys, *args)
    assert code == 2, err
    assert err.startswith("ridgeway: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture(scope="module")
def ridge_model(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("ridge")
    data = _csv(tmp / "train.csv", _table())
    assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(tmp / "m")]) == 0
    return tmp / "m" / "model.json", data


# ------------------------------------------------------------------ exit codes (issue 8 §5)
@pytest.mark.parametrize("exc", [TypeError("bad operand"), KeyError("coef_"),
                                 IndexError("index 3 is out of bounds"),
                                 AttributeError("no attribute 'x'")])
def test_a_bug_exits_3_saying_so_and_debug_shows_the_traceback(ridge_model, monkeypatch,
                                                               capsys, exc):
    model, data = ridge_model

    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(_commands, "predict", broken)
    code, _, err = _run(capsys, "predict", model, data)
    assert code == 3
    assert err.startswith("ridgeway: internal error in ridgeway 0.1.0 (please report it): "
                          f"{type(exc).__name__}: ")
    assert "Traceback" not in err and "--debug" in err
    code, _, err = _run(capsys, "--debug", "predict", model, data)
    assert code == 3 and "Traceback (most recent call last)" in err


def test_a_value_error_from_inside_numpy_is_a_bug_but_ridgeways_own_is_the_users(
        ridge_model, monkeypatch, capsys):
    model, data = ridge_model

    def numpy_fails(*args, **kwargs):
        np.reshape(np.arange(3), (2, 2))

    monkeypatch.setattr(_commands, "predict", numpy_fails)
    code, _, err = _run(capsys, "predict", model, data)
    assert code == 3 and "ValueError: cannot reshape" in err

    from ridgeway.cli.fitjob import parse_cv

    def ridgeway_refuses(*args, **kwargs):
        parse_cv("many", "ridge")  # ridgeway's own validation raises a plain ValueError

    monkeypatch.setattr(_commands, "predict", ridgeway_refuses)
    assert "--cv must be a number of folds" in _error(capsys, "predict", model, data)


@pytest.mark.parametrize("exc", [TypeError("unsupported operand"), KeyError("scale")])
def test_a_bug_while_loading_a_valid_model_file_is_a_bug_not_a_corrupt_file(
        ridge_model, monkeypatch, capsys, exc):
    """Every field of the file is checked first, so a KeyError or TypeError while building the
    model from it is ridgeway's bug (exit 3), not an "invalid model file" (exit 2)."""
    from ridgeway.cli.preprocess import Preprocessor

    model, data = ridge_model

    def broken(d):
        raise exc

    monkeypatch.setattr(Preprocessor, "from_dict", staticmethod(broken))
    code, _, err = _run(capsys, "predict", model, data)
    assert code == 3, err
    assert "please report" in err and f"{type(exc).__name__}: " in err
    assert "invalid model file" not in err
    code, _, err = _run(capsys, "--debug", "check", model, data, "--max-gap", "1")
    assert code == 3 and "Traceback (most recent call last)" in err


def test_a_bug_deep_in_the_fit_job_exits_3(tmp_path, monkeypatch, capsys):
    from ridgeway.cli import fitjob

    data = _csv(tmp_path / "d.csv", _table())

    def broken(*args, **kwargs):
        return {}["no such key"]

    monkeypatch.setattr(fitjob, "_id_like", broken)
    code, _, err = _run(capsys, "fit", data, "-t", "y", "--out", tmp_path / "o")
    assert code == 3 and "please report" in err and "KeyError" in err
    assert not (tmp_path / "o").exists()


def test_predict_computes_the_linear_predictor_once(ridge_model, capsys, monkeypatch):
    """``predict`` gets the predictions without calling the estimator's predict methods (each
    would compute X w + b again), and they equal what those methods give."""
    from ridgeway import Ridge
    from ridgeway.cli.modelfile import load_model

    model_path, data = ridge_model
    model = load_model(model_path)
    table = read_table(data)
    expected = model.estimator.predict(model.preprocessor.transform(table))
    calls = []
    monkeypatch.setattr(Ridge, "predict", lambda self, X: calls.append(1))
    got = model.predict_columns(table)
    assert calls == []
    np.testing.assert_array_equal(got["prediction"], expected)


@pytest.mark.parametrize("exc", [MemoryError(), pa.ArrowMemoryError("malloc of 1 GiB failed")])
def test_out_of_memory_is_one_clear_error(ridge_model, monkeypatch, capsys, exc):
    model, data = ridge_model

    def oom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(_commands, "predict", oom)
    err = _error(capsys, "predict", model, data)
    assert "out of memory" in err and "smaller file" in err and "--stream" in err


def test_user_errors_exit_2(tmp_path, ridge_model, capsys):
    model, data = ridge_model
    assert "no such file" in _error(capsys, "predict", model, tmp_path / "absent.csv")
    assert "no such model file" in _error(capsys, "predict", tmp_path / "m.json", data)


# ------------------------------------------------------------------ 10: inf, named
def test_inf_is_named_by_column_row_line_and_count(tmp_path, capsys):
    table = _table()
    x2 = table.column("x2").to_numpy().copy()
    x2[5] = np.inf
    data = _csv(tmp_path / "inf.csv", table.set_column(1, "x2", pa.array(x2)))
    err = _error(capsys, "fit", data, "-t", "y", "--no-report", "--out", tmp_path / "o")
    assert (f"column 'x2' of {data} has 1 infinite value(s) (first on row 6 (line 7 of "
            f"{data}): inf)") in err
    assert "--impute" in err and "--drop x2" in err


# ------------------------------------------------------------------ 11: delimiters
def test_semicolons_and_decimal_commas_are_detected(tmp_path, capsys):
    table = _table().drop_columns(["colour"])
    comma = _csv(tmp_path / "comma.csv", table)
    text = comma.read_text().replace(",", ";")
    semi = tmp_path / "semi.csv"
    semi.write_text(text)
    german = tmp_path / "german.csv"
    german.write_text("\n".join([text.splitlines()[0]] + [
        line.replace(".", ",") for line in text.splitlines()[1:]]) + "\n")
    for path in (semi, german):
        np.testing.assert_array_equal(read_table(path).column("x2").to_numpy(),
                                      table.column("x2").to_numpy())
    code, out, _ = _run(capsys, "fit", german, "-t", "y", "--no-report", "--out",
                        tmp_path / "o")
    assert code == 0
    assert "read as semicolon-separated with decimal commas such as" in " ".join(out.split())
    tab = tmp_path / "t.txt"
    tab.write_text(text.replace(";", "\t"))
    assert read_table(tab, sep="tab").column_names == table.column_names


def test_a_wrong_separator_says_what_was_seen(tmp_path, capsys):
    semi = tmp_path / "semi.csv"
    semi.write_text("default;student;balance\nNo;Yes;3\nYes;No;4\n")
    err = _error(capsys, "fit", semi, "-t", "default", "--sep", ",", "--no-report")
    assert "The header is one column holding semicolons: give the separator with --sep ';'" \
        in err


# ------------------------------------------------------------------ 12: binary input
@pytest.mark.parametrize("name, content, message", [
    ("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "this looks like a PNG image"),
    ("book.csv", b"PK\x03\x04" + bytes(30) + b"[Content_Types].xml xl/workbook.xml",
     "this looks like an Excel workbook (.xlsx); export the sheet as CSV"),
    ("stub.xlsx", b"", "spreadsheet workbook (.xlsx), not a CSV file; export the sheet"),
    ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel 97-2003 workbook"),
    ("blob.csv", b"a,b\n\x00\x01\x02", "binary file, not a text table"),
])
def test_binary_input_is_recognized_and_named(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    err = _error(capsys, "fit", path, "-t", "y", "--no-report")
    assert message in err and str(path) in err
    assert "\\x" not in err and "\x00" not in err


def test_parquet_named_csv_is_read_as_parquet(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "really.csv"
    pq.write_table(_table(), path)
    assert read_table(path).equals(_table().replace_schema_metadata(
        read_table(path).schema.metadata))


# ------------------------------------------------------------------ 13: missing target
def test_missing_target_values_are_counted_and_can_be_dropped(tmp_path, capsys):
    table = _table()
    y = table.column("y").to_pylist()
    for i in (2, 7, 30):
        y[i] = None
    data = _csv(tmp_path / "hitters.csv", table.set_column(4, "y", pa.array(y)))
    err = _error(capsys, "fit", data, "-t", "y", "--no-report", "--out", tmp_path / "o")
    assert (f"{data}: the target 'y' is missing on 3 of 60 rows (first on row 3 (line 4 of "
            f"{data})); drop those rows with --drop-missing-target") in err
    code, out, _ = _run(capsys, "fit", data, "-t", "y", "--drop-missing-target", "--no-report",
                        "--out", tmp_path / "o")
    assert code == 0
    out = " ".join(out.split())
    assert "3 rows with a missing target dropped" in out and "57 rows" in out


# ------------------------------------------------------------------ 14: fit needs DATA
def test_fit_without_data_is_an_error_pointing_to_demo(capsys):
    err = _error(capsys, "fit", "-t", "default")
    assert "ridgeway fit needs a DATA file" in err and "ridgeway demo" in err


# ------------------------------------------------------------------ 15: path for every kind
def _classes_table(n: int = 120) -> pa.Table:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, 3))
    default = np.where(x[:, 0] - x[:, 1] + rng.normal(size=n) > 0, "Yes", "No")
    counts = rng.poisson(np.exp(0.4 * x[:, 0] - 0.2 * x[:, 2]))
    tri = np.array(["a", "b", "c"])[np.digitize(x[:, 0] + 0.5 * rng.normal(size=n), [-.5, .5])]
    return pa.table({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "default": default,
                     "visits": counts, "tri": tri})


@pytest.mark.parametrize("model, target", [("logistic", "default"), ("poisson", "visits"),
                                           ("svm", "default"), ("logistic", "tri")])
def test_path_works_for_every_model_kind(tmp_path, capsys, model, target):
    from ridgeway import LinearSVC, LogisticRegression, PoissonRegressor

    table = _classes_table()
    data = _csv(tmp_path / "d.csv", table)
    others = [c for c in ("default", "visits", "tri") if c != target]
    code, out, err = _run(capsys, "path", data, "-t", target, "--model", model, "--drop",
                          *others, "--n-alphas", "6", "--out", tmp_path / "p")
    assert code == 0, err
    assert "path of " in out
    lines = (tmp_path / "p" / "path.csv").read_text().splitlines()
    header = lines[0].split(",")
    values = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert header[0] == "alpha" and values.shape[0] == 6
    # each row equals the single-alpha estimator fitted at that alpha on standardized X
    X = np.column_stack([table.column(c).to_numpy() for c in ("x1", "x2", "x3")])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.asarray(table.column(target).to_pylist())
    cls = {"logistic": LogisticRegression, "svm": LinearSVC, "poisson": PoissonRegressor}[model]
    for row in values[[0, -1]]:
        est = cls(alpha=row[0], tol=1e-10).fit(X, y)
        # binary/poisson: one coefficient per feature; multiclass: class by class
        np.testing.assert_allclose(row[1:], np.ravel(est.coef_), rtol=1e-5, atol=1e-6)
    assert (tmp_path / "p" / "path.png").read_bytes()[:4] == b"\x89PNG"


# ------------------------------------------------------------------ 16: --alphas
def test_negative_alphas_are_parsed_and_refused(ridge_model, capsys):
    _, data = ridge_model
    for args in (["--alphas", "-1,2"], ["--alphas=-1,2"]):
        err = _error(capsys, "fit", data, "-t", "y", *args, "--no-report")
        assert "--alphas -1,2: negative alphas are invalid" in err


def test_alpha_zero_is_minimum_norm_least_squares(tmp_path, capsys):
    table = _table()
    table = table.append_column("x1_again", table.column("x1"))  # rank-deficient design
    data = _csv(tmp_path / "d.csv", table)
    assert main(["fit", str(data), "-t", "y", "--alphas", "0", "--test-size", "0",
                 "--no-report", "--out", str(tmp_path / "o")]) == 0
    capsys.readouterr()
    doc = json.loads((tmp_path / "o" / "model.json").read_text())
    assert doc["summary"]["alpha"] == 0.0
    pre = doc["preprocessing"]
    assert pre["binary"] == ["colour"] and pre["categories"]["colour"][1] == "red"
    X = np.column_stack([
        (np.asarray(table.column(c).to_pylist()) == "red").astype(float) if c == "colour"
        else table.column(c).to_numpy() for c in pre["columns"]])
    X = (X - np.asarray(pre["mean"])) / np.asarray(pre["scale"])
    y = table.column("y").to_numpy()
    expected = np.linalg.pinv(X - X.mean(axis=0)) @ (y - y.mean())
    np.testing.assert_allclose(doc["model"]["fitted"]["coef_"], expected, rtol=1e-8,
                               atol=1e-10)


def test_alpha_zero_on_separable_classes_is_refused_in_command_terms(tmp_path, capsys):
    x = np.linspace(-1, 1, 40)
    data = _csv(tmp_path / "sep.csv", pa.table({"x": x, "c": np.where(x > 0, "a", "b")}))
    err = _error(capsys, "fit", data, "-t", "c", "--alphas", "0", "--no-report")
    assert "perfectly separable" in err and "--alphas 0.001,1" in err


# ------------------------------------------------------------------ non-finite numbers (§5)
def test_a_non_finite_ridge_prediction_is_an_error_naming_row_and_column(ridge_model, tmp_path,
                                                                        capsys):
    model, data = ridge_model
    table = read_table(data)
    x2 = table.column("x2").to_numpy().copy()
    x2[[3, 9]] = 1e308
    new = _csv(tmp_path / "new.csv", table.set_column(1, "x2", pa.array(x2)))
    out = tmp_path / "pred.csv"
    out.write_text("previous\n")
    err = _error(capsys, "predict", model, new, "--out", out)
    assert f"{new}: the prediction is not a finite number on 2 row(s) (row(s) 4, 10" in err
    assert "driven by column 'x2' with value 1e+308" in err
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv", "pred.csv"]


def test_a_non_finite_poisson_prediction_is_an_error(tmp_path, capsys):
    table = _classes_table().select(["x1", "x2", "visits"])
    data = _csv(tmp_path / "c.csv", table)
    assert main(["fit", str(data), "-t", "visits", "--model", "poisson", "--no-report",
                 "--out", str(tmp_path / "m")]) == 0
    x1 = table.column("x1").to_numpy().copy()
    x1[0] = 1e5
    new = _csv(tmp_path / "new.csv", table.set_column(0, "x1", pa.array(x1)))
    capsys.readouterr()
    err = _error(capsys, "predict", tmp_path / "m" / "model.json", new)
    assert "not a finite number on 1 row(s) (row(s) 1;" in err and "column 'x1'" in err


def test_one_huge_value_does_not_overflow_the_standardization(tmp_path, capsys):
    table = _table()
    x2 = table.column("x2").to_numpy().copy()
    x2[0] = 1e308
    data = _csv(tmp_path / "huge.csv", table.set_column(1, "x2", pa.array(x2)))
    assert main(["fit", str(data), "-t", "y", "--test-size", "0", "--no-report",
                 "--out", str(tmp_path / "o")]) == 0
    doc = json.loads((tmp_path / "o" / "model.json").read_text())
    scale = doc["preprocessing"]["scale"][1]
    mean = doc["preprocessing"]["mean"][1]
    exact_sd = float(np.std(x2 / 1e308)) * 1e308  # no overflow: computed on x / 1e308
    assert math.isfinite(scale) and scale == pytest.approx(exact_sd, rel=1e-12)
    assert mean == pytest.approx(1e308 / len(x2), rel=1e-12)
    assert all(math.isfinite(c) and c != 0 for c in doc["model"]["fitted"]["coef_"][:1])


def test_integers_beyond_2_53_are_used_with_a_note(tmp_path, capsys):
    table = _table()
    big = pa.array([2**60 + 1024 * i for i in range(table.num_rows)], type=pa.int64())
    data = _csv(tmp_path / "big.csv", table.append_column("ts", big))
    code, out, err = _run(capsys, "fit", data, "-t", "y", "--no-report", "--out",
                          tmp_path / "o")
    assert code == 0, err
    assert "column 'ts' holds integers beyond 2**53" in " ".join(out.split())


def test_a_field_longer_than_a_csv_block_is_read(tmp_path):
    path = tmp_path / "long.csv"
    long = "z" * 3_000_000
    path.write_text(f"a,note,y\n1,short,2\n2,{long},3\n3,x,4\n")
    table = read_table(path)
    assert table.column("note").to_pylist()[1] == long and table.num_rows == 3


# ------------------------------------------------------------------ check on NaN (§5)
def test_check_fails_loudly_when_it_cannot_measure(ridge_model, tmp_path, capsys):
    model, data = ridge_model
    err = _error(capsys, "check", model, data, "--max-gap", "nan")
    assert "--max-gap must be a finite number" in err
    one = tmp_path / "one.csv"
    one.write_text("\n".join(data.read_text().splitlines()[:2]) + "\n")
    err = _error(capsys, "check", model, one, "--max-gap", "0.1")
    assert f"cannot compute r2 on the 1 row(s) of {one}" in err and "--metric" in err
    doc = json.loads(model.read_text())
    doc["summary"]["train_metrics"]["r2"] = None
    nan_model = tmp_path / "m.json"
    nan_model.write_text(json.dumps(doc))
    err = _error(capsys, "check", nan_model, data, "--max-gap", "0.1")
    assert "has no training value of r2" in err


# ------------------------------------------------------------------ 9: predict workflow
def test_predict_passes_ids_through_and_warns_about_unseen_categories(ridge_model, tmp_path,
                                                                     capsys):
    model, data = ridge_model
    table = read_table(data)
    colour = table.column("colour").to_pylist()
    colour[:4] = ["green", "green", "pink", None]
    new = table.set_column(3, "colour", pa.array(colour)).append_column(
        "customer", pa.array([f"c,{i}" for i in range(table.num_rows)])).append_column(
        "n", pa.array(np.arange(table.num_rows) * 10))
    new_csv = _csv(tmp_path / "new.csv", new)
    out = tmp_path / "pred.csv"
    code, _, err = _run(capsys, "predict", model, new_csv, "--id", "customer", "--id", "n",
                        "--out", out)
    assert code == 0
    assert (f"ridgeway: warning: column 'colour' of {new_csv}: 3 row(s) with 2 categories "
            "not seen in training ('green' (2), 'pink' (1))") in err
    got = pacsv.read_csv(out)
    assert got.column_names == ["customer", "n", "prediction"]
    assert got.column("customer").to_pylist() == [f"c,{i}" for i in range(table.num_rows)]
    assert got.column("n").to_pylist() == list(range(0, 10 * table.num_rows, 10))
    err = _error(capsys, "predict", model, new_csv, "--id", "custome")
    assert "unknown column in --id 'custome'. Did you mean 'customer'?" in err


def test_a_boolean_target_keeps_its_labels(tmp_path, capsys):
    table = _table()
    flag = pa.array(table.column("y").to_numpy() > 0)
    data = _csv(tmp_path / "b.csv", table.drop_columns(["y"]).append_column("flag", flag))
    assert main(["fit", str(data), "-t", "flag", "--no-report", "--out",
                 str(tmp_path / "m")]) == 0
    capsys.readouterr()
    code, out, _ = _run(capsys, "predict", tmp_path / "m" / "model.json", data)
    assert code == 0
    header, *rows = out.splitlines()
    assert header == "prediction,proba_False,proba_True"
    assert {r.split(",")[0] for r in rows} <= {"True", "False"}


def test_predictions_are_written_in_chunks_identically(monkeypatch):
    values = np.random.default_rng(0).normal(size=1000)
    whole = csvfile.predictions_csv({"prediction": values})
    monkeypatch.setattr(csvfile, "_CHUNK_ROWS", 7)
    assert csvfile.predictions_csv({"prediction": values}) == whole
    parsed = np.array([float(v) for v in whole.decode().splitlines()[1:]])
    np.testing.assert_array_equal(parsed, values)  # round-trips exactly


def test_errors_through_a_real_process_have_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "ridgeway", "fit", "-t", "y"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    with pytest.raises(DataError):
        read_table(tmp_path / "nothing.csv")
