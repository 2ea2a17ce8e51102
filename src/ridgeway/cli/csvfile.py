"""CSV output of the command: predictions, curves and paths, written to round-trip."""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

__all__ = ["predictions_csv", "write_csv"]

_SPECIAL = '[,"\r\n]'
_CHUNK_ROWS = 65536


def _arrow(values: np.ndarray | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column for the CSV writer: labels (text, booleans) as their text ``str(v)``."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    values = np.asarray(values)
    if values.dtype.kind in "OUb":
        return pa.array([str(v) for v in values.tolist()], type=pa.string())
    return pa.array(values)


def _may_need_quotes(col: pa.ChunkedArray) -> bool:
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return bool(pc.any(pc.match_substring_regex(col, _SPECIAL)).as_py())
    return not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t))


def write_csv(columns: dict[str, np.ndarray | pa.ChunkedArray], fh: BinaryIO) -> None:
    """Write columns as CSV with a header row to a binary file, a chunk of rows at a time.

    Floats are written to round-trip exactly; text is quoted only where a value holds a
    comma, a quote or a line break.
    """
    table = pa.table({name: _arrow(v) for name, v in columns.items()})
    quote = any(any(c in name for c in ',"\r\n') for name in columns) or any(
        _may_need_quotes(col) for col in table.columns)
    if quote:
        options = csv.WriteOptions(quoting_style="needed")
    else:
        fh.write((",".join(columns) + "\n").encode("utf-8"))
        options = csv.WriteOptions(quoting_style="none", include_header=False)
    with csv.CSVWriter(fh, table.schema, write_options=options) as writer:
        for start in range(0, max(table.num_rows, 1), _CHUNK_ROWS):
            writer.write_table(table.slice(start, _CHUNK_ROWS))


def predictions_csv(columns: dict[str, np.ndarray]) -> bytes:
    """:func:`write_csv` into bytes."""
    buf = io.BytesIO()
    write_csv(columns, buf)
    return buf.getvalue()
