"""Fitting a model version from the stored history, storing it and making it active.

A fit reads every live report and verdict, fits the scoring model
(:func:`scoring.deployment.fit_scoring_model`, the one deployable fit) with the outlet
table's kinds and priors, and stores the result as a new :class:`ModelVersion`.
Activation flips the active flag in one transaction (there is never a moment without an
active model) and then rescores the open claims, each batch in its own transaction, with
the version named as the cause in their history.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Claim, ModelVersion, Outlet
from models.database import UnitOfWork
from scoring.attribution import default_parameters
from scoring.deployment import fit_scoring_model
from service.delivery.outbox import emit_model_activated
from service.newsroom.model_store import active_parameters, parameters_to_json
from service.newsroom.rescoring import lock_claims, rescore_claim
from service.newsroom.stored_reports import export_records

RESCORE_BATCH = 500
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
    """Why ``stored`` may not be activated without force, or ``None`` when it may."""
    rule = rule or RolloutRule()
    summary = stored.training_summary or {}
    resolved, true = summary.get("resolved_claims", 0), summary.get("resolved_true", 0)
    false = resolved - true
    if resolved >= rule.min_resolved and min(true, false) >= rule.min_each_verdict:
        return None
    return (
        f"model {stored.version} was fitted on {resolved} resolved claims ({true} true, "
        f"{false} false) and is stored but not activated: activating needs at least "
        f"{rule.min_resolved} resolved claims with {rule.min_each_verdict} of each verdict "
        "(force it to override)"
    )


def activate_fitted(
    session: Session,
    stored: ModelVersion,
    *,
    force: bool = False,
    rule: RolloutRule = RolloutRule(),
) -> ModelVersion:
    """Activate a freshly fitted version unless its history is too thin (and not forced).

    Raises
    ------
    UnsafeRollout
        The version stays stored, inactive; the active model is unchanged.
    """
    refusal = rollout_refusal(stored, rule or RolloutRule())
    if refusal is not None and not force:
        raise UnsafeRollout(refusal, stored.version)
    return activate(session, stored.version)


def fit_model_version(session: Session, *, min_resolved: int = 2) -> ModelVersion:
    """Fit on the stored reports and verdicts; store (not yet activate) the new version.

    The fit is :func:`scoring.deployment.fit_scoring_model` with the outlet table's kinds
    and typed priors, the same function ``srs evaluate`` evaluates: its claim layer is
    fitted on cross-fitted evidence of the resolved claims, never on scores of claims the
    stored parameters were fitted on.
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
    params = fit_scoring_model(
        records, outlet_kinds=outlet_kinds, outlet_priors=priors, version=version
    )
    learned = params.training_summary
    stored = ModelVersion(
        version=version,
        active=False,
        parameters=parameters_to_json(params),
        training_summary={
            "reports": len(records),
            "claims": len({r.claim_key for r in records}),
            "resolved_claims": len(resolved),
            "resolved_true": int(sum(resolved.values())),
            "outlets": len(outlet_kinds),
            "iterations": int(learned.get("iterations", 0)),
        },
        metrics={
            "base_rate": float(params.base_rate),
            "calibration": "claim layer on cross-fitted evidence"
            if params.claim_layer.intercept is not None
            else "none (too few verdicts of each kind)",
            "aggregation_exponent": float(params.aggregation_exponent),
            "prior_strength": float(learned.get("prior_strength", 0.0)),
        },
    )
    session.add(stored)
    session.flush()
    return stored


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
        "parameters": row.parameters,
    }
