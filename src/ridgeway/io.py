"""Reading tables (CSV, Parquet) with pyarrow and checking them, whole or in batches.

Every problem with a file raises :class:`DataError` (a ``ValueError``) whose message is one
line that names the file, the column and the fix. Columns stay pyarrow arrays until the
preprocessing turns the chosen ones into one float64 matrix (no intermediate copies).

:class:`DataSource` reads a file, a glob or a directory of CSV or Parquet files batch by
batch in bounded memory (see ``docs/scale.md``); :func:`iter_blocks` turns the batches into
``(X, y, weight, fold)`` blocks.
"""

from __future__ import annotations

import difflib
import glob
import gzip
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import DataError

__all__ = [
    "Block",
    "DataSource",
    "StreamBatch",
    "check_columns",
    "check_missing",
    "column_kind",
    "iter_batches",
    "iter_blocks",
    "read_table",
    "table_column",
]

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: pyarrow's CSV block; a field longer than a block is read by retrying with larger blocks
_BLOCK_SIZE = 1 << 20
#: integers beyond this magnitude are not all exact in float64
MAX_EXACT_INT = 2**53


def source_of(table: pa.Table) -> str:
    """The file a table was read from (``"the data"`` if it was not read by :func:`read_table`)."""
    meta = table.schema.metadata or {}
    return meta.get(b"ridgeway.path", b"the data").decode("utf-8", "replace")


def where(table: pa.Table, index: int) -> str:
    """A person's name for the row at 0-based ``index``: ``row 6 (line 7 of data.csv)``.

    A batch of a stream records the file row of its first row (``ridgeway.row0``), so that
    the row named is the row of the file.
    """
    meta = table.schema.metadata or {}
    index = int(source_rows(index, dropped_rows(table)))  # rows removed before: the file's
    index += int(meta.get(b"ridgeway.row0", b"0"))
    if meta.get(b"ridgeway.format") == b"csv":
        return f"row {index + 1} (line {index + 2} of {source_of(table)})"
    return f"row {index + 1} of {source_of(table)}"


def read_note(table: pa.Table) -> str | None:
    """How a CSV file's dialect was detected, if it was not the plain comma default."""
    note = (table.schema.metadata or {}).get(b"ridgeway.note")
    return note.decode("utf-8") if note else None


