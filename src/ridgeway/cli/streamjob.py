"""``ridgeway fit --stream`` and the streaming ``predict``: the main job in bounded memory.

The fit reads the data batch by batch (``docs/scale.md``). When every feature is numeric (in
the data's schema), ``--impute`` is not asked and the CV is k-fold or GCV, it reads them once:

* the *fit pass* feeds the training rows as they are to ``RidgeCV.fit_stream`` (one
  ``GramStats`` per fold) and keeps the held-out rows' statistics and a sample of rows for the
  report's plots; the standardization (the training rows' means and standard deviations) is
  then applied to the statistics, which it maps exactly (``x -> (x - m) / s`` is linear), and
  to the samples. A missing value is refused (naming the column, the row and ``--impute``).

Otherwise (text columns, imputation, exact leave-one-out) it reads them twice:

1. the *levels pass* decides the preprocessing as the in-memory fit does: the categories of
   the text columns (from every row), the imputation means and the standardization (from the
   training rows; means and variances merged batch by batch);
2. the *fit pass* preprocesses each batch with it and feeds the training rows to
   ``RidgeCV.fit_stream``; the held-out rows' statistics give the exact held-out MSE and R^2;
   a sample of rows is kept for the report's plots.

Which rows are held out: the row at stream position ``i`` (0-based, over the rows kept) is
held out when ``fold_of(i, 10**6, seed + 1) < test_size * 10**6`` (the fold hash of
:func:`ridgeway.linalg.fold_of` at a fine grain, so two passes and any batching agree). The
training rows' CV folds are the ``--fold-column`` ids, or ``fold_of`` of their position among
the training rows (the default of ``partial_fit``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import AlphaEdgeWarning
from ..io import DataError, DataSource, check_columns, iter_blocks, source_rows, with_target
from ..linalg import GramStats, fold_of
from ..linear_model import RidgeCV
from ..linear_model._stream import RowStats, fit_stream, standardized
from ..linear_model.kinds import KINDS
from .atomic import atomic_open
from .csvfile import predictions_csv
from .fitjob import FitOutcome, Progress, _edge_notes, parse_alphas
from .modelfile import SavedModel
from .options import FitOptions
from .preprocess import Preprocessor

__all__ = ["MEMORY_SHARE", "predict_file", "predict_stream", "run_stream", "wants_stream"]

#: data files larger than this share of the machine's memory are fitted with --stream
MEMORY_SHARE = 0.25
#: rows of each kind (training, held-out) kept for the report's plots
SAMPLE_ROWS = 20_000
_GRAIN = 10**6


def total_memory() -> int:
    """Physical memory of the machine in bytes (``sysconf``: pages x page size)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def wants_stream(path: Path | None) -> bool:
    """Whether the data on disk exceeds :data:`MEMORY_SHARE` of the machine's memory (a
    table in memory takes about as much as the CSV text, several times a Parquet file), or
    is a glob or a directory of files."""
    if path is None:
        return False
    memory = total_memory()
    try:
        source = DataSource(path)
    except DataError:
        return False  # the in-memory reader names the problem
    if len(source.files) > 1 or Path(path).is_dir():
        return True  # a glob or a directory: only the stream reads several files
    return bool(memory) and source.nbytes > MEMORY_SHARE * memory


def streams(options: FitOptions) -> bool:
    """Whether ``ridgeway fit`` runs :func:`run_stream`: asked (``--stream``,
    ``--fold-column``) or implied by the data (:func:`wants_stream`)."""
    return bool(options.stream or options.fold_column or wants_stream(options.data))


def held_out(positions: np.ndarray, test_size: float, seed: int) -> np.ndarray:
    """Mask of the held-out rows among stream ``positions`` (module docstring)."""
    return fold_of(positions, _GRAIN, seed + 1) < round(test_size * _GRAIN)


