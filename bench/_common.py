"""Shared helpers of the benchmark scripts in ``bench/``.

Every script compares ridgeway with a peer *inside one run*: the cases are timed in
interleaved rounds (ridgeway, peer, ridgeway, peer, ...) and the medians are compared, because
on a shared 2-core machine differences under ~25% between separate runs are noise. Nothing global
that changes the libraries' behaviour is set here (no thread limits, no environment variables).

Each script takes

* ``--tiny``: shrink the sizes so that the script runs in a few seconds (CI smoke test); the
  goals are still printed but are not meaningful at those sizes;
* ``--repeat N``: interleaved rounds (default 3; 1 with ``--tiny``);
* ``--strict``: exit with status 1 when a goal fails (default: report only).

It prints a table (ridgeway time, peer time, ratio, goal, PASS/FAIL) and writes JSON with the
machine metadata to ``bench/results/<name>.json`` (``<name>.tiny.json`` with ``--tiny``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# ---------------------------------------------------------------------------- arguments
def parse_args(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None,
               argv=None, *, targets: bool = False) -> argparse.Namespace:
    """The common command line (``--tiny``, ``--repeat``, ``--strict``, ``--out``) plus extras.

    ``targets=True`` adds ``--target`` (the ridge benchmarks: see ``TARGETS``); the chosen
    names are in ``args.targets``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tiny", action="store_true",
                        help="shrink sizes so the script runs in a few seconds (CI)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved repetitions per case (default 3, 1 with --tiny); "
                             "medians reported")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a goal fails")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit every BLAS/OpenMP pool (threadpoolctl) to this many threads "
                             "around every timed case, ridgeway and peers alike (default: no "
                             "limit, the libraries' own settings)")
    if targets:
        parser.add_argument("--target", choices=[*TARGETS, "both"], default="both",
                            help="data: intercept 0 on mean-zero features ('zero'), intercept "
                                 "1000 on features with means up to 1000 ('large'), or both "
                                 "(default; the worse ratio is the one quoted)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON output path (default bench/results/<name>[.tiny].json)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.tiny else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if targets:
        args.targets = list(TARGETS) if args.target == "both" else [args.target]
    return args


# ---------------------------------------------------------------------------- data
#: The two targets every ridge benchmark runs on (issue 8): a benchmark tuned to one data
#: generator hides what the other exposes. "zero": intercept 0 on mean-zero features (as
#: standardized responses, residuals and simulations are; the intercept a fit recovers is
#: then near 0); "large": intercept 1000 on features whose means are drawn from U(-1000, 1000).
TARGETS = {
    "zero": {"intercept": 0.0, "feature_mean": 0.0},
    "large": {"intercept": 1000.0, "feature_mean": 1000.0},
}


def describe_target(target: str) -> str:
    spec = TARGETS[target]
    means = "0" if not spec["feature_mean"] else f"U(-{spec['feature_mean']:g}, " \
        f"{spec['feature_mean']:g})"
    return f"intercept {spec['intercept']:g}, feature means {means}"


def make_regression(n: int, p: int, *, n_targets: int | None = None, seed: int = 0,
                    coef_scale=0.1, intercept=2.0, noise: float = 1.0,
                    feature_mean: float = 0.0):
    """``y = intercept + X w + noise``, ``X`` normal with unit variance (float64, C order).

    ``w ~ N(0, coef_scale^2)``: with unit noise the best alpha is about ``1 / coef_scale^2``
    (100 by default), well inside ``logspace(-2, 4)``. ``coef_scale`` and ``intercept`` may be
    arrays of one value per target. The column means of ``X`` are drawn from
    ``U(-feature_mean, feature_mean)`` (0 by default).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if feature_mean:
        X += np.random.default_rng(seed + 1000).uniform(-feature_mean, feature_mean, p)
    t = 1 if n_targets is None else n_targets
    scale = np.broadcast_to(np.asarray(coef_scale, dtype=np.float64), (t,))
    w = rng.standard_normal((p, t)) * scale
    y = X @ w + np.broadcast_to(np.asarray(intercept, dtype=np.float64), (t,))
    y += noise * rng.standard_normal((n, t))
    if n_targets is None:
        y = y[:, 0].copy()
    return X, y


def max_rel_diff(a, b) -> float:
    """``max |a - b| / max |b|`` (a scale-aware relative difference of two arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / denom) if denom > 0 else float(np.max(np.abs(a - b)))


# ---------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Wall-clock times of one case over the interleaved rounds, and its last result."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_times)

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": min(self.times), "max_s": max(self.times),
                "times_s": self.times, "cpu_median_s": self.cpu_median,
                "cpu_times_s": self.cpu_times, "n": len(self.times)}


