"""ridgeway.dask on a 2-worker LocalCluster against dask-ml, on a 2,000,000 x 100 dask array.

1. ``ridgeway.dask.RidgeCV(cv=5)`` over 100 alphas (one pass: one ``GramStats`` per fold and
   partition, tree-reduced; five eigendecompositions on the client) against ONE
   ``dask_ml.linear_model.LinearRegression()`` fit at its defaults (ADMM, one alpha), on two
   targets: intercept 3 with shifted feature means ("shifted"), and a centered target with
   centered features and no intercept ("centered"). Goal: the whole CV faster than the one fit
   (ratio < 1).
2. ``ridgeway.dask.LogisticRegression(alpha)`` (distributed Newton) against dask-ml's
   ``LogisticRegression(C=1/alpha)`` with ``solver="lbfgs"`` and ``solver="admm"``, on the
   same objective ``sum_i log(1 + exp(-y_i x_i.w)) + alpha/2 ||w||^2``: no intercept on
   either side (dask-ml would penalize it) and ``solver_kwargs={"normalize": False}`` (dask-glm
   otherwise standardizes X, which moves the penalty to ``sd_j w_j``); see
   ``ridgeway.conventions`` ("dask_ml"). dask-ml runs at its default tolerance; the relative
   objective gap of its solution to ridgeway's is printed. Goal: at least 5x faster, judged on
   the worse of the generators (``--generator``):

   * ``iid``: independent standard normal features, linear predictor of sd about 2;
   * ``ar1``: AR(1) features along the columns (``rho = 0.9``: neighbouring columns correlate
     0.9), same predictor scale;
   * ``rare``: about 5% positives, made with a constant column in X (its coefficient is
     penalized on both sides like any other, so the objective stays the same).

The data live on the workers (``persist``) before anything is timed, in row chunks of
``--chunk-rows``; every side reads the same persisted array. Workers are processes with one
thread each. The "cpu ratio" column compares the CPU seconds of the client and all worker
processes together, less sensitive than wall time to other jobs on a shared machine.

    python bench/bench_dask.py [--tiny] [--repeat 1] [--chunk-rows 100000] [--n 2000000]
        [--generator all|iid|ar1|rare] [--skip-ridge]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import Report, parse_args, time_interleaved

warnings.filterwarnings("ignore")

GENERATORS = ("iid", "ar1", "rare")


def _extra(parser):
    parser.add_argument("--n", type=int, default=None,
                        help="rows (default 2,000,000; 10,000 with --tiny)")
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="rows per partition (default 100,000; 5,000 with --tiny)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generator", choices=("all", *GENERATORS), default="all",
                        help="logistic data generator(s) (default: all, the worse ratio judged)")
    parser.add_argument("--skip-ridge", action="store_true", help="only the logistic part")
    parser.add_argument("--admm-max-iter", type=int, default=None,
                        help="max_iter of dask-ml's ADMM LogisticRegression (default: its own, "
                             "100; 3 with --tiny)")
    parser.add_argument("--linear-max-iter", type=int, default=None,
                        help="max_iter of dask-ml's LinearRegression (ADMM; default: its own, "
                             "100; 3 with --tiny). "
                             "A smaller cap times part of one fit: a lower bound on its time")


def logistic_objective(X, s, w, alpha) -> float:
    """``sum_i log(1 + exp(-s_i x_i.w)) + alpha/2 ||w||^2`` (s in {-1, +1}), on the cluster."""
    import dask.array as da

    z = -s * (X @ w)
    data = (da.maximum(z, 0) + da.log1p(da.exp(-abs(z)))).sum().compute()
    return float(data + 0.5 * alpha * w @ w)


def _ar1_block(z, rho):
    """Rows of AR(1) features along the columns: unit variance, corr(x_j, x_k) = rho^|j-k|."""
    x = np.empty_like(z)
    x[:, 0] = z[:, 0]
    c = np.sqrt(1 - rho * rho)
    for j in range(1, z.shape[1]):
        x[:, j] = rho * x[:, j - 1] + c * z[:, j]
    return x


def logistic_data(kind: str, n: int, p: int, rows: int, seed: int):
    """``(X, y in {0, 1})`` of one generator (dask arrays, not persisted)."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    z = rng.standard_normal((n, p), chunks=(rows, p))
    w = np.random.default_rng(seed + 1).normal(size=p)
    if kind == "ar1":
        rho = 0.9
        X = z.map_blocks(_ar1_block, rho, dtype=np.float64)
        cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
        w *= 2.0 / np.sqrt(w @ cov @ w)  # predictor sd 2
        eta = X @ w
    elif kind == "rare":
        X = da.concatenate([z[:, : p - 1], da.ones((n, 1), chunks=(rows, 1))], axis=1)
        w = w[: p - 1] * (2.0 / np.sqrt(w[: p - 1] @ w[: p - 1]))
        eta = z[:, : p - 1] @ w - 4.5  # about 5% positives
    else:
        X = z
        w *= 2.0 / np.sqrt(w @ w)
        eta = X @ w
    y = (rng.random(n, chunks=rows) < 1 / (1 + da.exp(-eta))).astype(np.int64)
    return X.rechunk((rows, p)), y


