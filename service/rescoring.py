"""Scores one claim from its stored reports and writes the score where it belongs.

Called inside the transaction that changed the claim's evidence, so the stored score is
never stale and reads never recompute. Costs O(reports of the claim).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Claim, Outlet, Report, ScoreHistory, Verdict
from models.base import utcnow
from scoring.engine import score_claim
from scoring.evidence import ClaimScore, ClusterContribution, ModelParameters, ReportEvidence

# Stored floats round-trip exactly on both backends; anything smaller than this is noise
# from summation order, not a change an editor should see in the history.
SCORE_TOLERANCE = 1e-12


def report_evidence(report: Report, outlet: Outlet) -> ReportEvidence:
    return ReportEvidence(
        key=report.key,
        outlet=outlet.name,
        stance=report.stance,
        attribution=report.attribution,
        source=report.source,
        interested_party=report.interested_party,
        cites=report.cites.key if report.cites is not None else None,
        outlet_reliability=outlet.prior_reliability,
        outlet_kind=outlet.kind,
        published_at=report.published_at,
    )


def claim_evidence(session: Session, claim_id: int) -> list[ReportEvidence]:
    """The claim's live (not retracted) reports, with their outlets, in one query."""
    reports = session.scalars(
        select(Report)
        .where(Report.claim_id == claim_id, Report.retracted_at.is_(None))
        .options(joinedload(Report.outlet), joinedload(Report.cites))
        .order_by(Report.id)
    ).all()
    return [report_evidence(report, report.outlet) for report in reports]


def latest_verdict(session: Session, claim_id: int) -> Verdict | None:
    return session.scalars(
        select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id.desc()).limit(1)
    ).first()


_CONTRIBUTION_FIELDS = tuple(f.name for f in fields(ClusterContribution))


def explanation_json(score: ClaimScore) -> list[dict[str, Any]]:
    # Field by field rather than dataclasses.asdict, whose deep copy was a third of the
    # bulk import's time; the fields are flat but for the two tuples.
    return [
        {
            **{name: getattr(contribution, name) for name in _CONTRIBUTION_FIELDS},
            "members": list(contribution.members),
            "outlets": list(contribution.outlets),
        }
        for contribution in score.contributions
    ]


def _changed(claim: Claim, score: ClaimScore) -> bool:
    if claim.confidence is None or claim.model_version != score.model_version:
        return True
    pairs = (
        (claim.confidence, score.confidence),
        (claim.confidence_lower, score.lower),
        (claim.confidence_upper, score.upper),
    )
    return any(abs(old - new) > SCORE_TOLERANCE for old, new in pairs) or claim.label != score.label


def store_score(
    session: Session, claim: Claim, score: ClaimScore, cause: str, now: datetime | None = None
) -> bool:
    """Write ``score`` on ``claim``; append to its history only if the score changed."""
    now = now or utcnow()
    changed = _changed(claim, score)
    claim.confidence = score.confidence
    claim.confidence_lower = score.lower
    claim.confidence_upper = score.upper
    claim.log_odds = score.log_odds
    claim.prior_log_odds = score.prior_log_odds
    claim.label = score.label
    claim.grade = score.grade
    claim.n_reports = score.n_reports
    claim.n_clusters = score.n_clusters
    claim.explanation = explanation_json(score)
    claim.model_version = score.model_version
    claim.scored_at = now
    if changed:
        claim.updated_at = now
        session.add(
            ScoreHistory(
                claim_id=claim.id,
                recorded_at=now,
                confidence=score.confidence,
                confidence_lower=score.lower,
                confidence_upper=score.upper,
                label=score.label,
                model_version=score.model_version,
                cause=cause,
            )
        )
    return changed


def rescore_claim(
    session: Session, claim: Claim, params: ModelParameters, cause: str
) -> ClaimScore:
    """Recompute and store one claim's score from what the session holds now."""
    session.flush()
    verdict = latest_verdict(session, claim.id)
    score = score_claim(
        claim_evidence(session, claim.id),
        params,
        verdict=None if verdict is None else verdict.verdict,
    )
    store_score(session, claim, score, cause)
    return score


def lock_claims(session: Session, claim_ids: Iterable[int]) -> list[Claim]:
    """Row locks on the claims, in id order so concurrent writers cannot deadlock.

    Two requests adding reports to one claim would otherwise each score the claim without
    the other's report and the later commit would store a stale score (a lost update).
    """
    ids = sorted(set(claim_ids))
    if not ids:
        return []
    return list(
        session.scalars(
            select(Claim).where(Claim.id.in_(ids)).order_by(Claim.id).with_for_update()
        ).all()
    )
