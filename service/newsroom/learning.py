"""Fitting a model version from the stored history, storing it and making it active.

A fit reads every live report and verdict, fits the scoring model
(:func:`scoring.deployment.fit_scoring_model`, the one deployable fit) with the outlet
table's kinds and priors, compares it with the active model on the resolved claims
(:mod:`scoring.rollout`) and stores the result as a new :class:`ModelVersion`. A version
fitted on too few verdicts, or worse than the active model beyond noise, is stored but not
activated unless forced. :func:`dry_run` fits and stores nothing. Activation flips the
active flag in one transaction (there is never a moment without an active model) and then
rescores the open claims, each batch in its own transaction, with
the version named as the cause in their history.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Claim, ModelVersion, Outlet, Verdict
from models.database import UnitOfWork
from scoring.attribution import default_parameters
from scoring.deployment import fit_scoring_model
from scoring.engine import score_claim
from scoring.evidence import ModelParameters
from scoring.interchange import records_evidence
from scoring.rollout import ModelComparison, compare_models
from scoring.wording import WordingModel
from service.delivery.outbox import emit_model_activated
from service.newsroom.model_store import active_parameters, parameters_to_json
from service.newsroom.rescoring import lock_claims, rescore_claim
from service.newsroom.stored_reports import evidence_by_claim, export_records

RESCORE_BATCH = 500
MIN_COMPARISON_CLAIMS = 10
"""Fewer claims than this cannot tell two models apart (a percentile bootstrap of one or two
claims has no width); the comparison is then skipped and says why."""
PRIOR_VERSION = default_parameters().version


class NotEnoughHistory(ValueError):
    """Too few resolved claims to learn from."""


@dataclass(frozen=True)
class RolloutRule:
    """How much history a fitted version needs before it may be activated without force.

    Thirty resolved claims with ten of each verdict: below that the learned layer and
    discounts rest on a handful of verdicts (issue 13 saw a fit on four verdicts make every
    open claim "unlikely"). ``srs fit --force`` and ``POST /models?force=true`` override.
    """

    min_resolved: int = 30
    min_each_verdict: int = 10


class UnsafeRollout(ValueError):
    """A fitted version was stored but not activated (see :class:`RolloutRule`)."""

    def __init__(self, message: str, version: str):
        super().__init__(message)
        self.version = version


def rollout_refusal(stored: ModelVersion, rule: RolloutRule | None = None) -> str | None:
    """Why ``stored`` may not be activated without force, or ``None`` when it may.

    Two reasons: too few verdicts (:class:`RolloutRule`), or a candidate worse than the
    active model on Brier beyond noise (:mod:`scoring.rollout`; the comparison is in
    ``stored.metrics["comparison"]``).
    """
    rule = rule or RolloutRule()
    summary = stored.training_summary or {}
    resolved, true = summary.get("resolved_claims", 0), summary.get("resolved_true", 0)
    false = resolved - true
    if resolved < rule.min_resolved or min(true, false) < rule.min_each_verdict:
        return (
            f"model {stored.version} was fitted on {resolved} resolved claims ({true} true, "
            f"{false} false) and is stored but not activated: activating needs at least "
            f"{rule.min_resolved} resolved claims with {rule.min_each_verdict} of each verdict "
            "(force it to override)"
        )
    comparison = (stored.metrics or {}).get("comparison")
    if comparison and comparison["candidate_worse"]:
        low, high = comparison["interval"]
        return (
            f"model {stored.version} is stored but not activated: on "
            f"{comparison['claims']} resolved claims its Brier score "
            f"{comparison['candidate_brier']:.4f} (out of fold) is worse than the active "
            f"model {comparison['active_version']}'s {comparison['active_brier']:.4f} beyond "
            f"noise (difference {comparison['difference']:+.4f}, 95 % interval "
            f"[{low:+.4f}, {high:+.4f}]) (force it to override)"
        )
    return None


def activate_fitted(
    session: Session,
    stored: ModelVersion,
    *,
    force: bool = False,
    rule: RolloutRule = RolloutRule(),
) -> ModelVersion:
    """Activate a freshly fitted version unless :func:`rollout_refusal` objects (and not
    forced).

    Raises
    ------
    UnsafeRollout
        The version stays stored, inactive; the active model is unchanged.
    """
    refusal = rollout_refusal(stored, rule or RolloutRule())
    if refusal is not None and not force:
        raise UnsafeRollout(refusal, stored.version)
    return activate(session, stored.version)


@dataclass(frozen=True)
class Candidate:
    """A fitted model version before it is stored: its parameters, what it was trained on,
    its metrics and its comparison with the active model (``None`` when the claim layer
    could not be fitted: too few verdicts of each kind)."""

    params: ModelParameters
    training_summary: dict[str, Any]
    metrics: dict[str, Any]
    comparison: ModelComparison | None


def fit_candidate(session: Session, *, min_resolved: int = 2, wording: bool = False) -> Candidate:
    """Fit on the stored reports and verdicts and compare with the active model; store
    nothing.

    The fit is :func:`scoring.deployment.fit_scoring_model` with the outlet table's kinds
    and typed priors, the same function ``srs evaluate`` evaluates: its claim layer is
    fitted on cross-fitted evidence of the resolved claims, never on scores of claims the
    stored parameters were fitted on. Its out-of-fold confidences are compared with the
    active model's on the same resolved claims (:mod:`scoring.rollout`). ``wording``
    switches the wording model on (:mod:`scoring.wording`; off by default).
    """
    records = list(export_records(session))
    outlet_kinds = {name: kind for name, kind in session.execute(select(Outlet.name, Outlet.kind))}
    priors = {
        name: prior
        for name, prior in session.execute(select(Outlet.name, Outlet.prior_reliability))
        if prior is not None  # unvetted: no prior of its own, the estimator's kind model
    }
    resolved = {r.claim_key: r.verdict for r in records if r.verdict is not None}
    if len(resolved) < min_resolved or len(set(resolved.values())) < 2:
        raise NotEnoughHistory(
            f"{len(resolved)} resolved claims with {len(set(resolved.values()))} distinct "
            f"verdicts; a fit needs at least {min_resolved}, true and false both."
        )
    version = datetime.now(UTC).strftime("fit-%Y%m%dT%H%M%S%fZ")
    out_of_fold: dict[str, float] = {}
    params = fit_scoring_model(
        records,
        outlet_kinds=outlet_kinds,
        outlet_priors=priors,
        version=version,
        out_of_fold=out_of_fold,
        wording=WordingModel() if wording else None,
    )
    verdict_ids = dict(
        session.execute(
            select(Claim.key, func.max(Verdict.id))
            .join(Verdict, Verdict.claim_id == Claim.id)
            .group_by(Claim.key)
        ).all()
    )
    comparison, skipped = None, "too few verdicts of each kind to fit the claim layer"
    if out_of_fold:
        comparison, skipped = _compare_with_active(
            session, records, outlet_kinds, priors, out_of_fold, resolved, verdict_ids
        )
    learned = params.training_summary
    metrics = {
        "base_rate": float(params.base_rate),
        "calibration": "claim layer on cross-fitted evidence"
        if params.claim_layer.intercept is not None
        else "none (too few verdicts of each kind)",
        "aggregation_exponent": float(params.aggregation_exponent),
        "prior_strength": float(learned.get("prior_strength", 0.0)),
    }
    metrics["comparison"] = comparison.to_json() if comparison is not None else None
    if skipped is not None:
        metrics["comparison_skipped"] = skipped
    summary = {
        "reports": len(records),
        "claims": len({r.claim_key for r in records}),
        "resolved_claims": len(resolved),
        "resolved_true": int(sum(resolved.values())),
        "outlets": len(outlet_kinds),
        "iterations": int(learned.get("iterations", 0)),
        # The newest verdict the fit saw: a later rollout judges this version only on
        # claims resolved after it (see _compare_with_active).
        "verdicts_through": max(verdict_ids.values(), default=0),
    }
    return Candidate(params, summary, metrics, comparison)


def _compare_with_active(
    session, records, outlet_kinds, priors, out_of_fold, resolved, verdict_ids
):
    """The candidate's out-of-fold confidences against the active model's, on the resolved
    claims whose verdicts the active model has not seen; ``(comparison, None)``, or
    ``(None, why not)``.

    A version fitted on verdicts scores those claims in sample, which would flatter it
    (measured: a refit on unchanged data looked 0.014 Brier worse than the version it
    repeats). So it is judged on claims whose latest verdict is newer than the newest one
    it was fitted on (``verdicts_through``); the documented priors saw no verdict and are
    judged on all. A version stored before that record existed is judged on the verdicts
    recorded after it was stored (:func:`_verdicts_before`): it cannot have seen them.
    """
    active_row = session.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))).first()
    active = active_parameters(session)
    learned_from = (active_row.training_summary or {}) if active_row is not None else {}
    if "resolved_claims" not in learned_from:
        unseen = set(out_of_fold)  # the documented priors, or a version that learned nothing
    else:
        through = learned_from.get("verdicts_through")
        if through is None:
            through = _verdicts_before(session, active_row.created_at)
        unseen = {key for key in out_of_fold if verdict_ids.get(key, 0) > through}
    if len(unseen) < MIN_COMPARISON_CLAIMS:
        return None, (
            f"{len(unseen)} resolved claims the active model {active.version} has not seen; "
            f"a comparison needs {MIN_COMPARISON_CLAIMS}"
        )
    evidence = records_evidence((r for r in records if r.claim_key in unseen), outlet_kinds, priors)
    current = {key: score_claim(reports, active).confidence for key, reports in evidence.items()}
    return compare_models(out_of_fold, current, resolved, active.version), None


def _verdicts_before(session: Session, stored_at) -> int:
    """The newest verdict id recorded by ``stored_at``: all a version stored then can have
    been fitted on (verdicts recorded while it was fitting count as seen, which only leaves
    claims out of the comparison)."""
    newest = session.scalar(select(func.max(Verdict.id)).where(Verdict.resolved_at <= stored_at))
    return int(newest or 0)


def fit_model_version(
    session: Session, *, min_resolved: int = 2, wording: bool = False
) -> ModelVersion:
    """Fit (:func:`fit_candidate`) and store, not yet activate, the new version."""
    candidate = fit_candidate(session, min_resolved=min_resolved, wording=wording)
    stored = ModelVersion(
        version=candidate.params.version,
        active=False,
        parameters=parameters_to_json(candidate.params),
        training_summary=candidate.training_summary,
        metrics=candidate.metrics,
    )
    session.add(stored)
    session.flush()
    return stored


@dataclass(frozen=True)
class LabelChange:
    """How an open claim's stored score would move under a candidate model."""

    claim_id: int
    claim_key: str
    old_confidence: float | None
    new_confidence: float
    old_label: str | None
    new_label: str

    @property
    def move(self) -> float:
        return abs(self.new_confidence - (self.old_confidence or 0.5))


