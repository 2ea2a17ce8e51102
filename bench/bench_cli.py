"""Benchmark: the ``ridgeway fit`` command on a 1,000,000 x 100 CSV against the floor.

The floor is what a person would write by hand: read the same CSV with pyarrow, turn it into a
float64 matrix, and fit one ``ridgeway.RidgeCV()`` (exact LOO over 100 alphas). Every case runs
as its own ``python`` process, so interpreter start and imports count on every side alike.

1. ``ridgeway fit big.csv --target y --no-report`` (read, checks, standardization, 80/20 split,
   LOO selection, metrics, unregularized comparison, model.json): goal within 1.5x the floor.
2. ``ridgeway fit big.csv --target y`` (also the L1 comparison by LassoCV on a 20,000-row
   subsample, bias-variance by 20 bootstrap refits on 20,000 rows, six plots, report.html):
   goal within 4x the floor.

The CSV (about 1 GB, six significant digits) is generated once under ``$TMPDIR`` and reused.
``--tiny`` uses 20,000 x 20 (CI smoke run of seconds). Run on both targets of
``_common.TARGETS`` (intercept 0 on mean-zero columns; intercept 1000 on columns with means
up to 1000), the worse ratio quoted (issue 8).
Run: ``python bench/bench_cli.py [--tiny] [--repeat 3] [--target zero|large|both]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TARGETS, Report, describe_target, parse_args, run_python, time_interleaved

FLOOR = """
import sys
import numpy as np
from pyarrow import csv
from ridgeway import RidgeCV
t = csv.read_csv(sys.argv[1])
y = t.column("y").to_numpy()
X = np.empty((t.num_rows, t.num_columns - 1), order="F")
for j, name in enumerate(c for c in t.column_names if c != "y"):
    X[:, j] = t.column(name).to_numpy()
del t
print(RidgeCV().fit(X, y).alpha_)
"""


def make_csv(n: int, p: int, target: str) -> Path:
    """A regression CSV ``y = b + X w + noise`` with correlated columns, cached by size."""
    path = Path(tempfile.gettempdir()) / "ridgeway-bench" / f"cli_{n}x{p}_{target}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa
    from pyarrow import csv

    rng = np.random.default_rng(0)
    w = rng.normal(size=p) * 0.1
    spec = TARGETS[target]
    means = rng.uniform(-spec["feature_mean"], spec["feature_mean"], p)
    tmp = path.with_suffix(".tmp")
    with csv.CSVWriter(tmp, pa.schema([(f"x{j}", pa.float64()) for j in range(p)]
                                      + [("y", pa.float64())])) as writer:
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            X = rng.standard_normal((m, p)) + 0.5 * rng.standard_normal((m, 1)) + means
            y = spec["intercept"] + X @ w + rng.standard_normal(m)
            cols = [pa.array(np.round(X[:, j], 5)) for j in range(p)] + [pa.array(np.round(y, 5))]
            writer.write_table(pa.table(cols, names=[f"x{j}" for j in range(p)] + ["y"]))
    os.replace(tmp, path)
    return path


def one_target(args, report: Report, n: int, p: int, target: str) -> None:
    data = make_csv(n, p, target)
    out = Path(tempfile.mkdtemp(prefix="ridgeway-bench-out-"))
    report.params[f"file_{target}"] = str(data)
    report.params[f"file_MB_{target}"] = round(data.stat().st_size / 2**20)
    cli = ["-m", "ridgeway", "fit", str(data), "--target", "y"]
    cases = {
        "floor: pyarrow + RidgeCV": lambda: run_python(["-c", FLOOR, str(data)]),
        "ridgeway fit --no-report": lambda: run_python([*cli, "--no-report", "--out",
                                                  str(out / "fast")]),
        "ridgeway fit (report)": lambda: run_python([*cli, "--out", str(out / "full")]),
    }
    t = time_interleaved(cases, args.repeat, threads=args.threads)
    report.add_timings(t, target)
    floor = t["floor: pyarrow + RidgeCV"]
    report.compare("fit --no-report vs floor", t["ridgeway fit --no-report"], floor,
                   max_ratio=1.5, target=target)
    report.compare("fit with report vs floor", t["ridgeway fit (report)"], floor, max_ratio=4.0,
                   target=target)
    files = sorted(f.name for f in (out / "full").iterdir())
    report.check("report files", ", ".join(files), "report.html" in files, "report.html written",
                 target)


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv=argv, targets=True)
    n, p = (20_000, 20) if args.tiny else (1_000_000, 100)
    report = Report("cli", args, {
        "n": n, "p": p,
        "data": "; ".join(f"{t}: {describe_target(t)}" for t in args.targets)})
    for target in args.targets:
        one_target(args, report, n, p, target)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
