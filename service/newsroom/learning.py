"""Fitting a model version from the stored history, storing it and making it active.

A fit reads every live report and verdict, fits :class:`ReliabilityEstimator` and a
calibrator on resolved claims, and stores the result as a new :class:`ModelVersion`.
Activation flips the active flag in one transaction (there is never a moment without an
active model) and then rescores the open claims, each batch in its own transaction, with
the version named as the cause in their history.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Claim, ModelVersion, Outlet
from models.database import UnitOfWork
from scoring.calibration import fit_calibration
from scoring.engine import score_claim
from scoring.learning import ReliabilityEstimator, ReportTable
from service.delivery.outbox import emit_model_activated
from service.newsroom.model_store import active_parameters, parameters_to_json
from service.newsroom.rescoring import claim_evidence, latest_verdict, lock_claims, rescore_claim
from service.newsroom.stored_reports import export_records

RESCORE_BATCH = 500


class NotEnoughHistory(ValueError):
    """Too few resolved claims to learn from."""


def fit_model_version(session: Session, *, min_resolved: int = 2) -> ModelVersion:
    """Fit on the stored reports and verdicts; store (not yet activate) the new version."""
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
    table = ReportTable.from_records(records, outlet_kinds)
    estimator = ReliabilityEstimator(outlet_priors=priors).fit(table)
    version = datetime.now(UTC).strftime("fit-%Y%m%dT%H%M%S%fZ")
    uncalibrated = estimator.to_model_parameters(version)
    calibration = _calibration_on_resolved(session, uncalibrated)
    params = estimator.to_model_parameters(version, calibration=calibration)
    stored = ModelVersion(
        version=version,
        active=False,
        parameters=parameters_to_json(params),
        training_summary={
            "reports": len(records),
            "claims": int(table.n_claims),
            "resolved_claims": len(resolved),
            "resolved_true": int(sum(resolved.values())),
            "outlets": len(outlet_kinds),
            "iterations": int(estimator.n_iter_),
        },
        metrics={"base_rate": float(estimator.base_rate_), "calibration": calibration.method},
    )
    session.add(stored)
    session.flush()
    return stored


def _calibration_on_resolved(session: Session, params):
    """Calibrate the engine's raw confidence on resolved claims only."""
    raw, verdicts = [], []
    for claim in session.scalars(select(Claim).where(Claim.status != "open")):
        verdict = latest_verdict(session, claim.id)
        raw.append(score_claim(claim_evidence(session, claim.id), params).confidence)
        verdicts.append(bool(verdict.verdict))
    return fit_calibration(np.asarray(raw), np.asarray(verdicts))


def activate(session: Session, version: str) -> ModelVersion:
    """Make ``version`` the active model (one transaction: never none active)."""
    target = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()
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