def time_interleaved(cases: dict[str, Callable[[], Any]], repeat: int, *,
                     repeats: dict[str, int] | None = None, warmup: bool = False,
                     threads: int | None = None, verbose: bool = True) -> dict[str, Timing]:
    """Time ``cases`` in interleaved rounds: round r runs every case once, in order.

    Parameters
    ----------
    cases : dict name -> zero-argument callable
        The callable does the whole job being timed (e.g. ``Est().fit(X, y)``) and returns what
        the checks need.
    repeat : int
        Rounds.
    repeats : dict name -> int, optional
        Fewer rounds for some cases (e.g. a peer that takes minutes): that case runs only in the
        first ``repeats[name]`` rounds.
    warmup : bool
        Run every case once, untimed, first.
    threads : int, optional
        ``threadpoolctl.threadpool_limits(threads)`` around every case (all sides alike).

    Wall time (``perf_counter``) and the process CPU time of all its threads
    (``process_time``) are both recorded.
    """
    if threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=threads):
            return time_interleaved(cases, repeat, repeats=repeats, warmup=warmup,
                                    threads=None, verbose=verbose)
    repeats = repeats or {}
    out = {name: Timing(name) for name in cases}
    if warmup:
        for fn in cases.values():
            fn()
    for r in range(repeat):
        for name, fn in cases.items():
            if r >= repeats.get(name, repeat):
                continue
            out[name].result = None
            gc.collect()
            cpu0 = time.process_time()
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu0
            out[name].times.append(elapsed)
            out[name].cpu_times.append(cpu)
            out[name].result = result
            if verbose:
                print(f"  [round {r + 1}/{repeat}] {name}: {elapsed:.3f} s (cpu {cpu:.3f} s)",
                      file=sys.stderr, flush=True)
    return out


def run_python(args: list[str]) -> str:
    """Run ``python ARGS`` (this interpreter) and return its stdout; an error with its stderr
    if it fails."""
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{args} failed: {res.stderr[-2000:]}")
    return res.stdout


def traced_peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak of the memory traced by ``tracemalloc`` while ``fn()`` runs (bytes), and its result.

    numpy registers its data allocations with tracemalloc, so arrays are counted; memory that
    BLAS/LAPACK allocate internally (work buffers, thread stacks) is not. Allocations made before
    the call are not counted: the figure is the extra memory the call needed at its peak.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


