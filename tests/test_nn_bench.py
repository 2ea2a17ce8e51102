"""bench/bench_weight_decay.py runs at --tiny size (CI smoke; no timing assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_weight_decay.py"


def test_bench_weight_decay_tiny(capsys):
    spec = importlib.util.spec_from_file_location("bench_weight_decay", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--tiny"])
    assert set(result["median_step_s"]) == {"weight_decay", "add_grad_", "autograd"}
    assert result["ratio_add_grad_"] > 0 and result["params"] < 100_000
    out = capsys.readouterr().out
    assert "ratio" in out and "add_grad_" in out