class _Sample:
    """A uniform sample of at most ``size`` rows of a stream: the rows of smallest hash, held
    in one buffer (a row that enters takes the slot of a row it displaces; the buffer grows
    up to ``size`` rows). ``X``, ``y`` and ``positions`` give the kept rows in stream order
    (``X`` and ``y`` as one-array lists, empty before any row)."""

    def __init__(self, size: int, seed: int):
        self.size, self.seed, self.count = size, seed, 0
        self.keys = self._positions = np.empty(0, dtype=np.int64)
        self._X: np.ndarray | None = None
        self._y = np.empty(0)

    def add(self, positions: np.ndarray, X, y: np.ndarray, rows: np.ndarray) -> None:
        """Offer the rows ``rows`` of a block ``(X, y)``, at stream ``positions[rows]``; ``X``
        is an array or anything whose ``X[rows]`` gives those rows' features (only the rows
        that enter the sample are copied)."""
        positions = positions[rows]
        keys = fold_of(positions, 2**62, self.seed + 2)
        old = self.count
        both = np.concatenate([self.keys[:old], keys])
        keep = (np.argpartition(both, self.size - 1)[:self.size] if both.size > self.size
                else np.arange(both.size))
        new = np.sort(keep[keep >= old]) - old
        if not new.size:
            return
        freed = np.ones(old, dtype=bool)
        freed[keep[keep < old]] = False
        freed = np.flatnonzero(freed)
        count = old + new.size - freed.size
        slots = np.concatenate([freed, np.arange(old, count)])
        features = X[rows[new]]
        self._reserve(count, features.shape[1])
        self._X[slots], self._y[slots] = features, y[rows[new]]
        self.keys[slots], self._positions[slots] = keys[new], positions[new]
        self.count = count

    def _reserve(self, count: int, p: int) -> None:
        have = 0 if self._X is None else self._X.shape[0]
        if count <= have:
            return
        cap = min(self.size, max(count, 2 * have))
        grown = (np.empty((cap, p), order="F"), np.empty(cap), np.empty(cap, dtype=np.int64),
                 np.empty(cap, dtype=np.int64))
        if have:
            for new, old in zip(grown, (self._X, self._y, self.keys, self._positions),
                                strict=True):
                new[:self.count] = old[:self.count]
        self._X, self._y, self.keys, self._positions = grown

    def _order(self) -> np.ndarray:
        return np.argsort(self._positions[:self.count], kind="stable")

    @property
    def positions(self) -> np.ndarray:
        return self._positions[:self.count][self._order()]

    @property
    def X(self) -> list[np.ndarray]:
        return [np.asfortranarray(self._X[:self.count][self._order()])] if self.count else []

    @property
    def y(self) -> list[np.ndarray]:
        return [self._y[:self.count][self._order()]] if self.count else []

    def standardize(self, mean: np.ndarray, scale: np.ndarray) -> None:
        """Map the kept rows' features to ``(x - mean) / scale`` (as ``Preprocessor``)."""
        if self.count:
            X = self._X[:self.count]
            X -= mean
            X /= scale

    def arrays(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the kept rows in stream order."""
        if not self.count:
            return np.empty((0, p)), np.empty(0)
        return self.X[0], self.y[0]


class _Rows:
    """``rows -> block.take(rows)`` as indexing, for :meth:`_Sample.add`."""

    def __init__(self, block):
        self.block = block

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.block.take(rows)


def _refuse(options: FitOptions) -> None:
    """Options the stream cannot honour, each with the way out."""
    if options.model not in (None, "ridge"):
        raise ValueError(f"--stream fits ridge only (its exact CV needs one pass over the "
                         f"data); --model {options.model} needs the data in memory: drop "
                         "--stream (and use a machine with more memory, or fewer rows).")
    for flag, value in (("--exposure", options.exposure), ("--offset", options.offset),
                        ("--class-weight", options.class_weight),
                        ("--time-column", options.time_column)):
        if value not in (None, "none"):
            raise ValueError(f"{flag} is not available with --stream (ridge only, random "
                             "held-out rows).")
    if options.split != "random":
        raise ValueError("--split time is not available with --stream; the held-out rows "
                         "are a hash of the row position.")
    if options.impute == "median":
        raise ValueError("--impute median needs all the values of a column at once; with "
                         "--stream use --impute mean (or fill the values in).")
    if not 0 <= options.test_size < 1:
        raise ValueError(f"--test-size must be in [0, 1), got {options.test_size}.")


def _cv(options: FitOptions) -> tuple[Any, str, str]:
    text = (options.cv or "5").strip().lower()
    if text.isdigit() and int(text) >= 2:
        k = int(text)
        return k, f"{k}-fold CV", (f"{k} folds given by --fold-column {options.fold_column!r}"
                                   if options.fold_column else
                                   f"{k} folds by a hash of the row position (docs/scale.md)")
    if text == "gcv":
        return "gcv", "generalized cross-validation (GCV)", (
            "generalized cross-validation (a rotation-invariant approximation of "
            "leave-one-out)")
    if text in ("loo", "alo"):
        return None, "exact leave-one-out", (
            "exact leave-one-out: every training row is held out once (one more pass over "
            "the data computes the leverages)")
    raise ValueError(f"--cv must be a number of folds (default 5 with --stream), loo or gcv; "
                     f"got {text!r}.")


def _columns(source: DataSource, options: FitOptions) -> list[str]:
    table = source.schema.empty_table().replace_schema_metadata(
        {b"ridgeway.path": str(options.data).encode()})
    if options.target is None:
        raise DataError(f"--target is required with a data file; columns are: "
                        f"{', '.join(source.column_names[:12])}.")
    check_columns(table, [options.target], "target column")
    check_columns(table, options.drop, "column in --drop")
    if options.fold_column is not None:
        check_columns(table, [options.fold_column], "column in --fold-column")
    if source.kind(options.target) not in ("numeric", "bool"):
        raise DataError(f"target {options.target!r} is not numeric "
                        f"({source.schema.field(options.target).type}); --stream fits ridge "
                        "only: drop --stream to fit a classifier.")
    skip = {options.target, *options.drop, options.fold_column}
    features = [c for c in source.column_names if c not in skip]
    if not features:
        raise DataError("no feature columns left after removing the target and --drop.")
    return features


def _levels_pass(source: DataSource, options: FitOptions, features: list[str],
                 progress: Progress) -> tuple[Preprocessor, int, int]:
    """The preprocessing decided on every row (module docstring); (pre, rows, dropped)."""
    progress.stage("levels pass (reading the data)", total=source.nbytes)
    counts = {"rows": 0, "dropped": 0, "bytes": 0}
    current: list = [None]  # the batch being used, to name it in an error

    def batches():
        for batch in source.batches([*features, options.target], prefetch=2):
            current[0] = batch
            table = with_target(batch.table, options.target, options.drop_missing_target)
            counts["dropped"] += batch.table.num_rows - table.num_rows
            positions = np.arange(counts["rows"], counts["rows"] + table.num_rows)
            counts["rows"] += table.num_rows
            progress.advance(batch.bytes_read - counts["bytes"])
            counts["bytes"] = batch.bytes_read
            yield table, ~held_out(positions, options.test_size, options.random_state)
            current[0] = None

    kinds = {c: source.kind(c) for c in features}
    try:
        pre = Preprocessor.from_stream(batches(), features, kinds, impute=options.impute,
                                       standardize=options.standardize)
    except DataError as exc:
        if current[0] is None:
            raise
        raise DataError(f"{current[0].describe()}: {exc}") from None
    return pre, counts["rows"], counts["dropped"]


def _sse(stats: GramStats, coef: np.ndarray, intercept: float) -> float:
    """Weighted squared error of ``x.coef + intercept`` on the rows of ``stats``."""
    w = np.ravel(coef)
    xy = stats.xy[:, 0]
    bias = float(stats.y_mean[0] - intercept - stats.x_mean @ w)
    return float(stats.yy[0, 0] - 2 * w @ xy + w @ stats.xx @ w + stats.weight_sum * bias**2)


def _metrics(stats: GramStats | None, coef, intercept) -> dict[str, float]:
    if stats is None or stats.weight_sum == 0:
        return {}
    sse = _sse(stats, coef, intercept)
    yy = float(stats.yy[0, 0])
    return {"mse": sse / stats.weight_sum, "r2": 1.0 - sse / yy if yy > 0 else float("nan")}


class _FitPass:
    """The fit pass's batches for ``fit_stream``: the training rows of each block, while the
    held-out rows' statistics, both plot samples, the rows and the dropped rows are gathered
    (first pass). ``pre`` None: the one-pass mode (raw numeric columns)."""

    def __init__(self, source: DataSource, options: FitOptions, features: list[str],
                 pre: Preprocessor | None, cv, progress: Progress):
        self.source, self.options, self.features = source, options, features
        self.pre, self.cv, self.progress = pre, cv, progress
        self.test: GramStats | None = None
        self._test = RowStats()
        self.samples = (_Sample(SAMPLE_ROWS, options.random_state),
                        _Sample(SAMPLE_ROWS, options.random_state + 1))
        self.passes = self.n_rows = 0
        self._lost: list[np.ndarray] = []  # stream rows dropped for a missing target

    def __call__(self):
        options, first = self.options, self.passes == 0
        self.passes += 1
        self.progress.stage(("fit pass" if self.pre is not None else
                             "fit pass (one pass: every feature is numeric)") if first
                            else "leverage pass (exact leave-one-out)", total=self.source.nbytes)
        position = done = 0
        for block in iter_blocks(self.source, options.target, self.features,
                                 transform=None if self.pre is None
                                 else self.pre.transform_known, fold=options.fold_column,
                                 n_folds=self.cv if options.fold_column else None,
                                 drop_missing_target=options.drop_missing_target):
            y = block.y
            positions = np.arange(position, position + len(y))
            position += len(y)
            out = held_out(positions, options.test_size, options.random_state)
            train, test = np.flatnonzero(~out), np.flatnonzero(out)
            if first:
                if block.dropped is not None:
                    self._lost.append(block.batch.start + block.dropped)
                if test.size:
                    self._test.add(block.subset(test))
                self.samples[0].add(positions, _Rows(block), y, train)
                self.samples[1].add(positions, _Rows(block), y, test)
            self.progress.advance(block.batch.bytes_read - done)
            done = block.batch.bytes_read
            yield block.subset(train)
        self.n_rows = position
        self.test = self._test.stats

    @property
    def lost(self) -> np.ndarray | None:
        """The stream rows dropped for a missing target (None: none)."""
        return np.concatenate(self._lost) if self._lost else None

    @property
    def dropped(self) -> int:
        return sum(len(rows) for rows in self._lost)

    def standardize(self, mean: np.ndarray, scale: np.ndarray) -> None:
        """The one-pass mode's held-out statistics and samples, standardized."""
        if self.test is not None:
            self.test = standardized(self.test, mean, scale)
        for sample in self.samples:
            sample.standardize(mean, scale)


def _setup(options: FitOptions) -> tuple[Any, str, str, DataSource, list[str]]:
    """``(cv, cv_label, scheme, source, features)`` after the checks of the options."""
    _refuse(options)
    cv, cv_label, scheme = _cv(options)
    if options.fold_column is not None and not isinstance(cv, int):
        raise ValueError(f"--fold-column gives k-fold CV; it cannot go with --cv {options.cv}.")
    source = DataSource(options.data, sep=options.sep)
    return cv, cv_label, scheme, source, _columns(source, options)


def statistics_notes(how: str, dropped: int, pre: Preprocessor) -> list[str]:
    """The report's notes on a fit from statistics: ``how`` the rows were read, what that means
    for the metrics and the plots, the dropped rows and the encoded columns."""
    notes = [f"{how}; the metrics are exact over all rows, the plots use a uniform sample of at "
             f"most {SAMPLE_ROWS} rows of each set, the comparisons with the unregularized and "
             "L1 fits are omitted"]
    if dropped:
        notes.append(f"{dropped} rows with a missing target dropped")
    if pre.encoded:
        notes.append("one-hot encoded: " + ", ".join(
            f"{c} (2 levels: one 0/1 column, 1 = {pre.categories[c][1]!r})" if c in pre.binary
            else f"{c} ({len(pre.categories[c])} categories)" for c in pre.encoded))
    return notes


def _share_of_ones(stats: GramStats) -> float | None:
    """The weighted share of ones when the training target holds only 0 and 1 (from the
    statistics: for values in [0, 1], sum y^2 = sum y exactly when each is 0 or 1), else
    None."""
    if stats.weight_sum <= 0 or stats.n_targets != 1:
        return None
    m = float(stats.y_mean[0])
    square = float(stats.yy[0, 0]) + stats.weight_sum * m * m  # sum of s y^2
    if not 0 < m < 1 or abs(square - stats.weight_sum * m) > 1e-9 * stats.weight_sum * m:
        return None
    return m


def _target_sd(stats: GramStats) -> float | None:
    """Population sd of the (unweighted) training target from its statistics; None for
    weighted statistics, whose sd is not the in-memory fit's ``np.std(y_train)``."""
    if stats.n == 0 or stats.weight_sum != stats.n:
        return None
    return float(np.sqrt(max(float(stats.yy[0, 0]), 0.0) / stats.weight_sum))


def statistics_outcome(options: FitOptions, est: Any, pre: Preprocessor, *, engine: str,
                       train: GramStats, test: GramStats | None, samples: tuple,
                       notes: list[str], edge: bool, n_rows: int, cv: tuple,
                       started: str, lost: np.ndarray | None = None) -> FitOutcome:
    """The :class:`FitOutcome` of a ridge fit from statistics (``--stream``, ``--dask``):
    metrics exact from the training and held-out statistics, the plots on ``samples``;
    ``cv`` is ``(cv, label, scheme)`` of :func:`_cv`; ``lost`` the input's rows dropped for a
    missing target (the held-out rows are named by their row of the input)."""
    _, cv_label, scheme = cv
    p = len(pre.feature_names)
    final = KINDS["ridge"].final_estimator(est)
    res = est.cv_results_
    hit = np.flatnonzero(np.asarray(res["alphas"]) == est.alpha_)
    df = float(np.ravel(res["df"])[hit[0]]) if hit.size else None
    (X_train, y_train), (X_test, y_test) = samples[0].arrays(p), samples[1].arrays(p)
    if edge and len(y_train):
        notes = notes + _edge_notes(est, df, X_train, KINDS["ridge"])
    ones = _share_of_ones(train)
    if ones is not None:
        notes = [*notes, (
            f"the target {options.target!r} holds only 0 and 1 ({100 * ones:.3g}% ones): "
            f"--{engine} fits ridge to it, a linear probability model; without --{engine} "
            "ridgeway fits a logistic regression (in memory)")]
    summary = {"alpha": float(est.alpha_), "cv": cv_label, "selection": options.selection,
               "n_train": int(train.n), engine: True}
    outcome = FitOutcome(
        saved=SavedModel(pre, final, options.target, "ridge", summary), cv_estimator=est,
        source=str(options.data), n_rows=n_rows,
        decision=f"ridge: target {options.target!r} is numeric (--{engine} fits ridge)",
        cv_label=cv_label, feature_names=pre.feature_names, X_train=X_train, y_train=y_train,
        X_test=X_test, y_test=y_test,
        train_metrics=_metrics(train, final.coef_, final.intercept_),
        test_metrics=_metrics(test, final.coef_, final.intercept_), df=df, notes=notes,
        test_rows=source_rows(samples[1].positions, lost), options=options, cv_scheme=scheme,
        started=started,
        y_train_sd=_target_sd(train))
    summary["train_metrics"] = outcome.train_metrics
    summary["test_metrics"] = outcome.test_metrics
    return outcome


def run_stream(options: FitOptions, progress: Progress | None = None) -> FitOutcome:
    """The fit job of ``ridgeway fit --stream`` (module docstring).

    Returns
    -------
    FitOutcome
        As :func:`ridgeway.cli.fitjob.run_fit`, with ``X_train``/``X_test`` a sample of at
        most :data:`SAMPLE_ROWS` rows each (the plots), the metrics exact over all rows, and
        no comparison fits (``reductions`` empty).
    """
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    progress = progress or Progress()
    options = replace(options, stream=True)  # the report's command line says so
    cv, cv_label, scheme, source, features = _setup(options)
    one_pass = (cv is not None and options.impute == "none"
                and all(source.kind(c) in ("numeric", "bool") for c in features))
    pre = None
    if not one_pass:
        pre, _, _ = _levels_pass(source, options, features, progress)
    est = RidgeCV(alphas=parse_alphas(options.alphas), cv=cv, selection=options.selection)
    fit_pass = _FitPass(source, options, features, pre, cv, progress)
    decided: list[Preprocessor] = []

    def standardize(stats: GramStats):
        decided.append(Preprocessor.from_stats(features, stats,
                                               standardize=options.standardize))
        if decided[0].mean is None:
            return np.zeros(len(features)), np.ones(len(features))
        return decided[0].mean, decided[0].scale

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AlphaEdgeWarning)
        try:
            fit_stream(est, fit_pass, standardize=standardize if one_pass else None)
        except DataError as exc:
            if not one_pass or getattr(exc, "column", None) is None:
                raise
            raise DataError(f"{exc} Or leave them empty and use --impute mean (the stream then "
                            f"reads the data twice), or --drop {exc.column}.") from None
    if one_pass:
        pre = decided[0]
        if pre.mean is not None:
            fit_pass.standardize(np.asarray(pre.mean), np.asarray(pre.scale))
    progress.stage(f"selected alpha ({cv_label})")
    passes = (["the fit pass (one pass: every feature is numeric, the standardization applied "
               "to the statistics)"] if one_pass else
              ["a levels pass (categories, imputation, standardization)", "the fit pass"])
    if fit_pass.passes > 1:
        passes.append("the leverage pass")
    how = (f"streamed in batches ({source.format}, {len(source.files)} file(s), "
           f"{source.nbytes / 2**20:.0f} MiB), read "
           f"{'once' if len(passes) == 1 else f'{len(passes)} times'}: "
           f"{', '.join(passes)}")
    return statistics_outcome(
        options, est, pre, engine="stream", train=est.stats_, test=fit_pass.test,
        samples=fit_pass.samples, notes=statistics_notes(how, fit_pass.dropped, pre),
        edge=any(issubclass(w.category, AlphaEdgeWarning) for w in caught),
        n_rows=fit_pass.n_rows, cv=(cv, cv_label, scheme), started=started,
        lost=fit_pass.lost)