def count_lbfgs_evaluations() -> list:
    """Record ``funcalls`` of each scipy L-BFGS run of dask-glm (one pass over X apiece)."""
    import dask_glm.algorithms as algorithms

    calls: list = []
    run = algorithms.fmin_l_bfgs_b

    def counted(*a, **k):
        out = run(*a, **k)
        calls.append(out[2]["funcalls"])
        return out

    algorithms.fmin_l_bfgs_b = counted
    return calls


def _cpu_seconds() -> float:
    import time

    return time.process_time()


def with_cluster_cpu(client, cases: dict) -> tuple[dict, dict]:
    """``cases`` wrapped to record the CPU seconds of the client plus every worker process
    (a figure that other jobs on a shared machine inflate far less than wall time)."""
    import time

    spent: dict = {name: [] for name in cases}

    def wrap(name, fn):
        def run():
            before = time.process_time() + sum(client.run(_cpu_seconds).values())
            out = fn()
            spent[name].append(time.process_time() + sum(client.run(_cpu_seconds).values())
                               - before)
            return out
        return run

    return {name: wrap(name, fn) for name, fn in cases.items()}, spent


def timed(client, cases: dict, repeat: int) -> dict:
    """``time_interleaved`` with each Timing's CPU times those of the whole cluster."""
    wrapped, spent = with_cluster_cpu(client, cases)
    t = time_interleaved(wrapped, repeat)
    for name, cpu in spent.items():
        t[name].cpu_times = cpu
    return t


def _import_on_worker() -> None:
    import dask_glm.algorithms  # noqa: F401
    import dask_ml.linear_model  # noqa: F401

    import ridgeway.dask  # noqa: F401


def _ridge(report, args, n, p, rows, distributed, client):
    import dask.array as da
    from dask_ml.linear_model import LinearRegression as DmlLinear

    import ridgeway.dask as rd

    rng = da.random.default_rng(0)
    w_true = np.random.default_rng(1).normal(size=p) / np.sqrt(p)
    Z = rng.standard_normal((n, p), chunks=(rows, p))
    noise = rng.standard_normal(n, chunks=rows)
    data = {
        "shifted": (Z + np.linspace(-2, 2, p), 3.0 + (Z + np.linspace(-2, 2, p)) @ w_true + noise),
        "centered": (Z, Z @ w_true + noise),
    }
    alphas = np.logspace(-2, 4, 100)
    for name, (X, y) in data.items():
        X, y = X.persist(), y.persist()
        distributed.wait([X, y])
        cases = {
            "ridgeway.dask.RidgeCV(cv=5)": lambda X=X, y=y: rd.RidgeCV(alphas=alphas, cv=5).fit(
                X, y),
            "dask-ml LinearRegression": lambda X=X, y=y: DmlLinear(
                max_iter=args.linear_max_iter).fit(X, y),
        }
        t = timed(client, cases, args.repeat)
        report.add_timings(t, target=name)
        report.compare("RidgeCV(cv=5) 100 alphas vs 1 fit", t["ridgeway.dask.RidgeCV(cv=5)"],
                       t["dask-ml LinearRegression"], max_ratio=1.0, target=name)
        cv = t["ridgeway.dask.RidgeCV(cv=5)"].result
        report.check("RidgeCV alpha_ (grid edge?)", f"{cv.alpha_:.4g}", None, target=name)
        del X, y


