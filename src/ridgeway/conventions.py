"""Regularization-strength conventions of other tools, converted to and from ridgeway's ``alpha``.

ridgeway minimizes one objective (intercept ``b`` never penalized)::

    sum_i s_i * l(y_i, x_i.w + b) + alpha/2 * ||w||^2

with the canonical per-sample losses

* ``loss="squared"``: ``l = 1/2 * (y - f)^2``, so ``alpha`` equals scikit-learn ``Ridge(alpha)``;
* ``loss="log"``: ``l`` = negative log-likelihood (logistic or multinomial cross-entropy), so
  ``alpha = 1/C`` of scikit-learn ``LogisticRegression(C)``;
* ``loss="poisson"``: ``l = exp(f) - y f`` (the Poisson negative log-likelihood up to a
  constant; half the unit deviance);
* ``loss="squared_hinge"``: ``l = max(0, 1 - y f)^2`` with ``y`` in {-1, +1}, so
  ``alpha = 1/C`` of scikit-learn ``LinearSVC(C)`` (liblinear also penalizes the intercept).

Every other tool writes a positive multiple of this objective. If a tool minimizes
``c_data * sum_i l_i + c_pen * ||w||^2`` then its strength is ``alpha = 2 * c_pen / c_data``:
the two objectives differ by the positive factor ``c_data`` and have the same minimizer.
Each convention below states its objective; ``docs/conventions.md`` derives every factor.

``n`` is the number of samples, or the sum of the sample weights when weights are given
(glmnet, glum, Spark and scikit-learn normalize weights that way). For PyTorch, Keras and
optax with a mean-reduced loss, ``n`` is the number of training samples also for minibatch
training: a batch mean estimates the mean over the data set, so the expected objective is the
full-batch one. (With a sum-reduced loss and batches of m samples, use ``reduction="sum"``
and multiply ``alpha`` by n/m.)

Examples
--------
>>> from ridgeway.conventions import to_alpha, from_alpha, convert
>>> to_alpha(0.5, "sklearn_C", loss="log")
2.0
>>> from_alpha(3.0, "torch_sgd", n=100, loss="squared")  # MSELoss(mean) + SGD weight_decay
0.06
>>> convert(0.1, from_="glum", to="keras", n=50, loss="squared")
0.1
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

__all__ = [
    "CONVENTIONS",
    "Convention",
    "TableRow",
    "convert",
    "from_alpha",
    "known_conventions",
    "table",
    "to_alpha",
]

_LOSSES = ("squared", "log", "poisson", "squared_hinge")
_LOSS_ALIASES = {"squared": "squared", "log": "log", "logistic": "log", "cross_entropy": "log",
                 "poisson": "poisson", "squared_hinge": "squared_hinge"}
#: losses each convention is defined for (default: squared and log)
_APPLIES = {
    "ridgeway": _LOSSES,
    "sklearn": ("squared",), "sklearn_enet": ("squared",),
    "sklearn_C": ("squared", "log", "squared_hinge"),
    "sklearn_sgd": ("squared", "log", "squared_hinge"),
    "sklearn_glm": ("poisson",),
    "glmnet": ("squared", "log", "poisson"), "glum": ("squared", "log", "poisson"),
    "statsmodels": ("squared", "log", "poisson"),
    "torch_sgd": ("squared", "log", "poisson"), "torch_adam": ("squared", "log", "poisson"),
    "adamw": ("squared", "log", "poisson"), "optax": ("squared", "log", "poisson"),
    "keras": ("squared", "log", "poisson"),
    "dask_ml": ("squared", "log", "poisson"), "dask_glm": ("squared", "log", "poisson"),
}
_REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class Convention:
    """One tool's way of writing the L2 strength.

    Attributes
    ----------
    name : str
        The string users pass, e.g. ``"glmnet"``.
    tool : str
        The tool and parameter it describes.
    objective : str
        The objective the tool minimizes, per loss.
    formula : str
        ``alpha`` (ridgeway) as a function of the tool's value.
    exact : bool
        False where the conversion holds only in a limit (decoupled weight decay).
    caveat : str
        What the user must know besides the formula.
    reduction : str or None
        Default loss reduction for tools where the user picks one (PyTorch, Keras, optax,
        the seeds' form); ``None`` where the tool fixes it.
    """

    name: str
    tool: str
    objective: str
    formula: str
    exact: bool = True
    caveat: str = ""
    reduction: str | None = None


@dataclass(frozen=True)
class _Scale:
    """``alpha = k * n**n_power / sd_y**sd_y_power * value`` (or ``... / value`` if inverse)."""

    k: float
    n_power: int = 0
    sd_y_power: int = 0
    inverse: bool = False


_TORCH_OBJ = (
    "squared: 1/m * sum (y - f)^2 + wd/2 * ||w||^2  (MSELoss, no 1/2; reduction='sum': no 1/m); "
    "log: 1/m * sum nll + wd/2 * ||w||^2"
)
_SGD_LIMIT = (
    "Decoupled decay (theta <- theta - lr*wd*theta, applied outside the preconditioner) is a "
    "penalty only in the plain-SGD limit, where it equals coupled weight_decay wd. With Adam "
    "the fixed point differs and no exact conversion exists. The per-step decay is lr*wd, so "
    "changing lr changes the effective strength."
)

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in [
        Convention(
            "ridgeway", "ridgeway alpha",
            "sum s_i l_i + alpha/2 ||w||^2 (squared: l = 1/2 (y-f)^2; log: l = nll)", "alpha"),
        Convention(
            "sklearn", "scikit-learn Ridge / RidgeCV / RidgeClassifier / KernelRidge alpha",
            "squared: sum (y - f)^2 + alpha ||w||^2", "alpha = alpha_sklearn",
            caveat="Defined for the squared loss only; use 'sklearn_C' for LogisticRegression."),
        Convention(
            "sklearn_C", "scikit-learn LogisticRegression / LinearSVC C",
            "log: C * sum nll + 1/2 ||w||^2; squared_hinge (LinearSVC): C * sum max(0, 1 - y f)^2"
            " + 1/2 ||w||^2; squared: C * sum (y - f)^2 + 1/2 ||w||^2",
            "log, squared_hinge: alpha = 1/C; squared: alpha = 1/(2C)",
            caveat="LinearSVC uses the squared hinge, which is the squared loss on the active "
            "set: scikit-learn's docs say ridge alpha corresponds to 1/(2C). liblinear also "
            "penalizes the intercept. C = inf means no penalty."),
        Convention(
            "sklearn_sgd", "scikit-learn SGDRegressor / SGDClassifier alpha (penalty='l2')",
            "1/n sum l_i + alpha/2 ||w||^2 (squared_error uses 1/2 (y-f)^2)", "alpha = n * a"),
        Convention(
            "sklearn_glm", "scikit-learn PoissonRegressor alpha",
            "poisson: 1/(2n) sum d_i + alpha/2 ||w||^2 (d = unit deviance = 2 * (nll - const))",
            "alpha = n * a", caveat="Defined for the Poisson loss only (also TweedieRegressor "
            "with power=1, link='log')."),
        Convention(
            "sklearn_enet", "scikit-learn ElasticNet(l1_ratio=0) alpha",
            "squared: 1/(2n) sum (y - f)^2 + alpha/2 ||w||^2", "alpha = n * a",
            caveat="Defined for the squared loss only."),
        Convention(
            "mlp", "scikit-learn MLPRegressor / MLPClassifier alpha",
            "1/m sum l_i + alpha/(2m) sum_layers ||W||_F^2 (m = batch size, biases excluded)",
            "alpha = a",
            caveat="Exact for full-batch training (solver='lbfgs'); with minibatches the "
            "penalty per batch is alpha/m, so the strength depends on the batch size."),
        Convention(
            "glmnet", "glmnet lambda (alpha=0, i.e. ridge)",
            "squared: 1/(2n) sum (y - f)^2 + lambda/2 ||w||^2 on y/sd_y; log, poisson: 1/n sum "
            "nll + lambda/2 ||w||^2",
            "squared: alpha = n * lambda / sd_y; log, poisson: alpha = n * lambda",
            caveat="gaussian: glmnet standardizes y internally, so on the original scale the "
            "ridge term acts with lambda/sd_y (sd_y: 1/n standard deviation of y). With "
            "standardize=TRUE (default) the penalty is on sd_j * w_j: compare with ridgeway "
            "on standardized X. Weights are normalized to sum to n."),
        Convention(
            "glum", "glum GeneralizedLinearRegressor alpha (l1_ratio=0)",
            "1/(2n) sum d_i + alpha/2 ||w||^2 (d = unit deviance = 2 * nll)", "alpha = n * a",
            caveat="No sd_y effect. scale_predictors=True puts the penalty on sd_j * w_j."),
        Convention(
            "spark", "Spark MLlib LinearRegression / LogisticRegression regParam "
            "(elasticNetParam=0)",
            "squared: 1/(2n) sum (y - f)^2 + regParam/sd_y/2 ||w||^2; log: 1/n sum nll + "
            "regParam/2 ||w||^2",
            "squared: alpha = n * regParam / sd_y; log: alpha = n * regParam",
            caveat="LinearRegression uses regParam/sd_y (like glmnet gaussian). "
            "standardization=true (default) puts the penalty on sd_j * w_j."),
        Convention(
            "statsmodels", "statsmodels OLS / GLM fit_regularized alpha (L1_wt=0)",
            "1/n sum l_i + alpha/2 ||w||^2 (OLS: 0.5 RSS / n; GLM: -loglik / n)",
            "alpha = n * a",
            caveat="A constant column added by the user is penalized unless its alpha is 0."),
        Convention(
            "torch_sgd", "PyTorch SGD weight_decay (coupled L2)", _TORCH_OBJ,
            "mean: squared alpha = n*wd/2, log alpha = n*wd; sum: squared wd/2, log wd",
            caveat="SGD adds wd*theta to the gradient: exactly the penalty wd/2 ||theta||^2 on "
            "the loss as reduced. Apply it to weights only (ridgeway.nn.param_groups).",
            reduction="mean"),
        Convention(
            "torch_adam", "PyTorch Adam / RMSprop / Adagrad weight_decay (coupled L2)",
            _TORCH_OBJ, "as torch_sgd",
            caveat="The gradient of wd/2 ||theta||^2 is added before preconditioning, so the "
            "fixed points are those of the penalized objective (same formula as torch_sgd).",
            reduction="mean"),
        Convention(
            "adamw", "PyTorch AdamW weight_decay (decoupled; = Keras optimizer weight_decay)",
            "per step: theta <- (1 - lr*wd) * theta - lr * update; in the plain-SGD limit: "
            + _TORCH_OBJ, "as torch_sgd (SGD limit only)",
            exact=False, caveat=_SGD_LIMIT, reduction="mean"),
        Convention(
            "optax", "optax add_decayed_weights / adamw weight_decay",
            "u <- u + wd*theta; chained before optax.sgd this is " + _TORCH_OBJ,
            "as torch_sgd", exact=False,
            caveat="Exact for optax.chain(add_decayed_weights(wd), sgd(lr)). In adamw (or after "
            "scale_by_adam) the decay is decoupled: " + _SGD_LIMIT, reduction="mean"),
        Convention(
            "keras", "Keras regularizers.l2(l) / L2(l)",
            "squared: 1/m sum (y - f)^2 + l ||w||^2 (mse); log: 1/m sum nll + l ||w||^2",
            "mean: squared alpha = n*l, log alpha = 2*n*l; sum: squared l, log 2*l",
            caveat="No 1/2 in the penalty: l2(l) acts like SGD weight_decay 2*l. Keras losses "
            "are batch means by default.", reduction="mean"),
        Convention(
            "dask_ml", "dask-ml LinearRegression / LogisticRegression / PoissonRegression C",
            "squared: sum (y - f)^2 + 1/(2C) ||beta||^2; log: sum nll + 1/(2C) ||beta||^2; "
            "poisson: sum (exp(f) - y f) + 1/(2C) ||beta||^2 (beta: see caveat)",
            "squared: alpha = 1/(2C); log, poisson: alpha = 1/C", exact=False,
            caveat="Exact only with solver_kwargs={'normalize': False} and fit_intercept=False. "
            "By default dask-glm standardizes X (beta_j = sd_j w_j: compare with ridgeway on "
            "X / sd, sd the 1/n standard deviation), and with fit_intercept=True it also "
            "centers X and penalizes the intercept of the centered problem, b + mean(X).w."),
        Convention(
            "dask_glm", "dask-glm lamduh (regularizer='l2'; solvers lbfgs, admm, proximal_grad)",
            "squared (Normal family): sum (y - f)^2 + lamduh/2 ||beta||^2; log (Logistic), "
            "poisson: sum nll + lamduh/2 ||beta||^2", "squared: alpha = lamduh/2; log, "
            "poisson: alpha = lamduh", exact=False,
            caveat="As dask_ml (which passes lamduh = 1/C): normalize=True (default) puts the "
            "penalty on sd_j w_j, and a column of ones in X is a penalized intercept."),
        Convention(
            "seed_sum", "textbook 'loss + lambda * sum w^2'",
            "squared: sum (y - f)^2 + lambda ||w||^2 (reduction='mean': MSE + ...); log: "
            "sum nll + lambda ||w||^2",
            "sum: squared alpha = lambda, log alpha = 2*lambda; mean: n times that",
            caveat="With the log loss this is C = 1/(2*lambda) in LogisticRegression, not "
            "1/lambda as often written.", reduction="sum"),
        Convention(
            "seed_2m", "textbook 'lambda/(2m) sum w^2' (Andrew Ng's course form)",
            "squared: 1/(2m) sum (y - f)^2 + lambda/(2m) ||w||^2; log: 1/m sum nll + "
            "lambda/(2m) ||w||^2", "alpha = lambda"),
    ]
}


def _torch_scale(loss: str, reduction: str, pen_half: bool) -> _Scale:
    # c_data: squared (MSE, no 1/2) = 2 (x 1/m for mean); log, poisson (the nll, as PyTorch's
    # PoissonNLLLoss(log_input=True) and Keras' Poisson) = 1 (x 1/m for mean).
    # c_pen: wd/2 (pen_half, coupled decay) or l (Keras, seeds). alpha = 2 c_pen / c_data.
    c_data = 2.0 if loss == "squared" else 1.0
    c_pen = 0.5 if pen_half else 1.0
    return _Scale(2.0 * c_pen / c_data, n_power=1 if reduction == "mean" else 0)


def _scale(name: str, loss: str, reduction: str | None) -> _Scale:
    """The factor that maps the tool's value to ridgeway's alpha (see module docstring)."""
    if name in ("ridgeway", "sklearn", "mlp", "seed_2m"):
        return _Scale(1.0)
    if name in ("sklearn_C", "dask_ml"):
        return _Scale(0.5 if loss == "squared" else 1.0, inverse=True)
    if name == "dask_glm":
        return _Scale(0.5 if loss == "squared" else 1.0)
    if name in ("sklearn_sgd", "sklearn_enet", "sklearn_glm", "glum", "statsmodels"):
        return _Scale(1.0, n_power=1)
    if name in ("glmnet", "spark"):
        return _Scale(1.0, n_power=1, sd_y_power=1 if loss == "squared" else 0)
    if name in ("torch_sgd", "torch_adam", "adamw", "optax"):
        return _torch_scale(loss, reduction, pen_half=True)
    if name in ("keras", "seed_sum"):
        return _torch_scale(loss, reduction, pen_half=False)
    raise AssertionError(f"no scale for convention {name!r}")  # pragma: no cover


def known_conventions() -> tuple[str, ...]:
    """Return the names accepted by :func:`to_alpha`, :func:`from_alpha` and :func:`convert`.

    Returns
    -------
    tuple of str
        The keys of :data:`CONVENTIONS`.
    """
    return tuple(CONVENTIONS)


def _check_convention(name: object) -> Convention:
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise ValueError(
            f"Unknown convention {name!r}. Known conventions: {', '.join(CONVENTIONS)}."
        )
    return CONVENTIONS[name]


def _check_loss(loss: object, convention: Convention) -> str:
    if not isinstance(loss, str) or loss not in _LOSS_ALIASES:
        raise ValueError(f"loss must be one of {list(_LOSSES)} (or 'logistic'), got {loss!r}.")
    loss = _LOSS_ALIASES[loss]
    if loss != "squared" and convention.name in ("sklearn", "sklearn_enet"):
        raise ValueError(
            f"Convention {convention.name!r} is defined for the squared loss only; for "
            "LogisticRegression use 'sklearn_C', for PoissonRegressor 'sklearn_glm'."
        )
    applies = _APPLIES.get(convention.name, ("squared", "log"))
    if loss not in applies:
        raise ValueError(
            f"Convention {convention.name!r} is not defined for loss={loss!r}; it applies to "
            f"{', '.join(applies)}."
        )
    return loss


def _check_reduction(reduction: object, convention: Convention) -> str | None:
    if reduction is None:
        return convention.reduction
    if convention.reduction is None:
        raise ValueError(
            f"reduction={reduction!r} does not apply to convention {convention.name!r}: it "
            "fixes its own data term. reduction applies to: "
            + ", ".join(c.name for c in CONVENTIONS.values() if c.reduction is not None)
            + "."
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}.")
    return reduction


def _check_positive(value: object, name: str, *, allow_zero: bool, allow_inf: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {bound}, got {value!r}.")
    return value


def _factor(scale: _Scale, convention: Convention, n: float | None, sd_y: float | None) -> float:
    factor = scale.k
    if scale.n_power:
        if n is None:
            raise ValueError(
                f"Converting {convention.name!r} needs n, the number of training samples (or "
                "the sum of sample weights): pass n=..."
            )
        factor *= _check_positive(n, "n", allow_zero=False, allow_inf=False)
    if scale.sd_y_power:
        if sd_y is None:
            raise ValueError(
                f"Converting {convention.name!r} with the squared loss needs sd_y, the "
                "standard deviation of y (1/n divisor): the tool scales y internally, so its "
                "ridge term acts with lambda/sd_y. Pass sd_y=float(np.std(y))."
            )
        factor /= _check_positive(sd_y, "sd_y", allow_zero=False, allow_inf=False)
    return factor


def _resolve(convention: object, loss: object, reduction: object) -> tuple[Convention, _Scale]:
    conv = _check_convention(convention)
    scale = _scale(conv.name, _check_loss(loss, conv), _check_reduction(reduction, conv))
    return conv, scale


def to_alpha(
    value: float,
    convention: str,
    *,
    n: float | None = None,
    sd_y: float | None = None,
    loss: str = "squared",
    reduction: str | None = None,
) -> float:
    """Convert a tool's regularization strength to ridgeway's ``alpha``.

    ridgeway minimizes ``sum_i s_i l_i + alpha/2 * ||w||^2``; the tool minimizes a positive
    multiple of it when given ``value`` (see :data:`CONVENTIONS` for each objective).

    Parameters
    ----------
    value : float
        The tool's parameter (``lambda``, ``C``, ``weight_decay``, ``l``...). Non-negative and
        finite; ``C`` must be positive and may be ``inf`` (no penalty).
    convention : str
        One of :func:`known_conventions`.
    n : float, optional
        Number of training samples (sum of sample weights if weighted; also with minibatches
        and a mean-reduced loss). Required where the conversion depends on it.
    sd_y : float, optional
        Standard deviation of y (1/n divisor); required for glmnet / Spark with the squared
        loss.
    loss : {"squared", "log"}, default="squared"
        The loss of the model. ``"log"`` (alias ``"logistic"``) is the log-loss /
        cross-entropy.
    reduction : {"mean", "sum"}, optional
        How the loss is reduced, for conventions where the user picks it (torch_*, adamw,
        optax, keras, seed_sum). Defaults to the convention's own default.

    Returns
    -------
    float
        ``alpha`` of ridgeway (= scikit-learn ``Ridge(alpha)`` or ``1/C``).
    """
    conv, scale = _resolve(convention, loss, reduction)
    value = _check_positive(value, "value", allow_zero=not scale.inverse, allow_inf=scale.inverse)
    factor = _factor(scale, conv, n, sd_y)
    return factor / value if scale.inverse else factor * value


def from_alpha(
    alpha: float,
    convention: str,
    *,
    n: float | None = None,
    sd_y: float | None = None,
    loss: str = "squared",
    reduction: str | None = None,
) -> float:
    """Convert ridgeway's ``alpha`` to a tool's regularization strength.

    The inverse of :func:`to_alpha`: with the returned value, the tool minimizes a positive
    multiple of ``sum_i s_i l_i + alpha/2 * ||w||^2``.

    Parameters
    ----------
    alpha : float
        Non-negative, finite strength of ridgeway's objective.
    convention : str
        One of :func:`known_conventions`.
    n : float, optional
        Number of training samples, where the conversion needs it (see :func:`to_alpha`).
    sd_y : float, optional
        Standard deviation of y (glmnet / Spark with the squared loss).
    loss : {"squared", "log"}, default="squared"
        The loss of the model.
    reduction : {"mean", "sum"}, optional
        Loss reduction, for the conventions where the user picks it.

    Returns
    -------
    float
        The tool's parameter. For ``sklearn_C``, ``alpha = 0`` gives ``C = inf``.
    """
    conv, scale = _resolve(convention, loss, reduction)
    alpha = _check_positive(alpha, "alpha", allow_zero=True, allow_inf=False)
    factor = _factor(scale, conv, n, sd_y)
    if scale.inverse:
        return math.inf if alpha == 0 else factor / alpha
    return alpha / factor


def convert(
    value: float,
    *,
    from_: str,
    to: str,
    n: float | None = None,
    sd_y: float | None = None,
    loss: str = "squared",
    reduction: str | None = None,
) -> float:
    """Convert a strength from one tool's convention to another's, through ridgeway's alpha.

    Parameters
    ----------
    value : float
        The strength in convention ``from_``.
    from_, to : str
        Names from :func:`known_conventions`.
    n : float, optional
        Number of training samples, shared by both sides (see :func:`to_alpha`).
    sd_y : float, optional
        Standard deviation of y (glmnet / Spark with the squared loss).
    loss : {"squared", "log"}, default="squared"
        The loss of the model.
    reduction : {"mean", "sum"}, optional
        Applied to each side that takes a reduction; an error if neither does.

    Returns
    -------
    float
        The strength in convention ``to`` that gives the same minimizer.
    """
    src, dst = _check_convention(from_), _check_convention(to)
    if reduction is not None and src.reduction is None and dst.reduction is None:
        _check_reduction(reduction, src)  # raises with the list of conventions taking it
    red_src = reduction if src.reduction is not None else None
    red_dst = reduction if dst.reduction is not None else None
    alpha = to_alpha(value, from_, n=n, sd_y=sd_y, loss=loss, reduction=red_src)
    return from_alpha(alpha, to, n=n, sd_y=sd_y, loss=loss, reduction=red_dst)


@dataclass(frozen=True)
class TableRow:
    """One line of :func:`table`: the strength in one convention, or why it is missing."""

    convention: str
    tool: str
    value: float | None
    exact: bool
    note: str


def table(
    alpha: float,
    *,
    n: float | None = None,
    sd_y: float | None = None,
    loss: str = "squared",
) -> list[TableRow]:
    """The same strength ``alpha`` written in every convention.

    Parameters
    ----------
    alpha : float
        The strength in ridgeway's ``sum_i s_i l_i + alpha/2 * ||w||^2``.
    n : float, optional
        Number of training samples. Conventions that need it get ``value=None`` and a note
        when it is missing.
    sd_y : float, optional
        Standard deviation of y (glmnet / Spark with the squared loss), likewise.
    loss : {"squared", "log"}, default="squared"
        The loss; conventions undefined for it are left out.

    Returns
    -------
    list of TableRow
        One row per convention, in the order of :data:`CONVENTIONS`.
    """
    alpha = _check_positive(alpha, "alpha", allow_zero=True, allow_inf=False)
    rows = []
    for conv in CONVENTIONS.values():
        try:
            _check_loss(loss, conv)
        except ValueError:
            if _LOSS_ALIASES.get(loss) is None:
                raise
            continue
        try:
            value, note = from_alpha(alpha, conv.name, n=n, sd_y=sd_y, loss=loss), ""
        except ValueError as exc:
            value, note = None, "needs " + ("sd_y" if "sd_y" in str(exc) else "n")
        if not conv.exact:
            note = "; ".join(filter(None, [note, "plain-SGD limit only"]))
        if conv.reduction is not None:
            note = "; ".join(filter(None, [note, f"{conv.reduction}-reduced loss"]))
        rows.append(TableRow(conv.name, conv.tool, value, conv.exact, note))
    return rows
