"""Ridge and RidgeCV: thin scikit-learn estimators over the kernels of ``ridgeway.linalg``."""

from __future__ import annotations

import types
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator

from .._validation import (
    RIDGE_SOLVER_ALIASES,
    check_alpha,
    check_alphas,
    check_choice,
    check_not_positive,
    check_penalty_factor,
    check_positive_weights,
    check_ridge_solver,
    check_store_cv_results,
)
from ..exceptions import AlphaEdgeWarning
from ..linalg.direct import RidgeSolution
from ..linalg.gram import GramStats
from ..linalg.solve import (
    SOLVERS,
    is_finite,
    max_abs,
    out_of_range_scale,
    solve_from_spectrum,
    solve_ridge,
    varies,
)
from ..linalg.spectral import RidgeSpectrum
from ..selection import (
    SELECTION_RULES,
    CVCurve,
    RidgeKFold,
    check_cv,
    df_alpha_grid,
    edge_warning,
    make_scorer_loss,
    ridge_gcv_curve,
    ridge_loo_curve,
    select_alpha,
)
from ._base import LinearPredictorMixin, validate_regression_data


def _store_solution(est, sol, y, dtype) -> None:
    coef = sol.coef.T.astype(dtype, copy=False)
    intercept = np.asarray(sol.intercept, dtype=dtype)
    if y.ndim == 1:
        coef, intercept = coef[0], intercept[0]
    elif y.shape[1] == 1:
        coef = coef[0]  # scikit-learn: y of shape (n, 1) gives coef_ (p,), intercept_ (1,)
    est.coef_ = coef
    est.intercept_ = intercept if est.fit_intercept else np.zeros_like(intercept)
    # a solver asked for by name is reported by that name (scikit-learn's "sparse_cg" too,
    # "cholesky" when the Cholesky ran on the dual); "auto" reports what it chose
    asked = getattr(est, "solver", "auto")
    method = RIDGE_SOLVER_ALIASES.get(asked, asked)
    est.solver_ = asked if sol.solver.split("-")[0] == method else sol.solver
    if sol.solver in ("cg", "lsqr"):
        est.n_iter_ = sol.n_iter
    else:
        est.n_iter_ = 1 + (sol.n_iter or 0)


