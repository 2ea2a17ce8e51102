"""Every Python block of docs/guide.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(), re.S | re.M)
NAMESPACE: dict = {"__name__": "guide"}


def test_guide_has_the_seed_examples():
    text = GUIDE.read_text()
    for title in ("Coefficients after standardization", "Correlated features",
                  "50 features, 150 samples", "cross-validated AUC", "regularization path",
                  "bias-variance trade-off"):
        assert title in text
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_guide_block_runs(index, capsys):
    import matplotlib.pyplot as plt

    try:
        exec(compile(BLOCKS[index], f"{GUIDE.name}[block {index}]", "exec"), NAMESPACE)
    finally:
        plt.close("all")
