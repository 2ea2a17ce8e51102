"""Reading tables (CSV, Parquet) with pyarrow, checking them, and writing files atomically.

Every problem with a file raises :class:`DataError` (a ``ValueError``) whose message is one
line that names the file, the column and the fix. Columns stay pyarrow arrays until the
preprocessing turns the chosen ones into one float64 matrix (no intermediate copies).
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DataError",
    "atomic_write",
    "check_columns",
    "check_missing",
    "column_kind",
    "iter_batches",
    "read_table",
    "table_column",
]

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


class DataError(ValueError):
    """A data file cannot be used as asked; the message says why and what to do."""


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".gz"):
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_csv(path: Path) -> pa.Table:
    from pyarrow import csv

    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return csv.read_csv(
            path,
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=csv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        msg = _first_line(exc)
        if "Empty CSV file" in msg:
            raise DataError(f"{path}: the file is empty (no header, no rows).") from None
        raise DataError(f"{path}: cannot parse the CSV file: {msg}") from None


def _read_parquet(path: Path) -> pa.Table:
    from pyarrow import parquet

    try:
        return parquet.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot read the Parquet file: {_first_line(exc)}") from None


def read_table(path: str | os.PathLike) -> pa.Table:
    """Read a CSV or Parquet file into a pyarrow Table and check its shape and header.

    CSV files are read with pyarrow's multithreaded reader (``.tsv``: tab-separated); empty
    fields, ``NA``, ``NaN`` and ``null`` are missing values. Parquet is chosen by suffix
    (``.parquet``, ``.pq``) or by its magic bytes.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    DataError
        The file is missing, empty, unparseable, has duplicate column names or no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file.")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a data file.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (no header, no rows).")
    table = _read_parquet(path) if _is_parquet(path) else _read_csv(path)
    names = table.column_names
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DataError(
            f"{path}: duplicate column name(s) {', '.join(map(repr, dups))}; "
            "rename them so every column has its own name."
        )
    if table.num_rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows.")
    return table


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
    kind = column_kind(col)
    if kind == "numeric":
        return col.cast(pa.float64()).to_numpy()
    if kind == "bool":
        return col.cast(pa.float64()).to_numpy()
    return np.asarray(col.to_pylist(), dtype=object)


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
            raise DataError(
                f"unknown {what} {name!r}.{suggest(name, have)} Columns are: {shown}."
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename.

    Parameters
    ----------
    path : str or path-like
    data : bytes or str
        ``str`` is written as UTF-8.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