class Ridge(LinearPredictorMixin, BaseEstimator):
    """Ridge regression (Tikhonov-regularized least squares) with an unpenalized intercept.

    Minimizes, for each target column,

    .. math::

        \\frac{1}{2} \\sum_i s_i (y_i - x_i^\\top w - b)^2
        + \\frac{\\alpha}{2} \\sum_j \\mathrm{pf}_j w_j^2 ,

    which has the same minimizer as scikit-learn's ``Ridge(alpha)``
    (``||y - Xw - b||^2 + alpha ||w||^2``): the same ``alpha`` gives the same coefficients.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,)
        Non-negative penalty strength, one per target allowed. ``alpha=0`` gives the
        (minimum-norm) least-squares solution.
    fit_intercept : bool
        Fit an unpenalized intercept ``b`` (through centering; never by a column of ones in the
        penalty).
    solver : {"auto", "cholesky", "eigen", "svd", "cg", "lsqr", "refine"}
        (scikit-learn's ``"sparse_cg"`` means ``"cg"``; ``"sag"``, ``"saga"`` and
        ``"lbfgs"`` raise an error that names the alternative.) ``"auto"``: Cholesky of the
        scaled centered gram (of the kernel when n < p, of the implicitly centered sparse gram
        for sparse X with p <= 4000, else CG), switching to ``"refine"`` when LAPACK's
        condition estimate says the result would have fewer than 12 correct digits (the
        intercept's measured against ``|b| + sd(y)``). ``"refine"``: Householder QR with
        iterative refinement in double-double arithmetic, accurate to what the float64 data
        allow (NIST StRD certified values to 14-15 digits). ``"eigen"``: eigendecomposition,
        primal or dual by shape. ``"svd"``: SVD of centered X. ``"cg"``/``"lsqr"``: Krylov
        methods with implicit centering.
    penalty_factor : array-like of shape (n_features,), optional
        Non-negative multiplier of ``alpha`` per feature (glmnet's ``penalty.factor``); 0 leaves
        a feature unpenalized.
    tol : float
        Relative residual tolerance of ``"cg"`` and ``"lsqr"``.
    max_iter : int, optional
        Iteration limit of ``"cg"`` and ``"lsqr"``.
    positive : bool
        scikit-learn's keyword; only ``False`` (``True`` raises: no constrained solver).
    copy_X : bool
        scikit-learn's keyword; accepted and without effect (X is never modified).
    random_state : None, int or RandomState
        scikit-learn's keyword; accepted and without effect (every solver is deterministic).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str
        The method used: the solver asked for by name, or what ``"auto"`` chose
        (``"cholesky"``, ``"cholesky-dual"``, ``"refine"``, ``"cholesky+refine"``, ``"cg"``).
    n_iter_ : int or ndarray of int
        Iterations of ``cg``/``lsqr``; for a direct solver, 1 (the factorization) plus the
        number of refinement sweeps.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept: bool = True,
        solver: str = "auto",
        penalty_factor=None,
        tol: float = 1e-10,
        max_iter: int | None = None,
        positive: bool = False,
        copy_X: bool = True,
        random_state=None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.penalty_factor = penalty_factor
        self.tol = tol
        self.max_iter = max_iter
        self.positive = positive
        self.copy_X = copy_X
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None) -> Ridge:
        """Fit the model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights ``s_i``; duplicating a row equals giving it weight 2.

        Returns
        -------
        self : Ridge
        """
        solver = check_ridge_solver(self.solver, SOLVERS)
        check_not_positive(self.positive)
        X, y, y2, sw = validate_regression_data(self, X, y, sample_weight)
        alphas = check_alpha(self.alpha, n_targets=y2.shape[1])
        pf = check_penalty_factor(self.penalty_factor, X.shape[1])
        sol = solve_ridge(X, y2, sw, alphas, pf, solver=solver,
                          fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter)
        _store_solution(self, sol, y, X.dtype)
        return self

    def partial_fit(self, X, y, sample_weight=None) -> Ridge:
        """Add a batch of rows and refit on every row seen so far (one pass, bounded memory).

        The batch is reduced to ``GramStats`` and merged with the earlier batches'; the
        coefficients are then solved from the statistics (Cholesky of the centered gram,
        whatever ``solver`` says), equal to :meth:`fit` on all the rows seen so far. ``fit``
        starts over; see ``docs/ridge.md`` ("Streaming").

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_batch, n_features)
            Same columns (and names) and dtype as the first batch; an empty batch is skipped.
        y : array-like of shape (n_batch,) or (n_batch, n_targets)
        sample_weight : array-like of shape (n_batch,), optional

        Returns
        -------
        self : Ridge

        Raises
        ------
        ridgeway.exceptions.BatchError
            For a batch that does not fit the stream; the estimator is then unchanged.
        """
        from ._stream import partial_fit

        return partial_fit(self, X, y, sample_weight)

    def fit_stream(self, batches) -> Ridge:
        """Fit on an iterable (or a zero-argument callable returning one) of batches
        ``(X, y)`` or ``(X, y, sample_weight)``, in one pass; equal to :meth:`fit` on their
        union.

        Returns
        -------
        self : Ridge
        """
        from ._stream import fit_stream

        return fit_stream(self, batches)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class _OutOfRange(Exception):
    """The statistics of X over- or underflowed float64: refit on rescaled data."""


def _representable_only(evaluate, fx: float):
    """``evaluate`` restricted to the alphas (on X / fx) that float64 holds in X's units."""
    def restricted(alphas):
        with np.errstate(over="ignore"):
            original = alphas * fx * fx
        keep = np.isfinite(original) & ((original > 0) | (alphas == 0))
        if not np.any(keep):
            check_representable_alphas(alphas[:1], fx)
        return evaluate(alphas[keep])

    return restricted