# ---------------------------------------------------------------------------- metadata
def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:  # pragma: no cover - optional peers
        return None
    return getattr(mod, "__version__", None)


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git_state() -> dict:
    """Commit of the checkout and whether ``src/`` differs from it (read-only git calls)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "src_modified": None}
    return {"commit": head or None, "src_modified": sorted(
        line[3:] for line in dirty.splitlines())}


def machine_metadata() -> dict:
    """Versions, CPUs, BLAS libraries (threadpoolctl) and load of this machine, now."""
    import scipy.linalg  # noqa: F401  (load scipy's BLAS so threadpoolctl sees it)

    try:
        from threadpoolctl import threadpool_info
        blas = threadpool_info()
    except Exception as exc:  # pragma: no cover
        blas = [{"error": repr(exc)}]
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = None
    env = {k: v for k, v in os.environ.items()
           if any(s in k for s in ("THREAD", "BLAS", "OMP", "MKL"))}
    return {
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {m: _version(m) for m in ("numpy", "scipy", "sklearn", "ridgeway",
                                               "himalaya", "threadpoolctl")},
        "blas": blas,
        "thread_env": env,
        "git": _git_state(),
    }


# ---------------------------------------------------------------------------- report
class Report:
    """Rows of a benchmark: timing comparisons and checks, printed as a table and saved."""

    def __init__(self, name: str, args: argparse.Namespace, params: dict | None = None):
        self.name = name
        self.args = args
        self.params = dict(params or {})
        self.rows: list[dict] = []
        self.timings: dict[str, dict] = {}
        self.extra: dict[str, Any] = {}
        self.started = time.time()
        self.load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    def add_timings(self, timings: dict[str, Timing], target: str | None = None) -> None:
        for name, t in timings.items():
            self.timings[name if target is None else f"[{target}] {name}"] = t.as_dict()

    def worse_of_targets(self) -> None:
        """One row per timing goal with the worse ratio over the targets (the figure quoted)."""
        groups: dict[str, list[dict]] = {}
        for r in self.rows:
            if r["kind"] == "time" and r.get("target") is not None:
                groups.setdefault(r["base_label"], []).append(r)
        for label, rows in groups.items():
            worst = max(rows, key=lambda r: r["ratio"])
            passed = None if any(r["passed"] is None for r in rows) else all(
                r["passed"] for r in rows)
            self.rows.append({**worst, "label": f"{label} [worse]", "target": None,
                              "passed": passed, "worse_of": [r["target"] for r in rows],
                              "note": f"worse of {', '.join(r['target'] for r in rows)}: "
                                      f"{worst['target']}"})

    def compare(self, label: str, ours: Timing, peer: Timing, *, max_ratio: float | None = None,
                min_speedup: float | None = None, note: str = "",
                target: str | None = None) -> bool | None:
        """A timing row: ``ratio = ridgeway / peer`` (median times).

        ``max_ratio``: goal ``ratio <= max_ratio`` ("within 1.3x of"); ``min_speedup``: goal
        ``peer / ridgeway >= min_speedup`` ("20x faster than").
        """
        ratio = ours.median / peer.median
        cpu_ratio = ours.cpu_median / peer.cpu_median if peer.cpu_median > 0 else float("nan")
        if max_ratio is not None:
            passed = ratio <= max_ratio
            goal = f"ratio <= {max_ratio:g}"
        elif min_speedup is not None:
            passed = 1.0 / ratio >= min_speedup
            goal = f">= {min_speedup:g}x faster"
        else:
            passed, goal = None, "-"
        self.rows.append({
            "kind": "time", "label": label if target is None else f"{label} [{target}]",
            "base_label": label, "target": target, "ridgeway": ours.name,
            "ridgeway_s": ours.median,
            "peer": peer.name, "peer_s": peer.median, "ratio": ratio, "speedup": 1.0 / ratio,
            "ridgeway_cpu_s": ours.cpu_median, "peer_cpu_s": peer.cpu_median,
            "cpu_ratio": cpu_ratio,
            "goal": goal, "passed": passed, "n_ridgeway": len(ours.times),
            "n_peer": len(peer.times), "note": note,
        })
        return passed

    def check(self, label: str, value: str, passed: bool | None, goal: str = "-",
              target: str | None = None, **data) -> bool | None:
        """A non-timing row (same alpha chosen, coefficient agreement, memory...)."""
        if target is not None:
            label = f"{label} [{target}]"
        self.rows.append({"kind": "check", "label": label, "value": value, "goal": goal,
                          "passed": None if passed is None else bool(passed), **data})
        return passed

    @property
    def failed(self) -> bool:
        return any(r["passed"] is False for r in self.rows)

    def print_table(self) -> None:
        print()
        title = f"== {self.name}" + ("  [--tiny: sizes shrunk, goals not meaningful]"
                                     if self.args.tiny else "")
        print(title)
        if self.params:
            print("   " + ", ".join(f"{k}={v}" for k, v in self.params.items()))
        times = [r for r in self.rows if r["kind"] == "time"]
        if times:
            head = (f"{'benchmark':<46} {'ridgeway s':>10} {'peer':<22} {'peer s':>9} "
                    f"{'ratio':>8} {'speedup':>8} {'cpu ratio':>9}  {'goal':<18} result")
            print(head)
            print("-" * len(head))
            for r in times:
                print(f"{r['label']:<46} {r['ridgeway_s']:>10.3f} {r['peer']:<22} "
                      f"{r['peer_s']:>9.3f} {r['ratio']:>8.3f} {r['speedup']:>7.1f}x "
                      f"{r['cpu_ratio']:>9.3f}  "
                      f"{r['goal']:<18} {_verdict(r['passed'])}"
                      + (f"  ({r['note']})" if r["note"] else ""))
            limit = ("no thread limit" if self.args.threads is None
                     else f"BLAS threads limited to {self.args.threads} on every side")
            print("ratio = ridgeway median wall time / peer median wall time (the goal is on "
                  "it); speedup = 1 / ratio;\ncpu ratio = the same on process CPU time; "
                  f"medians of {self.args.repeat} interleaved round(s) unless noted; {limit}")
        checks = [r for r in self.rows if r["kind"] == "check"]
        if checks:
            print()
            head = f"{'check':<48} {'value':<40} {'goal':<22} result"
            print(head)
            print("-" * len(head))
            for r in checks:
                print(f"{r['label']:<48} {r['value']:<40} {r['goal']:<22} "
                      f"{_verdict(r['passed'])}")
        print()

    def save(self) -> Path:
        path = self.args.out
        if path is None:
            suffix = ".tiny.json" if self.args.tiny else ".json"
            path = RESULTS_DIR / f"{self.name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = machine_metadata()
        meta["load_average_start"] = self.load_start
        doc = {
            "benchmark": self.name,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self.args).items()},
            "params": self.params,
            "wall_s": time.time() - self.started,
            "rows": self.rows,
            "timings": self.timings,
            "extra": self.extra,
            "machine": meta,
        }
        path.write_text(json.dumps(doc, indent=2, default=_jsonable))
        return path

    def finish(self) -> int:
        """Print, save, and return the exit status (1 on a failed goal with ``--strict``)."""
        self.worse_of_targets()
        self.print_table()
        path = self.save()
        print(f"results written to {path}")
        return 1 if (self.args.strict and self.failed) else 0


def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("PASS" if passed else "FAIL")


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
