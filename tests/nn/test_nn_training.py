"""ridgeway.nn.fit / select_weight_decay / history plots."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from ridgeway.conventions import from_alpha  # noqa: E402
from ridgeway.nn import (  # noqa: E402
    L2,
    EarlyStopping,
    History,
    WeightDecayPenalty,
    fit,
    select_weight_decay,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _line(slope, n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, generator=g, dtype=torch.float64)
    return X, slope * X


def _zero_linear():
    model = nn.Linear(1, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    return model


def test_early_stopping_restores_best_weights():
    # Train on y = 2x from w = 0 with small steps; validate on y = x. The validation loss falls
    # while w < 1 and rises afterwards, so the best epoch is in the middle.
    model = _zero_linear()
    weights = []
    history = fit(model, _line(2.0), _line(1.0, seed=1), loss=nn.MSELoss(), optimizer="sgd",
                  lr=0.02, epochs=200, early_stopping=EarlyStopping(patience=3),
                  callbacks=[lambda log, m: weights.append(float(m.weight.detach()))],
                  progress=False)
    assert history.stopped_epoch is not None and history.stopped_epoch < 200
    best = history.best_epoch
    assert 1 < best < history.stopped_epoch
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert history.val_loss[-1] > history.val_loss[best - 1]  # it did rise
    assert history.restored
    final = float(model.weight.detach())
    assert final == weights[best - 1] and final != weights[-1]
    assert history.stopped_epoch - best == 3


def test_without_restore_keeps_last_weights():
    model = _zero_linear()
    history = fit(model, _line(2.0), _line(1.0, seed=1), loss=nn.MSELoss(), optimizer="sgd",
                  lr=0.02, epochs=200, progress=False,
                  early_stopping=EarlyStopping(patience=2, restore_best=False))
    assert not history.restored
    with torch.no_grad():
        last = nn.functional.mse_loss(model(_line(1.0, seed=1)[0]), _line(1.0, seed=1)[1])
    assert float(last) == pytest.approx(history.val_loss[-1])
    assert float(last) > history.best_val_loss


def test_history_records_and_weight_decay_shrinks_norm():
    X, y = _line(3.0)
    norms = {}
    for wd in (0.0, 0.5):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).double()
        h = fit(model, (X, y), None, loss=nn.MSELoss(), optimizer="adamw", lr=0.01,
                weight_decay=wd, epochs=30, batch_size=8, progress=False)
        assert h.epoch == list(range(1, 31))
        assert all(math.isnan(v) for v in h.val_loss)
        assert h.train_loss[-1] < h.train_loss[0]
        assert h.lr == [0.01] * 30
        norms[wd] = h.weight_norm[-1]
        expected = math.sqrt(sum(float((m.weight.detach() ** 2).sum())
                                 for m in (model[0], model[2])))
        assert h.weight_norm[-1] == pytest.approx(expected, rel=1e-10)  # biases excluded
    assert norms[0.5] < norms[0.0]
    json.dumps(h.to_dict())  # plain data


def test_fit_sgd_weight_decay_reaches_ridge():
    rng = np.random.default_rng(3)
    Xn = rng.normal(size=(50, 3))
    Xn = (Xn - Xn.mean(0)) / Xn.std(0)
    yn = Xn @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=50) + 1.0
    alpha = 5.0
    model = nn.Linear(3, 1).double()
    fit(model, (torch.tensor(Xn), torch.tensor(yn)[:, None]), loss=nn.MSELoss(),
        optimizer="sgd", lr=0.3, weight_decay=from_alpha(alpha, "torch_sgd", n=50),
        epochs=300, progress=False)
    xc = Xn - Xn.mean(0)
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(3), xc.T @ (yn - yn.mean()))
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), w, rtol=1e-8)


def test_fit_collects_penalty_and_attached_regularizers():
    X, y = _line(2.0)
    # penalty=alpha behaves like SGD weight_decay=alpha on the same loss
    m1, m2 = _zero_linear(), _zero_linear()
    fit(m1, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, penalty=0.4, epochs=100,
        progress=False)
    h2 = fit(m2, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, weight_decay=0.4,
             epochs=100, progress=False)
    torch.testing.assert_close(m1.weight, m2.weight)
    assert h2.penalty == [0.0] * 100
    # an attached L2(l) acts as weight decay 2 l
    m3 = L2(0.2).attach(_zero_linear())
    h3 = fit(m3, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, epochs=100,
             progress=False)
    torch.testing.assert_close(m3.weight, m2.weight)
    assert h3.penalty[-1] == pytest.approx(0.2 * float(m3.weight.detach()) ** 2)
    # ... and overrides the optimizer's global weight_decay (not added to it)
    m5 = L2(0.2).attach(_zero_linear())
    fit(m5, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, weight_decay=5.0, epochs=100,
        progress=False)
    torch.testing.assert_close(m5.weight, m2.weight)
    # a ready WeightDecayPenalty object (e.g. with a reference) is used as given
    m4 = _zero_linear()
    ref = {"weight": torch.full((1, 1), 2.0, dtype=torch.float64)}
    fit(m4, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, epochs=100, progress=False,
        penalty=WeightDecayPenalty(m4, 10.0, reference=ref))
    assert float(m4.weight.detach()) == pytest.approx(2.0, rel=1e-8)  # data and w0 agree


def test_attached_override_reads_the_flag_not_the_reason_text(monkeypatch):
    # the reason column is display text: rewording it must not change which decay applies
    import ridgeway.nn as rnn
    import ridgeway.nn.training as training

    plan = training.decay_plan
    reworded = lambda *a, **k: [replace(e, reason="reworded") for e in plan(*a, **k)]  # noqa: E731
    monkeypatch.setattr(training, "decay_plan", reworded)
    X, y = _line(2.0)
    attached = L2(0.2).attach(_zero_linear())
    fit(attached, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, weight_decay=5.0,
        epochs=100, progress=False)
    plain = _zero_linear()
    fit(plain, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, weight_decay=0.4, epochs=100,
        progress=False)
    torch.testing.assert_close(attached.weight, plain.weight)
    assert not hasattr(rnn, "L2Penalty")  # one name, one thing: that is ridgeway.glm.L2Penalty


def _pure_decay_run(lr, independent, scheduler=None):
    model = nn.Linear(2, 2, bias=False).double()
    nn.init.ones_(model.weight)
    zero_loss = lambda out, y: (out * 0.0).sum()  # noqa: E731  (no data gradient)
    X = torch.ones(4, 2, dtype=torch.float64)
    fit(model, (X, X), loss=zero_loss, optimizer="adamw", lr=lr, weight_decay=0.1, epochs=2,
        independent_decay=independent, scheduler=scheduler, progress=False)
    return float(model.weight.detach()[0, 0])


def test_independent_decay_does_not_depend_on_lr():
    # AdamW: w <- (1 - lr * wd) w per step. Independent: w <- (1 - (lr_t/lr_max) wd) w.
    assert _pure_decay_run(0.01, False) == pytest.approx((1 - 0.01 * 0.1) ** 2)
    assert _pure_decay_run(0.5, False) == pytest.approx((1 - 0.5 * 0.1) ** 2)
    for lr in (0.01, 0.5):
        assert _pure_decay_run(lr, True) == pytest.approx((1 - 0.1) ** 2)
    halve = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # noqa: E731
    assert _pure_decay_run(0.3, True, halve) == pytest.approx((1 - 0.1) * (1 - 0.05))


def test_select_weight_decay_picks_lowest_validation_loss():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 10, generator=g, dtype=torch.float64)
    w_true = torch.zeros(10, 1, dtype=torch.float64)
    w_true[0] = 1.0
    y = X @ w_true + 0.5 * torch.randn(30, 1, generator=g, dtype=torch.float64)
    Xv = torch.randn(200, 10, generator=g, dtype=torch.float64)
    yv = Xv @ w_true + 0.5 * torch.randn(200, 1, generator=g, dtype=torch.float64)
    grid = [0.0, 0.01, 0.1, 1.0, 100.0]
    search = select_weight_decay(lambda: nn.Linear(10, 1).double(), (X, y), (Xv, yv),
                                 weight_decays=grid, loss=nn.MSELoss(), optimizer="sgd",
                                 lr=0.1, epochs=200, progress=False)
    assert search.weight_decays == tuple(grid)
    assert len(search.val_losses) == len(search.histories) == 5
    assert search.best_index == int(np.argmin(search.val_losses))
    assert 0 < search.best_index < 4  # neither no decay nor crushing decay
    assert search.val_losses[-1] > search.val_losses[search.best_index]
    assert search.train_losses[0] < search.train_losses[-1]  # decay raises the training loss
    with torch.no_grad():
        v = float(nn.functional.mse_loss(search.best_model(Xv), yv))
    assert v == pytest.approx(search.histories[search.best_index].val_loss[-1])
    assert search.best_weight_decay == grid[search.best_index]


def test_progress_bar_and_callback_stop(capsys):
    model = _zero_linear()
    h = fit(model, _line(2.0), _line(2.0), loss=nn.MSELoss(), optimizer="sgd", lr=0.01,
            epochs=50, progress=True, callbacks=[lambda log, m: log["epoch"] == 4])
    assert h.stopped_epoch == 4 and len(h.epoch) == 4
    assert "epoch 4: train" in capsys.readouterr().err  # the bar goes to stderr


def test_fit_with_dataloader():
    X, y = _line(2.0, n=64)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    model = _zero_linear()
    h = fit(model, loader, loader, loss=nn.MSELoss(), optimizer="adam", lr=0.05, epochs=40,
            progress=False)
    assert h.val_loss[-1] < 0.01 * h.val_loss[0]
    assert isinstance(h, History)


def test_plots():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    from ridgeway.inspection.history import plot_history, plot_weight_decay_search

    X, y = _line(2.0)
    h = fit(_zero_linear(), (X, y), _line(1.0, seed=1), loss=nn.MSELoss(), optimizer="sgd",
            lr=0.02, epochs=30, progress=False)
    disp = plot_history(h)
    assert [line.get_label() for line in disp.ax_.get_lines()][:2] == [
        "train loss", "validation loss"]
    assert list(disp.ax_norm_.get_lines()[0].get_ydata()) == h.weight_norm
    search = select_weight_decay(_zero_linear, (X, y), _line(1.0, seed=1),
                                 weight_decays=[0.0, 0.1, 1.0], loss=nn.MSELoss(),
                                 optimizer="sgd", lr=0.1, epochs=20, progress=False)
    d2 = plot_weight_decay_search(search)
    assert d2.ax_.get_xscale() == "log"
    assert list(d2.ax_.get_lines()[1].get_ydata()) == list(search.val_losses)
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(History())
    with pytest.raises(TypeError, match="history must have attributes"):
        plot_history({"epoch": [1]})
    import matplotlib.pyplot as plt

    plt.close("all")


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def test_fit_bad_input():
    X, y = _line(2.0)
    m = _zero_linear()
    mse = nn.MSELoss()
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        fit(m, (X, y), loss=mse, early_stopping=EarlyStopping())
    with pytest.raises(ValueError, match=r"optimizer must be one of \['adam', 'adamw', 'sgd'\]"):
        fit(m, (X, y), loss=mse, optimizer="lion")
    with pytest.raises(ValueError, match=r"independent_decay=True .* needs optimizer='adamw'"):
        fit(m, (X, y), loss=mse, optimizer="sgd", independent_decay=True)
    with pytest.raises(ValueError, match="weight_decay must be non-negative"):
        fit(m, (X, y), loss=mse, weight_decay=-0.1)
    with pytest.raises(ValueError, match="weight_decay must be finite"):
        fit(m, (X, y), loss=mse, weight_decay=float("nan"))
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(m, (X, y), loss=mse, epochs=0)
    with pytest.raises(ValueError, match="X and y must be tensors with the same number of rows"):
        fit(m, (X, y[:-1]), loss=mse)
    with pytest.raises(TypeError, match="train must be a pair"):
        fit(m, 3.0, loss=mse)
    with pytest.raises(ValueError, match="patience must be >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="weight_decays is empty"):
        select_weight_decay(_zero_linear, (X, y), (X, y), weight_decays=[], loss=mse)
    with pytest.raises(ValueError, match="weight_decays entry must be non-negative"):
        select_weight_decay(_zero_linear, (X, y), (X, y), weight_decays=[-1.0], loss=mse)
    with pytest.raises(TypeError, match=r"build_model must return a torch\.nn\.Module"):
        select_weight_decay(lambda: None, (X, y), (X, y), weight_decays=[0.1], loss=mse,
                            progress=False)
