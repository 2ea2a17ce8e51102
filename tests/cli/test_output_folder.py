"""The output folder is written all or nothing, by one run at a time, with clear errors.

Failures are made real where that is practical (a second process holding the lock, a process
killed with SIGKILL while staging and right after the swap) and otherwise by making one
system call of the writer fail in-process.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ridgeway.cli import atomic as _atomic
from ridgeway.cli import main
from ridgeway.cli.atomic import atomic_write, folder_lock, replace_folder
from ridgeway.exceptions import OutputError

DATA = "a,b,y\n" + "".join(f"{i},{(i * 7) % 5},{i % 3 + 0.5 * i}\n" for i in range(30))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _beside(out: Path) -> list[str]:
    """Everything in the parent folder of ``out`` except ``out`` itself."""
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def test_each_run_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "out"
    replace_folder(out, {"model.json": "{1}", "report.html": "<p>", "shrinkage.png": b"png"})
    replace_folder(out, {"model.json": "{2}"})
    assert sorted(_tree(out)) == [_atomic.MARKER, "model.json"]
    assert (out / "model.json").read_text() == "{2}"
    assert _beside(out) == []


def test_the_fallback_without_an_atomic_exchange_also_replaces(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    replace_folder(out, {"model.json": "{1}", "old.png": b"png"})
    replace_folder(out, {"model.json": "{2}"})
    assert sorted(_tree(out)) == [_atomic.MARKER, "model.json"]
    assert _beside(out) == []


def _fail_second_file(monkeypatch):
    real, calls = _atomic._write_new, []

    def write(path, payload):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, payload)

    monkeypatch.setattr(_atomic, "_write_new", write)
    return "no space left on the device; free some space or choose another --out"


def _fail_exchange(monkeypatch):
    def exchange(a, b):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(_atomic, "_exchange", exchange)
    return "Input/output error"


def _fail_rename_in(monkeypatch):
    """The two-rename fallback: the old folder is moved aside, then moving the new one in
    fails once; the old one must be moved back."""
    monkeypatch.setattr(_atomic, "_exchange", lambda a, b: False)
    real, failed = os.rename, []

    def rename(src, dst):
        if Path(src).name.endswith(_atomic._TMP_SUFFIX) and ".old" not in Path(src).name \
                and not failed:
            failed.append(src)
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(_atomic.os, "rename", rename)
    return "Input/output error"


@pytest.mark.parametrize("fail", [_fail_second_file, _fail_exchange, _fail_rename_in])
def test_a_failed_write_leaves_the_previous_folder_and_no_temporary_file(tmp_path, monkeypatch,
                                                                         fail):
    out = tmp_path / "out"
    replace_folder(out, {"model.json": "old", "report.html": "old report"})
    before = _tree(out)
    message = fail(monkeypatch)
    with pytest.raises(OutputError, match=message) as info:
        replace_folder(out, {"model.json": "new", "report.html": "new report", "cv.png": b"x"})
    assert str(out) in str(info.value) and "Nothing was changed" in str(info.value)
    assert _tree(out) == before
    assert _beside(out) == []


def test_a_folder_ridgeway_did_not_write_is_never_replaced(tmp_path):
    out = tmp_path / "mydata"
    out.mkdir()
    (out / "sales.csv").write_text("a\n1\n")
    with pytest.raises(OutputError, match=r"holds files ridgeway did not write \(sales.csv\)"):
        replace_folder(out, {"model.json": "x"})
    assert _tree(out) == {"sales.csv": b"a\n1\n"}
    # a folder named like an output file inside an old output folder is not ours either
    old = tmp_path / "old"
    (old / "report.html").mkdir(parents=True)
    (old / "model.json").write_text("{}")
    with pytest.raises(OutputError, match="did not write"):
        replace_folder(old, {"model.json": "x"})
    assert (old / "report.html").is_dir() and (old / "model.json").read_text() == "{}"


def test_a_file_named_like_the_folder_is_an_error_naming_it(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text(DATA)
    out = tmp_path / "out"
    out.write_text("not a folder")
    assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot write the folder {out}: a file of that name is in the way" in err
    assert out.read_text() == "not a folder"


def test_an_unwritable_parent_is_one_clear_error(tmp_path, monkeypatch, capsys):
    def mkdtemp(**kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_atomic.tempfile, "mkdtemp", mkdtemp)
    data = tmp_path / "d.csv"
    data.write_text(DATA)
    out = tmp_path / "out"
    assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the folder {out}: permission denied" in err
    assert "Traceback" not in err and not out.exists()


def _child(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args],
                            stdout=subprocess.PIPE, text=True)


HOLD_LOCK = """
    import sys, time
    from ridgeway.cli.atomic import folder_lock
    with folder_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(120)
"""


def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text(DATA)
    out = tmp_path / "out"
    child = _child(HOLD_LOCK, str(out))
    try:
        assert child.stdout.readline().strip() == "locked"
        assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert (f"another ridgeway run is writing {out} (pid {child.pid}); wait for it to "
                "finish or choose another --out") in err
        assert not out.exists()
    finally:
        child.kill()
        child.wait()
    # the lock dies with its holder; the next run takes it and removes the lock file
    assert main(["fit", str(data), "-t", "y", "--no-report", "--out", str(out)]) == 0
    assert _beside(out) == ["d.csv"]


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    out = tmp_path / "out"
    with folder_lock(out):
        replace_folder(out, {"model.json": "x"})
    assert _beside(out) == []


KILLED = """
    import sys, time
    from ridgeway.cli import atomic as _atomic
    moment = sys.argv[2]
    real_write, real_rmtree = _atomic._write_new, _atomic.shutil.rmtree

    def write(path, payload):
        real_write(path, payload)
        if moment == "staging":
            print("now", flush=True)
            time.sleep(120)

    def rmtree(path, **kwargs):
        if moment == "after swap":
            print("now", flush=True)
            time.sleep(120)
        real_rmtree(path, **kwargs)

    _atomic._write_new, _atomic.shutil.rmtree = write, rmtree
    _atomic.replace_folder(sys.argv[1], {"model.json": "new", "report.html": "new"})
"""


@pytest.mark.parametrize("moment", ["staging", "after swap"])
def test_a_run_killed_at_any_moment_leaves_one_whole_folder(tmp_path, moment):
    out = tmp_path / "out"
    replace_folder(out, {"model.json": "old", "report.html": "old", "path.png": b"old"})
    old = _tree(out)
    child = _child(KILLED, str(out), moment)
    assert child.stdout.readline().strip() == "now"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    now = _tree(out)
    if moment == "staging":
        assert now == old
    else:
        assert now == {"model.json": b"new", "report.html": b"new", _atomic.MARKER:
                       old[_atomic.MARKER]}
    # what the killed run left beside the folder is removed by the next run
    replace_folder(out, {"model.json": "next"})
    assert sorted(_tree(out)) == [_atomic.MARKER, "model.json"]
    assert _beside(out) == []


def test_atomic_write_names_the_path_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "pred.csv"
    atomic_write(target, "old")
    real = os.fsync

    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", fsync)
    with pytest.raises(OutputError, match=f"cannot write the file {target}: no space left"):
        atomic_write(target, "new")
    monkeypatch.setattr(_atomic.os, "fsync", real)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv"]
    with pytest.raises(OutputError, match="it is a folder"):
        atomic_write(tmp_path, "x")
