"""The weight-decay example of docs/weight-decay.md runs (at a few epochs) and writes its figure."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "weight_decay_clinicalnet.py"


def _load():
    spec = importlib.util.spec_from_file_location("weight_decay_clinicalnet", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.usefixtures("torch_one_thread")
def test_clinicalnet_example_runs(tmp_path):
    search, test_loss, accuracy = _load().main(epochs=3, out=tmp_path, verbose=False)
    assert len(search.weight_decays) == len(search.val_losses) == 8
    assert search.weight_decays[0] == 0.0
    assert all(len(h.epoch) == 3 for h in search.histories)
    assert 0.0 < test_loss < 1.0 and 0.0 <= accuracy <= 1.0
    png = tmp_path / "weight_decay_clinicalnet.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
