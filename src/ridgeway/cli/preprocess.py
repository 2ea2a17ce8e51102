"""The preprocessing of the command: impute, one-hot encode, standardize, as one saved object.

A :class:`Preprocessor` turns chosen columns of a pyarrow Table into one float64 matrix:
numeric and boolean columns as they are (missing values filled with the training mean or
median when asked), string columns one-hot encoded (one 0/1 column per category seen in
training; unseen categories and missing values encode as all zeros; level names are trimmed of
surrounding whitespace; a complete column with exactly two levels becomes one 0/1 column, 1 for
the second level in sorted order), then every column
standardized with the training mean and population standard deviation. It is written whole
into ``model.json`` (plain numbers and strings) and applied again by ``ridgeway predict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import (
    DataError,
    check_columns,
    column_kind,
    float_values,
    release_unused,
    source_of,
    where,
)

__all__ = ["Preprocessor"]

_MAX_CATEGORIES = 100
#: above this magnitude a column is standardized after dividing by its largest |value|, so
#: that its mean and variance cannot overflow
_HUGE = 1e150
#: a standardized value beyond this cannot give a finite prediction: refused at fit time
_FAR = 1e100


def _numeric(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, refusing infinite values (named with file and row)."""
    values = float_values(table.column(name))
    inf = np.isinf(values)
    if inf.any():
        first = int(np.argmax(inf))
        raise DataError(
            f"column {name!r} of {source_of(table)} has {int(inf.sum())} infinite value(s) "
            f"(first on {where(table, first)}: {values[first]:g}); replace them in the file, "
            f"or leave them empty and use --impute, or --drop {name}."
        )
    return values


def _check_extreme(table: pa.Table, name: str, z: np.ndarray, rows: np.ndarray,
                   values: np.ndarray) -> None:
    """Refuse values so far from the training rows (|z| > 1e100 standard deviations) that
    no prediction of them is a finite number (``values``: the column before scaling, in
    ``rows`` order; ``table`` names the file and the row)."""
    far = np.flatnonzero(np.abs(z) > _FAR)
    if far.size:
        first = int(rows[far[0]])
        raise DataError(
            f"column {name!r} of {source_of(table)} has {far.size} value(s) more than 1e100 "
            f"standard deviations from the training rows (first on {where(table, first)}: "
            f"{float(values[far[0]])!r}); no prediction for such a row is a finite "
            "number. Fix or remove those rows."
        )


def _metadata(table: pa.Table) -> pa.Table:
    """A table without columns that carries ``table``'s metadata (the file, for messages)."""
    return pa.table({}).replace_schema_metadata(table.schema.metadata)


def _mean_sd(train: np.ndarray) -> tuple[float, float, float]:
    """(mean, population SD, divisor) computed without overflow: ``train / divisor`` is
    summed and squared, and mean and SD are scaled back."""
    top = float(np.max(np.abs(train))) if train.size else 0.0
    a = top if top > _HUGE else 1.0
    t = train / a if a != 1.0 else train
    m, c, m2 = _corrected_moments(t)
    return a * (m + c), a * float(np.sqrt(m2 / t.size)) if t.size else 0.0, a


def _corrected_moments(values: np.ndarray) -> tuple[float, float, float]:
    """``(m, c, M2)``: the mean is ``m + c`` and ``M2 = sum (x - mean)^2``, by the corrected
    two-pass algorithm (Chan, Golub and LeVeque): ``c``, the mean of ``x - m``, takes out the
    rounding of ``m``, whose square would otherwise enter M2 (a relative error of
    ``(eps |mean| / sd)^2``: 1e-8 for a column 1e12 + N(0, 1))."""
    m = float(values.mean())
    d = values - m
    c = float(d.mean())
    return m, c, max(float(np.dot(d, d)) - values.size * c * c, 0.0)