def _binary_kind(head: bytes, path: Path) -> str | None:
    """What a file that is not a text table looks like, with what to do; None for text."""
    suffix = path.suffix.lower()
    if suffix in _WORKBOOK_SUFFIXES:
        return (f"this looks like a spreadsheet workbook ({suffix}), not a CSV file; export the "
                "sheet as CSV (or Parquet) and pass that file")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if b"xl/" in head or (b"[Content_Types].xml" in head and b"word/" not in head):
            return ("this looks like an Excel workbook (.xlsx); export the sheet as CSV (or "
                    "Parquet) and pass that file")
        return "this looks like a zip archive; unzip it and pass the CSV file inside"
    kinds = [(b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
             (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
             (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls) or another Office file"),
             (b"ARROW1", "an Arrow/Feather file"), (b"SQLite format 3\x00", "an SQLite database"),
             (b"\x1f\x8b", "a gzip-compressed file")]
    for magic, kind in kinds:
        if head.startswith(magic):
            if magic == b"\x1f\x8b" and suffix == ".gz":
                return None
            fix = ("name it *.csv.gz or decompress it" if magic == b"\x1f\x8b"
                   else "pass a CSV or Parquet file (export or convert it first)")
            return f"this looks like {kind}, not a data table; {fix}"
    if b"\x00" in head[:8192]:
        return "this is a binary file, not a text table; pass a CSV or Parquet file"
    return None


def _is_parquet(path: Path) -> bool:
    """By suffix, or by the magic bytes (which win over a ``.csv`` name)."""
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _separator(sep: str | None) -> str:
    if sep is None:
        return None
    sep = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(sep, sep)
    if len(sep) != 1:
        raise DataError(f"--sep must be one character (or 'tab'), got {sep!r}.")
    return sep


def _dialect(head: bytes, path: Path, sep: str | None) -> tuple[str, str, str | None]:
    """(delimiter, decimal point, note): ``--sep`` or what the header line shows."""
    text = head.decode("utf-8", "replace")
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    header = lines[0] if lines else ""
    detected = sep is None
    if sep is None:
        sep = "\t" if ".tsv" in path.suffixes else ","
        detected = sep == ","
        if sep == "," and "," not in header:
            sep = next((c for c in ";\t|" if c in header), ",")
    decimal, seen = ".", []
    if detected and sep != ",":
        seen.append(f"as {_SEPARATORS[sep]}-separated")
    if sep != ",":
        fields = [f.strip().strip('"') for line in lines[1:] for f in line.split(sep)]
        comma = [f for f in fields if _DECIMAL_COMMA.match(f)]
        if comma and not any(_DECIMAL_POINT.match(f) for f in fields):
            decimal = ","
            seen.append(f"with decimal commas such as {comma[0]!r}")
    note = f"read {' '.join(seen)}, as seen in the file (--sep sets the separator)" \
        if seen else None
    return sep, decimal, note


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")


def _table_pool() -> pa.MemoryPool:
    """The memory pool of a CSV table read whole: jemalloc returning freed pages at once,
    where pyarrow has it (the default pool, mimalloc, keeps the pages of a block's small
    column chunks while any chunk of that block lives, so a table released column by column,
    as the command's preprocessing does, would give nothing back until its last column).
    Under a limit of the address space (``ulimit -v``) the default pool: jemalloc reserves
    far more address space than it uses, and would run out of it first."""
    import resource

    if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
        return pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.default_memory_pool()
    return pool


def release_unused() -> None:
    """Return the memory freed in the pools that tables are read into to the OS (jemalloc's
    decay setting applies to the arenas created after it, so it is purged here too)."""
    pa.default_memory_pool().release_unused()
    _table_pool().release_unused()


def _read_csv(path: Path, delimiter: str, decimal: str) -> pa.Table:
    """Read block by block (streaming: the peak memory stays near the table's size), or
    whole where a column's type changes after the first block (read_csv infers it from
    every block) or a field is longer than a block (larger blocks)."""
    from pyarrow import csv

    block, stream = _BLOCK_SIZE, True
    size = path.stat().st_size
    parse = csv.ParseOptions(delimiter=delimiter)
    convert = csv.ConvertOptions(strings_can_be_null=True, decimal_point=decimal)
    pool = _table_pool()
    while True:
        read = csv.ReadOptions(block_size=block)
        try:
            if stream:
                with csv.open_csv(path, read_options=read, parse_options=parse,
                                  convert_options=convert, memory_pool=pool) as reader:
                    return pa.Table.from_batches(list(reader), schema=reader.schema)
            return csv.read_csv(path, read_options=read, parse_options=parse,
                                convert_options=convert, memory_pool=pool)
        except pa.ArrowInvalid as exc:
            msg = _first_line(exc)
            if stream and "conversion error" in msg:
                stream = False
                continue
            if "straddling" in msg and block < 2 * size + _BLOCK_SIZE:
                block *= 16  # a field longer than a block: read with larger blocks
                continue
            if "Empty CSV file" in msg:
                raise DataError(f"{path}: the file is empty (no header, no rows).") from None
            hint = ""
            if "Expected" in msg and "columns" in msg and delimiter == ",":
                hint = " If the file is not comma-separated, give its separator with --sep."
            raise DataError(f"{path}: cannot parse the CSV file: {msg}.{hint}") from None


def _read_parquet(path: Path) -> pa.Table:
    from pyarrow import parquet

    try:  # without pre-buffering: the file's bytes are not held beside the decoded table
        return parquet.read_table(path, pre_buffer=False)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot read the Parquet file: {_first_line(exc)}") from None


def read_table(path: str | os.PathLike, sep: str | None = None) -> pa.Table:
    """Read a CSV or Parquet file into a pyarrow Table and check its shape and header.

    CSV files are read with pyarrow's multithreaded reader; empty fields, ``NA``, ``NaN`` and
    ``null`` are missing values. The separator is ``sep``, or detected from the header line
    (comma, else semicolon, tab or pipe; ``.tsv``: tab), and with a separator other than a
    comma, decimal commas (``3,5``) are detected too. Parquet is chosen by suffix (``.parquet``,
    ``.pq``) or by its magic bytes. Images, workbooks, archives and other binary files are
    recognized and named. The table's schema metadata records the file (for error messages).

    Parameters
    ----------
    path : str or path-like
    sep : str, optional
        Field separator of a CSV file (one character, or ``"tab"``).

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    DataError
        The file is missing, not a table, empty, unparseable, has duplicate column names or no
        data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file.")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a data file.")
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror}).") from None
    parquet = head[:4] == b"PAR1" or path.suffix.lower() in _PARQUET_SUFFIXES
    kind = None if parquet else _binary_kind(head, path)
    if kind is not None:
        raise DataError(f"{path}: {kind}.")
    if not head:
        raise DataError(f"{path}: the file is empty (no header, no rows).")
    note = None
    if parquet:
        table, fmt = _read_parquet(path), b"parquet"
    else:
        if path.suffix.lower() == ".gz":  # pyarrow decompresses; look at the text
            with gzip.open(path, "rb") as fh:
                head = fh.read(65536)
        delimiter, decimal, note = _dialect(head, path, _separator(sep))
        table, fmt = _read_csv(path, delimiter, decimal), b"csv"
    names = table.column_names
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DataError(
            f"{path}: duplicate column name(s) {', '.join(map(repr, dups))}; "
            "rename them so every column has its own name."
        )
    if table.num_rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows.")
    meta = {b"ridgeway.path": str(path).encode("utf-8"), b"ridgeway.format": fmt}
    if note:
        meta[b"ridgeway.note"] = note.encode("utf-8")
    return table.replace_schema_metadata(meta)


def iter_batches(path: str | os.PathLike, batch_size: int = 65536) -> Iterator[pa.RecordBatch]:
    """Iterate over a CSV or Parquet file in record batches, without reading it whole.

    Parameters
    ----------
    path : str or path-like
    batch_size : int
        Rows per batch (Parquet; CSV batches follow pyarrow's block size).

    Yields
    ------
    pyarrow.RecordBatch
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file.")
    if _is_parquet(path):
        from pyarrow import parquet

        yield from parquet.ParquetFile(path).iter_batches(batch_size=batch_size)
        return
    from pyarrow import csv

    try:
        reader = csv.open_csv(path, convert_options=csv.ConvertOptions(strings_can_be_null=True))
        yield from reader
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: cannot parse the CSV file: {_first_line(exc)}") from None


def column_kind(column: pa.ChunkedArray | pa.Array) -> str:
    """``"numeric"``, ``"bool"``, ``"categorical"`` (strings, dictionaries) or ``"null"``."""
    t = column.type
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return "categorical"
    return "other"


def table_column(table: pa.Table, name: str) -> np.ndarray:
    """One column as a numpy array (nulls become NaN for numbers, None for strings)."""
    col = table.column(name)
    if column_kind(col) in ("numeric", "bool"):
        return float_values(col)
    return np.asarray(col.to_pylist(), dtype=object)


def float_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric or boolean column as float64 (nulls become NaN).

    Integers beyond 2**53 are rounded to the nearest float64 (a relative change below 1.2e-16);
    :func:`inexact_integers` names such columns.
    """
    return column.cast(pa.float64(), safe=False).to_numpy()


def inexact_integers(table: pa.Table, names: Sequence[str]) -> list[str]:
    """The integer columns among ``names`` holding values float64 cannot represent exactly."""
    out = []
    for name in names:
        col = table.column(name)
        if pa.types.is_integer(col.type) and col.length() > col.null_count:
            lo, hi = pc.min_max(col).values()
            if max(abs(lo.as_py()), abs(hi.as_py())) > MAX_EXACT_INT:
                out.append(name)
    return out


def source_rows(positions: np.ndarray, dropped: np.ndarray | None) -> np.ndarray:
    """The rows of the input (0-based, before any row was dropped) of the kept rows at
    ``positions`` (0-based among the kept rows), given the sorted rows ``dropped``."""
    positions = np.asarray(positions, dtype=np.int64)
    if dropped is None or not len(dropped):
        return positions
    before = np.asarray(dropped, dtype=np.int64) - np.arange(len(dropped))  # kept rows before
    return positions + np.searchsorted(before, positions, side="right")


def dropped_rows(table: pa.Table) -> np.ndarray | None:
    """The rows (0-based, sorted) that :func:`missing_target` or :func:`with_target` dropped
    from the table they made (None: none), as recorded in its metadata."""
    gone = (table.schema.metadata or {}).get(b"ridgeway.dropped")
    return None if gone is None else np.frombuffer(gone, dtype="<i8")


def _without(table: pa.Table, missing: pa.ChunkedArray) -> pa.Table:
    """``table`` without the rows where ``missing`` is true, recording them in its metadata
    (:func:`dropped_rows`; :func:`where` then names rows of the file)."""
    gone = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
    meta = dict(table.schema.metadata or {})
    meta[b"ridgeway.dropped"] = gone.astype("<i8").tobytes()
    return table.filter(pc.invert(missing)).replace_schema_metadata(meta)


def missing_target(table: pa.Table, target: str, drop: bool) -> tuple[pa.Table, int]:
    """Check the target column for missing values; drop those rows when ``drop``.

    Returns
    -------
    (table, n_dropped)

    Raises
    ------
    DataError
        Missing target values and ``drop`` is False (the count, the file, the first row and
        the option that drops them), or every target value missing.
    """
    if target not in table.column_names:
        return table, 0
    col = table.column(target)
    bad = pc.is_null(col, nan_is_null=True)
    k = int(pc.sum(bad).as_py() or 0)
    if k == 0:
        return table, 0
    if k == table.num_rows:
        raise DataError(f"{source_of(table)}: the target {target!r} is missing on every row.")
    if not drop:
        first = int(pc.index(bad, True).as_py())
        raise DataError(
            f"{source_of(table)}: the target {target!r} is missing on {k} of {table.num_rows} "
            f"rows (first on {where(table, first)}); drop those rows with "
            "--drop-missing-target, or fill them in."
        )
    return _without(table, bad), k


def suggest(name: str, choices: Sequence[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for the closest names, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def check_columns(table: pa.Table, names: Sequence[str], what: str = "column") -> None:
    """Raise :class:`DataError` for names not in the table, with the closest names suggested."""
    have = table.column_names
    for name in names:
        if name not in have:
            shown = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
            hint = ""
            if len(have) == 1 and any(c in have[0] for c in ";\t|"):
                seen = next(c for c in ";\t|" if c in have[0])
                hint = (f" The header is one column holding {_SEPARATORS[seen]}s: give the "
                        f"separator with --sep {seen!r}.")
            raise DataError(
                f"unknown {what} {name!r}.{suggest(name, have)} Columns of "
                f"{source_of(table)} are: {shown}.{hint}"
            )


def missing_counts(column: pa.ChunkedArray) -> int:
    """Nulls plus NaN in a column."""
    count = column.null_count
    if pa.types.is_floating(column.type):
        count += int(pc.sum(pc.is_nan(column)).as_py() or 0)
    return count


def check_missing(table: pa.Table, names: Sequence[str], impute: str) -> dict[str, int]:
    """Check the given columns for missing values.

    Parameters
    ----------
    table : pyarrow.Table
    names : sequence of str
        Feature columns.
    impute : {"none", "mean", "median"}
        With ``"none"`` any missing value is an error listing the columns and counts.

    Returns
    -------
    dict
        Missing-value count per column that has any.

    Raises
    ------
    DataError
        An all-missing column (always), or missing values with ``impute="none"``.
    """
    n = table.num_rows
    counts = {}
    for name in names:
        col = table.column(name)
        k = n if column_kind(col) == "null" else missing_counts(col)
        if k == n:
            raise DataError(
                f"column {name!r} is entirely missing (all {n} values are empty or NaN); "
                f"drop it with --drop {name}."
            )
        if k:
            counts[name] = k
    if counts and impute == "none":
        listed = ", ".join(f"{c} ({k})" for c, k in counts.items())
        raise DataError(
            f"missing values in {len(counts)} column(s): {listed}. Use --impute mean or "
            "--impute median, or --drop the columns."
        )
    return counts


# --------------------------------------------------------------------------- streams
#: rows per batch of a Parquet stream (32,768 rows of 50 float64 columns: 13 MB; the
#: stream holds about three batches at once, so half a common row group of 65,536 rows
#: saved ~30 MiB of peak memory on a 1M x 50 file)
STREAM_BATCH_ROWS = 32768
#: bytes per block of a CSV stream (a batch holds the rows of one block)
STREAM_CSV_BLOCK = 1 << 22
_GLOB_CHARS = "*?["
_STREAM_SUFFIXES = (*_PARQUET_SUFFIXES, ".csv", ".tsv", ".txt", ".gz")


@dataclass(frozen=True)
class StreamBatch:
    """One record batch of a :class:`DataSource`, with where it came from.

    Attributes
    ----------
    table : pyarrow.Table or None
        The batch's rows; its schema metadata names the file and the file row of its first row,
        so that :func:`where` names rows of the file (None in a :class:`Block`, which keeps
        only the numbers).
    file : Path
    number : int
        1-based position of the batch in the whole stream.
    start : int
        0-based position of its first row in the whole stream (all files in order).
    file_row : int
        0-based row of its first row in its file.
    bytes_read : int
        Bytes of the stream read so far (the progress bar's position).
    n_rows : int
    """

    table: pa.Table | None
    file: Path
    number: int
    start: int
    file_row: int
    bytes_read: int
    n_rows: int

    @property
    def stop(self) -> int:
        """Stream position after the batch's last row."""
        return self.start + self.n_rows

    def describe(self) -> str:
        """``data.csv, batch 3 (rows 131073-196608 of the file)``."""
        rows = _row_range(self.file, self.file_row, self.n_rows)
        return f"{self.file}, batch {self.number} ({rows})"


def _row_range(file: Path, first: int, n: int) -> str:
    lines = "" if _is_parquet(file) else f", lines {first + 2}-{first + n + 1}"
    return f"rows {first + 1}-{first + n} of the file{lines}"


def _stream_files(path: str | os.PathLike) -> list[Path]:
    """The files of a stream: one file, the matches of a glob, or a directory's data files."""
    text = str(path)
    if any(c in text for c in _GLOB_CHARS) and not Path(text).exists():
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"{text}: no file matches this pattern.")
        return files
    p = Path(text)
    if not p.exists():
        raise DataError(f"{p}: no such file or directory.")
    if p.is_dir():
        # the data files below it, skipping hidden and marker files (".x", "_SUCCESS") as
        # Spark, Dask and pyarrow write and skip them
        files = sorted(f for f in p.rglob("*") if f.is_file()
                       and f.suffix.lower() in _STREAM_SUFFIXES
                       and not any(part.startswith((".", "_"))
                                   for part in f.relative_to(p).parts))
        if not files:
            raise DataError(f"{p}: the directory holds no CSV or Parquet file.")
        return files
    return [p]


def _kind_of_type(t: pa.DataType) -> str:
    return column_kind(pa.nulls(0, type=t))


class DataSource:
    """A file, a glob (``data/part-*.parquet``) or a directory of CSV or Parquet files, read
    batch by batch in bounded memory.

    Parquet files are scanned with :mod:`pyarrow.dataset` without pre-buffering (pyarrow's
    default reads whole row groups ahead: 1.2 GB for a 2M x 51 file) in batches of
    ``batch_rows`` rows. CSV files are read block by block (:data:`STREAM_CSV_BLOCK`); their
    separator and decimal point are those :func:`read_table` detects on the first file, and
    integer columns are read as float64 (a later block may hold decimals). Every file must have
    the columns of the first, of the same kind (numeric, boolean, text).

    Parameters
    ----------
    path : str or path-like
        A file, a glob pattern or a directory (all ``.parquet``/``.csv`` files below it, in
        sorted order).
    sep : str, optional
        CSV field separator (default: detected).
    batch_rows : int
        Rows per Parquet batch.

    Attributes
    ----------
    files : list of Path
    format : {"parquet", "csv"}
    nbytes : int
        Total size of the files on disk.
    schema : pyarrow.Schema
        The first file's columns.
    """

    def __init__(self, path: str | os.PathLike, *, sep: str | None = None,
                 batch_rows: int = STREAM_BATCH_ROWS):
        self.path = path
        self.files = _stream_files(path)
        kinds = {_is_parquet(f) for f in self.files}
        if len(kinds) > 1:
            raise DataError(f"{path}: mixes Parquet and CSV files; pass files of one format.")
        self.format = "parquet" if kinds.pop() else "csv"
        self.nbytes = sum(f.stat().st_size for f in self.files)
        self.batch_rows = int(batch_rows)
        if self.format == "csv":
            with open(self.files[0], "rb") as fh:
                head = fh.read(65536)
            if self.files[0].suffix.lower() == ".gz":
                with gzip.open(self.files[0], "rb") as fh:
                    head = fh.read(65536)
            kind = _binary_kind(head, self.files[0])
            if kind is not None:
                raise DataError(f"{self.files[0]}: {kind}.")
            if not head:
                raise DataError(f"{self.files[0]}: the file is empty (no header, no rows).")
            self._delimiter, self._decimal, _ = _dialect(head, self.files[0], _separator(sep))
        self.schema = self._file_schema(self.files[0])
        names = self.schema.names
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise DataError(f"{self.files[0]}: duplicate column name(s) "
                            f"{', '.join(map(repr, dups))}; rename them so every column has "
                            "its own name.")

    @property
    def column_names(self) -> list[str]:
        """The first file's column names."""
        return list(self.schema.names)

    def kind(self, name: str) -> str:
        """:func:`column_kind` of a column, from the first file's schema."""
        return _kind_of_type(self.schema.field(name).type)

    # ------------------------------------------------------------------ files
    def _parquet_format(self):
        from pyarrow import dataset as ds

        return ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
            pre_buffer=False, use_buffered_stream=True, buffer_size=1 << 20))

    def _fragment(self, file: Path):
        from pyarrow import dataset as ds

        try:
            return next(ds.dataset(str(file), format=self._parquet_format()).get_fragments())
        except (pa.ArrowInvalid, pa.ArrowException, OSError, StopIteration) as exc:
            raise DataError(f"{file}: cannot read the Parquet file (it may be truncated or "
                            f"not Parquet): {_first_line(exc)}") from None

    def _csv_reader(self, file: Path, column_types=None, block: int = STREAM_CSV_BLOCK):
        from pyarrow import csv

        raw = pa.OSFile(str(file))
        stream = pa.CompressedInputStream(raw, "gzip") if file.suffix.lower() == ".gz" else raw
        try:
            reader = csv.open_csv(
                stream, read_options=csv.ReadOptions(block_size=block),
                parse_options=csv.ParseOptions(delimiter=self._delimiter),
                convert_options=csv.ConvertOptions(strings_can_be_null=True,
                                                   decimal_point=self._decimal,
                                                   column_types=column_types or {}))
        except pa.ArrowInvalid as exc:
            raw.close()
            msg = _first_line(exc)
            if "Empty CSV file" in msg:
                raise DataError(f"{file}: the file is empty (no header, no rows).") from None
            raise self._csv_error(file, None, 0, msg) from None
        return raw, reader

    def _file_schema(self, file: Path) -> pa.Schema:
        if self.format == "parquet":
            return self._fragment(file).physical_schema
        raw, reader = self._csv_reader(file)
        raw.close()
        return reader.schema

    def _check_schema(self, file: Path, schema: pa.Schema, columns: Sequence[str]) -> None:
        have = set(schema.names)
        missing = [c for c in columns if c not in have]
        if missing:
            raise DataError(f"{file}: column(s) {', '.join(map(repr, missing))} of the first "
                            f"file ({self.files[0]}) are missing; every file of the data must "
                            "have the same columns.")
        for name in columns:
            want, got = self.kind(name), _kind_of_type(schema.field(name).type)
            if "null" not in (want, got) and want != got and {want, got} != {"numeric", "bool"}:
                raise DataError(
                    f"{file}: column {name!r} is {got} ({schema.field(name).type}) but {want} "
                    f"({self.schema.field(name).type}) in {self.files[0]}; every file must "
                    "hold the same kind of values in a column.")

    # ------------------------------------------------------------------ batches
    def batches(self, columns: Sequence[str] | None = None, *, prefetch: int = 0
                ) -> Iterator[StreamBatch]:
        """The batches of every file in order, with the columns ``columns`` (default all).

        Parameters
        ----------
        columns : sequence of str, optional
        prefetch : int
            Batches read ahead by a reader thread (0: read in the caller's thread).

        Raises
        ------
        DataError
            A file lacks a column of the first or holds another kind of values in it, a CSV
            value does not parse as the type of the first block, a CSV file ends mid-row, a
            Parquet file is truncated; each naming the file and the batch's rows.
        """
        columns = list(self.schema.names if columns is None else columns)
        check_columns(_named_schema(self.schema, self.files[0]), columns)
        gen = self._batches(columns)
        return _prefetched(gen, prefetch) if prefetch > 0 else gen

    def _batches(self, columns: list[str]) -> Iterator[StreamBatch]:
        number, start, done = 0, 0, 0
        for file in self.files:
            size = file.stat().st_size
            file_row = 0
            for table, position in self._file_batches(file, columns, size):
                n = table.num_rows
                if n == 0:
                    continue
                number += 1
                meta = {b"ridgeway.path": str(file).encode("utf-8"),
                        b"ridgeway.format": self.format.encode(),
                        b"ridgeway.row0": str(file_row).encode()}
                yield StreamBatch(table.replace_schema_metadata(meta), file, number, start,
                                  file_row, done + position, n)
                start += n
                file_row += n
            done += size
        if start == 0:
            raise DataError(f"{self.path}: the data has a header but no rows.")

    def _file_batches(self, file: Path, columns: list[str], size: int
                      ) -> Iterator[tuple[pa.Table, int]]:
        if self.format == "parquet":
            frag = self._fragment(file)
            self._check_schema(file, frag.physical_schema, columns)
            total = max(frag.metadata.num_rows, 1)
            rows = 0
            try:
                # ParquetFile's reader decodes a batch when asked: the dataset scanner reads
                # ahead of a slow consumer however its readahead is set (its memory grows
                # with the file)
                from pyarrow import parquet

                reader = parquet.ParquetFile(file, pre_buffer=False)
                for batch in reader.iter_batches(batch_size=self.batch_rows, columns=columns,
                                                 use_threads=False):
                    rows += batch.num_rows
                    yield pa.Table.from_batches([batch]), int(size * rows / total)
            except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
                raise DataError(f"{file}: cannot read the Parquet file after row {rows} (it "
                                f"may be truncated): {_first_line(exc)}") from None
            return
        schema = self._file_schema(file)
        self._check_schema(file, schema, columns)
        types = {f.name: pa.float64() for f in schema if pa.types.is_integer(f.type)}
        raw, reader = self._csv_reader(file, types)
        rows = 0
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except pa.ArrowInvalid as exc:
                    raise self._csv_error(file, schema, rows, _first_line(exc)) from None
                rows += batch.num_rows
                yield pa.Table.from_batches([batch]).select(columns), raw.tell()
        finally:
            raw.close()

    def _csv_error(self, file: Path, schema: pa.Schema | None, rows: int, msg: str
                   ) -> DataError:
        after = f"after row {rows} (line {rows + 1})" if rows else "in the first block"
        m = re.match(r"In CSV column #(\d+): CSV conversion error to (\w+): invalid value (.*)",
                     msg)
        if m and schema is not None:
            name = schema.names[int(m.group(1))]
            return DataError(
                f"{file}, the batch {after}: column {name!r} holds {m.group(3)}, not a "
                f"{m.group(2)} as in the first batch; fix that value (or leave it empty for a "
                "missing value), or --drop the column.")
        m = re.match(r"CSV parse error: Expected (\d+) columns, got (\d+): (.*)", msg)
        if m:
            if _last_line(file) == m.group(3).strip():
                return DataError(
                    f"{file} ends mid-row: its last line has {m.group(2)} of {m.group(1)} "
                    f"fields ({m.group(3)[:60]!r}, {after}); the file looks truncated: copy it "
                    "again, or remove that line.")
            return DataError(f"{file}, the batch {after}: a line has {m.group(2)} fields "
                             f"instead of {m.group(1)} ({m.group(3)[:60]!r}); fix that line, or "
                             "give the separator with --sep.")
        return DataError(f"{file}, the batch {after}: cannot parse the CSV file: {msg}.")


def _named_schema(schema: pa.Schema, file: Path) -> pa.Table:
    """An empty table of the schema whose metadata names the file (for check_columns)."""
    return schema.empty_table().replace_schema_metadata(
        {b"ridgeway.path": str(file).encode("utf-8")})


def _last_line(file: Path) -> str:
    if file.suffix.lower() == ".gz":
        return ""
    with open(file, "rb") as fh:
        fh.seek(max(0, file.stat().st_size - 65536))
        tail = fh.read().decode("utf-8", "replace")
    return tail.rstrip("\r\n").rsplit("\n", 1)[-1].strip() if not tail.endswith("\n") else ""


_DONE = object()


def _prefetched(gen: Iterator, depth: int) -> Iterator:
    """Run ``gen`` in a reader thread, at most ``depth`` items ahead of the consumer.

    pyarrow releases the GIL while it reads and decodes, and numpy while it copies, so the
    next batch is read while the caller works on this one. An exception in the reader is
    raised in the caller, at the position of the item it replaced.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in gen:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer
            put((_DONE, exc))
        finally:
            gen.close()

    thread = threading.Thread(target=work, name="ridgeway-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


class Block:
    """``(X, y, weight, fold)`` of one batch, ready for ``partial_fit`` or ``fit_stream``.

    Unpacks as a 4-tuple (``X, y, w, fold = block``); ``batch`` is the :class:`StreamBatch`
    it came from. ``columns`` holds the features as 1-D float64 arrays, read from the Arrow
    buffers without a copy where the file stores float64 without nulls, and ``rows`` the
    block's rows among them (None: all; see :meth:`subset`): ``fit_stream`` reduces them
    directly. ``X`` is built when first taken (:meth:`take`): float64 of shape (rows,
    features) in Fortran order, refusing missing and infinite values with the file and row
    (:class:`DataError`); ``fit_stream``, which reads the columns, names such a value the
    same way.
    ``weight`` and ``fold`` are None unless asked for; ``dropped`` the rows of the batch
    (0-based) dropped for a missing target (None: none).
    """

    __slots__ = ("_X", "_table", "batch", "columns", "dropped", "fold", "names", "rows",
                 "weight", "y")

    def __init__(self, columns: Sequence[np.ndarray], names: Sequence[str], y: np.ndarray,
                 weight: np.ndarray | None, fold: np.ndarray | None, batch: StreamBatch,
                 table: pa.Table | None = None, X: np.ndarray | None = None,
                 rows: np.ndarray | None = None, dropped: np.ndarray | None = None) -> None:
        self.columns, self.names, self.y = list(columns), list(names), y
        self.weight, self.fold, self.batch, self.rows = weight, fold, batch, rows
        self._table, self._X, self.dropped = table, X, dropped

    @property
    def X(self) -> np.ndarray:
        if self._X is None:
            self._X = self.take()
        return self._X

    def __iter__(self) -> Iterator:
        return iter((self.X, self.y, self.weight, self.fold))

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index):
        return tuple(self)[index]

    def subset(self, rows: np.ndarray) -> Block:
        """The block of its rows ``rows`` (0-based positions in this block), sharing the
        columns (nothing is copied)."""
        rows = np.asarray(rows, dtype=np.intp)

        def pick(a):
            return None if a is None else a[rows]

        return Block(self.columns, self.names, self.y[rows], pick(self.weight),
                     pick(self.fold), self.batch, self._table,
                     rows=rows if self.rows is None else self.rows[rows])

    def take(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The block's rows (or its rows ``rows``) as a float64 matrix in Fortran order,
        refusing a missing or infinite value (:meth:`check_finite`)."""
        if self._X is not None:
            return self._X if rows is None else np.asfortranarray(self._X[rows])
        picked = self.rows if rows is None else (rows if self.rows is None else self.rows[rows])
        n = len(self.y) if picked is None else len(picked)
        X = np.empty((n, len(self.columns)), order="F")
        for j, col in enumerate(self.columns):
            if picked is None:
                X[:, j] = col
            else:
                np.take(col, picked, out=X[:, j])
        with np.errstate(over="ignore", invalid="ignore"):
            sums = X.sum(axis=0)  # NaN or inf in a column make its sum non-finite
        for j in np.flatnonzero(~np.isfinite(sums)):
            bad = ~np.isfinite(X[:, j])
            if bad.any():
                self._refuse(j, bad, picked)
        return X

    def check_finite(self) -> None:
        """Raise :class:`DataError` naming the batch, the first column holding a missing or
        infinite value in the block's rows and its row of the file (nothing if none)."""
        for j, col in enumerate(self.columns):
            values = col if self.rows is None else col[self.rows]
            bad = ~np.isfinite(values)
            if bad.any():
                self._refuse(j, bad, self.rows)

    def _refuse(self, j: int, bad: np.ndarray, picked: np.ndarray | None) -> None:
        first = int(np.argmax(bad))
        row = first if picked is None else int(picked[first])
        at = (where(self._table, row) if self._table is not None
              else f"row {row + 1} of the batch")
        err = DataError(
            f"{self.batch.describe()}: column {self.names[j]!r} has {int(bad.sum())} missing "
            f"or infinite value(s) (first on {at}); fill them in or drop those rows.")
        err.column = self.names[j]  # for a caller that knows more ways out
        raise err


def _numeric_columns(table: pa.Table, names: Sequence[str]) -> list[np.ndarray]:
    """The numeric columns ``names`` as float64 arrays (no copy for float64 without nulls),
    refusing other kinds; missing values are NaN (refused later, :meth:`Block.check_finite`)."""
    out = []
    for name in names:
        col = table.column(name)
        if column_kind(col) not in ("numeric", "bool"):
            raise DataError(f"column {name!r} of {source_of(table)} is {col.type}, not numeric; "
                            "encode it first (the command one-hot encodes text columns), or "
                            "leave it out.")
        out.append(float_values(col))
    return out


def _fold_ids(table: pa.Table, name: str, n_folds: int | None) -> np.ndarray:
    col = table.column(name)
    values = float_values(col) if column_kind(col) in ("numeric", "bool") else None
    if values is None:
        raise DataError(f"the fold column {name!r} of {source_of(table)} is {col.type}; it "
                        "must hold integer fold ids 0, 1, ..., K-1.")
    top = np.inf if n_folds is None else n_folds - 1
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values > top)
    if bad.any():
        first = int(np.argmax(bad))
        allowed = "integers >= 0" if n_folds is None else f"integers 0 to {n_folds - 1}"
        raise DataError(f"the fold column {name!r} has {int(bad.sum())} value(s) that are not "
                        f"fold ids ({allowed}): {col[first].as_py()!r} on {where(table, first)}"
                        ".")
    return values.astype(np.int64)


