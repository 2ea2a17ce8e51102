"""``ridgeway fit --dask ADDRESS``: the ridge fit job of ``--stream`` on a Dask cluster.

The job (``docs/scale.md``, "On a Dask cluster"):

1. the *levels pass* of ``--stream`` runs on the client, batch by batch (bounded memory):
   categories, imputation means and standardization, decided exactly as the stream does;
2. the cluster reads the file(s) with ``dask.dataframe`` (one partition per row group or CSV
   block, in file order), counts each partition's rows (the global row positions), then
   preprocesses every partition with the client's :class:`Preprocessor` and splits it into
   training and held-out rows by the stream's position hash (:func:`.streamjob.held_out`);
   the prepared partitions are kept in the workers' memory (``persist``);
3. :class:`ridgeway.dask.RidgeCV` fits the training rows (k-fold folds by the hash of the
   position among the training rows, or ``--fold-column``; GCV; or exact LOO), and the
   partitions' ``GramStats`` give the exact training and held-out metrics.

So ``--dask`` and ``--stream`` on the same data give the same model.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from .._optional import import_optional
from ..exceptions import AlphaEdgeWarning
from ..io import DataError, DataSource, _fold_ids, dropped_rows, float_values, with_target
from ..linalg import GramStats
from .fitjob import FitOutcome, Progress, parse_alphas
from .options import FitOptions
from .preprocess import Preprocessor
from .streamjob import (
    SAMPLE_ROWS,
    _columns,
    _cv,
    _levels_pass,
    _refuse,
    _Sample,
    held_out,
    statistics_notes,
    statistics_outcome,
)

__all__ = ["cluster", "run_dask"]

#: model kinds that ``--dask`` fits
DASK_KINDS = ("ridge",)


def _dask_module(name: str = "ridgeway.dask"):
    """``ridgeway.dask`` (or one of its modules), imported when ``--dask`` runs: Dask is an
    optional extra, so the command imports it only then."""
    try:
        return import_optional(name, extra="dask")
    except ImportError as exc:
        raise DataError(f"--dask: {exc}") from None


def _start_hint(address: str) -> str:
    return (f"start a scheduler there (`dask scheduler`, then `dask worker {address}` on each "
            "machine), or use --dask local to start a cluster of 2 workers on this machine")


@contextmanager
def cluster(address: str):
    """A ``distributed.Client`` connected to ``address``, or to a ``LocalCluster(n_workers=2,
    threads_per_worker=1)`` started for ``"local"`` (closed at the end)."""
    _dask_module()
    from distributed import Client, LocalCluster

    if address == "local":
        # a data error in a task is raised here, named; the workers' log of it (a traceback)
        # is not the user's to read
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                          silence_logs=logging.CRITICAL) as local, Client(local) as client:
            yield client
        return
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise DataError(f"--dask {address}: cannot connect to a Dask scheduler there "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        f"); {_start_hint(address)}.") from None
    with client:
        yield client


@dataclass(frozen=True)
class _Job:
    """What every partition needs (sent to the workers)."""

    schema: pa.Schema
    options: FitOptions
    features: list[str]
    pre: Preprocessor
    n_folds: int | None


def _arrow(frame, job: _Job, part: int) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.select([c for c in job.schema.names if c in table.column_names])
    try:
        table = table.cast(pa.schema([job.schema.field(c) for c in table.column_names]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"partition {part} of {job.options.data}: its columns do not have the "
                        f"types of the first file ({str(exc).splitlines()[0]}).") from None
    return table.replace_schema_metadata({b"ridgeway.path": f"partition {part} of "
                                          f"{job.options.data}".encode()})


def _kept_rows(frame, job: _Job, part: int) -> tuple[int, np.ndarray]:
    """``(rows of the partition, those of them dropped for a missing target)``."""
    table = _arrow(frame, job, part)
    gone = dropped_rows(with_target(table, job.options.target, job.options.drop_missing_target))
    return table.num_rows, np.empty(0, np.int64) if gone is None else gone


def _prepare(frame, job: _Job, part: int, start: int) -> tuple:
    """A partition preprocessed: training X, y, folds; training and held-out statistics;
    the plots' samples of both."""
    o = job.options
    table = with_target(_arrow(frame, job, part), o.target, o.drop_missing_target)
    X = job.pre.transform_known(table)
    y = float_values(table.column(o.target))
    fold = None if o.fold_column is None else _fold_ids(table, o.fold_column, job.n_folds)
    positions = np.arange(start, start + len(y))
    out = held_out(positions, o.test_size, o.random_state)
    train = ~out
    stats = [GramStats.from_arrays(X[m], y[m]) if m.any() else None for m in (train, out)]
    samples = (_Sample(SAMPLE_ROWS, o.random_state), _Sample(SAMPLE_ROWS, o.random_state + 1))
    samples[0].add(positions, X, y, np.flatnonzero(train))
    samples[1].add(positions, X, y, np.flatnonzero(out))
    return (np.ascontiguousarray(X[train]), y[train], None if fold is None else fold[train],
            *stats, *samples)


