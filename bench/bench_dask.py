"""ridgeway.dask on a 2-worker LocalCluster against dask-ml, on a 2,000,000 x 100 dask array.

1. ``ridgeway.dask.RidgeCV(cv=5)`` over 100 alphas (one pass: one ``GramStats`` per fold and
   partition, tree-reduced; five eigendecompositions on the client) against ONE
   ``dask_ml.linear_model.LinearRegression()`` fit at its defaults (ADMM, one alpha). Goal:
   the whole CV faster than the one fit (ratio < 1).
2. ``ridgeway.dask.LogisticRegression(alpha)`` (distributed Newton) against dask-ml's
   ``LogisticRegression(C=1/alpha)`` with ``solver="lbfgs"`` and ``solver="admm"``, on the
   same objective ``sum_i log(1 + exp(-y_i x_i.w)) + alpha/2 ||w||^2``: no intercept on
   either side (dask-ml would penalize it) and ``solver_kwargs={"normalize": False}`` (dask-glm
   otherwise standardizes X, which moves the penalty to ``sd_j w_j``); see
   ``ridgeway.conventions`` ("dask_ml"). dask-ml runs at its default tolerance; the relative
   objective gap of its solution to ridgeway's is printed. Goal: at least 5x faster.

The data live on the workers (``persist``) before anything is timed, in row chunks of
``--chunk-rows``; every side reads the same persisted array. Workers are processes with one
thread each.

    python bench/bench_dask.py [--tiny] [--repeat 1] [--chunk-rows 100000]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import Report, parse_args, time_interleaved

warnings.filterwarnings("ignore")


def _extra(parser):
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="rows per partition (default 100,000; 5,000 with --tiny)")
    parser.add_argument("--workers", type=int, default=2)
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


def _import_on_worker() -> None:
    import dask_glm.algorithms  # noqa: F401
    import dask_ml.linear_model  # noqa: F401

    import ridgeway.dask  # noqa: F401


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], _extra, argv=argv)
    n, p = (10_000, 10) if args.tiny else (2_000_000, 100)
    for name in ("admm_max_iter", "linear_max_iter"):
        if getattr(args, name) is None:
            setattr(args, name, 3 if args.tiny else 100)
    rows = args.chunk_rows or (5_000 if args.tiny else 100_000)
    alpha = 1.0
    import dask.array as da
    import distributed
    from dask_ml.linear_model import LinearRegression as DmlLinear
    from dask_ml.linear_model import LogisticRegression as DmlLogistic

    import ridgeway.dask as rd

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
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, p), chunks=(rows, p)) + np.linspace(-2, 2, p)
        w_true = np.random.default_rng(1).normal(size=p) / np.sqrt(p)
        y = 3.0 + X @ w_true + rng.standard_normal(n, chunks=rows)
        Xl = X - np.linspace(-2, 2, p)
        eta = Xl @ (2 * w_true)
        yb = (rng.random(n, chunks=rows) < 1 / (1 + da.exp(-eta))).astype(np.int64)
        X, y, Xl, yb = X.persist(), y.persist(), Xl.persist(), yb.persist()
        distributed.wait([X, y, Xl, yb])

        alphas = np.logspace(-2, 4, 100)
        cases = {
            "ridgeway.dask.RidgeCV(cv=5)": lambda: rd.RidgeCV(alphas=alphas, cv=5).fit(X, y),
            "dask-ml LinearRegression": lambda: DmlLinear(max_iter=args.linear_max_iter).fit(X, y),
        }
        t = time_interleaved(cases, args.repeat)
        report.add_timings(t)
        report.compare("RidgeCV(cv=5) 100 alphas vs 1 fit", t["ridgeway.dask.RidgeCV(cv=5)"],
                       t["dask-ml LinearRegression"], max_ratio=1.0)
        cv = t["ridgeway.dask.RidgeCV(cv=5)"].result
        report.check("RidgeCV alpha_ (grid edge?)", f"{cv.alpha_:.4g}", None)

        raw = {"normalize": False}
        common = {"C": 1 / alpha, "fit_intercept": False, "solver_kwargs": raw}
        cases = {
            "ridgeway.dask.LogisticRegression": lambda: rd.LogisticRegression(
                alpha=alpha, fit_intercept=False).fit(Xl, yb),
            "dask-ml lbfgs": lambda: DmlLogistic(solver="lbfgs", **common).fit(Xl, yb),
            "dask-ml admm": lambda: DmlLogistic(solver="admm", max_iter=args.admm_max_iter,
                                                **common).fit(Xl, yb),
        }
        t = time_interleaved(cases, args.repeat)
        report.add_timings(t)
        s = 2.0 * yb - 1.0
        ours = t["ridgeway.dask.LogisticRegression"]
        f_ours = logistic_objective(Xl, s, ours.result.coef_[0], alpha)
        report.check("ridgeway Newton passes over X", str(ours.result.n_passes_), None)
        for name in ("dask-ml lbfgs", "dask-ml admm"):
            f_peer = logistic_objective(Xl, s, np.asarray(t[name].result.coef_), alpha)
            gap = (f_peer - f_ours) / abs(f_ours)
            report.compare(f"LogisticRegression vs {name}", ours, t[name], min_speedup=5.0,
                           note=f"objective gap {gap:.1e}")
            report.check(f"objective gap, {name} - ridgeway (rel)", f"{gap:.2e}", gap >= -1e-9,
                         goal="ridgeway not worse")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
