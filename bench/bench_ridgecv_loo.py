"""RidgeCV leave-one-out, 100 alphas, n=20,000 p=500: ridgeway vs scikit-learn's RidgeCV.

scikit-learn's ``RidgeCV(alphas)`` (default ``cv=None``, its "gcv" mode) computes the exact LOO
error, as ridgeway's ``RidgeCV(alphas)`` (``cv=None``) does. Goals (issue 2): at least 20x faster
than scikit-learn, within 2.5x of one ridgeway ``Ridge`` fit on the same data, same alpha chosen.

``--memory``: peak extra memory (tracemalloc) of the LOO fit on n=200,000 p=200 with 100 alphas,
as a multiple of ``X.nbytes``; goal <= 1x X beyond X itself (scikit-learn needs ~3.2x).
Run on both targets of ``_common.TARGETS`` (intercept 0; intercept 1000 with large feature
means), the worse ratio quoted (issue 8).

    python bench/bench_ridgecv_loo.py [--tiny] [--repeat 3] [--memory] [--target zero|large|both]
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
    traced_peak,
)
from sklearn.linear_model import RidgeCV as SkRidgeCV

import ridgeway


def _extra(parser):
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak memory on n=200,000 p=200 (tracemalloc)")
    parser.add_argument("--no-timing", action="store_true",
                        help="skip the timing part (with --memory: memory only)")


def timing(args, report: Report, target: str) -> None:
    n, p, n_alphas = (2_000, 50, 100) if args.tiny else (20_000, 500, 100)
    alphas = np.logspace(-2, 4, n_alphas)
    X, y = make_regression(n, p, seed=1, **TARGETS[target])
    report.params.update({"n": n, "p": p, "n_alphas": n_alphas,
                          "alphas": "np.logspace(-2, 4, 100)"})
    cases = {
        "ridgeway.RidgeCV (LOO)": lambda: ridgeway.RidgeCV(alphas).fit(X, y),
        "sklearn RidgeCV (gcv)": lambda: SkRidgeCV(alphas).fit(X, y),
        "ridgeway.Ridge (1 fit)": lambda: ridgeway.Ridge(100.0).fit(X, y),
    }
    t = time_interleaved(cases, args.repeat, threads=args.threads)
    report.add_timings(t, target)
    ours = t["ridgeway.RidgeCV (LOO)"]
    report.compare("RidgeCV LOO vs sklearn", ours, t["sklearn RidgeCV (gcv)"], min_speedup=20,
                   target=target)
    report.compare("RidgeCV LOO vs one Ridge fit", ours, t["ridgeway.Ridge (1 fit)"],
                   max_ratio=2.5, target=target)
    rw, sk = ours.result, t["sklearn RidgeCV (gcv)"].result
    same = bool(np.isclose(rw.alpha_, sk.alpha_, rtol=1e-9))
    report.check("same alpha (ridgeway / sklearn)", f"{rw.alpha_:.6g} / {sk.alpha_:.6g}", same,
                 "equal", target, ridgeway_alpha=float(rw.alpha_),
                 sklearn_alpha=float(sk.alpha_))
    d = max_rel_diff(rw.coef_, sk.coef_)
    report.check("coef max rel diff vs sklearn", f"{d:.2e}", None, target=target,
                 max_rel_diff=d)
    d = abs(rw.best_score_ - sk.best_score_) / abs(sk.best_score_)
    report.check("best LOO MSE rel diff vs sklearn", f"{d:.2e} ({-rw.best_score_:.6g})",
                 d <= 1e-10, "<= 1e-10", target, max_rel_diff=d)
    report.check("final refit solver", str(rw.solver_), None, target=target)


def memory(args, report: Report, target: str) -> None:
    n, p, n_alphas = (20_000, 20, 100) if args.tiny else (200_000, 200, 100)
    alphas = np.logspace(-2, 4, n_alphas)
    X, y = make_regression(n, p, seed=2, **TARGETS[target])
    xb = X.nbytes
    report.params.update({"memory_n": n, "memory_p": p, "memory_X_MiB": xb / 2**20})
    print(f"  memory: X is {xb / 2**20:.1f} MiB", file=sys.stderr, flush=True)
    peak_rw, rw = traced_peak(lambda: ridgeway.RidgeCV(alphas).fit(X, y))
    print(f"  memory: ridgeway peak {peak_rw / 2**20:.1f} MiB", file=sys.stderr, flush=True)
    peak_sk, sk = traced_peak(lambda: SkRidgeCV(alphas).fit(X, y))
    print(f"  memory: sklearn peak {peak_sk / 2**20:.1f} MiB", file=sys.stderr, flush=True)
    m_rw, m_sk = peak_rw / xb, peak_sk / xb
    report.check("LOO peak extra memory, ridgeway (x X)",
                 f"{m_rw:.2f}x X ({peak_rw / 2**20:.0f} MiB)", m_rw <= 1.0, "<= 1x X", target,
                 peak_bytes=peak_rw, multiple_of_X=m_rw, X_bytes=xb)
    report.check("LOO peak extra memory, sklearn (x X)",
                 f"{m_sk:.2f}x X ({peak_sk / 2**20:.0f} MiB)", None, "(~3.2x, reference)",
                 target, peak_bytes=peak_sk, multiple_of_X=m_sk, X_bytes=xb)
    report.check("memory run: same alpha (ridgeway / sklearn)",
                 f"{rw.alpha_:.6g} / {sk.alpha_:.6g}",
                 bool(np.isclose(rw.alpha_, sk.alpha_, rtol=1e-9)), "equal", target)


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], _extra, argv=argv, targets=True)
    name = "ridgecv_loo_memory" if args.no_timing else "ridgecv_loo"
    report = Report(name, args, {
        "data": "y = b + X w + N(0,1), X ~ N(mean, 1), w ~ N(0, 0.1^2); "
                + "; ".join(f"{t}: {describe_target(t)}" for t in args.targets)})
    for target in args.targets:
        if not args.no_timing:
            timing(args, report, target)
        if args.memory:
            memory(args, report, target)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