@dataclass(frozen=True)
class DryRun:
    """What activating a candidate would do to the open claims; nothing is written."""

    candidate: Candidate
    open_claims: int
    label_changes: int
    largest_moves: tuple[LabelChange, ...]


def dry_run(session: Session, *, largest: int = 10, wording: bool = False) -> DryRun:
    """Fit a candidate and score every open claim with it, against the scores they hold.

    Reads only: nothing is added to the session, so the caller's transaction has nothing to
    commit (the CLI rolls it back all the same).
    """
    candidate = fit_candidate(session, wording=wording)
    moves: list[LabelChange] = []
    last_id, count, changed = 0, 0, 0
    while True:
        claims = session.execute(
            select(Claim.id, Claim.key, Claim.confidence, Claim.label)
            .where(Claim.id > last_id, Claim.status == "open")
            .order_by(Claim.id)
            .limit(RESCORE_BATCH)
        ).all()
        if not claims:
            break
        evidence = evidence_by_claim(session, [c.id for c in claims])
        for claim in claims:
            score = score_claim(evidence.get(claim.id, []), candidate.params)
            change = LabelChange(
                claim.id, claim.key, claim.confidence, score.confidence, claim.label, score.label
            )
            changed += change.old_label != change.new_label
            moves.append(change)
        # Keep only the largest moves seen so far: memory stays bounded on big tables.
        moves = sorted(moves, key=lambda m: (-m.move, m.claim_id))[:largest]
        count += len(claims)
        last_id = claims[-1].id
    return DryRun(candidate, count, changed, tuple(moves))