def _logistic(report, args, n, p, rows, distributed, alpha, client):
    from dask_ml.linear_model import LogisticRegression as DmlLogistic

    import ridgeway.dask as rd

    kinds = GENERATORS if args.generator == "all" else (args.generator,)
    lbfgs_calls = count_lbfgs_evaluations()
    raw = {"normalize": False}
    common = {"C": 1 / alpha, "fit_intercept": False, "solver_kwargs": raw}
    for seed, kind in enumerate(kinds):
        X, yb = logistic_data(kind, n, p, rows, 10 + seed)
        X, yb = X.persist(), yb.persist()
        distributed.wait([X, yb])
        share = float(yb.mean().compute())
        cases = {
            "ridgeway.dask.LogisticRegression": lambda X=X, yb=yb: rd.LogisticRegression(
                alpha=alpha, fit_intercept=False).fit(X, yb),
            "dask-ml lbfgs": lambda X=X, yb=yb: DmlLogistic(solver="lbfgs", **common).fit(X, yb),
            "dask-ml admm": lambda X=X, yb=yb: DmlLogistic(
                solver="admm", max_iter=args.admm_max_iter, **common).fit(X, yb),
        }
        t = timed(client, cases, args.repeat)
        report.add_timings(t, target=kind)
        s = 2.0 * yb - 1.0
        ours = t["ridgeway.dask.LogisticRegression"]
        f_ours = logistic_objective(X, s, ours.result.coef_[0], alpha)
        report.check("positives share", f"{share:.3f}", None, target=kind)
        report.check("ridgeway Newton passes over X", str(ours.result.n_passes_), None,
                     target=kind)
        report.check("dask-ml lbfgs passes over X", str(lbfgs_calls[-1]), None, target=kind)
        for name in ("dask-ml lbfgs", "dask-ml admm"):
            f_peer = logistic_objective(X, s, np.asarray(t[name].result.coef_), alpha)
            gap = (f_peer - f_ours) / abs(f_ours)
            report.compare(f"LogisticRegression vs {name}", ours, t[name], min_speedup=5.0,
                           note=f"objective gap {gap:.1e}", target=kind)
            report.check(f"objective gap, {name} - ridgeway (rel)", f"{gap:.2e}", gap >= -1e-9,
                         goal="ridgeway not worse", target=kind)
        del X, yb, s


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], _extra, argv=argv)
    p = 10 if args.tiny else 100
    n = args.n or (10_000 if args.tiny else 2_000_000)
    for name in ("admm_max_iter", "linear_max_iter"):
        if getattr(args, name) is None:
            setattr(args, name, 3 if args.tiny else 100)
    rows = args.chunk_rows or (5_000 if args.tiny else 100_000)
    alpha = 1.0
    import distributed

    report = Report("dask", args, {
        "n": n, "p": p, "chunk_rows": rows, "workers": f"{args.workers} processes x 1 thread",
        "ridge": "RidgeCV(cv=5, alphas=np.logspace(-2, 4, 100)) vs dask-ml "
                 f"LinearRegression(max_iter={args.linear_max_iter})",
        "admm_max_iter": args.admm_max_iter,
        "logistic": f"alpha={alpha} (C={1 / alpha}), fit_intercept=False, dask-ml "
                    "normalize=False, default tol",
    })
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                  processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        c.run(_import_on_worker)  # imports are not part of any timing
        if not args.skip_ridge:
            _ridge(report, args, n, p, rows, distributed, c)
        _logistic(report, args, n, p, rows, distributed, alpha, c)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