def check_representable_alphas(chosen, fx: float):
    """Alphas chosen on X / fx, in the units of X; an error if float64 cannot hold them."""
    with np.errstate(over="ignore"):
        alpha = np.asarray(chosen, dtype=np.float64) * fx * fx
    if not np.all(np.isfinite(alpha)) or np.any((alpha == 0) & (np.asarray(chosen) > 0)):
        raise ValueError(
            f"The alpha chosen for this data is not representable in float64 (X has entries "
            f"up to {fx:.3g} in absolute value, so the alphas that matter are of order "
            f"{fx:.3g}^2). Rescale X (e.g. sklearn.preprocessing.StandardScaler, or divide it "
            "by a constant c and multiply the chosen alpha by c^2 yourself).")
    return alpha if np.ndim(chosen) else float(alpha)


LOO_NEEDS_TWO_PASSES = (
    "RidgeCV(cv=None) selects alpha by exact leave-one-out, which needs every row's leverage "
    "under the eigendecomposition of all the data: a second pass over the rows, so it has no "
    "partial_fit. Use RidgeCV(cv=None).fit_stream(batches) (two passes over a re-iterable "
    "source), or a one-pass criterion: cv='gcv' or cv=k (k-fold)."
)


class _OnePassOnly:
    """A method that exists only for one-pass criteria: with ``cv=None`` reading it raises
    ``AttributeError`` saying why (so ``hasattr`` is False, as scikit-learn expects of a
    ``partial_fit`` that cannot run)."""

    def __init__(self, method):
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        if obj.cv is None:
            raise AttributeError(LOO_NEEDS_TWO_PASSES)
        return types.MethodType(self.method, obj)


