"""Benchmark: peak memory of the in-memory command (``fit`` and ``predict``) against the table.

The script writes a 1,000,000-row table (20 float features and ``y``) to ``$TMPDIR`` in three
variants, and runs each command in a fresh ``python`` process:

* ``numeric``: the CSV (float64 written at full precision, ~400 MB), all columns numeric;
* ``parquet``: the same table as Parquet;
* ``mixed``: 18 float features (two of them with 5% missing values, fitted with
  ``--impute mean``), a text column of 8 levels (one-hot encoded) and a 2-level text column.

Per variant: ``ridgeway fit FILE -t y --no-report``, ``ridgeway fit FILE -t y`` (the report)
and ``ridgeway predict model.json FILE``. Each process imports what the command imports
(numpy, scipy, scikit-learn, pyarrow, ridgeway's command), records its resident memory right
after (the *import baseline*), runs ``ridgeway.cli.app.main`` and reports its peak resident
memory (``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's own
memory since it started, what ``/usr/bin/time -v`` reports when started from a small shell;
``getrusage``'s ``ru_maxrss`` would also count the parent's memory copied at the fork).

The *numeric table* is the data as the model fits it, in float64: n x (features after one-hot
encoding + y) x 8 bytes (1M x 21: 160 MiB; ``mixed``: 1M x 28, 214 MiB, and its ratio to the
file's 21 columns is printed too). Two ratios are printed: ``(peak - import baseline) /
table`` (what the command adds over its libraries; goal <= 2 for ``fit --no-report`` and
``predict``, issue 8) and the raw ``peak / table``. Each case runs ``--repeat`` times (default
3) and the worst run is quoted. ``--tiny``: 20,000 rows, one run (seconds; goals not
meaningful). Run: ``python bench/bench_memory.py [--tiny] [--repeat 3] [--variant
numeric|parquet|mixed|all]``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, parse_args

RUNNER = """
import json, sys
import numpy, scipy, sklearn, pyarrow, pyarrow.csv, pyarrow.parquet
from ridgeway.cli import app, commands, fitjob, report
def status(key):
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith(key + ":"))
base = status("VmRSS")
rc = app.main(sys.argv[1:])
print("MEMORY", json.dumps({"rc": rc, "base": base, "peak": status("VmHWM")}), file=sys.stderr)
sys.exit(rc)
"""

P = 20
VARIANTS = ("numeric", "parquet", "mixed")
LEVELS = [f"level_{k}" for k in range(8)]


def make_table(n: int, variant: str, seed: int = 0):
    """``y = 1 + X w + noise`` on correlated columns (and the text columns' effects)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    p = P - 2 if variant == "mixed" else P
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    X += rng.uniform(-10, 10, p)
    y = 1.0 + X @ (rng.normal(size=p) * 0.1) + rng.standard_normal(n)
    cols = {f"x{j}": pa.array(X[:, j]) for j in range(p)}
    del X
    if variant == "mixed":
        for j in (0, 1):
            gap = rng.random(n) < 0.05
            cols[f"x{j}"] = pa.array(np.where(gap, np.nan, cols[f"x{j}"].to_numpy()),
                                     from_pandas=True)
        level = rng.integers(0, len(LEVELS), n)
        flag = rng.random(n) < 0.3
        y += 0.3 * level + flag
        cols["group"] = pa.DictionaryArray.from_arrays(
            pa.array(level, pa.int32()), pa.array(LEVELS)).cast(pa.string())
        cols["flag"] = pa.array(np.where(flag, "yes", "no"))
    cols["y"] = pa.array(y)
    return pa.table(cols)


def write_file(path: Path, n: int, variant: str) -> None:
    from pyarrow import csv, parquet

    table = make_table(n, variant)
    if variant == "parquet":
        parquet.write_table(table, path)
    else:
        csv.write_csv(table, path)


def write_in_child(path: Path, n: int, variant: str) -> None:
    """:func:`write_file` in its own process: this one stays small (a child's peak counts
    from its own start, ``VmHWM``, but a small parent keeps the runs alike)."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from pathlib import Path; import bench_memory as b; "
            f"b.write_file(Path({str(path)!r}), {n}, {variant!r})")
    subprocess.run([sys.executable, "-c", code], check=True)


def run_case(args: list[str]) -> dict:
    res = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True)
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("MEMORY ")]
    if res.returncode != 0 or not lines:
        raise RuntimeError(f"{args} failed ({res.returncode}): {res.stderr[-2000:]}")
    return json.loads(lines[-1][len("MEMORY "):])


def one_variant(report: Report, tmp: Path, n: int, variant: str, repeat: int) -> None:
    path = tmp / f"{variant}.{'parquet' if variant == 'parquet' else 'csv'}"
    write_in_child(path, n, variant)
    # the float64 matrix the model fits (one-hot columns included) and y
    n_columns = P + 1 + (len(LEVELS) - 1 if variant == "mixed" else 0)
    table_bytes = n * n_columns * 8
    file_bytes = n * (P + 1) * 8
    report.params[f"file_MiB_{variant}"] = round(path.stat().st_size / 2**20)
    out = tmp / f"out_{variant}"
    fit = ["fit", str(path), "--target", "y", "--out", str(out)]
    if variant == "mixed":
        fit += ["--impute", "mean"]
    cases = {
        "fit --no-report": [*fit, "--no-report"],
        "fit (report)": fit,
        "predict": ["predict", str(out / "model.json"), str(path), "--out",
                    str(tmp / "pred.csv")],
    }
    for name, words in cases.items():
        runs = [run_case(words) for _ in range(repeat)]
        m = max(runs, key=lambda r: r["peak"] - r["base"])  # the worst run is quoted
        added = m["peak"] - m["base"]
        extra, raw = added / table_bytes, m["peak"] / table_bytes
        goal = name != "fit (report)"
        report.check(f"{name}: (peak - imports) / table ratio",
                     f"{added / 2**20:.0f} / {table_bytes / 2**20:.0f} MiB ({extra:.2f})",
                     extra <= 2.0 if goal else None, "<= 2" if goal else "-", variant)
        report.check(f"{name}: peak / table ratio",
                     f"{m['peak'] / 2**20:.0f} / {table_bytes / 2**20:.0f} MiB ({raw:.2f}); "
                     f"imports {m['base'] / 2**20:.0f} MiB", None, "-", variant)
        if file_bytes != table_bytes:
            report.check(f"{name}: (peak - imports) / file's columns ratio",
                         f"{added / 2**20:.0f} / {file_bytes / 2**20:.0f} MiB "
                         f"({added / file_bytes:.2f})", None, "-", variant)
        report.extra[f"{variant}: {name}"] = {"runs": runs, "table_bytes": table_bytes,
                                              "file_columns_bytes": file_bytes}


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv=argv, extra=lambda p: p.add_argument(
        "--variant", choices=[*VARIANTS, "all"], default="all"))
    n = 20_000 if args.tiny else 1_000_000
    variants = VARIANTS if args.variant == "all" else (args.variant,)
    report = Report("memory", args, {"n": n, "p": P, "table": f"{n} x {P + 1} float64"})
    tmp = Path(tempfile.mkdtemp(prefix="ridgeway-bench-memory-"))
    try:
        for variant in variants:
            one_variant(report, tmp, n, variant, args.repeat)
        return report.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