def activate(session: Session, version: str) -> ModelVersion:
    """Make ``version`` the active model (one transaction: never none active).

    The documented priors (``prior-1``) can always be activated again, stored or not: a
    way back from any fit.
    """
    target = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()
    if target is None and version == PRIOR_VERSION:
        target = ModelVersion(
            version=PRIOR_VERSION,
            active=False,
            parameters=parameters_to_json(default_parameters()),
            training_summary=None,
            metrics={"calibration": "none: the documented priors"},
        )
        session.add(target)
        session.flush()
    if target is None:
        raise LookupError(f"no model version {version!r}")
    previous = session.scalars(
        select(ModelVersion.version).where(ModelVersion.active.is_(True))
    ).first()
    session.execute(update(ModelVersion).where(ModelVersion.id != target.id).values(active=False))
    target.active = True
    session.flush()
    emit_model_activated(session, target.version, previous)
    return target


def rescore_open_claims(factory: sessionmaker, cause: str) -> int:
    """Rescore every open claim with the active model, a batch per transaction."""
    last_id, count = 0, 0
    while True:
        with UnitOfWork(factory) as uow:
            ids = uow.session.scalars(
                select(Claim.id)
                .where(Claim.id > last_id, Claim.status == "open")
                .order_by(Claim.id)
                .limit(RESCORE_BATCH)
            ).all()
            if not ids:
                return count
            params = active_parameters(uow.session)
            for claim in lock_claims(uow.session, ids):
                rescore_claim(uow.session, claim, params, cause)
            uow.commit()
        count += len(ids)
        last_id = ids[-1]


def rescore_in_background(factory: sessionmaker, cause: str) -> threading.Thread:
    thread = threading.Thread(
        target=rescore_open_claims,
        args=(factory, cause),
        name="rescore-open-claims",
        daemon=True,
    )
    thread.start()
    return thread


def version_view(row: ModelVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "active": row.active,
        "created_at": row.created_at,
        "training_summary": row.training_summary,
        "metrics": row.metrics,
        "comparison": (row.metrics or {}).get("comparison"),
        "parameters": row.parameters,
    }
