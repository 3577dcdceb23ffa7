"""Checks that what the database holds is whole: run after a crash, a restore or a load test.

Every write stores a report (or verdict, or retraction), its claim's new score, its
history row, its audit entry and its idempotent response in one transaction, so none of
these can exist without the others. Each check here looks for the signs that this failed:

- ``scores``: every claim's stored score equals a batch recompute from its live reports,
  its outlets and its latest verdict, with the model version it names (to
  ``SCORE_TOLERANCE``; activating a model rescores open claims only, so a resolved claim
  keeps the version it was resolved under);
- ``history``: a claim's latest history row holds its current score (a lost update would
  leave the score of a writer that was overtaken);
- ``idempotency``: every stored idempotent response names rows that exist;
- ``outbox``: every outbox event names a stored claim and, for report events, a stored
  report of that claim (an event of a rolled-back change would name rows that are not
  there). Events are written at commit with their change (service/delivery/outbox.py), so this
  holds after any crash; old events are pruned, so the converse is not checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Claim, IdempotentResponse, ModelVersion, OutboxEvent, Report, ScoreHistory
from scoring.attribution import default_parameters
from scoring.engine import score_claim
from scoring.evidence import ModelParameters
from service.newsroom.model_store import parameters_from_json
from service.newsroom.rescoring import claim_evidence, latest_verdict

SCORE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    message: str


@dataclass
class ConsistencyReport:
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


Check = Callable[[Session], tuple[int, list[Finding]]]


def _parameters_by_version(session: Session) -> dict[str, ModelParameters]:
    versions = {
        row.version: parameters_from_json(row.parameters)
        for row in session.scalars(select(ModelVersion))
    }
    default = default_parameters()
    versions.setdefault(default.version, default)
    return versions


def stored_scores_match_batch(session: Session) -> tuple[int, list[Finding]]:
    versions = _parameters_by_version(session)
    findings, checked = [], 0
    for claim in session.scalars(select(Claim).order_by(Claim.id)):
        checked += 1
        if claim.confidence is None:
            findings.append(Finding("scores", f"claim {claim.id}", "has no stored score"))
            continue
        params = versions.get(claim.model_version)
        if params is None:
            message = f"names model version {claim.model_version!r}, which is not stored"
            findings.append(Finding("scores", f"claim {claim.id}", message))
            continue
        verdict = latest_verdict(session, claim.id)
        batch = score_claim(
            claim_evidence(session, claim.id),
            params,
            verdict=None if verdict is None else verdict.verdict,
        )
        pairs = {
            "confidence": (claim.confidence, batch.confidence),
            "lower": (claim.confidence_lower, batch.lower),
            "upper": (claim.confidence_upper, batch.upper),
        }
        for name, (stored, recomputed) in pairs.items():
            if abs(stored - recomputed) > SCORE_TOLERANCE:
                findings.append(
                    Finding(
                        "scores",
                        f"claim {claim.id}",
                        f"stored {name} {stored!r} but a batch recompute gives {recomputed!r}",
                    )
                )
        if claim.n_reports != batch.n_reports:
            findings.append(
                Finding(
                    "scores",
                    f"claim {claim.id}",
                    f"counts {claim.n_reports} reports, {batch.n_reports} are live",
                )
            )
    return checked, findings


def history_ends_at_current_score(session: Session) -> tuple[int, list[Finding]]:
    latest = (
        select(ScoreHistory.claim_id, func.max(ScoreHistory.id).label("id"))
        .group_by(ScoreHistory.claim_id)
        .subquery()
    )
    rows = session.execute(
        select(Claim.id, Claim.confidence, ScoreHistory.confidence)
        .join(latest, latest.c.claim_id == Claim.id)
        .join(ScoreHistory, ScoreHistory.id == latest.c.id)
    ).all()
    findings = [
        Finding("history", f"claim {claim_id}", f"score {now!r}, latest history {last!r}")
        for claim_id, now, last in rows
        if now is None or abs(now - last) > SCORE_TOLERANCE
    ]
    return len(rows), findings


def idempotent_responses_name_stored_rows(session: Session) -> tuple[int, list[Finding]]:
    findings, checked = [], 0
    for stored in session.scalars(select(IdempotentResponse).order_by(IdempotentResponse.id)):
        checked += 1
        try:
            body = json.loads(stored.body)
        except ValueError:
            findings.append(Finding("idempotency", f"key {stored.id}", "body is not JSON"))
            continue
        report_ids = []
        if isinstance(body, dict) and isinstance(body.get("report"), dict):
            report_ids.append(body["report"].get("id"))
        if isinstance(body, dict) and isinstance(body.get("reports"), list):
            report_ids.extend(r.get("id") for r in body["reports"] if isinstance(r, dict))
        for report_id in report_ids:
            if session.get(Report, report_id) is None:
                findings.append(
                    Finding(
                        "idempotency",
                        f"key {stored.id}",
                        f"replays report {report_id}, which is not stored",
                    )
                )
    return checked, findings


def outbox_events_name_stored_rows(session: Session) -> tuple[int, list[Finding]]:
    findings, checked = [], 0
    claims = set(session.scalars(select(Claim.id)))
    events = session.execute(
        select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.claim_id, OutboxEvent.payload)
        .order_by(OutboxEvent.id)
        .execution_options(yield_per=1000)
    )
    for event_id, event_type, claim_id, payload in events:
        checked += 1
        subject = f"event {event_id} ({event_type})"
        if claim_id is not None and claim_id not in claims:
            findings.append(Finding("outbox", subject, f"names claim {claim_id}, not stored"))
        report_id = payload.get("report_id") if isinstance(payload, dict) else None
        if event_type.startswith("report.") and report_id is not None:
            report = session.get(Report, report_id)
            if report is None or report.claim_id != claim_id:
                message = f"names report {report_id} of claim {claim_id}, not stored"
                findings.append(Finding("outbox", subject, message))
    return checked, findings


CHECKS: dict[str, Check] = {
    "scores": stored_scores_match_batch,
    "history": history_ends_at_current_score,
    "idempotency": idempotent_responses_name_stored_rows,
    "outbox": outbox_events_name_stored_rows,
}


def check_consistency(session: Session) -> ConsistencyReport:
    report = ConsistencyReport()
    for name, check in CHECKS.items():
        checked, findings = check(session)
        report.checked[name] = checked
        report.findings.extend(findings)
    return report