def _read(source: DataSource, columns: list[str]):
    """The data frame of the files, in the order of :class:`DataSource` (the positions)."""
    import dask.dataframe as dd

    files = [str(f) for f in source.files]
    if source.format == "parquet":
        return dd.read_parquet(files, columns=columns)
    dtypes = {c: _pandas_dtype(source.kind(c)) for c in columns}
    return dd.read_csv(files, sep=source._delimiter, decimal=source._decimal, usecols=columns,
                       dtype=dtypes, blocksize="64MB")


def _pandas_dtype(kind: str) -> str:
    return {"numeric": "float64", "bool": "boolean"}.get(kind, "object")


def _add(a, b):
    return b if a is None else a if b is None else a + b


def _partitions(client, source: DataSource, job: _Job):
    """Persisted prepared partitions with their training row counts (module docstring)."""
    import dask

    o = job.options
    columns = list(dict.fromkeys([*job.features, o.target, *(
        [o.fold_column] if o.fold_column else [])]))
    frames = _read(source, columns).to_delayed()
    sizes = client.compute([dask.delayed(_kept_rows)(f, job, i)
                            for i, f in enumerate(frames)], sync=True)
    counts = [n - len(gone) for n, gone in sizes]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    first = np.concatenate([[0], np.cumsum([n for n, _ in sizes])[:-1]]).astype(int)
    lost = np.concatenate([r + gone for r, (_, gone) in zip(first, sizes, strict=True)])
    n_train = [int((~held_out(np.arange(s, s + n), o.test_size, o.random_state)).sum())
               for s, n in zip(starts, counts, strict=True)]
    parts = [dask.delayed(_prepare, nout=7)(f, job, i, int(s))
             for i, (f, s) in enumerate(zip(frames, starts, strict=True))]
    parts = client.persist(parts)
    return parts, n_train, int(sum(counts)), lost if lost.size else None


def _training_arrays(parts, n_train: list[int], p: int, with_fold: bool):
    import dask.array as da

    kept = [(d, n) for d, n in zip(parts, n_train, strict=True) if n > 0]
    if not kept:
        raise DataError("no training rows: every row is held out; lower --test-size.")
    X = da.concatenate([da.from_delayed(d[0], (n, p), np.float64) for d, n in kept])
    y = da.concatenate([da.from_delayed(d[1], (n,), np.float64) for d, n in kept])
    fold = da.concatenate([da.from_delayed(d[2], (n,), np.int64) for d, n in kept]) \
        if with_fold else None
    return X, y, fold


def _merge_sample(a: _Sample, b: _Sample) -> _Sample:
    merged = _Sample(a.size, a.seed)
    for part in (a, b):
        if part.X:
            merged.add(part.positions, part.X[0], part.y[0], np.arange(len(part.positions)))
    return merged


