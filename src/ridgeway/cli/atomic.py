"""Writing the command's files whole or not at all.

:func:`atomic_write` writes one file (a temporary file in the same folder, flushed to disk,
then one rename). :func:`replace_folder` writes a whole output folder: every file is staged in
a sibling folder on the same file system, flushed to disk, and swapped in for the previous
folder with one atomic exchange (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old
folder is renamed aside, the new one renamed in, and the old one removed). A failure at any
step leaves the previous folder as it was and no temporary file behind. :func:`folder_lock`
keeps two ridgeway runs from writing one folder at the same time.

Every failure raises :class:`OutputError` (an ``OSError``) whose message names the path and
says what to do.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from ..exceptions import OutputError

__all__ = ["atomic_open", "atomic_write", "folder_lock", "replace_folder"]

#: every staging or retired folder ends with this, so a run can remove what a killed run left
_TMP_SUFFIX = ".ridgeway-tmp"
#: marks a folder written by :func:`replace_folder`; only such folders are replaced
MARKER = ".ridgeway-run"
#: what older ridgeway versions wrote, so their folders are replaced too
_LEGACY_NAMES = {"model.json", "report.html", "path.csv"}


def _explain(exc: OSError, path: Path, what: str) -> OutputError:
    """One sentence for a failed write of ``path``, with what to do."""
    code = exc.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        why = "no space left on the device"
        fix = "free some space or choose another --out"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "permission denied" if code != errno.EROFS else "the file system is read-only"
        fix = "choose a folder you can write with --out"
    elif code == errno.EISDIR:
        why = "a folder of that name is in the way"
        fix = "remove it or choose another name"
    elif code == errno.ENOTDIR:
        why = "a file is in the way of a folder on the path"
        fix = "choose another --out"
    else:
        why = exc.strerror or str(exc)
        fix = "choose another --out"
    return OutputError(f"cannot write {what} {path}: {why}; {fix}. Nothing was changed.")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_new(path: Path, payload: bytes) -> None:
    """Create ``path`` (which must not exist), write ``payload`` and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def _payload(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only when the block succeeds.

    Like :func:`atomic_write` for content written in pieces (e.g. predictions, chunk by
    chunk): a temporary file beside ``path``, flushed to disk and renamed at the end; on any
    failure it is removed and ``path`` is unchanged.

    Raises
    ------
    OutputError
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write the file {path}: it is a folder; choose a file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _explain(exc, path, "the file") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _explain(exc, path, "the file") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename.

    Parameters
    ----------
    path : str or path-like
        The parent folder is created if needed.
    data : bytes or str
        ``str`` is written as UTF-8.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputError
        The file cannot be written (full disk, no permission, a folder of that name); the
        previous file, if any, is unchanged.
    """
    payload = _payload(data)
    with atomic_open(path) as fh:
        fh.write(payload)
    return Path(path)


# ------------------------------------------------------------------------------ lock
_held: dict[str, int] = {}


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.ridgeway-lock"


@contextlib.contextmanager
def folder_lock(out: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the output folder ``out`` (re-entrant within a process).

    The lock is ``fcntl.flock`` on a file beside ``out`` holding the writer's process id; it
    is released when the block ends or the process dies, and the file is then removed.

    Raises
    ------
    OutputError
        Another process holds the lock (its id is named), or the lock cannot be created.
    """
    out = Path(out).absolute()
    key = str(out)
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    lock = _lock_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _explain(exc, out.parent, "the folder") from None
    fd = _acquire(lock, out)
    _held[key] = 1
    try:
        yield
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def _acquire(lock: Path, out: Path) -> int:
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise _explain(exc, out, "the folder") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(
                f"another ridgeway run is writing {out} (pid {pid}); wait for it to finish or "
                "choose another --out."
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file that its holder removed while we waited for it
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode("ascii"))
            return fd
        os.close(fd)


# ------------------------------------------------------------------------------ folder
def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _check_replaceable(out: Path) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise OutputError(f"cannot write the folder {out}: a file of that name is in the way; "
                          "remove it or choose another --out.")
    entries = list(out.iterdir())
    names = {e.name for e in entries}
    legacy = all(e.is_file() and (e.name in _LEGACY_NAMES or e.suffix == ".png")
                 for e in entries)
    if MARKER not in names and not legacy:
        shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        raise OutputError(
            f"cannot write the folder {out}: it holds files ridgeway did not write ({shown}), "
            "and each run replaces its --out folder as a whole; choose a new or empty folder "
            "with --out."
        )


def _remove_leftovers(out: Path) -> None:
    """Staging and retired folders of runs that were killed (we hold the lock)."""
    for entry in out.parent.glob(f".{out.name}.*{_TMP_SUFFIX}"):
        shutil.rmtree(entry, ignore_errors=True)


def replace_folder(out: str | os.PathLike, files: Mapping[str, bytes | str]) -> list[Path]:
    """Replace the folder ``out`` by one holding exactly ``files``, all or nothing.

    Parameters
    ----------
    out : str or path-like
        The output folder. It may be absent, empty, or a folder an earlier run wrote; any
        other existing folder (one holding files ridgeway did not write) is refused.
    files : mapping
        File name (no folder part) to its content (``str`` is written as UTF-8).

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of ``files``, under ``out`` as given.

    Raises
    ------
    OutputError
        The folder cannot be written or is locked by another run; the previous folder is
        unchanged and no temporary file is left.
    """
    shown_out = Path(out)
    out = Path(os.path.abspath(out))
    for name in files:
        if not name or name != Path(name).name or name.startswith(".") or name == MARKER:
            raise ValueError(f"invalid output file name {name!r}")
    with folder_lock(out):
        _check_replaceable(out)
        _remove_leftovers(out)
        try:
            stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=_TMP_SUFFIX,
                                          dir=out.parent))
        except OSError as exc:
            raise _explain(exc, out, "the folder") from None
        try:
            path = stage
            for name, data in files.items():
                path = stage / name
                _write_new(path, _payload(data))
            path = stage / MARKER
            _write_new(path, b"written by ridgeway; the whole folder is replaced on each run\n")
            os.chmod(stage, 0o777 & ~_umask())
            _fsync_dir(stage)
            path = out
            _swap_in(stage, out)
        except OSError as exc:
            shutil.rmtree(stage, ignore_errors=True)
            shown = out / path.name if path.parent == stage else out
            raise _explain(exc, shown, "the file" if shown != out else "the folder") from None
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return [shown_out / name for name in files]


def _swap_in(stage: Path, out: Path) -> None:
    """Put ``stage`` at ``out``; the previous ``out`` ends at ``stage`` and is removed."""
    if not out.exists():
        os.rename(stage, out)
    elif not _exchange(stage, out):
        retired = stage.with_name(stage.name[: -len(_TMP_SUFFIX)] + ".old" + _TMP_SUFFIX)
        os.rename(out, retired)
        try:
            os.rename(stage, out)
        except BaseException:
            os.rename(retired, out)
            raise
        stage = retired
    _fsync_dir(out.parent)
    shutil.rmtree(stage, ignore_errors=True)