def predict_stream(model, source: DataSource, fh, ids: list[str]) -> dict[str, int]:
    """Write the predictions of ``model`` for every row of ``source`` to the binary file
    ``fh``, batch by batch (header once). Returns the rows per unseen level, per column."""

    unseen: dict[str, dict[str, int]] = {}
    columns = list(dict.fromkeys([*model.preprocessor.columns, *ids]))
    first = True
    for batch in source.batches(columns, prefetch=2):
        table = batch.table
        try:
            predicted = model.predict_columns(table)
        except DataError as exc:
            raise DataError(f"{batch.describe()}: {exc}") from None
        for name, levels in model.preprocessor.unseen(table).items():
            seen = unseen.setdefault(name, {})
            for level, k in levels:
                seen[level] = seen.get(level, 0) + k
        cols = {**{c: table.column(c) for c in dict.fromkeys(ids)}, **predicted}
        text = predictions_csv(cols)
        fh.write(text if first else text[text.index(b"\n") + 1:])
        first = False
    return unseen



def predict_file(model, data_path: Path, out: Path | None, *, ids=(), sep: str | None = None
                 ) -> int:
    """``ridgeway predict --stream``: the checks of the in-memory command, then
    :func:`predict_stream` into ``out`` (written atomically: a failing batch leaves no file)
    or stdout (spooled to a temporary file first, so that a failing batch writes nothing
    there either); one warning per column with categories unseen in training."""
    import shutil
    import sys
    import tempfile

    source = DataSource(data_path, sep=sep)
    table = source.schema.empty_table().replace_schema_metadata(
        {b"ridgeway.path": str(data_path).encode()})
    check_columns(table, model.preprocessor.columns, "column (needed by the model)")
    check_columns(table, ids, "column in --id")
    clash = [c for c in ids if c == "prediction" or c.startswith("proba_")]
    if clash:
        raise DataError(f"--id {clash[0]}: the predictions file has its own column named "
                        f"{clash[0]!r}; rename that column of {data_path}.")
    if out is None:
        with tempfile.TemporaryFile() as spool:
            unseen = predict_stream(model, source, spool, list(ids))
            spool.seek(0)
            shutil.copyfileobj(spool, sys.stdout.buffer)
        sys.stdout.flush()
    else:
        with atomic_open(out) as fh:
            unseen = predict_stream(model, source, fh, list(ids))
    for name, levels in unseen.items():
        rows = sum(levels.values())
        shown = ", ".join(f"{v!r} ({k})" for v, k in sorted(levels.items(),
                                                            key=lambda vk: -vk[1])[:5])
        print(f"ridgeway: warning: column {name!r} of {data_path}: {rows} row(s) with "
              f"{len(levels)} categor{'y' if len(levels) == 1 else 'ies'} not seen in training "
              f"({shown}); they are encoded as all zeros in {name!r}.", file=sys.stderr)
    return 0