def _merge(a: tuple, b: tuple) -> tuple:
    return (_add(a[0], b[0]), _add(a[1], b[1]), _merge_sample(a[2], b[2]),
            _merge_sample(a[3], b[3]))


def _gathered(parts) -> tuple:
    """(training statistics, held-out statistics, training sample, held-out sample) of all
    rows, merged in a tree on the workers."""
    import dask

    blocks = _dask_module("ridgeway.dask._blocks")
    small = [dask.delayed(tuple)([d[3], d[4], d[5], d[6]]) for d in parts]
    return blocks.compute(blocks.tree_reduce(small, _merge))


def _refuse_dask(options: FitOptions) -> None:
    """The stream's refusals, worded for ``--dask``, and its model kinds."""
    if options.model not in (None, *DASK_KINDS):
        raise ValueError(f"--dask fits {', '.join(DASK_KINDS)} only; --model {options.model} "
                         "needs the data in memory: drop --dask (or fit it in Python with "
                         "ridgeway.dask.LogisticRegressionCV / PoissonRegressor).")
    if options.stream:
        raise ValueError("--stream and --dask are two ways to fit beyond memory; give one.")
    try:
        _refuse(options)
    except ValueError as exc:
        raise ValueError(str(exc).replace("--stream", "--dask")) from None


def _how(source: DataSource, client, cv: Any) -> str:
    workers = len(client.scheduler_info().get("workers", {}))
    return (f"fitted on a Dask cluster ({workers} worker(s)) from {source.format} "
            f"({len(source.files)} file(s), {source.nbytes / 2**20:.0f} MiB): a levels pass "
            "on the client (categories, imputation, standardization), then the cluster's pass"
            f"{'es (fit, leverages)' if cv is None else ''}")


def _fit_on_cluster(client, source, job: _Job, cv, progress: Progress):
    parts, n_train, n_rows, lost = _partitions(client, source, job)
    X, y, fold = _training_arrays(parts, n_train, len(job.pre.feature_names),
                                  job.options.fold_column is not None)
    progress.stage("fit on the cluster")
    est = _dask_module().RidgeCV(alphas=parse_alphas(job.options.alphas), cv=cv,
                  selection=job.options.selection)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AlphaEdgeWarning)
        est.fit(X, y, fold=fold)
    edge = any(issubclass(w.category, AlphaEdgeWarning) for w in caught)
    return est, edge, _gathered(parts), n_rows, lost


def run_dask(options: FitOptions, progress: Progress | None = None) -> FitOutcome:
    """The fit job of ``ridgeway fit --dask ADDRESS`` (module docstring); returns the
    :class:`FitOutcome` of :func:`.streamjob.run_stream` for the same data."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    progress = progress or Progress()
    _refuse_dask(options)
    cv, cv_label, scheme = _cv(options)
    if options.fold_column is not None and not isinstance(cv, int):
        raise ValueError(f"--fold-column gives k-fold CV; it cannot go with --cv {options.cv}.")
    source = DataSource(options.data, sep=options.sep)
    try:
        features = _columns(source, options)
    except DataError as exc:
        raise DataError(str(exc).replace("--stream", "--dask")) from None
    with cluster(options.dask) as client:
        pre, _, dropped = _levels_pass(source, options, features, progress)
        job = _Job(source.schema, options, features, pre, cv if options.fold_column else None)
        est, edge, (train, test, *samples), n_rows, lost = _fit_on_cluster(
            client, source, job, cv, progress)
        how = _how(source, client, cv)
    return statistics_outcome(
        options, est, pre, engine="dask", train=train, test=test, samples=samples,
        notes=statistics_notes(how, dropped, pre), edge=edge, n_rows=n_rows,
        cv=(cv, cv_label, scheme), started=started, lost=lost)
