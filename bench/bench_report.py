"""Benchmark: the logistic report on a Caravan-like table against the fit without it.

A synthetic table shaped like ISLR2's Caravan (5,822 rows, 85 correlated numeric columns,
about 6% positives) is fitted twice by the command, each as its own ``python`` process:
``ridgeway fit caravan.csv -t Purchase --no-report`` and the same with the report (plots, the
unregularized and L1 comparisons). Goal: the report run within 3x the ``--no-report`` run
(issue 9 item 7; scikit-learn's saga ``LogisticRegressionCV`` L1 comparison made it 6-9x).
A third case, ``--no-l1``, shows what the L1 comparison costs.

``--tiny`` uses 1,000 x 20. Run: ``python bench/bench_report.py [--tiny] [--repeat 3]``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, parse_args, run_python, time_interleaved


def make_caravan(n: int, p: int) -> Path:
    """Correlated columns (20 latent factors) and a rare, weakly predictable positive class."""
    path = Path(tempfile.gettempdir()) / "ridgeway-bench" / f"caravan_{n}x{p}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa
    from pyarrow import csv

    rng = np.random.default_rng(0)
    k = min(20, p)
    X = rng.normal(size=(n, k)) @ rng.normal(size=(k, p)) + 0.5 * rng.normal(size=(n, p))
    X = np.round(X * 2 + 4).clip(0, 9)  # small integer codes, as Caravan's
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    logit = -3.2 + Z[:, :5] @ np.array([0.4, -0.3, 0.25, 0.15, 0.1])
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    table = pa.table({**{f"V{j + 1}": X[:, j] for j in range(p)}, "Purchase": y})
    tmp = path.with_suffix(".tmp")
    csv.write_csv(table, tmp)
    tmp.replace(path)
    return path


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv=argv)
    n, p = (1_000, 20) if args.tiny else (5_822, 85)
    data = make_caravan(n, p)
    out = Path(tempfile.mkdtemp(prefix="ridgeway-bench-report-"))
    report = Report("report", args, {"n": n, "p": p, "file": str(data)})
    cli = ["-m", "ridgeway", "fit", str(data), "--target", "Purchase"]
    cases = {
        "fit --no-report": lambda: run_python([*cli, "--no-report", "--out", str(out / "fast")]),
        "fit (report)": lambda: run_python([*cli, "--out", str(out / "full")]),
        "fit --no-l1 (report)": lambda: run_python([*cli, "--no-l1", "--out", str(out / "nol1")]),
    }
    t = time_interleaved(cases, args.repeat, threads=args.threads)
    report.add_timings(t)
    report.compare("report vs --no-report", t["fit (report)"], t["fit --no-report"],
                   max_ratio=3.0)
    report.compare("report --no-l1 vs --no-report", t["fit --no-l1 (report)"],
                   t["fit --no-report"], max_ratio=3.0)
    files = sorted(f.name for f in (out / "full").iterdir())
    report.check("report files", ", ".join(files), "report.html" in files, "report.html written")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
