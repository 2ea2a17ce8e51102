"""Benchmark: streaming RidgeCV(cv=5) over 100 alphas from a Parquet file, memory and time.

The script writes a regression Parquet file (5,000,000 x 50 float64 features and y; row groups
of 65,536 rows, one batch each: a reader holds a whole row group's column chunks, so larger
groups raise every case's peak memory, pyarrow's own included) and a 1,000,000-row one to a
temporary directory, then runs each case in a fresh ``python`` process (started by a small
wrapper that reports the child's peak resident memory, ``getrusage(RUSAGE_CHILDREN).ru_maxrss``):

* ``pyarrow alone``: ``pyarrow.dataset`` iterating the same batches (65,536 rows, no
  pre-buffering), touching nothing: the floor;
* ``ridgeway stream``: ``RidgeCV(cv=5).fit_stream(lambda: ridgeway.io.iter_blocks(path,
  "y"))``: one pass, a reader thread preparing the next block while this one is reduced;
* ``ridgeway fit --stream``: the command (``--cv 5 --no-report``): a levels pass (the
  standardization) and the fit pass, the model file.

Goals (issue 11): peak memory of the 5M-row file within 10% of the 1M-row file's and below a
quarter of the in-memory table (n x 51 x 8 bytes); wall time within 1.5x of pyarrow alone.
``--tiny``: 40,000 and 8,000 rows x 10 features (seconds; goals not meaningful).
Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_stream.py [--tiny]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, parse_args, time_interleaved

WRAPPER = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
print("PEAK", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
sys.exit(r.returncode)
"""

PYARROW = """
import sys
import pyarrow.dataset as ds
fmt = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
    pre_buffer=False, use_buffered_stream=True, buffer_size=1 << 20))
rows = 0
for frag in ds.dataset(sys.argv[1], format=fmt).get_fragments():
    for batch in frag.to_batches(batch_size=65536, batch_readahead=0, fragment_readahead=0):
        rows += batch.num_rows
print(rows)
"""

RIDGEWAY = """
import sys
from ridgeway import RidgeCV
from ridgeway.io import DataSource, iter_blocks
source = DataSource(sys.argv[1])
est = RidgeCV(cv=5).fit_stream(lambda: iter_blocks(source, "y"))
print(est.alpha_, est.coef_[:3])
"""


ROW_GROUP = 65_536


def make_parquet(path: Path, n: int, p: int, seed: int = 0) -> None:
    """``y = 1 + X w + noise`` with correlated columns of mean up to 10, written in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    w = rng.normal(size=p) * 0.1
    means = rng.uniform(-10, 10, p)
    names = [f"x{j}" for j in range(p)] + ["y"]
    schema = pa.schema([(c, pa.float64()) for c in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n, ROW_GROUP):
            m = min(ROW_GROUP, n - start)
            X = rng.standard_normal((m, p)) + 0.5 * rng.standard_normal((m, 1)) + means
            y = 1.0 + X @ w + rng.standard_normal(m)
            writer.write_table(pa.table([*(X[:, j] for j in range(p)), y], names=names))


def _run(args: list[str]) -> tuple[int, str]:
    res = subprocess.run([sys.executable, "-c", WRAPPER, sys.executable, *args],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{args} failed: {res.stderr[-2000:]}")
    peak = int(res.stdout.rsplit("PEAK", 1)[1])
    return peak, res.stdout


def main(argv=None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv=argv)
    (n, n_small), p = ((40_000, 8_000), 10) if args.tiny else ((5_000_000, 1_000_000), 50)
    tmp = Path(tempfile.mkdtemp(prefix="ridgeway-bench-stream-"))
    try:
        big, small = tmp / "big.parquet", tmp / "small.parquet"
        make_parquet(big, n, p)
        make_parquet(small, n_small, p, seed=1)
        table_bytes = n * (p + 1) * 8
        report = Report("stream", args, {"n": n, "n_small": n_small, "p": p, "cv": 5,
                                         "alphas": 100, "file_MB": round(
                                             big.stat().st_size / 2**20)})
        cli = ["-m", "ridgeway", "fit", "--target", "y", "--stream", "--cv", "5",
               "--no-report"]
        peaks: dict[str, int] = {}

        def case(name, words, path):
            def run():
                peaks[name], _ = _run([*words[:3], str(path), *words[3:]]
                                      if words[0] == "-m" else [*words, str(path)])
            return run

        cases = {
            "pyarrow alone": case("pyarrow alone", ["-c", PYARROW], big),
            "ridgeway stream": case("ridgeway stream", ["-c", RIDGEWAY], big),
            "ridgeway fit --stream": case("ridgeway fit --stream",
                                          [*cli, "--out", str(tmp / "out")], big),
        }
        t = time_interleaved(cases, args.repeat, threads=args.threads)
        report.add_timings(t)
        report.compare("RidgeCV(cv=5).fit_stream vs pyarrow", t["ridgeway stream"],
                       t["pyarrow alone"], max_ratio=1.5)
        report.compare("fit --stream vs pyarrow", t["ridgeway fit --stream"],
                       t["pyarrow alone"], max_ratio=1.5,
                       note="two passes: levels/standardization, then fit")
        for name in ("ridgeway stream", "ridgeway fit --stream"):
            case(name + " small", ["-c", RIDGEWAY] if name == "ridgeway stream" else
                 [*cli, "--out", str(tmp / "out_small")], small)()
            ratio = peaks[name] / peaks[name + " small"]
            report.check(f"{name}: peak RSS {n} vs {n_small} rows",
                         f"{peaks[name] / 2**20:.0f} vs {peaks[name + ' small'] / 2**20:.0f} "
                         f"MiB ({ratio:.3f}x)", abs(ratio - 1) <= 0.10, "within 10%")
            report.check(f"{name}: peak RSS vs in-memory table",
                         f"{peaks[name] / 2**20:.0f} MiB of {table_bytes / 2**20:.0f} MiB "
                         f"({peaks[name] / table_bytes:.3f})", peaks[name] < table_bytes / 4,
                         "below 1/4 of the table")
        report.check("pyarrow alone: peak RSS", f"{peaks['pyarrow alone'] / 2**20:.0f} MiB",
                     None)
        return report.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