class RidgeCV(LinearPredictorMixin, BaseEstimator):
    """Ridge regression with alpha chosen by exact LOO, GCV or k-fold CV, over a whole grid.

    For each candidate alpha the objective is that of :class:`Ridge`,
    ``1/2 sum_i s_i (y_i - x_i.w - b)^2 + alpha/2 ||w||^2``. Every candidate alpha is scored
    from one eigendecomposition (LOO, GCV) or one per fold (k-fold, by downdating
    ``GramStats``), never by refitting per alpha.

    Parameters
    ----------
    alphas : array-like, None or "auto"
        Candidate penalties. ``None``: 100 log-spaced values from ``alpha_max = 100 * trace``
        (effective degrees of freedom below 0.01) down to ``alpha_min = 0.01 * d_min`` (df above
        ``rank / 1.01``), with ``d`` the eigenvalues of the centered weighted gram.
        ``"auto"``: that grid, widened by three decades at a time while the best alpha sits on
        its edge, then refined continuously by a bounded search on ``log(alpha)`` of the same
        criterion (per target with ``alpha_per_target``).
    cv : None, "gcv", int, or a scikit-learn splitter / iterable of splits
        ``None``: exact leave-one-out. ``"gcv"``: generalized cross-validation (an
        approximation of LOO; scikit-learn's ``RidgeCV`` names its exact LOO "gcv").
        ``int``: that many unshuffled folds (``KFold``).
    scoring : str or callable, optional
        A scikit-learn scorer; default: mean squared error (scores reported as its negative).
    alpha_per_target : bool
        Select one alpha per column of y (in every cv mode).
    selection : {"min", "1se"}
        ``"min"``: the best mean score (among exact ties the largest alpha, the simplest
        model); ``"1se"``: the largest alpha whose mean loss is within one
        standard error of the best (glmnet's ``lambda.1se``). Not available with GCV.
    fit_intercept : bool
    gcv_mode : {None, "auto", "svd", "eigen"}
        scikit-learn's keyword (how its LOO decomposes X); accepted and without effect:
        ridgeway picks the primal or dual eigendecomposition by shape, and the LOO values
        are the same.
    store_cv_results : bool
        scikit-learn's keyword; only ``False`` (``cv_results_`` is always stored, as a dict).

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
    coef_, intercept_ : as in :class:`Ridge`
    best_score_ : float or ndarray of shape (n_targets,)
        Mean CV score (greater is better) at ``alpha_``.
    cv_results_ : dict of ndarrays
        ``alphas``, ``mean_test_score``, ``std_test_score``, ``sem_test_score`` (standard error,
        used by "1se"), ``split{k}_test_score`` (k-fold), ``df`` (effective degrees of freedom).
        Score arrays have shape (n_alphas,), or (n_alphas, n_targets) with alpha_per_target.
    cv_mode_ : str
        ``"loo"``, ``"gcv"`` or ``"kfold"``.
    """

    def __init__(
        self,
        alphas=None,
        *,
        cv=None,
        scoring=None,
        alpha_per_target: bool = False,
        selection: str = "min",
        fit_intercept: bool = True,
        gcv_mode=None,
        store_cv_results: bool = False,
    ):
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.alpha_per_target = alpha_per_target
        self.selection = selection
        self.fit_intercept = fit_intercept
        self.gcv_mode = gcv_mode
        self.store_cv_results = store_cv_results

    def _cv_mode(self) -> str:
        if self.cv is None:
            return "loo"
        if isinstance(self.cv, str):
            check_choice(self.cv, "cv", ("gcv",))
            return "gcv"
        return "kfold"

    def fit(self, X, y, sample_weight=None) -> RidgeCV:
        """Select alpha and fit on all the data with it.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : RidgeCV
        """
        check_choice(self.selection, "selection", SELECTION_RULES)
        if self.gcv_mode is not None:
            check_choice(self.gcv_mode, "gcv_mode", ("auto", "svd", "eigen"))
        check_store_cv_results(self.store_cv_results)
        mode = self._cv_mode()
        if mode == "gcv" and self.selection == "1se":
            raise ValueError('selection="1se" needs a CV spread; GCV has none. Use cv=None '
                             "(LOO) or k-fold.")
        X, y, y2, sw = validate_regression_data(self, X, y, sample_weight)
        check_positive_weights(sw, mode)
        # Data whose squares over- or underflow float64 are fitted rescaled (same minimizer,
        # alphas in units of the scaled data) and mapped back; y by its own size up front,
        # X when its statistics prove out of range (checked after the fact: no extra pass).
        fy = out_of_range_scale(y2)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return self._fit(mode, X, y, y2, sw, sample_weight is not None, 1.0, fy)
        except (np.linalg.LinAlgError, _OutOfRange):
            fx = max_abs(X)
        Xs = X * (1.0 / fx) if sp.issparse(X) else np.divide(X, fx, dtype=X.dtype)
        return self._fit(mode, Xs, y, y2, sw, sample_weight is not None, fx, fy)

    def _fit(self, mode, X, y, y2, sw, weighted, fx, fy) -> RidgeCV:
        """``fit`` on ``X`` (already divided by ``fx``) and ``y / fy``; results mapped back."""
        if fy != 1.0:
            y, y2 = y / fy, y2 / fy
        loss = make_scorer_loss(self.scoring, per_target=self.alpha_per_target,
                                one_d=y.ndim == 1, weighted=weighted, y_scale=fy)
        evaluate, eigenvalues, stats = self._criterion(mode, X, y, y2, sw, loss)
        if (fx == 1.0 and not np.all(np.isfinite(eigenvalues))) or (
                fx == 1.0 and eigenvalues.size == 0 and varies(X)):
            raise _OutOfRange
        if fx != 1.0:
            evaluate = _representable_only(evaluate, fx)
        grid = self._grid(eigenvalues, fx)
        curve = evaluate(grid)
        if isinstance(self.alphas, str):
            grid, curve = _widen(grid, curve, evaluate, self.alpha_per_target)
        chosen, best_loss = self._select(curve, evaluate, fx)
        sol = solve_from_spectrum(self._spectrum, X, y2, sw, np.atleast_1d(chosen), stats)
        if fx != 1.0 or fy != 1.0:
            sol = RidgeSolution(sol.coef / fx * fy, sol.intercept * fy, sol.solver, sol.n_iter)
        chosen = check_representable_alphas(chosen, fx)
        if not is_finite(sol):
            raise ValueError(
                "The ridge solution is not representable in float64 for this data: the "
                "coefficients would overflow. Rescale X and y (e.g. "
                "sklearn.preprocessing.StandardScaler).")
        _store_solution(self, sol, y, X.dtype)
        self.alpha_ = chosen if self.alpha_per_target and y.ndim == 2 else float(
            np.atleast_1d(chosen)[0])
        mse = 1.0 if loss is not None else fy * fy  # a scorer saw y in its own units
        self.best_score_ = (-best_loss if np.ndim(best_loss) else -float(best_loss)) * mse
        self.cv_mode_ = mode
        self.cv_results_ = self._results(curve, eigenvalues, stats, y2)
        self.cv_results_["alphas"] = self.cv_results_["alphas"] * fx * fx
        for key, value in self.cv_results_.items():
            if key.endswith("test_score"):
                self.cv_results_[key] = value * mse
        if self._spectrum.basis is None:
            self._spectrum = None  # a dual spectrum refers to X: do not keep X alive
        return self

    # -------------------------------------------------------------------- helpers of fit
    def _criterion(self, mode, X, y, y2, sw, loss):
        """Return ``(evaluate(alphas) -> CVCurve, eigenvalues, full-data GramStats or None)``."""
        if mode == "kfold":
            splits = list(check_cv(self.cv, y).split(X, y))
            if any(len(train) < 2 for train, _ in splits):
                raise ValueError(
                    f"Too few samples for the folds: {X.shape[0]} samples in "
                    f"{len(splits)} folds leave fewer than 2 training rows in a fold."
                )
            for k, (train, test) in enumerate(splits):
                if not (np.sum(sw[train]) > 0 and np.sum(sw[test]) > 0):
                    part = "training" if not np.sum(sw[train]) > 0 else "held-out"
                    raise ValueError(
                        f"Fold {k} has no {part} row with positive sample_weight. Use fewer "
                        "folds, shuffle them (cv=KFold(k, shuffle=True, random_state=0)), or "
                        "drop the rows of weight 0.")
            kfold = RidgeKFold(X, y2, sw, splits, fit_intercept=self.fit_intercept, loss=loss)
            stats = kfold.total
            if stats is not None:
                spec = RidgeSpectrum.from_stats(stats, fit_intercept=self.fit_intercept)
            else:
                spec = RidgeSpectrum.from_data(X, y2, sw, fit_intercept=self.fit_intercept)
            self._spectrum = spec
            return kfold.curve, spec.eigenvalues, stats
        stats = GramStats.from_arrays(X, y2, sw) if X.shape[0] >= X.shape[1] else None
        if stats is not None:
            spec = RidgeSpectrum.from_stats(stats, fit_intercept=self.fit_intercept)
        else:
            spec = RidgeSpectrum.from_data(X, y2, sw, fit_intercept=self.fit_intercept)
        self._spectrum = spec
        if mode == "gcv":
            return (lambda a: ridge_gcv_curve(spec, a)), spec.eigenvalues, stats
        proj = spec.projections(X) if isinstance(self.alphas, str) else None
        return (lambda a: ridge_loo_curve(spec, X, y2, sw, a, loss, proj)), spec.eigenvalues, stats

    def _grid(self, eigenvalues, fx: float = 1.0) -> np.ndarray:
        """The candidate alphas, in the units of X divided by ``fx``."""
        if self.alphas is None or isinstance(self.alphas, str):
            if isinstance(self.alphas, str):
                check_choice(self.alphas, "alphas", ("auto",))
            return df_alpha_grid(eigenvalues)
        return check_alphas(self.alphas) / fx / fx

    def _select(self, curve: CVCurve, evaluate, fx: float = 1.0):
        """Chosen alpha(s) and their mean loss, per target or on the target-averaged loss."""
        targets = range(curve.mean.shape[1]) if self.alpha_per_target else [None]
        chosen, best = [], []
        for j in targets:
            mean, sem = _column(curve, j)
            pick = select_alpha(curve.alphas, mean, sem, rule=self.selection)
            alpha, value = curve.alphas[pick.index], mean[pick.index]
            if isinstance(self.alphas, str) and self.selection == "min":
                alpha, value = _refine_min(curve.alphas, pick.index, evaluate, j, value)
            elif not isinstance(self.alphas, str):
                message = edge_warning(curve.alphas * fx * fx, pick.index)
                if message:
                    warnings.warn(message, AlphaEdgeWarning, stacklevel=3)
            chosen.append(alpha)
            best.append(value)
        if self.alpha_per_target:
            return np.array(chosen), np.array(best)
        return chosen[0], best[0]

    def _results(self, curve: CVCurve, eigenvalues, stats, y2) -> dict:
        agg = not self.alpha_per_target
        mean = curve.mean.mean(axis=1) if agg else curve.mean
        res = {"alphas": curve.alphas, "mean_test_score": -mean}
        if curve.splits is not None:
            splits = curve.splits.mean(axis=2) if agg else curve.splits
            res["std_test_score"] = splits.std(axis=0)
            for k, fold in enumerate(splits):
                res[f"split{k}_test_score"] = -fold
        elif curve.std_error is not None:
            sem = curve.std_error.mean(axis=1) if agg else curve.std_error
            res["std_test_score"] = sem * np.sqrt(y2.shape[0])
        else:
            res["std_test_score"] = np.full_like(mean, np.nan)
        sem = _column(curve, None)[1] if agg else curve.std_error
        res["sem_test_score"] = np.full_like(mean, np.nan) if sem is None else sem
        res["df"] = self._spectrum.df(curve.alphas)
        return res

    @_OnePassOnly
    def partial_fit(self, X, y, sample_weight=None, *, fold=None) -> RidgeCV:
        """Add a batch of rows and re-select alpha on every row seen so far (one pass).

        The batch is reduced to ``GramStats`` (one per fold) and merged with the earlier
        batches'; alpha is then selected and the model solved from the statistics alone, so
        every fitted attribute equals what :meth:`fit` gives on all the rows seen so far. GCV
        (``cv="gcv"``) and k-fold CV (``cv=k``, an int) are one-pass criteria; exact LOO
        (``cv=None``) needs a second pass: ``RidgeCV(cv=None)`` has no ``partial_fit``
        (reading it raises ``AttributeError`` naming :meth:`fit_stream`). Only the
        squared error is available (``scoring=None``). ``fit`` starts over; see
        ``docs/ridge.md`` ("Streaming").

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_batch, n_features)
            Same columns (and names, for a data frame) and dtype as the first batch. An empty
            batch is skipped (it counts as a batch for the numbers in error messages).
        y : array-like of shape (n_batch,) or (n_batch, n_targets)
        sample_weight : array-like of shape (n_batch,), optional
        fold : array-like of int of shape (n_batch,), optional
            Fold of each row, in ``[0, cv)``. By default the fold of the row at 0-based
            position ``i`` of the whole stream is ``ridgeway.linalg.fold_of(i, cv)``, so it
            does not depend on how the stream is cut into batches.

        Returns
        -------
        self : RidgeCV

        Raises
        ------
        ridgeway.exceptions.BatchError
            For a batch that does not fit the stream (columns, dtype, non-finite values, fold
            ids); the estimator is then as it was before the call.
        """
        from ._stream import partial_fit

        return partial_fit(self, X, y, sample_weight, fold)

    def fit_stream(self, batches) -> RidgeCV:
        """Fit on a stream of batches too large for memory, as :meth:`fit` on their union.

        One pass for GCV and k-fold (as repeated :meth:`partial_fit`, solving once at the
        end); exact LOO (``cv=None``) reads the batches a second time for the leverages (and
        once more per evaluation of new alphas with ``alphas="auto"``).

        Parameters
        ----------
        batches : callable or iterable
            Yields tuples ``(X, y)``, ``(X, y, sample_weight)`` or ``(X, y, sample_weight,
            fold)`` (``None`` entries allowed). For ``cv=None`` it must be re-iterable: a
            zero-argument callable returning a fresh iterator each time (e.g. ``lambda:
            ridgeway.io.iter_batches(...)``) or a list; a one-shot iterator is refused.

        Returns
        -------
        self : RidgeCV
        """
        from ._stream import fit_stream

        return fit_stream(self, batches)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


