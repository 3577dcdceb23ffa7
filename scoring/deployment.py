"""The one deployable fit: resolved and open claims in, engine parameters out.

:func:`fit_scoring_model` is what ``srs fit`` stores and what ``srs evaluate`` evaluates;
:func:`scoring.engine.score_claim` with its result is the only scorer. A fit:

1. **Cross-fits the evidence.** The resolved claims are split into folds; for each fold the
   EM estimator (:class:`~scoring.learning.ReliabilityEstimator`) is fitted on every other
   claim (open ones included, without verdicts) and exported, and the fold's claims are read
   with those parameters (:func:`scoring.engine.claim_evidence`). Every resolved claim thus
   gets engine evidence from a model that never saw it.
2. **Fits the claim layer on it** (:class:`~scoring.evidence.ClaimLayer`): a logistic
   regression of the verdict on the tempered evidence sums per stance and the count
   features, L2-regularised, with signs constrained so that an independent support never
   lowers the confidence and an independent denial never raises it
   (:data:`scoring.aggregation.COUNT_SIGNS`). The aggregation exponent γ and the
   regularisation C are chosen together on a grid by inner cross-validated log loss. The
   count baselines (logistic regression on stance counts and shares) are a special case of
   this layer, so the model cannot do worse than them except by the noise of the choice.
   The penalty shrinks the coefficients toward :data:`LAYER_PRIOR`, not toward zero: half
   naive Bayes on the learned ratios, half a Laplace-smoothed count of votes (see there).
   Shrinking toward zero shrinks toward ignoring the evidence, which a few hundred resolved
   claims cannot afford; shrinking toward the two simple readings of the same evidence
   costs nothing where the data say more, and keeps the layer near a sound rule where they
   do not.
   The layer is the calibrator: a separate isotonic or Platt step did not improve the
   out-of-fold log loss and is not fitted.
   When resolved claims share stories, the layer has one more column: each claim's story
   offset (its story's shrunk base rate against the pooled one, :mod:`scoring.story_rates`),
   computed from the *other* folds' resolved claims, so a claim's own verdict never feeds
   its own story term; its coefficient (≥ 0) and the strength of the shrinkage (by
   marginal likelihood on all resolved claims) are stored as the story model. Without
   shared stories the layer is exactly the one fitted without the story model.
3. **Fits the settling model** (the 90 % interval) on the same cross-fitted evidence of
   time-ordered prefixes of resolved claims (:mod:`scoring.settling`).
4. **Refits the estimator on all claims** and exports it with the layer, γ and the settling
   model: everything the engine needs, as plain JSON-ready values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import minimize
from sklearn.model_selection import StratifiedKFold

from scoring.aggregation import COUNT_SIGNS, stance_sums
from scoring.attribution import PRIOR_AGGREGATION_EXPONENT
from scoring.coverage import time_order
from scoring.engine import MAX_LOG_ODDS, ClaimEvidence, claim_evidence, score_claim
from scoring.evidence import (
    COUNT_FEATURES,
    ClaimLayer,
    ClaimScore,
    ModelParameters,
    ReportEvidence,
)
from scoring.interchange import InterchangeRecord, records_evidence
from scoring.learning import ReliabilityEstimator, ReportTable
from scoring.learning.export import to_model_parameters
from scoring.settling import fit_settling
from scoring.stories import claim_stories
from scoring.story_rates import cross_fitted_offsets, fit_story_model
from scoring.wording import ASSERTION_GRID, HEDGE_GRID, WordingModel

FOLDS = 5
EXPONENT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
REGULARIZATION_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
"""Inverse penalty strengths tried. The smallest keep the layer at :data:`LAYER_PRIOR` (only
the intercept free), the largest let the data move it freely."""
SETTLING_CLAIMS = 400
"""Resolved claims whose time-ordered prefixes teach the settling model (a sample above it:
its cost grows with reports squared, and a few hundred claims give stable quantiles)."""
FEATURES = ("supports_evidence", "denials_evidence", "neutral_evidence", *COUNT_FEATURES)
LAYER_PRIOR: dict[str, float] = {
    "supports_evidence": 0.5,
    "denials_evidence": 0.5,
    "neutral_evidence": 0.5,
    "log_supports": 0.5,
    "log_denials": -0.5,
}
"""The coefficients the layer's penalty shrinks toward (the others, and a story column,
toward 0). Two simple readings of a claim's evidence, each at half weight because they
read the same reports: naive Bayes on the learned per-report log-likelihood ratios
(coefficient 1 on each stance's sum) and the Laplace-smoothed vote count, whose log-odds
are ``log(1 + supports) − log(1 + denials)`` (the ``majority`` baseline). Measured with
5 outer folds × 5 seeds against shrinking toward zero: RumourEval AUC 0.630 → 0.653, Brier
0.205 → 0.200 (seeds 5–9: 0.613 → 0.637, 0.208 → 0.203); Arabic corpus Brier 0.149 →
0.148 (seeds 5–9: 0.148 → 0.146); a sparse `srs synth` set (400 claims, 988 outlets) AUC
0.826 → 0.831, Brier 0.170 → 0.166; the echo-chain synthetic set unchanged."""


def score_records(
    records: Iterable[InterchangeRecord],
    params: ModelParameters,
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float | None] | None = None,
) -> dict[str, ClaimScore]:
    """Score every claim of ``records`` with :func:`~scoring.engine.score_claim`."""
    records = list(records)
    verdicts = {r.claim_key: r.verdict for r in records}
    return {
        key: score_claim(reports, params, verdicts[key])
        for key, reports in records_evidence(records, outlet_kinds, outlet_priors).items()
    }


def layer_features(
    evidence: Sequence[ClaimEvidence], exponent: float, story: np.ndarray | None = None
) -> np.ndarray:
    """Rows of :data:`FEATURES`: tempered evidence sums per stance, then count features;
    then, given ``story`` (each claim's cross-fitted story offset), a story column."""
    X = np.array(
        [
            [*stance_sums(e.items, exponent), *(e.counts[n] for n in COUNT_FEATURES)]
            for e in evidence
        ]
    ).reshape(len(evidence), len(FEATURES))
    return X if story is None else np.column_stack([X, story])


def layer_prior(n_columns: int = len(FEATURES)) -> np.ndarray:
    """:data:`LAYER_PRIOR` as a vector over the layer's columns (0 beyond :data:`FEATURES`)."""
    prior = np.zeros(n_columns)
    prior[: len(FEATURES)] = [LAYER_PRIOR.get(name, 0.0) for name in FEATURES]
    return prior


def _bounds(n_columns: int = len(FEATURES)) -> list[tuple[float | None, float | None]]:
    # A story column (the last, when present) may only pull a claim toward its story's rate.
    signs = [1, 1, 1] + [COUNT_SIGNS[name] for name in COUNT_FEATURES]
    signs += [1] * (n_columns - len(signs))
    return [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]


def fit_bounded_logistic(
    X: np.ndarray, y: np.ndarray, regularization: float
) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression with the layer's sign constraints.

    Minimises ``Σ log-loss + ||β − β₀||² / (2C)`` on standardised features, ``β₀`` being
    :data:`LAYER_PRIOR` on that scale (the intercept is not penalised; with ``β₀ = 0`` this
    is the objective of scikit-learn's ``LogisticRegression(C=C)``), by L-BFGS-B with
    bounds; returns the intercept and coefficients on the original scale.
    """
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    Z = (X - mean) / scale
    y = y.astype(float)
    prior = layer_prior(X.shape[1]) * scale

    def objective(w):
        z = w[0] + Z @ w[1:]
        shrunk = w[1:] - prior
        loss = np.logaddexp(0.0, z).sum() - y @ z + 0.5 / regularization * (shrunk @ shrunk)
        residual = 1.0 / (1.0 + np.exp(-z)) - y
        grad = np.r_[residual.sum(), Z.T @ residual + shrunk / regularization]
        return loss, grad

    bounds = _bounds(X.shape[1])
    # Start at the prior (within the sign bounds) and the base rate (the features are centred).
    start = np.r_[math.log((y.sum() + 1) / (len(y) - y.sum() + 1)), prior]
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None), *bounds],
    )
    coef = result.x[1:] / scale
    return float(result.x[0] - coef @ mean), coef


def _log_loss(y: np.ndarray, z: np.ndarray) -> float:
    return float(np.sum(np.logaddexp(0.0, z) - y * z))


def _inner_splits(verdicts: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n_splits = int(min(FOLDS, np.bincount(verdicts.astype(int), minlength=2).min()))
    return list(
        StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(verdicts, verdicts)
    )


def _inner_log_loss(X: np.ndarray, verdicts: np.ndarray, splits, regularization: float) -> float:
    loss = 0.0
    for train, test in splits:
        intercept, coef = fit_bounded_logistic(X[train], verdicts[train], regularization)
        loss += _log_loss(verdicts[test], intercept + X[test] @ coef)
    return loss


def choose_layer(
    evidence: Sequence[ClaimEvidence],
    verdicts: np.ndarray,
    seed: int = 0,
    story: np.ndarray | None = None,
) -> tuple[float, float, dict[float, float]]:
    """γ and C of least inner cross-validated log loss; also the loss of each γ (best C).
    ``story``: the claims' cross-fitted story offsets, a column of the layer when given."""
    splits = _inner_splits(verdicts, seed)
    best, by_exponent = (math.inf, 0.0, 1.0), {}
    for exponent in EXPONENT_GRID:
        X = layer_features(evidence, exponent, story)
        for c in REGULARIZATION_GRID:
            loss = _inner_log_loss(X, verdicts, splits, c)
            by_exponent[exponent] = min(by_exponent.get(exponent, math.inf), loss)
            if loss < best[0] - 1e-9:
                best = (loss, exponent, c)
    return best[1], best[2], by_exponent


def choose_wording(
    reports: Sequence[Sequence[ReportEvidence]],
    fold_params: Sequence[ModelParameters],
    verdicts: np.ndarray,
    lexicon: WordingModel,
    exponent: float,
    regularization: float,
    seed: int = 0,
    story: np.ndarray | None = None,
) -> tuple[WordingModel, dict[str, float]]:
    """The wording multipliers of least inner cross-validated log loss (:mod:`scoring.wording`).

    Each resolved claim's ``reports`` are read with its cross-fitted ``fold_params`` and
    each pair of multipliers on the grid; the layer's γ and C stay as chosen without
    wording (choosing all four jointly would multiply the grid by 42 for little). ``(1, 1)``
    is on the grid, so where the words carry no signal the cues are switched off.
    ``story``: the claims' cross-fitted story offsets, the layer's story column as in
    :func:`choose_layer`. Returns the chosen model and the loss of each pair
    (``"hedge×assertion"``).
    """
    splits = _inner_splits(verdicts, seed)
    best, losses = (math.inf, lexicon), {}
    for hedge in HEDGE_GRID:
        for assertion in ASSERTION_GRID:
            model = dataclasses.replace(lexicon, hedge_factor=hedge, assertion_factor=assertion)
            evidence = [
                claim_evidence(claim, dataclasses.replace(params, wording=model))
                for claim, params in zip(reports, fold_params, strict=True)
            ]
            X = layer_features(evidence, exponent, story)
            loss = _inner_log_loss(X, verdicts, splits, regularization)
            losses[f"{hedge:g}×{assertion:g}"] = loss
            if loss < best[0] - 1e-9:
                best = (loss, model)
    return best[1], losses


def fit_scoring_model(
    records: Iterable[InterchangeRecord],
    *,
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float | None] | None = None,
    version: str = "fit",
    seed: int = 0,
    estimator: ReliabilityEstimator | None = None,
    use_stories: bool = True,
    out_of_fold: dict[str, float] | None = None,
    wording: WordingModel | None = None,
) -> ModelParameters:
    """Fit the scoring model on interchange records (see the module docstring).

    Parameters
    ----------
    records : iterable of InterchangeRecord
        Reports of resolved and open claims.
    outlet_kinds, outlet_priors : mapping, optional
        Outlet kinds and editor-typed prior reliabilities by outlet name, as the outlet
        table holds them (the interchange format carries neither).
    version : str
        Recorded with every score computed from the result.
    seed : int
        Seeds the folds of the cross-fitting and of the inner cross-validation.
    estimator : ReliabilityEstimator, optional
        Its parameters are used for every EM fit (default ``ReliabilityEstimator()``).
    use_stories : bool
        Learn a shrunk base rate per story (:mod:`scoring.story_rates`) when resolved
        claims share stories; False leaves the story model off whatever the data.
    out_of_fold : dict, optional
        Filled, when given, with each resolved claim's out-of-fold confidence by claim key
        (:func:`out_of_fold_confidences`): what a rollout compares with the active model.
        Left empty when the layer cannot be fitted.
    wording : WordingModel, optional
        Switch the wording model on (:mod:`scoring.wording`): its lexicon, with the
        multipliers chosen by :func:`choose_wording` on these records only. ``None``
        (default): off, as in every stored version unless asked for.

    Returns
    -------
    ModelParameters
        Learned per-stance ratios, claim layer, γ and settling model; JSON-ready.
        With fewer than two resolved claims of each verdict the layer cannot be fitted: the
        identity layer at the learned base rate and the documented γ are used instead.
    """
    records = list(records)
    priors = {k: v for k, v in (outlet_priors or {}).items() if v is not None}
    table = ReportTable.from_records(records, outlet_kinds, priors)
    claims = records_evidence(records, outlet_kinds, priors)
    template = estimator if estimator is not None else ReliabilityEstimator()
    final = dataclasses.replace(
        to_model_parameters(_fit(template, table, np.arange(table.n_claims)), version),
        aggregation_exponent=PRIOR_AGGREGATION_EXPONENT,
    )
    resolved = np.flatnonzero(~np.isnan(table.verdicts))
    verdicts = table.verdicts[resolved]
    if min(verdicts.sum(), len(verdicts) - verdicts.sum()) < 2:
        return final
    n_splits = int(min(FOLDS, verdicts.sum(), len(verdicts) - verdicts.sum()))
    folds = [
        test
        for _, test in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(
            resolved, verdicts
        )
    ]
    evidence: list[ClaimEvidence | None] = [None] * len(resolved)
    fold_params: list[ModelParameters | None] = [None] * len(resolved)
    fold_of = np.zeros(len(resolved), dtype=int)
    for fold, test in enumerate(folds):
        fold_of[test] = fold
        keep = np.setdiff1d(np.arange(table.n_claims), resolved[test])
        params = to_model_parameters(_fit(template, table, keep), version)
        for i in test:
            key = table.claim_keys[resolved[i]]
            evidence[i] = claim_evidence(claims[key], params)
            fold_params[i] = params
    stories_of = claim_stories(records)
    resolved_stories = [stories_of.get(table.claim_keys[i]) for i in resolved]
    story = cross_fitted_offsets(resolved_stories, verdicts, folds) if use_stories else None
    if story is not None and not story.any():
        story = None  # no resolved claim shares a story: the layer is exactly as without
    exponent, regularization, losses = choose_layer(evidence, verdicts, seed, story)
    wording_losses = None
    if wording is not None:
        reports = [claims[table.claim_keys[i]] for i in resolved]
        wording, wording_losses = choose_wording(
            reports, fold_params, verdicts, wording, exponent, regularization, seed, story
        )
        fold_params = [dataclasses.replace(p, wording=wording) for p in fold_params]
        evidence = [claim_evidence(r, p) for r, p in zip(reports, fold_params, strict=True)]
        exponent, regularization, losses = choose_layer(evidence, verdicts, seed, story)
    intercept, coef = fit_bounded_logistic(
        layer_features(evidence, exponent, story), verdicts, regularization
    )
    if out_of_fold is not None:
        confidences = out_of_fold_confidences(
            layer_features(evidence, exponent, story), verdicts, fold_of, regularization
        )
        out_of_fold.update(zip((table.claim_keys[i] for i in resolved), confidences, strict=True))
    layer = ClaimLayer(
        intercept=intercept,
        evidence=tuple(coef[:3].tolist()),
        counts=dict(zip(COUNT_FEATURES, coef[3 : len(FEATURES)].tolist(), strict=True)),
        regularization=regularization,
    )
    if story is not None:
        final = dataclasses.replace(
            final, stories=fit_story_model(resolved_stories, verdicts, coef[len(FEATURES)])
        )
    settling = fit_settling(
        _settling_moves(table, claims, resolved, fold_params, layer, exponent, seed)
    )
    summary = dict(final.training_summary)
    summary.update(
        resolved_claims=len(resolved),
        resolved_true=int(verdicts.sum()),
        claims=int(table.n_claims),
        reports=int(table.n_reports),
        cross_fitting_folds=n_splits,
        exponent_log_loss={str(k): v for k, v in losses.items()},
    )
    if wording_losses is not None:
        summary["wording_log_loss"] = wording_losses
    return dataclasses.replace(
        final,
        wording=wording,
        aggregation_exponent=exponent,
        claim_layer=layer,
        settling=settling,
        training_summary=summary,
    )


def out_of_fold_confidences(
    X: np.ndarray, verdicts: np.ndarray, fold_of: np.ndarray, regularization: float
) -> np.ndarray:
    """Each resolved claim's confidence from a layer fitted without its fold.

    ``X`` holds the layer features of the cross-fitted evidence (each claim read with an
    estimator fitted without its fold); here the layer too is refitted on the other folds,
    so neither part of the prediction saw the claim's verdict. Two things did: γ and C,
    chosen once on all folds (two scalars), and the other folds' evidence, read by
    estimators that saw this fold. Both bias the figure slightly in the candidate's favour.
    The log-odds are clipped to ±MAX_LOG_ODDS as the engine clips them.
    """
    log_odds = np.zeros(len(verdicts))
    for fold in np.unique(fold_of):
        test = fold_of == fold
        intercept, coef = fit_bounded_logistic(X[~test], verdicts[~test], regularization)
        log_odds[test] = intercept + X[test] @ coef
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -MAX_LOG_ODDS, MAX_LOG_ODDS)))


