"""Reading tables (CSV, Parquet) with pyarrow and checking them.

Every problem with a file raises :class:`DataError` (a ``ValueError``) whose message is one
line that names the file, the column and the fix. Columns stay pyarrow arrays until the
preprocessing turns the chosen ones into one float64 matrix (no intermediate copies).
"""

from __future__ import annotations

import difflib
import gzip
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import DataError

__all__ = [
    "check_columns",
    "check_missing",
    "column_kind",
    "iter_batches",
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
    """A person's name for the row at 0-based ``index``: ``row 6 (line 7 of data.csv)``."""
    meta = table.schema.metadata or {}
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


def _read_csv(path: Path, delimiter: str, decimal: str) -> pa.Table:
    """Read block by block (streaming: the peak memory stays near the table's size), or
    whole where a column's type changes after the first block (read_csv infers it from
    every block) or a field is longer than a block (larger blocks)."""
    from pyarrow import csv

    block, stream = _BLOCK_SIZE, True
    size = path.stat().st_size
    parse = csv.ParseOptions(delimiter=delimiter)
    convert = csv.ConvertOptions(strings_can_be_null=True, decimal_point=decimal)
    while True:
        read = csv.ReadOptions(block_size=block)
        try:
            if stream:
                with csv.open_csv(path, read_options=read, parse_options=parse,
                                  convert_options=convert) as reader:
                    return pa.Table.from_batches(list(reader), schema=reader.schema)
            return csv.read_csv(path, read_options=read, parse_options=parse,
                                convert_options=convert)
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

    try:
        return parquet.read_table(path)
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
    return table.filter(pc.invert(bad)), k


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