def _column(curve: CVCurve, j: int | None):
    """Mean loss and its standard error for target ``j`` (or averaged over targets)."""
    if j is not None:
        sem = None if curve.std_error is None else curve.std_error[:, j]
        return curve.mean[:, j], sem
    mean = curve.mean.mean(axis=1)
    if curve.splits is not None:
        per_fold = curve.splits.mean(axis=2)
        return mean, per_fold.std(axis=0) / np.sqrt(per_fold.shape[0])
    sem = None if curve.std_error is None else curve.std_error.mean(axis=1)
    return mean, sem


def _widen(grid, curve: CVCurve, evaluate, per_target: bool, max_rounds: int = 6):
    """Extend the grid by 3 decades on a side while a best alpha sits on that edge."""
    for _ in range(max_rounds):
        means = curve.mean if per_target else curve.mean.mean(axis=1, keepdims=True)
        best = np.argmin(np.where(np.isfinite(means), means, np.inf), axis=0)
        lo_edge = np.any(grid[best] == grid.min())
        hi_edge = np.any(grid[best] == grid.max())
        if not (lo_edge or hi_edge):
            break
        extra = []
        if hi_edge:
            extra.append(np.geomspace(grid.max() * 1e3, grid.max(), 21)[:-1])
        if lo_edge and grid.min() > 1e-300:
            extra.append(np.geomspace(grid.min(), grid.min() * 1e-3, 21)[1:])
        if not extra:
            break
        new = np.concatenate(extra)
        add = evaluate(new)
        grid = np.concatenate([grid, new])
        order = np.argsort(grid)[::-1]
        curve = _merge_curves(curve, add, order)
        grid = grid[order]
    return grid, curve


def _merge_curves(a: CVCurve, b: CVCurve, order) -> CVCurve:
    def cat(x, y, axis=0):
        return None if x is None else np.concatenate([x, y], axis=axis).take(order, axis=axis)

    return CVCurve(
        cat(a.alphas, b.alphas), cat(a.mean, b.mean), cat(a.std_error, b.std_error),
        cat(a.splits, b.splits, axis=1),
    )


def _refine_min(alphas, index, evaluate, j, value):
    """Bounded 1-D search of the CV loss on log(alpha) between the grid neighbours of index."""
    order = np.argsort(alphas)
    pos = int(np.flatnonzero(order == index)[0])
    lo = np.log(alphas[order[max(pos - 1, 0)]])
    hi = np.log(alphas[order[min(pos + 1, len(alphas) - 1)]])
    if not hi > lo:
        return alphas[index], value

    def f(log_alpha):
        mean = evaluate(np.array([np.exp(log_alpha)])).mean[0]
        return float(mean[j] if j is not None else mean.mean())

    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    if res.fun < value:
        return float(np.exp(res.x)), float(res.fun)
    return alphas[index], value

