"""Every benchmark script in ``bench/`` runs with ``--tiny`` and prints its comparison table.

The scripts are found by glob, so benchmarks added later are covered too. Each one runs in its
own interpreter (as a user would run it) and must exit 0 and print a "ratio" column. The
``--tiny`` runs write ``bench/results/<name>.tiny.json`` and never touch full-size results.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(BENCH.glob("bench_*.py"))
TIMEOUT_S = 120  # per script; the whole set takes well under a minute on 2 cores


def _run(script: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), "--tiny", *extra],
        cwd=BENCH.parent, capture_output=True, text=True, timeout=TIMEOUT_S,
    )


def test_bench_scripts_found():
    assert SCRIPTS, f"no bench/bench_*.py scripts under {BENCH}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_bench_script_tiny(script):
    proc = _run(script)
    assert proc.returncode == 0, (
        f"{script.name} --tiny exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    )
    assert "ratio" in proc.stdout, f"{script.name} printed no ratio:\n{proc.stdout[-4000:]}"


def test_bench_loo_memory_tiny():
    script = BENCH / "bench_ridgecv_loo.py"
    if not script.exists():
        pytest.skip("bench_ridgecv_loo.py not present")
    proc = _run(script, "--memory", "--no-timing")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "peak extra memory" in proc.stdout
