"""Benchmark: ridgeway's logistic regression against scikit-learn and glum.

Three problems, each printed as ridgeway vs peer with the ratio (peer time / ridgeway time,
so > 1 means ridgeway is faster):

1. binary, n=100,000 p=200: time to reach the optimal objective within 1e-8 relative.
   Every contender runs a ladder of tolerances; its time is that of the cheapest run whose
   objective ``sum_i log(1+exp(-y_i eta_i)) + alpha/2 ||w||^2`` is within 1e-8 of the best
   value any run reached. Peers: scikit-learn newton-cholesky and lbfgs (``C = 1/alpha``),
   glum (``alpha_glum = alpha / n``, binomial deviance = 2 * log-loss).
2. multinomial, n=50,000 p=100, 10 classes: the same, against scikit-learn lbfgs.
3. LogisticRegressionCV, 20 alphas, 5 folds, n=20,000 p=200, on four data generators
   (independent features; AR(1) rho=0.9 features; rare positives, ~7%; a large intercept with
   features of mean 50): against scikit-learn's LogisticRegressionCV at its defaults (lbfgs,
   tol=1e-4) with ``Cs = 1/alphas``, the same folds and ``scoring="neg_log_loss"``; ridgeway
   k-fold and method="alo" at their defaults (fold paths to 0.5% of the held-out standard
   error, final fit to tol=1e-8). Printed per side: median time, ratio, chosen alpha, log-loss
   on 5,000 held-out rows, and the accuracy reached by the final fit: its objective's relative
   gap to a 1e-12 solve at the same alpha.

Timings are medians over ``--repeat`` interleaved runs. ``--cpu-time`` times the CV fits by
process CPU time instead of wall time (with ``OPENBLAS_NUM_THREADS=1``: insensitive to how a
loaded machine schedules BLAS threads). ``--tiny`` runs everything on small
data in seconds (CI smoke run). Run: ``python bench/bench_logistic.py [--tiny] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
from scipy.special import logsumexp

warnings.filterwarnings("ignore")

TOLS = (1e-4, 1e-6, 1e-8, 1e-10)


def ar1_features(rng, n, p, rho):
    """``n`` rows of ``p`` standard normal features, AR(1)-correlated along the columns with
    coefficient ``rho`` (0: independent)."""
    Z = rng.standard_normal((n, p))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    return X


def make_data(n, p, n_classes, seed=0, rho=0.0):
    """Gaussian features, AR(1)-correlated with coefficient ``rho`` (0: independent)."""
    rng = np.random.default_rng(seed)
    X = ar1_features(rng, n, p, rho)
    W = rng.standard_normal((p, n_classes)) / np.sqrt(p) * 2
    y = np.argmax(X @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y


def objective(X, y, coef, intercept, alpha):
    """sum_i s_i loss_i + alpha/2 ||W||^2 for binary (coef (1,p)) or multinomial (K,p)."""
    eta = X @ coef.T + intercept
    if coef.shape[0] == 1:
        sign = 2.0 * y - 1
        data = np.sum(np.logaddexp(0, -sign * eta[:, 0]))
    else:
        data = np.sum(logsumexp(eta, axis=1) - eta[np.arange(len(y)), y])
    return data + 0.5 * alpha * np.sum(coef**2)


def contenders_binary(alpha, n):
    from glum import GeneralizedLinearRegressor
    from sklearn.linear_model import LogisticRegression as SK

    from ridgeway.linear_model._glm import LogisticRegression

    def glum_fit(X, y, tol):
        m = GeneralizedLinearRegressor(
            family="binomial", alpha=alpha / n, l1_ratio=0.0, gradient_tol=tol, max_iter=1000
        ).fit(X, y)
        return m.coef_[None, :], np.atleast_1d(m.intercept_)

    def sk(solver):
        def fit(X, y, tol):
            m = SK(C=1 / alpha, solver=solver, tol=tol, max_iter=100_000).fit(X, y)
            return m.coef_, m.intercept_
        return fit

    def ours(X, y, tol):
        m = LogisticRegression(alpha, tol=tol).fit(X, y)
        return m.coef_, m.intercept_

    return {"ridgeway": ours, "sklearn newton-cholesky": sk("newton-cholesky"),
            "sklearn lbfgs": sk("lbfgs"), "glum": glum_fit}


def contenders_multinomial(alpha):
    from sklearn.linear_model import LogisticRegression as SK

    from ridgeway.linear_model._glm import LogisticRegression

    def sk(X, y, tol):
        m = SK(C=1 / alpha, solver="lbfgs", tol=tol, max_iter=100_000).fit(X, y)
        return m.coef_, m.intercept_

    def ours(X, y, tol):
        m = LogisticRegression(alpha, tol=tol).fit(X, y)
        return m.coef_, m.intercept_

    return {"ridgeway": ours, "sklearn lbfgs": sk}


def time_to_objective(contenders, X, y, alpha, repeat, rel=1e-8):
    """Median time of the cheapest tolerance that reaches the best objective within ``rel``."""
    times = {name: {tol: [] for tol in TOLS} for name in contenders}
    values = {name: {} for name in contenders}
    for _ in range(repeat):
        for tol in TOLS:
            for name, fit in contenders.items():  # interleaved
                start = time.perf_counter()
                coef, intercept = fit(X, y, tol)
                times[name][tol].append(time.perf_counter() - start)
                values[name][tol] = objective(X, y, coef, intercept, alpha)
    best = min(min(v.values()) for v in values.values())
    result = {}
    for name in contenders:
        ok = [tol for tol in TOLS if values[name][tol] <= best * (1 + rel)]
        med = {tol: float(np.median(times[name][tol])) for tol in ok}
        result[name] = (min(med.values()), min(med, key=med.get)) if med else (np.nan, None)
    return result


def report(title, result, reference="ridgeway"):
    print(f"\n## {title}")
    base = result[reference][0]
    for name, (seconds, tol) in result.items():
        ratio = seconds / base
        print(f"{name:28s} {seconds:8.3f} s  (tol={tol})  ratio peer/ridgeway = {ratio:5.2f}")


CV_GENERATORS = {
    "iid": {},
    "ar1-0.9": {"rho": 0.9},
    "rare": {"intercept": -3.0},
    "intercept+shift": {"intercept": 2.0, "shift": 50.0},
}


def make_binary(n, p, seed=1, rho=0.0, intercept=0.0, shift=0.0):
    """Logistic labels on AR(1) Gaussian features, with an intercept and shifted features."""
    rng = np.random.default_rng(seed)
    X = ar1_features(rng, n, p, rho)
    w = rng.standard_normal(p) * 2 / np.sqrt(p)
    y = (X @ w + intercept + rng.logistic(size=n) > 0).astype(int)
    return X + shift, y


def bench_cv(n, p, n_alphas, repeat, generator, n_test, clock=time.perf_counter):
    from sklearn.linear_model import LogisticRegressionCV as SKCV
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    from ridgeway.linear_model._glm import LogisticRegression
    from ridgeway.linear_model._glm_cv import LogisticRegressionCV

    X, y = make_binary(n + n_test, p, **CV_GENERATORS[generator])
    X, y, X_test, y_test = X[:n], y[:n], X[n:], y[n:]
    alphas = np.geomspace(1e4, 1e-1, n_alphas)
    folds = list(StratifiedKFold(5).split(X, y))
    runs = {
        "ridgeway kfold": lambda: LogisticRegressionCV(alphas, cv=folds).fit(X, y),
        "ridgeway alo": lambda: LogisticRegressionCV(alphas, cv=folds, method="alo").fit(X, y),
        "sklearn LogisticRegressionCV": lambda: SKCV(
            Cs=1 / alphas, cv=folds, scoring="neg_log_loss"
        ).fit(X, y),
    }
    times = {name: [] for name in runs}
    models = {}
    for _ in range(repeat):
        for name, run in runs.items():  # interleaved
            start = clock()
            models[name] = run()
            times[name].append(clock() - start)
    sk_time = float(np.median(times["sklearn LogisticRegressionCV"]))
    print(f"\n## LogisticRegressionCV, {n_alphas} alphas, 5-fold, n={n} p={p}, "
          f"generator={generator} (positives {y.mean():.2f}), "
          f"{'CPU' if clock is time.process_time else 'wall'} time")
    print(f"{'':30s} {'time':>9s}  {'ratio sklearn/this':>18s}  {'alpha':>8s}  "
          f"{'held-out log-loss':>17s}  {'final-fit objective gap':>23s}")
    for name, model in models.items():
        alpha = getattr(model, "alpha_", None) or 1 / float(np.ravel(model.C_)[0])
        exact = LogisticRegression(alpha, tol=1e-12).fit(X, y)
        best = objective(X, y, exact.coef_, exact.intercept_, alpha)
        gap = (objective(X, y, model.coef_, model.intercept_, alpha) - best) / best
        med = float(np.median(times[name]))
        held = log_loss(y_test, model.predict_proba(X_test))
        print(f"{name:30s} {med:8.3f}s  {sk_time / med:18.2f}  {alpha:8.4g}  {held:17.6f}  "
              f"{gap:23.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rho", type=float, default=0.0, help="AR(1) feature correlation")
    parser.add_argument("--only", choices=["binary", "multinomial", "cv"], default=None)
    parser.add_argument("--generator", choices=sorted(CV_GENERATORS), action="append",
                        help="CV data generator(s); default: all four")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the CV fits by process CPU time, not wall time")
    args = parser.parse_args()
    repeat = 1 if args.tiny else args.repeat
    scale = 50 if args.tiny else 1
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    alpha = 1.0
    if args.only in (None, "binary"):
        n, p = 100_000 // scale, 200 // (scale // 10 or 1)
        X, y = make_data(n, p, 2, rho=args.rho)
        res = time_to_objective(contenders_binary(alpha, n), X, y, alpha, repeat)
        report(f"binary logistic n={n} p={p} alpha={alpha} rho={args.rho}", res)
    if args.only in (None, "multinomial"):
        n, p = 50_000 // scale, 100 // (scale // 10 or 1)
        X, y = make_data(n, p, 10, rho=args.rho)
        res = time_to_objective(contenders_multinomial(alpha), X, y, alpha, repeat)
        report(f"multinomial n={n} p={p} K=10 alpha={alpha} rho={args.rho}", res)
    if args.only in (None, "cv"):
        for generator in args.generator or CV_GENERATORS:
            bench_cv(20_000 // scale, 200 // (scale // 10 or 1), 20, repeat, generator,
                     5_000 // scale, time.process_time if args.cpu_time else time.perf_counter)


if __name__ == "__main__":
    main()
