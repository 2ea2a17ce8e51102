"""Bad input through the real command: one line on stderr, non-zero exit, no traceback, no
partial output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = "a,b,c,y\n1,2,x,3.5\n2,1,y,4.0\n3,5,x,1.5\n4,3,y,2.5\n5,4,x,6.0\n6,8,y,7.5\n7,6,x,5\n"


def ridgeway(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ridgeway", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


CASES = {
    "missing file": (lambda t: ["fit", t / "nope.csv", "-t", "y"], "no such file"),
    "empty file": (lambda t: ["fit", _write(t, "e.csv", ""), "-t", "y"], "file is empty"),
    "unparseable csv": (lambda t: ["fit", _write(t, "u.csv", "a,y\n1,2\n3,4,5\n"), "-t", "y"],
                        "cannot parse the CSV file"),
    "unknown target": (lambda t: ["fit", _write(t, "g.csv", GOOD.replace("y\n", "price\n", 1)),
                                  "-t", "prices"], "Did you mean 'price'?"),
    "non-numeric target for ridge": (
        lambda t: ["fit", _write(t, "g.csv", GOOD), "-t", "c", "--model", "ridge"],
        "target 'c' is not numeric"),
    "duplicate columns": (lambda t: ["fit", _write(t, "d.csv", "a,a,y\n1,2,3\n4,5,6\n"),
                                     "-t", "y"], "duplicate column name(s) 'a'"),
    "all-NaN column": (lambda t: ["fit", _write(t, "n.csv", GOOD.replace("\n", ",\n").replace(
        "y,\n", "y,empty\n", 1)), "-t", "y"], "column 'empty' is entirely missing"),
    "missing values without --impute": (
        lambda t: ["fit", _write(t, "m.csv", GOOD.replace("1,2,x", "1,,x").replace(
            "3,5,x", ",5,x")), "-t", "y"],
        "missing values in 2 column(s): a (1), b (1)"),
    "constant column": (
        lambda t: ["fit", _write(t, "k.csv", "a,k,y\n" + "".join(
            f"{i},3,{i % 3}\n" for i in range(12))), "-t", "y"],
        "constant column(s) on the training rows: 'k' (always 3)"),
    "bad --cv": (lambda t: ["fit", _write(t, "g.csv", GOOD), "-t", "y", "--cv", "gcv",
                            "--model", "poisson"], "--cv gcv is for ridge only"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_fit_input(tmp_path, case):
    make_args, message = CASES[case]
    out = tmp_path / "out"
    res = ridgeway(*make_args(tmp_path), "--out", out, cwd=tmp_path)
    _assert_clean_failure(res, message)
    assert not out.exists()


def _assert_clean_failure(res: subprocess.CompletedProcess, message: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("ridgeway: error: ")
    assert message in lines[0]
    assert "Traceback" not in res.stderr + res.stdout


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("fitted")
    data = _write(tmp, "g.csv", GOOD)
    res = ridgeway("fit", data, "-t", "y", "--no-report", "--out", tmp / "m", cwd=tmp)
    assert res.returncode == 0, res.stderr
    return tmp / "m" / "model.json", data


@pytest.mark.parametrize("case", ["corrupt", "newer version", "not a model", "columns"])
def test_bad_predict_input(tmp_path, fitted, case):
    model, data = fitted
    if case == "corrupt":
        model = _write(tmp_path, "model.json", model.read_text()[:100])
        message = "corrupt model file (not valid JSON"
    elif case == "newer version":
        doc = json.loads(model.read_text())
        doc["format_version"] = 99
        model = _write(tmp_path, "model.json", json.dumps(doc))
        message = "model format version 99 is newer than this ridgeway reads"
    elif case == "not a model":
        model = _write(tmp_path, "model.json", '{"hello": 1}')
        message = "not a ridgeway model file"
    else:
        data = _write(tmp_path, "other.csv", "a,bb,c\n1,2,x\n")
        message = "unknown column (needed by the model) 'b'. Did you mean 'bb'?"
    out = tmp_path / "pred.csv"
    res = ridgeway("predict", model, data, "--out", out, cwd=tmp_path)
    _assert_clean_failure(res, message)
    assert not out.exists()


#: runs the command with one of its in-memory steps failing to allocate (as numpy raises
#: MemoryError, and pyarrow ArrowMemoryError, a MemoryError, when an allocation fails)
_OOM = """
import sys
import pyarrow as pa
import ridgeway.cli.commands, ridgeway.cli.fitjob, ridgeway.cli.preprocess
from ridgeway.cli.app import main
def fail(*args, **kwargs):
    raise {error}("malloc of size 1048768 failed")
owner, name = sys.argv[1].rsplit(".", 1)
target = eval(owner)
setattr(target, name, fail)
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("step, error", [
    ("ridgeway.cli.fitjob.read_table", "pa.ArrowMemoryError"),
    ("ridgeway.cli.preprocess.Preprocessor.fit_transform", "MemoryError"),
    ("ridgeway.cli.commands.report.build_report", "MemoryError"),
])
def test_fit_out_of_memory_suggests_stream(tmp_path, step, error):
    data = _write(tmp_path, "g.csv", "a,b,y\n" + "".join(
        f"{i},{(7 * i) % 11},{i % 5 + 0.5 * i}\n" for i in range(40)))
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-c", _OOM.format(error=error), step, "fit", str(data),
                          "-t", "y", "--out", str(out)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    _assert_clean_failure(res, f"out of memory fitting {data} (0 MiB on disk) in memory; "
                               "rerun with --stream")
    assert not out.exists()


@pytest.mark.parametrize("step, error", [
    ("ridgeway.cli.commands.read_table", "pa.ArrowMemoryError"),
    ("ridgeway.cli.preprocess.Preprocessor.transform", "MemoryError"),
])
def test_predict_out_of_memory_suggests_stream(tmp_path, fitted, step, error):
    model, data = fitted
    out = tmp_path / "pred.csv"
    res = subprocess.run([sys.executable, "-c", _OOM.format(error=error), step, "predict",
                          str(model), str(data), "--out", str(out)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    _assert_clean_failure(res, f"out of memory predicting {data} (0 MiB on disk) in memory; "
                               "rerun with --stream, which reads the file and works batch by "
                               "batch")
    assert not out.exists()