def _merge_moments(acc: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(count, mean, M2)`` of ``acc``'s values and ``values`` (Chan et al.'s merge)."""
    k = values.size
    if k == 0:
        return acc
    m, c, m2 = _corrected_moments(values)
    m += c
    n = acc[0] + k
    d = m - acc[1]
    return np.array([n, acc[1] + d * k / n, acc[2] + m2 + d * d * acc[0] * k / n])


def _refuse_constant(constant: list[str]) -> None:
    if constant:
        raise DataError(
            f"constant column(s) on the training rows: {', '.join(constant)}. A column "
            "without spread carries no information and cannot be standardized; remove it "
            "with --drop."
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_numeric_text(name: str, values: list[str]) -> None:
    """A text column whose values are nearly all numbers has a typo, not categories."""
    sample = values[:10_000]
    bad = [v for v in sample if not _is_number(v)]
    if bad and len(bad) <= 0.25 * len(sample) and len(sample) - len(bad) >= 3:
        raise DataError(
            f"column {name!r} holds numbers but also text such as {bad[0]!r}; fix those "
            f"entries (or mark them missing and use --impute), or --drop {name}."
        )


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_trim_whitespace(col.cast(pa.string()))


def _categories(name: str, col: pa.ChunkedArray) -> list[str]:
    values = pc.unique(_text(col)).drop_null().to_pylist()
    _check_numeric_text(name, values)
    if len(values) > _MAX_CATEGORIES:
        raise DataError(
            f"column {name!r} has {len(values)} distinct text values; one-hot encoding supports "
            f"at most {_MAX_CATEGORIES}. Drop it with --drop {name} or encode it yourself."
        )
    return sorted(values)


class _StreamTally:
    """What the levels pass gathers batch by batch: the moments of the numeric columns and
    the level counts of the text columns (training rows), every level seen (all rows)."""

    def __init__(self, columns: list[str], kinds: dict[str, str], impute: str):
        self.impute = impute
        self.numeric = [c for c in columns if kinds[c] in ("numeric", "bool", "null")]
        self.text = [c for c in columns if kinds[c] == "categorical"]
        # count, mean, M2 of the non-missing training values less ``shift`` (the first
        # batch's mean: the merged batch means are then small, and so their rounding)
        self.moments = {c: np.zeros(3) for c in self.numeric}
        self.shift = dict.fromkeys(self.numeric, 0.0)
        self.counts: dict[str, dict[str, int]] = {c: {} for c in self.text}
        self.nulls = dict.fromkeys(self.text, 0)
        self.n_train = 0

    def add(self, table: pa.Table, train: np.ndarray) -> None:
        self.n_train += int(train.sum())
        for name in self.numeric:
            values = _numeric(table, name)
            gap = np.isnan(values)
            if self.impute == "none" and gap.any():
                first = int(np.argmax(gap))
                raise DataError(
                    f"column {name!r} has {int(gap.sum())} missing value(s) (first on "
                    f"{where(table, first)}); use --impute mean, or --drop {name}.")
            values = values[train]
            values = values[~np.isnan(values)]
            if self.moments[name][0] == 0 and values.size:
                self.shift[name] = float(values.mean())
            self.moments[name] = _merge_moments(self.moments[name], values - self.shift[name])
        for name in self.text:
            col = _text(table.column(name))
            if self.impute == "none" and col.null_count:  # as in memory: one-hot zeros only
                first = int(pc.index(pc.is_null(col), True).as_py())  # with --impute
                raise DataError(
                    f"column {name!r} has {col.null_count} missing value(s) (first on "
                    f"{where(table, first)}); use --impute mean (a missing category is then "
                    f"encoded as no category, as in memory), or --drop {name}.")
            self.nulls[name] += col.null_count
            for level in pc.unique(col).drop_null().to_pylist():
                self.counts[name].setdefault(level, 0)
            if train.any():
                kept = col.filter(pa.array(train)).drop_null()
                for item in pc.value_counts(kept).to_pylist():
                    self.counts[name][item["values"]] += item["counts"]

    def categories(self) -> dict[str, list]:
        cats = {}
        for name in self.text:
            cats[name] = values = sorted(self.counts[name])
            _check_numeric_text(name, values)
            if len(values) > _MAX_CATEGORIES:
                raise DataError(
                    f"column {name!r} has more than {_MAX_CATEGORIES} distinct text values; "
                    f"one-hot encoding supports at most {_MAX_CATEGORIES}. Drop it with "
                    f"--drop {name} or encode it yourself.")
        return cats

    def standardization(self, pre) -> tuple[list[float], list[float]]:
        """Mean and scale of each output column of ``pre`` over the training rows, refusing
        constant columns."""
        mean, scale, constant = [], [], []
        for column, level in pre.sources:
            if level is None:
                _, m, m2 = self.moments[column]
                m += self.shift[column]
                var = m2 / self.n_train  # imputed values sit at the mean: they add no spread
                if var == 0:
                    constant.append(f"{column!r} (always {m:g})")
            else:
                hits = self.counts[column][level]
                m = hits / self.n_train
                var = m * (1.0 - m)
                if var == 0 and (hits or column in pre.binary):
                    seen = level if hits else pre.categories[column][0]
                    constant.append(f"{column!r} (always {seen!r})")
            mean.append(float(m))
            scale.append(float(np.sqrt(var)) if var > 0 else 1.0)
        _refuse_constant(constant)
        return mean, scale


@dataclass
class Preprocessor:
    """Column-wise preprocessing fitted on the training rows.

    Attributes
    ----------
    columns : list of str
        Input columns in order.
    kinds : dict
        ``"numeric"`` or ``"categorical"`` per input column.
    categories : dict
        Sorted categories per categorical column.
    fill : dict
        Imputation value per numeric column that had missing values (empty without imputation).
    impute : str
        ``"none"``, ``"mean"`` or ``"median"``.
    binary : list of str
        Categorical columns with two levels and no missing value, encoded as one 0/1 column
        (1 = the second of their sorted categories).
    mean, scale : list of float or None
        Standardization per output feature (``None`` with ``--no-standardize``).
    """

    columns: list[str]
    kinds: dict[str, str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    fill: dict[str, float] = field(default_factory=dict)
    impute: str = "none"
    mean: list[float] | None = None
    scale: list[float] | None = None
    binary: list[str] = field(default_factory=list)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_table(cls, table: pa.Table, columns: list[str], *, impute: str = "none"
                   ) -> Preprocessor:
        """Decide the kind of each column and the categories (before any numbers are seen).

        Parameters
        ----------
        table : pyarrow.Table
        columns : list of str
            Feature columns.
        impute : {"none", "mean", "median"}

        Returns
        -------
        Preprocessor
        """
        kinds, cats = {}, {}
        for name in columns:
            kind = column_kind(table.column(name))
            if kind in ("numeric", "bool"):
                kinds[name] = "numeric"
            elif kind == "categorical":
                kinds[name] = "categorical"
                cats[name] = _categories(name, table.column(name))
            else:
                raise DataError(
                    f"column {name!r} has type {table.column(name).type}, which ridgeway cannot "
                    f"use as a feature; drop it with --drop {name}."
                )
        binary = [c for c, v in cats.items() if len(v) == 2 and not table.column(c).null_count]
        return cls(list(columns), kinds, cats, impute=impute, binary=binary)

    @classmethod
    def from_stream(cls, batches: Iterable[tuple[pa.Table, np.ndarray]], columns: list[str],
                    kinds: dict[str, str], *, impute: str = "none", standardize: bool = True
                    ) -> Preprocessor:
        """The levels pass of a stream: categories, imputation means and standardization
        from batches ``(table, train)`` (``train``: boolean mask of the training rows).

        The result is that of :meth:`from_table` followed by :meth:`fit_transform` on the
        concatenated batches (categories from every row, imputation and scaling from the
        training rows; means and variances merged batch by batch, equal to rounding).
        ``impute="median"`` needs every value at once and is refused.

        Parameters
        ----------
        batches : iterable of (pyarrow.Table, ndarray of bool)
        columns : list of str
        kinds : dict
            :func:`ridgeway.io.column_kind` of each column (from the data's schema).
        impute : {"none", "mean"}
        standardize : bool

        Returns
        -------
        Preprocessor
        """
        if impute == "median":
            raise DataError('impute="median" needs all the values of a column at once; use '
                            '"mean" for a stream.')
        for name in columns:
            if kinds[name] not in ("numeric", "bool", "categorical", "null"):
                raise DataError(f"column {name!r} has a type ridgeway cannot use as a feature; "
                                f"drop it with --drop {name}.")
        tally = _StreamTally(columns, kinds, impute)
        for table, train in batches:
            tally.add(table, train)
        cats = tally.categories()
        binary = [c for c in tally.text if len(cats[c]) == 2 and not tally.nulls[c]]
        pre = cls(list(columns), {c: "categorical" if c in cats else "numeric" for c in columns},
                  cats, impute=impute, binary=binary)
        if impute != "none":
            for name in tally.numeric:
                if tally.moments[name][0] == 0:
                    raise DataError(f"column {name!r} has no value in the training rows to "
                                    "impute.")
                pre.fill[name] = tally.shift[name] + float(tally.moments[name][1])
        mean, scale = tally.standardization(pre)
        if standardize:
            pre.mean, pre.scale = mean, scale
        return pre

    @classmethod
    def from_stats(cls, columns: list[str], stats, *, standardize: bool = True
                   ) -> Preprocessor:
        """The preprocessing of numeric columns without missing values decided from the
        statistics of the training rows (:class:`ridgeway.linalg.GramStats`; the one-pass
        stream): no imputation, no encoding, the standardization by their means and
        population standard deviations (as :meth:`from_stream`, equal to rounding); refuses
        constant columns."""
        pre = cls(list(columns), dict.fromkeys(columns, "numeric"))
        var = np.diag(stats.xx) / stats.weight_sum
        _refuse_constant([f"{c!r} (always {m:g})"
                          for c, m, v in zip(columns, stats.x_mean, var, strict=True) if v <= 0])
        if standardize:
            pre.mean = [float(m) for m in stats.x_mean]
            pre.scale = [float(v) for v in np.sqrt(var)]
        return pre

    def levels(self, column: str) -> list[str]:
        """The category levels that get an output column (the second one only if binary)."""
        cats = self.categories[column]
        return cats[1:] if column in self.binary else cats

    @property
    def sources(self) -> list[tuple[str, Any]]:
        """``(input column, category level or None)`` of each output column."""
        out: list[tuple[str, Any]] = []
        for c in self.columns:
            if self.kinds[c] == "categorical":
                out.extend((c, v) for v in self.levels(c))
            else:
                out.append((c, None))
        return out

    @property
    def feature_names(self) -> list[str]:
        """Names of the output columns (one-hot columns as ``column=value``)."""
        return [c if v is None else f"{c}={v}" for c, v in self.sources]

    @property
    def encoded(self) -> list[str]:
        """The categorical input columns (one-hot encoded)."""
        return [c for c in self.columns if self.kinds[c] == "categorical"]

    # ----------------------------------------------------------------- numbers
    def _fill_values(self, table: pa.Table, rows: np.ndarray | None) -> None:
        for name in self.columns:
            if self.kinds[name] != "numeric" or self.impute == "none":
                continue
            values = _numeric(table, name)
            # every numeric column gets a fill value, so that a model fitted with --impute also
            # imputes values missing at predict time in columns that were complete at fit time
            if rows is not None:
                values = values[rows]
            good = values[~np.isnan(values)]
            if good.size == 0:
                raise DataError(f"column {name!r} has no value in the training rows to impute.")
            self.fill[name] = float(np.mean(good) if self.impute == "mean" else np.median(good))

    def _encoded_columns(self, held: list[pa.Table], rows: np.ndarray | None,
                         release: bool = False) -> Iterator[np.ndarray]:
        """Each output column in turn (imputed, one-hot), gathered in ``rows`` order, of the
        table in ``held``. With ``release`` the table is taken out of ``held`` and each input
        column let go once its output columns are made."""
        table = held.pop() if release else held[0]
        check_columns(table, self.columns, "column (needed by the model)")
        for name in self.columns:
            col = table.column(name)
            if self.kinds[name] == "numeric":
                if column_kind(col) not in ("numeric", "bool", "null"):
                    raise DataError(f"column {name!r} must be numeric (it was when fitted); "
                                    f"got {col.type}.")
                values = _numeric(table, name)
                values = values if rows is None else values[rows]
                if name in self.fill:
                    values = np.where(np.isnan(values), self.fill[name], values)
                yield values
            else:
                text = _text(col)
                for cat in self.levels(name):
                    hit = pc.fill_null(pc.equal(text, cat), False).to_numpy(zero_copy_only=False)
                    yield (hit if rows is None else hit[rows]).astype(np.float64)
                del text
            if release:
                del col
                table = table.drop_columns([name])
                release_unused()

    def encode(self, table: pa.Table, rows: np.ndarray | None = None) -> np.ndarray:
        """Impute and one-hot encode into a new float64 matrix (Fortran order), unscaled.

        Parameters
        ----------
        table : pyarrow.Table
        rows : ndarray of int, optional
            Row order to gather (e.g. a shuffled train/test order); default all rows.

        Returns
        -------
        ndarray of shape (len(rows), n_features)
        """
        n = table.num_rows if rows is None else len(rows)
        X = np.empty((n, len(self.feature_names)), order="F")
        for j, values in enumerate(self._encoded_columns([table], rows)):
            X[:, j] = values
        return X

    def fit_transform(self, table: pa.Table | list[pa.Table], rows: np.ndarray, n_train: int,
                      standardize: bool = True) -> np.ndarray:
        """Encode the rows in the given order; fit imputation and scaling on the first n_train.

        Each column is standardized as it is written (one pass, no second matrix), with the
        mean and population standard deviation of its first ``n_train`` entries.

        Parameters
        ----------
        table : pyarrow.Table, or a list holding one
            A list hands the table over: it is taken out of the list and each of its columns
            released once written, so that (if the caller keeps no other reference) the
            table and the matrix are not both held whole.
        rows : ndarray of int
        n_train : int
        standardize : bool

        Returns
        -------
        ndarray of shape (len(rows), n_features), Fortran order
        """
        release = isinstance(table, list)
        held = table if release else [table]
        meta = _metadata(held[0])
        self._fill_values(held[0], rows[:n_train])
        X = np.empty((len(rows), len(self.feature_names)), order="F")
        mean, scale, constant, sources = [], [], [], self.sources
        del table
        for j, values in enumerate(self._encoded_columns(held, rows, release)):
            train = values[:n_train]
            column, level = sources[j]
            if train.size and train.min() == train.max():
                if level is None:
                    constant.append(f"{column!r} (always {train[0]:g})")
                elif train[0] == 1.0 or column in self.binary:  # one level on every row
                    seen = level if train[0] == 1.0 else self.categories[column][0]
                    constant.append(f"{column!r} (always {seen!r})")
            if standardize:
                m, s, a = _mean_sd(train)
                s = s if s > 0 else 1.0  # a level absent from the training rows: all zeros
                mean.append(m)
                scale.append(s)
                if a == 1.0:
                    np.subtract(values, m, out=X[:, j])
                    X[:, j] /= s
                else:
                    np.divide(values, a, out=X[:, j])
                    X[:, j] -= m / a
                    X[:, j] /= s / a
                _check_extreme(meta, column, X[:, j], rows, values)
            else:
                X[:, j] = values
        _refuse_constant(constant)
        if standardize:
            self.mean, self.scale = mean, scale
        return X

    def _scale_inplace(self, X: np.ndarray) -> None:
        if self.mean is None:
            return
        X -= np.asarray(self.mean)
        X /= np.asarray(self.scale)

    def transform(self, table: pa.Table) -> np.ndarray:
        """Encode, impute and scale a table as fitted (all rows, input order).

        Raises
        ------
        DataError
            A needed column is missing, or has missing values the model cannot fill.
        """
        X = self.encode(table)
        nan_cols = [self.columns[k] for k in range(len(self.columns))
                    if self.kinds[self.columns[k]] == "numeric"
                    and self.columns[k] not in self.fill
                    and np.isnan(X[:, self.feature_names.index(self.columns[k])]).any()]
        if nan_cols:
            raise DataError(
                f"missing values in column(s) {', '.join(map(repr, nan_cols))}, which the model "
                "was fitted without (refit with --impute mean or median)."
            )
        self._scale_inplace(X)
        return X

    def transform_known(self, table: pa.Table) -> np.ndarray:
        """:meth:`transform`, refusing a category that the levels were fitted without (the
        stream's fit pass: a level first seen late would silently widen nothing and shift
        the model, so it is an error naming the column, the level and its first row)."""
        for name, levels in self.unseen(table).items():
            level, count = levels[0]
            hit = pc.equal(table.column(name).cast(pa.string()), level)
            first = int(pc.index(pc.fill_null(hit, False), True).as_py())
            raise DataError(
                f"column {name!r} has the level {level!r} ({count} row(s), first on "
                f"{where(table, first)}) that the levels pass did not see (known: "
                f"{', '.join(map(repr, self.categories[name][:8]))}); the data changed between "
                "the passes, or the levels given do not cover it.")
        return self.transform(table)

    def unseen(self, table: pa.Table) -> dict[str, list[tuple[str, int]]]:
        """Categories of ``table`` not seen in training, per categorical column.

        Returns
        -------
        dict
            Column name to ``(level, number of rows)`` pairs, most frequent first (only the
            columns that have any); such rows encode as all zeros in that column's one-hot block.
        """
        out = {}
        for name in self.encoded:
            text = table.column(name).cast(pa.string()).drop_null()
            known = pa.array(self.categories[name], type=pa.string())
            new = text.filter(pc.invert(pc.is_in(text, value_set=known)))
            if len(new):
                counts = pc.value_counts(new).to_pylist()
                out[name] = sorted(((c["values"], c["counts"]) for c in counts),
                                   key=lambda vc: (-vc[1], vc[0]))
        return out

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"columns": self.columns, "kinds": self.kinds, "categories": self.categories,
                "fill": self.fill, "impute": self.impute, "mean": self.mean,
                "scale": self.scale, "binary": self.binary}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        """Rebuild from :meth:`to_dict` output (raises ``KeyError``/``TypeError`` if malformed)."""
        pre = cls([str(c) for c in d["columns"]], {str(k): str(v) for k, v in d["kinds"].items()},
                  {str(k): [str(x) for x in v] for k, v in d["categories"].items()},
                  {str(k): float(v) for k, v in d["fill"].items()}, str(d["impute"]),
                  binary=[str(c) for c in d.get("binary", [])])
        if d["mean"] is not None:
            pre.mean = [float(v) for v in d["mean"]]
            pre.scale = [float(v) for v in d["scale"]]
            if len(pre.mean) != len(pre.feature_names) or len(pre.scale) != len(pre.mean):
                raise ValueError("scaling does not match the number of features")
        if set(pre.kinds) != set(pre.columns):
            raise ValueError("column kinds do not match the columns")
        return pre
