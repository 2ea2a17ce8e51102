"""ridgeway.nn: penalties and parameter groups against ridge closed forms, exclusion, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from ridgeway.conventions import from_alpha, to_alpha  # noqa: E402
from ridgeway.nn import (  # noqa: E402
    L2,
    WeightDecayPenalty,
    decay_table,
    l2_penalty,
    param_groups,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


# ---------------------------------------------------------------------------------------------
# Data and references
# ---------------------------------------------------------------------------------------------


def _standardized(rng, n, p):
    X = rng.normal(size=(n, p))
    return (X - X.mean(0)) / X.std(0)


@pytest.fixture(scope="module")
def reg():
    rng = np.random.default_rng(0)
    X = _standardized(rng, 60, 5)
    y = X @ rng.normal(size=5) + rng.normal(size=60) + 3.0
    return X, y


@pytest.fixture(scope="module")
def clf():
    rng = np.random.default_rng(1)
    X = _standardized(rng, 80, 4)
    y = (X @ np.array([1.0, -1.0, 0.5, 2.0]) + rng.logistic(size=80) + 0.5 > 0).astype(float)
    return X, y


def _ridge_closed_form(X, y, alpha, w0=None):
    """argmin 1/2 ||y - Xw - b||^2 + alpha/2 ||w - w0||^2, intercept unpenalized."""
    xm, ym = X.mean(0), y.mean()
    Xc, yc = X - xm, y - ym
    w0 = np.zeros(X.shape[1]) if w0 is None else w0
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ yc + alpha * w0)
    return w, ym - xm @ w


def _reference_ridge(X, y, alpha):
    from ridgeway import Ridge

    model = Ridge(alpha=alpha, fit_intercept=True).fit(X, y)
    return model.coef_, model.intercept_


def _reference_logistic(X, y, alpha):
    from ridgeway import LogisticRegression

    model = LogisticRegression(alpha=alpha, tol=1e-12).fit(X, y)
    return model.coef_.ravel(), float(model.intercept_[0])


def _gd_lr(X, a, curvature):
    """Step 2/(L+mu) (or 1/L) from the Hessian bound of the full-batch objective."""
    Xt = np.c_[X, np.ones(len(X))]
    H = curvature * Xt.T @ Xt / len(X)
    H[:-1, :-1] += a * np.eye(X.shape[1])
    ev = np.linalg.eigvalsh(H)
    return 2.0 / (ev[0] + ev[-1]) if curvature == 2.0 else 1.0 / ev[-1]


def _train_linear(X, y, *, a, mode, loss_fn, lr, steps):
    torch.manual_seed(0)
    model = nn.Linear(X.shape[1], 1).double()
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    if mode == "penalty":
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(param_groups(model, a), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        obj = loss_fn(model(Xt), yt)
        if mode == "penalty":
            obj = obj + l2_penalty(model, a)
        obj.backward()
        opt.step()
    return model.weight.detach().numpy().ravel(), float(model.bias.detach())


# ---------------------------------------------------------------------------------------------
# Equivalence with ridge and logistic regression
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["penalty", "weight_decay"])
def test_linear_sgd_equals_ridge_closed_form(reg, mode):
    X, y = reg
    alpha = 4.0
    a = from_alpha(alpha, "torch_sgd", n=len(y))  # MSELoss(mean): a = 2 alpha / n
    assert a == pytest.approx(2 * alpha / len(y))
    w, b = _train_linear(X, y, a=a, mode=mode, loss_fn=nn.MSELoss(), lr=_gd_lr(X, a, 2.0),
                         steps=300)
    w_ref, b_ref = _ridge_closed_form(X, y, alpha)
    np.testing.assert_allclose(w, w_ref, rtol=1e-5)
    np.testing.assert_allclose(b, b_ref, rtol=1e-5)
    w_rw, b_rw = _reference_ridge(X, y, alpha)  # ridgeway.Ridge
    np.testing.assert_allclose(w, w_rw, rtol=1e-5)
    np.testing.assert_allclose(b, b_rw, rtol=1e-5)


def test_penalizing_the_bias_would_be_detected(reg):
    # Guard: with the bias penalized too the result misses the closed form by far more than 1e-5.
    X, y = reg
    alpha = 4.0
    a = from_alpha(alpha, "torch_sgd", n=len(y))
    model = nn.Linear(X.shape[1], 1).double()
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    opt = torch.optim.SGD(model.parameters(), lr=_gd_lr(X, a, 2.0), weight_decay=a)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.mse_loss(model(Xt), yt).backward()
        opt.step()
    _, b_ref = _ridge_closed_form(X, y, alpha)
    assert abs(float(model.bias.detach()) - b_ref) / abs(b_ref) > 1e-2


@pytest.mark.parametrize("mode", ["penalty", "weight_decay"])
def test_logistic_sgd_equals_logistic_regression(clf, mode):
    X, y = clf
    alpha = 2.0
    a = from_alpha(alpha, "torch_sgd", n=len(y), loss="log")  # BCE(mean): a = alpha / n
    w, b = _train_linear(X, y, a=a, mode=mode, loss_fn=nn.BCEWithLogitsLoss(),
                         lr=_gd_lr(X, a, 0.25), steps=1500)
    w_ref, b_ref = _reference_logistic(X, y, alpha)
    np.testing.assert_allclose(w, w_ref, rtol=1e-4)
    np.testing.assert_allclose(b, b_ref, rtol=1e-4)


def _run(opt_name, X, y, wd, alpha, steps=3000):
    model = nn.Linear(X.shape[1], 1).double()
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    if opt_name == "decoupled_sgd":
        opt, sched = torch.optim.SGD(model.parameters(), lr=0.2), None
    else:
        cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[opt_name]
        opt = cls(param_groups(model, wd), lr=0.05)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.997)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(Xt), yt).backward()
        if opt_name == "decoupled_sgd":  # AdamW's rule with plain SGD in place of Adam
            with torch.no_grad():
                model.weight.mul_(1 - 0.2 * wd)
        opt.step()
        if sched is not None:
            sched.step()
    return model.weight.detach().numpy().ravel()


def test_adam_l2_and_adamw_differ_and_sgd_limit_matches(reg):
    X, y = reg
    alpha = 20.0
    wd = from_alpha(alpha, "torch_adam", n=len(y))
    assert wd == from_alpha(alpha, "adamw", n=len(y))  # same nominal strength
    w_ref, _ = _ridge_closed_form(X, y, alpha)
    w_adam = _run("adam", X, y, wd, alpha)
    w_adamw = _run("adamw", X, y, wd, alpha)
    w_sgd = _run("decoupled_sgd", X, y, wd, alpha)
    # Coupled L2 under Adam: fixed points are those of the penalized objective.
    np.testing.assert_allclose(w_adam, w_ref, rtol=1e-6)
    # Decoupled decay under Adam: a different solution for the same nominal strength.
    assert np.max(np.abs(w_adamw - w_ref)) / np.max(np.abs(w_ref)) > 0.02
    # In the plain-SGD limit, the 'adamw' conversion is exact.
    np.testing.assert_allclose(w_sgd, w_ref, rtol=1e-6)


def test_keras_l2_attached_equals_ridge(reg):
    X, y = reg
    alpha = 3.0
    lam = from_alpha(alpha, "keras", n=len(y))  # MSE(mean) + l ||W||^2: l = alpha / n
    model = L2(lam).attach(nn.Linear(X.shape[1], 1).double())
    a_equiv = 2 * lam
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    opt = torch.optim.SGD(model.parameters(), lr=_gd_lr(X, a_equiv, 2.0))
    for _ in range(300):
        opt.zero_grad()
        (nn.functional.mse_loss(model(Xt), yt) + l2_penalty(model, 0.0)).backward()
        opt.step()
    w_ref, _ = _ridge_closed_form(X, y, to_alpha(lam, "keras", n=len(y)))
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), w_ref, rtol=1e-5)


def test_l2_sp_reference_equals_closed_form_toward_w0(reg):
    X, y = reg
    alpha = 10.0
    w0 = np.array([1.0, -1.0, 2.0, 0.5, 0.0])
    pretrained = nn.Linear(X.shape[1], 1).double()
    with torch.no_grad():
        pretrained.weight.copy_(torch.tensor(w0)[None, :])
    ref = snapshot(pretrained)
    model = nn.Linear(X.shape[1], 1).double()
    a = from_alpha(alpha, "torch_sgd", n=len(y))
    penalty = WeightDecayPenalty(model, a, reference=ref)
    Xt, yt = torch.tensor(X), torch.tensor(y)[:, None]
    opt = torch.optim.SGD(model.parameters(), lr=_gd_lr(X, a, 2.0))
    for _ in range(300):
        opt.zero_grad()
        nn.functional.mse_loss(model(Xt), yt).backward()
        penalty.add_grad_()
        opt.step()
    w_ref, b_ref = _ridge_closed_form(X, y, alpha, w0=w0)
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), w_ref, rtol=1e-5)
    np.testing.assert_allclose(float(model.bias.detach()), b_ref, rtol=1e-5)
    # the penalty is zero at the reference
    assert float(l2_penalty(pretrained, 5.0, reference=ref).detach()) == 0.0


# ---------------------------------------------------------------------------------------------
# Exclusion rule and per-layer strengths
# ---------------------------------------------------------------------------------------------


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.conv = nn.Conv1d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm1d(8)
        self.lin = nn.Linear(8, 8)
        self.ln = nn.LayerNorm(8)
        self.head = nn.Linear(8, 1)

    def forward(self, idx):
        h = self.bn(self.conv(self.emb(idx).transpose(1, 2))).mean(-1)
        return self.head(self.ln(torch.relu(self.lin(h))))


def test_default_exclusion_names_exactly_the_weights():
    table = decay_table(Mixed(), 0.1)
    assert table.decayed_names() == ["emb.weight", "conv.weight", "lin.weight", "head.weight"]
    reasons = {r.name: r.reason for r in table.rows}
    assert reasons["bn.weight"] == "excluded: normalization layer (BatchNorm1d)"
    assert reasons["ln.bias"] == "excluded: normalization layer (LayerNorm)"
    assert reasons["lin.bias"] == "excluded: bias"
    text = str(table)
    assert "conv.weight" in text and "[8, 8, 3]" in text and "weights decayed" in text


def test_embedding_excluded_on_request_and_1d_rule():
    model = Mixed()
    names = decay_table(model, 0.1, exclude=("norm", "bias", "embedding")).decayed_names()
    assert names == ["conv.weight", "lin.weight", "head.weight"]
    assert decay_table(model, 0.1, exclude=("1d",)).decayed_names() == [
        "emb.weight", "conv.weight", "lin.weight", "head.weight"]
    assert len(decay_table(model, 0.1, exclude=()).decayed_names()) == 11


def test_penalty_value_and_gradient_follow_the_mask():
    torch.manual_seed(0)
    model = Mixed().double()
    alpha = 0.3
    pen = l2_penalty(model, alpha)
    weights = [model.emb.weight, model.conv.weight, model.lin.weight, model.head.weight]
    expected = alpha / 2 * sum(float((w.detach() ** 2).sum()) for w in weights)
    assert float(pen.detach()) == pytest.approx(expected, rel=1e-12)
    assert pen.dtype == torch.float64
    pen.backward()
    for name, p in model.named_parameters():
        if any(p is w for w in weights):
            torch.testing.assert_close(p.grad, alpha * p.detach())
        else:
            assert p.grad is None or torch.count_nonzero(p.grad) == 0, name


def test_add_grad_and_value_agree_with_autograd():
    torch.manual_seed(1)
    model = Mixed().double()
    ref = {k: v + 0.1 for k, v in snapshot(model).items()}
    per_layer = {"head": 2.0, nn.Conv1d: 0.5}
    pen = WeightDecayPenalty(model, 0.2, per_layer=per_layer, reference=ref)
    value = pen()
    value.backward()
    auto = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    pen.add_grad_()
    for k, g in auto.items():
        torch.testing.assert_close(dict(model.named_parameters())[k].grad, g)
    assert pen.value() == pytest.approx(float(value.detach()), rel=1e-12)


def test_per_layer_strengths_land_in_the_right_groups():
    model = Mixed()
    groups = param_groups(model, 1e-2, per_layer={"head.*": 1e-1, nn.Conv1d: 0.0,
                                                 re.compile(r"^emb\."): 1e-4})
    by_decay = {g["weight_decay"]: g["param_names"] for g in groups}
    assert by_decay[1e-2] == ["lin.weight"]
    assert by_decay[1e-1] == ["head.weight"]
    assert by_decay[1e-4] == ["emb.weight"]
    assert sorted(by_decay[0.0]) == sorted([
        "conv.weight", "conv.bias", "bn.weight", "bn.bias", "lin.bias", "ln.weight", "ln.bias",
        "head.bias"])
    opt = torch.optim.AdamW(groups, lr=1e-3)
    decays = {name: g["weight_decay"] for g in opt.param_groups for name in g["param_names"]}
    assert decays["head.weight"] == 1e-1 and decays["lin.weight"] == 1e-2
    # every parameter in exactly one group
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_custom_norm_class_and_frozen_and_tied():
    class MyRMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))

    model = nn.Sequential(nn.Linear(4, 4), MyRMSNorm(), nn.Linear(4, 4, bias=False))
    model[2].weight = model[0].weight  # tied: counted once
    frozen = nn.Linear(4, 4)
    frozen.weight.requires_grad_(False)
    model.append(frozen)
    rows = {r.name: r for r in decay_table(model, 0.1).rows}
    assert rows["1.scale"].reason == "excluded: normalization layer (MyRMSNorm)"
    assert "2.weight" not in rows and rows["0.weight"].decay == 0.1
    assert rows["3.weight"].reason == "excluded: frozen (requires_grad=False)"


def test_float32_penalty_stays_float32():
    model = nn.Linear(3, 2)
    pen = l2_penalty(model, 0.5)
    assert pen.dtype == torch.float32
    expected = 0.25 * float((model.weight.detach() ** 2).sum())
    assert float(pen.detach()) == pytest.approx(expected, rel=1e-6)


def test_attached_regularizer_overrides_and_detaches():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    L2(0.05).attach(model[1], params=("weight", "bias"))
    rows = {r.name: r for r in decay_table(model, 0.0).rows}
    assert rows["1.weight"].decay == pytest.approx(0.1) and rows["1.bias"].decay == 0.1
    assert rows["0.weight"].decay == 0.0
    expected = 0.05 * sum(float((p.detach() ** 2).sum()) for p in model[1].parameters())
    assert float(l2_penalty(model, 0.0).detach()) == pytest.approx(expected, rel=1e-6)
    L2.detach(model[1])
    assert float(l2_penalty(model, 0.0).detach()) == 0.0
    assert repr(L2(0.01)) == "L2(0.01)"


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha,exc,match", [
    (-1.0, ValueError, "alpha must be non-negative"),
    (float("nan"), ValueError, "alpha must be finite"),
    ("0.1", TypeError, "alpha must be a non-negative number"),
])
def test_bad_alpha(alpha, exc, match):
    with pytest.raises(exc, match=match):
        l2_penalty(nn.Linear(2, 2), alpha)


def test_bad_weight_decay_and_module():
    with pytest.raises(ValueError, match="strength must be non-negative"):
        param_groups(nn.Linear(2, 2), -1e-3)
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module"):
        param_groups([nn.Parameter(torch.ones(2))], 0.1)


def test_per_layer_matching_nothing_is_an_error():
    with pytest.raises(ValueError, match=r"per_layer entry 'decoder\.\*' matches no penalized"):
        param_groups(Mixed(), 0.1, per_layer={"decoder.*": 0.0})
    # matching only excluded tensors (biases) is an error too
    with pytest.raises(ValueError, match=r"per_layer entry '\*\.bias' matches no penalized"):
        l2_penalty(Mixed(), 0.1, per_layer={"*.bias": 1.0})
    with pytest.raises(ValueError, match=r"per_layer\[Conv1d\] must be non-negative"):
        param_groups(Mixed(), 0.1, per_layer={nn.Conv1d: -1.0})
    with pytest.raises(TypeError, match="per_layer keys must be name patterns"):
        param_groups(Mixed(), 0.1, per_layer={3: 1.0})
    with pytest.raises(TypeError, match="per_layer must be a mapping"):
        param_groups(Mixed(), 0.1, per_layer=[("head", 1.0)])


def test_exclude_typo_is_an_error():
    with pytest.raises(ValueError, match=r"exclude entry 'biases' matches no parameter.*Keywords"):
        param_groups(Mixed(), 0.1, exclude=("biases",))


def test_reference_problems():
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"reference\['weight'\] has shape \(2, 2\)"):
        l2_penalty(model, 0.1, reference={"weight": torch.zeros(2, 2)})
    with pytest.raises(ValueError, match="shares no parameter name"):
        l2_penalty(model, 0.1, reference={"encoder.weight": torch.zeros(2, 3)})
    with pytest.raises(TypeError, match="reference must be a mapping"):
        l2_penalty(model, 0.1, reference=[torch.zeros(2, 3)])


def test_attach_to_container_is_an_error():
    with pytest.raises(ValueError, match=r"Sequential has no parameter 'weight' of its own"):
        L2(0.01).attach(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="l must be non-negative"):
        L2(-0.01)


def test_penalty_gradcheck_and_mixed_dtypes():
    from ridgeway.nn.penalty import _HalfSquaredNorm

    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2)).double()
    ref = {"0.weight": torch.randn(2, 3, dtype=torch.float64)}  # "1.weight" decays toward 0
    pen = WeightDecayPenalty(model, 0.7, per_layer={"1": 0.2}, reference=ref)
    w0, w1 = model[0].weight, model[1].weight
    value = pen()
    expected = 0.35 * ((w0 - ref["0.weight"]) ** 2).sum() + 0.1 * (w1**2).sum()
    torch.testing.assert_close(value, expected)
    value.backward()
    torch.testing.assert_close(w0.grad, 0.7 * (w0 - ref["0.weight"]).detach())
    torch.testing.assert_close(w1.grad, 0.2 * w1.detach())
    refs = [torch.randn(2, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)]
    inputs = (torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
              torch.randn(4, dtype=torch.float64, requires_grad=True))
    assert torch.autograd.gradcheck(lambda a, b: _HalfSquaredNorm.apply(0.7, refs, a, b), inputs)
    assert torch.autograd.gradcheck(lambda a, b: _HalfSquaredNorm.apply(0.7, None, a, b), inputs)
    # a float32 layer next to a float64 one: both counted
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).double())
    total = sum(float((m.weight.detach().double() ** 2).sum()) for m in mixed)
    assert float(l2_penalty(mixed, 2.0).detach()) == pytest.approx(total, rel=1e-6)
