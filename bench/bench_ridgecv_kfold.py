"""RidgeCV(cv=5), 100 alphas, n=20,000 p=500: ridgeway vs scikit-learn's RidgeCV(cv=5).

scikit-learn's ``RidgeCV(alphas, cv=...)`` refits ``Ridge`` for every (alpha, fold) through
``GridSearchCV``; ridgeway downdates ``GramStats`` per fold (one eigendecomposition per fold).
Both get the same unshuffled ``KFold(5)`` and the same criterion: scikit-learn is given
``scoring="neg_mean_squared_error"`` (with ``cv`` set its default would be R^2, a different
criterion), ridgeway's default is the mean squared error. Goals (issue 2): at least 100x faster
than scikit-learn, within 3x of one ridgeway ``Ridge`` fit, same alpha chosen.

scikit-learn takes ~100 s here at full size, so it runs in the first round only
(``--sklearn-repeat``, default 1); ridgeway and the single fit run ``--repeat`` rounds.

Run on both targets of ``_common.TARGETS`` (intercept 0; intercept 1000 with large feature
means), the worse ratio quoted (issue 8).

    python bench/bench_ridgecv_kfold.py [--tiny] [--repeat 3] [--sklearn-repeat 1]
        [--target zero|large|both]
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
from sklearn.linear_model import RidgeCV as SkRidgeCV
from sklearn.model_selection import KFold

import ridgeway


def _extra(parser):
    parser.add_argument("--sklearn-repeat", type=int, default=1,
                        help="rounds for scikit-learn (default 1: it takes ~100 s)")


def one_target(args, report: Report, n: int, p: int, alphas, target: str) -> None:
    X, y = make_regression(n, p, seed=3, **TARGETS[target])
    folds = KFold(5)  # unshuffled: the same splits on both sides
    cases = {
        "ridgeway.RidgeCV (cv=5)": lambda: ridgeway.RidgeCV(alphas, cv=folds).fit(X, y),
        "sklearn RidgeCV (cv=5)": lambda: SkRidgeCV(
            alphas, cv=folds, scoring="neg_mean_squared_error").fit(X, y),
        "ridgeway.Ridge (1 fit)": lambda: ridgeway.Ridge(100.0).fit(X, y),
    }
    t = time_interleaved(cases, args.repeat, threads=args.threads,
                         repeats={"sklearn RidgeCV (cv=5)": min(args.sklearn_repeat, args.repeat)})
    report.add_timings(t, target)
    ours = t["ridgeway.RidgeCV (cv=5)"]
    sk_t = t["sklearn RidgeCV (cv=5)"]
    report.compare("RidgeCV 5-fold vs sklearn", ours, sk_t, min_speedup=100,
                   note=f"sklearn: {len(sk_t.times)} run(s)", target=target)
    report.compare("RidgeCV 5-fold vs one Ridge fit", ours, t["ridgeway.Ridge (1 fit)"],
                   max_ratio=3.0, target=target)
    rw, sk = ours.result, sk_t.result
    same = bool(np.isclose(rw.alpha_, sk.alpha_, rtol=1e-9))
    report.check("same alpha (ridgeway / sklearn)", f"{rw.alpha_:.6g} / {sk.alpha_:.6g}", same,
                 "equal", target, ridgeway_alpha=float(rw.alpha_),
                 sklearn_alpha=float(sk.alpha_))
    d = max_rel_diff(rw.coef_, sk.coef_)
    report.check("coef max rel diff vs sklearn", f"{d:.2e}", None, target=target,
                 max_rel_diff=d)
    # CV curves: ridgeway's mean test score vs GridSearchCV's (both -MSE over the same folds)
    sk_best = float(sk.best_score_)
    rw_best = float(rw.best_score_)
    rel = abs(rw_best - sk_best) / abs(sk_best)
    report.check("best CV score rel diff (-MSE)", f"{rel:.2e} ({rw_best:.6g})", rel <= 1e-8,
                 "<= 1e-8", target, ridgeway=rw_best, sklearn=sk_best)
    report.check("final refit solver", str(rw.solver_), None, target=target)


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], _extra, argv=argv, targets=True)
    n, p, n_alphas = (1_000, 20, 100) if args.tiny else (20_000, 500, 100)
    alphas = np.logspace(-2, 4, n_alphas)
    report = Report("ridgecv_kfold", args, {
        "n": n, "p": p, "n_alphas": n_alphas, "alphas": "np.logspace(-2, 4, 100)",
        "cv": "KFold(5) unshuffled", "sklearn_scoring": "neg_mean_squared_error",
        "data": "y = b + X w + N(0,1), X ~ N(mean, 1), w ~ N(0, 0.1^2); "
                + "; ".join(f"{t}: {describe_target(t)}" for t in args.targets),
    })
    for target in args.targets:
        one_target(args, report, n, p, alphas, target)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
