"""1,000 targets, alpha per target, 5-fold, n=5,000 p=500, 100 alphas: ridgeway vs himalaya.

ridgeway ``RidgeCV(alphas, cv=KFold(5), alpha_per_target=True)`` against himalaya's
``himalaya.ridge.RidgeCV(alphas=alphas, cv=KFold(5), fit_intercept=True)`` (numpy backend,
float64). Both minimize ``||y - Xw - b||^2 + alpha ||w||^2`` per target with the same alphas
(himalaya's ridge solver is an SVD of ``X_train`` with ``s / (s^2 + alpha)``), both center X and
Y with the *training-fold* means when ``fit_intercept=True`` (himalaya's ``RidgeCV`` defaults to
``fit_intercept=False``; we turn it on so that both fit an intercept the same way), and both
score a fold by its mean squared error and average over the same unshuffled folds (himalaya's
``l2_neg_loss``, ridgeway's default). Goal (issue 2): at least 10x faster than himalaya; the
fraction of targets whose chosen alpha agrees is reported.

Intercepts are drawn from U(1, 3). ``--near-zero-intercepts`` draws them from U(-3, 3)
instead: some targets then have an intercept close to 0, ridgeway's accuracy check of the
final refit (relative error of the intercept) fires and the refit goes through the
double-double ``"refine"`` solver for every target (minutes; see docs/benchmarks-ridge.md).

    python bench/bench_multitarget.py [--tiny] [--repeat 3] [--near-zero-intercepts]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from _common import Report, make_regression, max_rel_diff, parse_args, time_interleaved
from sklearn.model_selection import KFold

import ridgeway


def _extra(parser):
    parser.add_argument("--near-zero-intercepts", action="store_true",
                        help="intercepts from U(-3, 3) instead of U(1, 3)")


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], _extra, argv=argv)
    import himalaya.backend
    from himalaya.ridge import RidgeCV as HimRidgeCV

    himalaya.backend.set_backend("numpy")
    n, p, t, n_alphas = (500, 20, 50, 100) if args.tiny else (5_000, 500, 1_000, 100)
    alphas = np.logspace(-2, 4, n_alphas)
    rng = np.random.default_rng(4)
    # per-target signal strength: best alphas spread over ~1 .. 1e3
    scales = 10 ** rng.uniform(-1.5, 0.0, size=t)
    low = -3.0 if args.near_zero_intercepts else 1.0
    intercepts = rng.uniform(low, 3.0, size=t)
    X, Y = make_regression(n, p, n_targets=t, seed=4, coef_scale=scales, intercept=intercepts)
    folds = KFold(5)
    report = Report("multitarget", args, {
        "n": n, "p": p, "n_targets": t, "n_alphas": n_alphas,
        "alphas": "np.logspace(-2, 4, 100)", "cv": "KFold(5) unshuffled",
        "fit_intercept": True, "himalaya_backend": "numpy", "dtype": "float64",
        "data": f"Y = b + X W + N(0,1), W[:, j] ~ N(0, s_j^2), s_j = 10^U(-1.5, 0), "
                f"b_j ~ U({low:g}, 3)",
    })

    def run_himalaya():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return HimRidgeCV(alphas=alphas, cv=folds, fit_intercept=True).fit(X, Y)

    cases = {
        "ridgeway.RidgeCV": lambda: ridgeway.RidgeCV(
            alphas, cv=folds, alpha_per_target=True).fit(X, Y),
        "himalaya RidgeCV": run_himalaya,
    }
    tm = time_interleaved(cases, args.repeat, threads=args.threads)
    report.add_timings(tm)
    report.compare("multi-target 5-fold vs himalaya", tm["ridgeway.RidgeCV"],
                   tm["himalaya RidgeCV"], min_speedup=10)
    rw, him = tm["ridgeway.RidgeCV"].result, tm["himalaya RidgeCV"].result
    a_rw = np.asarray(rw.alpha_, dtype=np.float64)
    a_him = np.asarray(him.best_alphas_, dtype=np.float64)
    same = np.isclose(a_rw, a_him, rtol=1e-6)
    # a disagreement of one grid step is a tie broken differently, two or more is not
    steps = np.abs(np.log(a_rw / a_him)) / np.log(alphas[1] / alphas[0])
    report.check("targets with the same alpha", f"{same.mean():.4f} ({same.sum()}/{t})",
                 None, "(reported)", fraction=float(same.mean()),
                 max_grid_steps_apart=float(steps.max()))
    report.check("largest disagreement (grid steps)", f"{steps.max():.2f}", None)
    d = max_rel_diff(rw.coef_, np.asarray(him.coef_).T)
    report.check("coef max rel diff vs himalaya", f"{d:.2e}", None, max_rel_diff=d)
    d_b = max_rel_diff(rw.intercept_, np.asarray(him.intercept_))
    report.check("intercept max rel diff vs himalaya", f"{d_b:.2e}", None, max_rel_diff=d_b)
    report.check("ridgeway final refit solver", str(rw.solver_), None)
    report.extra["alpha_hist_ridgeway"] = np.unique(a_rw, return_counts=True)[1].tolist()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
