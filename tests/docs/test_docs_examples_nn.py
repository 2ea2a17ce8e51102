"""The weight-decay example of docs/weight-decay.md, run as documented (200 epochs, ~7 s), does
what the page says: the printed curve, the chosen decay, the two regimes described in the prose.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from sklearn.metrics import log_loss  # noqa: E402

from ridgeway.conventions import to_alpha  # noqa: E402
from ridgeway.nn import decay_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "weight_decay_clinicalnet.py"
PAGE = (ROOT / "docs" / "weight-decay.md").read_text()
ROW = re.compile(r"^weight_decay=(\S+)\s+train (\S+)\s+validation (\S+)$", re.M)
BEST = re.compile(r"^best weight_decay = (\S+), i\.e\. ridgeway alpha = n \* wd = (\S+) ", re.M)


def _load():
    spec = importlib.util.spec_from_file_location("weight_decay_clinicalnet", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bce(model, data) -> float:
    with torch.no_grad():
        p = torch.sigmoid(model(data[0])).double().numpy().ravel()
    return log_loss(data[1].numpy().ravel(), p, labels=[0, 1])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import torch as t

    before = t.get_num_threads()
    t.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("example")
        module = _load()
        return module, out, *module.main(epochs=200, out=out, verbose=False)
    finally:
        t.set_num_threads(before)


def test_documented_output_is_this_run(run):
    _, _, search, _, _ = run
    rows = np.array(ROW.findall(PAGE), dtype=float)
    np.testing.assert_allclose(rows[:, 0], search.weight_decays, rtol=0.01)
    np.testing.assert_allclose(rows[:, 1], search.train_losses, atol=0.01)
    np.testing.assert_allclose(rows[:, 2], search.val_losses, atol=0.01)
    best, alpha = map(float, BEST.search(PAGE).groups())
    assert search.best_weight_decay == pytest.approx(best)
    assert to_alpha(best, "torch_adam", n=100, loss="log") == pytest.approx(alpha)


def test_best_decay_is_the_lowest_validation_loss_of_the_returned_model(run):
    module, _, search, test_loss, accuracy = run
    train, val, test = module.load_data()
    assert (len(train[0]), len(val[0]), len(test[0])) == (100, 234, 235)
    assert search.best_index == int(np.argmin(search.val_losses))
    assert _bce(search.best_model, val) == pytest.approx(search.best_val_loss, rel=1e-5)
    assert _bce(search.best_model, test) == pytest.approx(test_loss, rel=1e-5)
    with torch.no_grad():
        predicted = (search.best_model(test[0]) > 0).numpy().ravel()
    assert accuracy == pytest.approx(np.mean(predicted == test[1].numpy().ravel().astype(bool)))


def test_the_two_regimes_the_page_describes(run):
    module, _, search, _, _ = run
    wd = np.array(search.weight_decays)
    train_loss, val_loss = np.array(search.train_losses), np.array(search.val_losses)
    # without decay: training loss driven to ~0, and the worst validation among small decays
    assert wd[0] == 0.0 and train_loss[0] < 1e-3
    small = (wd > 0) & (wd < 0.1)
    assert np.all(val_loss[0] > val_loss[small])
    # from wd = 0.3 on: a constant prediction, whose loss is the entropy of the class prior
    prior = float(module.load_data()[0][1].mean())
    entropy = -(prior * np.log(prior) + (1 - prior) * np.log(1 - prior))
    crushed = wd >= 0.3
    assert crushed.sum() == 2
    np.testing.assert_allclose(train_loss[crushed], entropy, atol=2e-3)


def test_decay_covers_the_linear_weights_only(run):
    module, out, *_ = run
    rows = decay_table(module.ClinicalNet(30), 1e-2).rows
    assert {r.name: r.decay for r in rows} == {
        f"net.{i}.{kind}": (1e-2 if kind == "weight" else 0.0)
        for i in (0, 2, 4) for kind in ("weight", "bias")}
    png = out / "weight_decay_clinicalnet.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