def iter_blocks(
    source: DataSource | str | os.PathLike,
    target: str,
    features: Sequence[str] | None = None,
    *,
    transform: Callable[[pa.Table], np.ndarray] | None = None,
    weight: str | None = None,
    fold: str | None = None,
    n_folds: int | None = None,
    drop_missing_target: bool = False,
    prefetch: int = 1,
) -> Iterator[Block]:
    """Read a data source as ``(X, y, weight, fold)`` blocks, one per record batch.

    ``for X, y, w, fold in iter_blocks(...): est.partial_fit(X, y, w, fold=fold)``.

    Parameters
    ----------
    source : DataSource or path
        A file, glob or directory (see :class:`DataSource`).
    target : str
        The target column (numeric).
    features : sequence of str, optional
        Feature columns; default every column except target, weight and fold.
    transform : callable, optional
        ``transform(table) -> X`` per batch, e.g. the command's fitted preprocessing
        (``Preprocessor.transform``: imputation, one-hot encoding, standardization); default
        the numeric feature columns as they are (``Block.columns``, without a copy where the
        file stores float64 without nulls).
    weight, fold : str, optional
        Columns holding sample weights (finite, >= 0) and integer fold ids.
    n_folds : int, optional
        With ``fold``: ids must be below it.
    drop_missing_target : bool
        Skip rows whose target is missing (default: an error).
    prefetch : int
        Blocks prepared ahead by a reader thread (0: none).

    Yields
    ------
    Block

    Raises
    ------
    DataError
        Besides :meth:`DataSource.batches`' errors: a missing target or weight, a non-numeric
        feature, a fold id out of range; named with the file, the batch and its rows. A
        missing or infinite feature value (without ``transform``) is refused, named the same
        way, when the block's ``X`` is taken (unpacking it, e.g. for ``partial_fit``) or by
        ``fit_stream``, which reduces ``Block.columns`` without building ``X`` (no check costs
        a pass of its own).
    """
    if not isinstance(source, DataSource):
        source = DataSource(source)
    extra = [c for c in (weight, fold) if c is not None]
    if features is None:
        features = [c for c in source.column_names if c not in (target, *extra)]
    columns = list(dict.fromkeys([*features, target, *extra]))

    def blocks() -> Iterator[Block]:
        for batch in source.batches(columns):
            try:
                yield _block(batch, target, features, transform, weight, fold, n_folds,
                             drop_missing_target)
            except DataError as exc:
                raise DataError(f"{batch.describe()}: {exc}") from None

    return _prefetched(blocks(), prefetch) if prefetch > 0 else blocks()


