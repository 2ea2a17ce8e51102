"""Ridge and RidgeCV: thin scikit-learn estimators over the kernels of ``ridgeway.linalg``."""

from __future__ import annotations

import types
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from .._validation import (
    check_alpha,
    check_choice,
    check_not_positive,
    check_penalty_factor,
    check_positive_weights,
    check_ridge_solver,
    check_store_cv_results,
)
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
from ..selection import (
    SearchSpec,
    check_alpha_grid,
    check_representable_alphas,
    check_rule,
    df_alpha_grid,
    make_scorer_loss,
    representable_only,
    ridge_criterion,
    ridge_cv_results,
    search_alpha,
    weighted_folds,
)
from ._base import LinearPredictorMixin, store_solution, validate_regression_data
from ._stream import LOO_NEEDS_TWO_PASSES, fit_stream, partial_fit, stream_stats


class _RidgeBase(LinearPredictorMixin, BaseEstimator):
    """What Ridge and RidgeCV share: sparse X and several targets are accepted."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    @property
    def stats_(self) -> GramStats:
        return stream_stats(self)


class Ridge(_RidgeBase):
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
    stats_ : GramStats
        Only after :meth:`partial_fit` or :meth:`fit_stream`: the statistics of every row
        streamed (:class:`ridgeway.linalg.GramStats`: count, weight sum, the weighted means
        of X and y and the co-moments about them), from which the model was solved; e.g.
        the training error of any coefficients without another pass. Reading it after
        ``fit`` (or before any stream) raises ``AttributeError``.
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
        store_solution(self, sol, y, X.dtype)
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
        return partial_fit(self, X, y, sample_weight)

    def fit_stream(self, batches) -> Ridge:
        """Fit on a stream of batches in one pass, as :meth:`fit` on their union.

        Parameters
        ----------
        batches : callable or iterable
            Yields tuples ``(X, y)`` or ``(X, y, sample_weight)``; a zero-argument callable
            is called once for a fresh iterator.

        Returns
        -------
        self : Ridge
        """
        return fit_stream(self, batches)


class _OutOfRange(Exception):
    """The statistics of X over- or underflowed float64: refit on rescaled data."""


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


class RidgeCV(_RidgeBase):
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
    spectrum_ : RidgeSpectrum or None
        The eigendecomposition of the centered weighted gram of all the training rows that
        scored the grid and gave the final fit (:class:`ridgeway.linalg.RidgeSpectrum`): it
        answers any other alpha without a new factorization (``spectrum_.coef(alphas)``,
        ``df``, ``shrinkage``, ``gcv``). Its outputs drop the target axis when y was 1-D.
        None when it was not kept: wide data (n < p; the dual spectrum refers to X) or data
        fitted rescaled because their squares leave float64's range.
    stats_ : GramStats
        As in :class:`Ridge`: after :meth:`partial_fit` or :meth:`fit_stream` only.
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
        mode = self._cv_mode()
        check_rule(self.selection, has_spread=mode != "gcv")
        if self.gcv_mode is not None:
            check_choice(self.gcv_mode, "gcv_mode", ("auto", "svd", "eigen"))
        check_store_cv_results(self.store_cv_results)
        grid = check_alpha_grid(self.alphas)
        X, y, y2, sw = validate_regression_data(self, X, y, sample_weight)
        check_positive_weights(sw, mode)
        splits = weighted_folds(self.cv, X, y, sw) if mode == "kfold" else None
        # Data whose squares over- or underflow float64 are fitted rescaled (same minimizer,
        # alphas in units of the scaled data) and mapped back; y by its own size up front,
        # X when its statistics prove out of range (checked after the fact: no extra pass).
        fy = out_of_range_scale(y2)
        args = (mode, grid, y, y2, sw, splits, sample_weight is not None)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return self._fit(X, *args, 1.0, fy)
        except (np.linalg.LinAlgError, _OutOfRange):
            fx = max_abs(X)
        Xs = X * (1.0 / fx) if sp.issparse(X) else np.divide(X, fx, dtype=X.dtype)
        return self._fit(Xs, *args, fx, fy)

    def _fit(self, X, mode, grid, y, y2, sw, splits, weighted, fx, fy) -> RidgeCV:
        """``fit`` on ``X`` (already divided by ``fx``) and ``y / fy``; results mapped back."""
        if fy != 1.0:
            y, y2 = y / fy, y2 / fy
        loss = make_scorer_loss(self.scoring, per_target=self.alpha_per_target,
                                one_d=y.ndim == 1, weighted=weighted, y_scale=fy)
        crit = ridge_criterion(mode, X, y2, sw, splits=splits, loss=loss,
                               fit_intercept=self.fit_intercept, reuse_projections=grid.auto)
        spec = crit.spectrum
        eigenvalues = spec.eigenvalues
        if fx == 1.0 and (not np.all(np.isfinite(eigenvalues)) or (
                eigenvalues.size == 0 and varies(X))):
            raise _OutOfRange
        evaluate = crit.evaluate if fx == 1.0 else representable_only(crit.evaluate, fx)
        start = df_alpha_grid(eigenvalues) if grid.values is None else grid.values / fx / fx
        found = search_alpha(evaluate, start, SearchSpec(
            rule=self.selection, per_target=self.alpha_per_target, auto=grid.auto),
            x_scale=fx)
        sol = solve_from_spectrum(spec, X, y2, sw, np.atleast_1d(found.alpha), crit.stats)
        if fx != 1.0 or fy != 1.0:
            sol = RidgeSolution(sol.coef / fx * fy, sol.intercept * fy, sol.solver, sol.n_iter)
        chosen = check_representable_alphas(found.alpha, fx)
        if not is_finite(sol):
            raise ValueError(
                "The ridge solution is not representable in float64 for this data: the "
                "coefficients would overflow. Rescale X and y (e.g. "
                "sklearn.preprocessing.StandardScaler).")
        store_solution(self, sol, y, X.dtype)
        self.alpha_ = chosen if self.alpha_per_target and y.ndim == 2 else float(
            np.atleast_1d(chosen)[0])
        mse = 1.0 if loss is not None else fy * fy  # a scorer saw y in its own units
        self.best_score_ = (-found.loss if np.ndim(found.loss) else -float(found.loss)) * mse
        self.cv_mode_ = mode
        self.cv_results_ = ridge_cv_results(found.curve, spec, y2.shape[0], self.alpha_per_target,
                                    fx, mse)
        # a dual spectrum refers to X (not kept alive); a rescaled one is in other units
        kept = spec.basis is not None and fx == 1.0 and fy == 1.0
        self.spectrum_ = replace(spec, single_target=y.ndim == 1) if kept else None
        return self

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
        return fit_stream(self, batches)
