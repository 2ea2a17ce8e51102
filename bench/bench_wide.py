"""Wide data (n < p): Ridge on n=2,000 p=20,000 and RidgeCV LOO on n=2,000 p=5,000.

Goals (issue 2): ``Ridge`` no slower than scikit-learn's ``Ridge`` (both solve the n x n kernel
system); ``RidgeCV`` LOO with 100 alphas at least 2x faster than scikit-learn's ``RidgeCV``
(its "gcv" mode, which picks the eigendecomposition of the kernel when n < p), same alpha.
Run on both targets of ``_common.TARGETS`` (intercept 0; intercept 1000 with large feature
means), the worse ratio quoted (issue 8).

    python bench/bench_wide.py [--tiny] [--repeat 3] [--target zero|large|both]
"""

from __future__ import annotations

import sys

import numpy as np
from _common import (
    TARGETS,
    Report,
    describe_target,
    make_regression,
    max_rel_diff,
    parse_args,
    time_interleaved,
)
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import RidgeCV as SkRidgeCV

import ridgeway

ALPHA = 1.0


def ridge_part(args, report: Report, n1: int, p1: int, target: str) -> None:
    X1, y1 = make_regression(n1, p1, seed=5, **TARGETS[target])
    t1 = time_interleaved({
        "ridgeway.Ridge": lambda: ridgeway.Ridge(ALPHA).fit(X1, y1),
        "sklearn Ridge": lambda: SkRidge(ALPHA).fit(X1, y1),
    }, args.repeat, threads=args.threads)
    report.add_timings({f"ridge: {k}": v for k, v in t1.items()}, target)
    report.compare(f"Ridge {n1}x{p1} vs sklearn", t1["ridgeway.Ridge"], t1["sklearn Ridge"],
                   max_ratio=1.0, target=target)
    rw, sk = t1["ridgeway.Ridge"].result, t1["sklearn Ridge"].result
    d = max_rel_diff(rw.coef_, sk.coef_)
    report.check("Ridge coef max rel diff vs sklearn", f"{d:.2e}", d <= 1e-8, "<= 1e-8",
                 target, max_rel_diff=d)
    report.check("Ridge solver used", str(rw.solver_), None, target=target)


def loo_part(args, report: Report, n2: int, p2: int, alphas, target: str) -> None:
    X2, y2 = make_regression(n2, p2, seed=6, **TARGETS[target])
    t2 = time_interleaved({
        "ridgeway.RidgeCV (LOO)": lambda: ridgeway.RidgeCV(alphas).fit(X2, y2),
        "sklearn RidgeCV (gcv)": lambda: SkRidgeCV(alphas).fit(X2, y2),
    }, args.repeat, threads=args.threads)
    report.add_timings({f"loo: {k}": v for k, v in t2.items()}, target)
    report.compare(f"RidgeCV LOO {n2}x{p2} vs sklearn", t2["ridgeway.RidgeCV (LOO)"],
                   t2["sklearn RidgeCV (gcv)"], min_speedup=2, target=target)
    rw, sk = t2["ridgeway.RidgeCV (LOO)"].result, t2["sklearn RidgeCV (gcv)"].result
    same = bool(np.isclose(rw.alpha_, sk.alpha_, rtol=1e-9))
    report.check("LOO same alpha (ridgeway / sklearn)", f"{rw.alpha_:.6g} / {sk.alpha_:.6g}",
                 same, "equal", target, ridgeway_alpha=float(rw.alpha_),
                 sklearn_alpha=float(sk.alpha_))
    d = max_rel_diff(rw.coef_, sk.coef_)
    report.check("LOO coef max rel diff vs sklearn", f"{d:.2e}", None, target=target,
                 max_rel_diff=d)


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv=argv, targets=True)
    n1, p1 = (100, 1_000) if args.tiny else (2_000, 20_000)
    n2, p2 = (100, 300) if args.tiny else (2_000, 5_000)
    alphas = np.logspace(-2, 4, 100)
    report = Report("wide", args, {
        "ridge_n": n1, "ridge_p": p1, "ridge_alpha": ALPHA, "loo_n": n2, "loo_p": p2,
        "alphas": "np.logspace(-2, 4, 100)",
        "data": "y = b + X w + N(0,1), X ~ N(mean, 1), w ~ N(0, 0.1^2); "
                + "; ".join(f"{t}: {describe_target(t)}" for t in args.targets),
    })
    for target in args.targets:
        ridge_part(args, report, n1, p1, target)
        loo_part(args, report, n2, p2, alphas, target)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