def with_target(table: pa.Table, target: str, drop: bool) -> pa.Table:
    """The rows of a batch whose target is present: all of them, or an error naming the first
    row without one; with ``drop``, the others are dropped."""
    missing = pc.is_null(table.column(target), nan_is_null=True)
    if drop:
        return _without(table, missing) if pc.any(missing).as_py() else table
    if pc.any(missing).as_py():
        first = int(pc.index(missing, True).as_py())
        raise DataError(f"the target {target!r} is missing on {where(table, first)}; drop such "
                        "rows (the command: --drop-missing-target), or fill them in.")
    return table


def _block(batch: StreamBatch, target: str, features: Sequence[str], transform, weight, fold,
           n_folds, drop_missing_target: bool) -> Block:
    table = batch.table
    if column_kind(table.column(target)) not in ("numeric", "bool"):
        raise DataError(f"the target {target!r} is {table.column(target).type}, not numeric.")
    table = with_target(table, target, drop_missing_target)
    y = float_values(table.column(target))
    w = None
    if weight is not None:
        w = float_values(table.column(weight))
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(f"the weight column {weight!r} has {int(bad.sum())} missing, "
                            f"negative or infinite value(s) (first on {where(table, first)}).")
    ids = None if fold is None else _fold_ids(table, fold, n_folds)
    done = replace(batch, table=None)
    dropped = dropped_rows(table)
    if transform is None:
        return Block(_numeric_columns(table, features), features, y, w, ids, done, table,
                     dropped=dropped)
    X = transform(table)
    return Block([X[:, j] for j in range(X.shape[1])],
                 [f"output column {j + 1}" for j in range(X.shape[1])], y, w, ids, done, X=X,
                 dropped=dropped)