def _fit(template: ReliabilityEstimator, table: ReportTable, claims: np.ndarray):
    from sklearn.base import clone

    return clone(template).fit(table.select_claims(claims))


def _layer_log_odds(evidence: ClaimEvidence, layer: ClaimLayer, exponent: float) -> float:
    sums = stance_sums(evidence.items, exponent)
    value = layer.intercept + sum(a * e for a, e in zip(layer.evidence, sums, strict=True))
    return value + sum(layer.counts[n] * evidence.counts[n] for n in COUNT_FEATURES)


def _settling_moves(table, claims, resolved, fold_params, layer, exponent, seed):
    """(votes counted so far, final − current log-odds, verdict) of resolved claims'
    prefixes, read with each claim's cross-fitted parameters."""
    rng = np.random.default_rng(seed)
    chosen = np.arange(len(resolved))
    if len(chosen) > SETTLING_CLAIMS:
        chosen = np.sort(rng.choice(chosen, SETTLING_CLAIMS, replace=False))
    moves = []
    for i in chosen:
        key = table.claim_keys[resolved[i]]
        reports = time_order(claims[key])
        verdict = bool(table.verdicts[resolved[i]])
        evidence = [claim_evidence(reports[:k], fold_params[i]) for k in range(len(reports) + 1)]
        trajectory = [_layer_log_odds(e, layer, exponent) for e in evidence]
        # k = n is left out: there the claim has settled, and the interval is about where a
        # claim still moving will land (scoring.coverage checks k = 1 … n − 1 likewise).
        # Moves are binned by the votes counted so far, as the engine bins them.
        moves.extend(
            (len(e.items), trajectory[-1] - value, verdict)
            for e, value in zip(evidence[:-1], trajectory[:-1], strict=True)
        )
    return moves
