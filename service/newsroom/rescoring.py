"""Scores one claim from its stored reports and writes the score where it belongs.

Called inside the transaction that changed the claim's evidence, so the stored score is
never stale and reads never recompute. Costs O(reports of the claim). What would change the
score (:mod:`scoring.what_if`) is computed with it and stored beside it, by the recorder and
the bulk import alike (:func:`score_for_storage`, :func:`score_columns`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Claim, ScoreHistory, Verdict
from models.base import utcnow
from scoring.evidence import ClaimScore, ModelParameters, ReportEvidence
from scoring.what_if import score_many_with_changes, score_with_changes
from service.delivery.outbox import emit_score_changed
from service.newsroom.stored_reports import (
    evidence_and_verdicts,
    evidence_by_claim,
)

# Stored floats round-trip exactly on both backends; anything smaller than this is noise
# from summation order, not a change an editor should see in the history.
SCORE_TOLERANCE = 1e-12

# Called with the seconds each claim's rescoring took. The web edge installs its metric here
# (:func:`service.web.observability.init_app`): the use cases report without importing it.
rescoring_observers: list[Callable[[float], None]] = []


def claim_evidence(session: Session, claim_id: int) -> list[ReportEvidence]:
    """The claim's live (not retracted) reports, with their outlets, in one query."""
    return evidence_by_claim(session, [claim_id]).get(claim_id, [])


def latest_verdict(session: Session, claim_id: int) -> Verdict | None:
    return session.scalars(
        select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id.desc()).limit(1)
    ).first()


def explanation_json(score: ClaimScore) -> list[dict[str, Any]]:
    # A copy of each contribution's attributes (its fields, in their order) rather than
    # dataclasses.asdict, whose deep copy was a third of the bulk import's time; the fields
    # are flat but for the two tuples.
    return [
        {
            **vars(contribution),
            "members": list(contribution.members),
            "outlets": list(contribution.outlets),
        }
        for contribution in score.contributions
    ]


def score_changed(claim: Claim, score: ClaimScore) -> bool:
    """Whether ``score`` differs from the one stored on ``claim`` (beyond rounding noise):
    only then does the claim get a history row and a ``claim.score_changed`` event."""
    if claim.confidence is None or claim.model_version != score.model_version:
        return True
    pairs = (
        (claim.confidence, score.confidence),
        (claim.confidence_lower, score.lower),
        (claim.confidence_upper, score.upper),
    )
    return any(abs(old - new) > SCORE_TOLERANCE for old, new in pairs) or claim.label != score.label


def score_for_storage(
    reports: list[ReportEvidence], params: ModelParameters, verdict: bool | None
) -> tuple[ClaimScore, list[dict[str, Any]] | None]:
    """A claim's score and its ``what_would_change`` column: the hypothetical reports that
    would move an open claim's confidence most (:func:`scoring.what_if.what_would_change`),
    ``None`` for a resolved claim, whose verdict no report changes."""
    score, changes = score_with_changes(reports, params, verdict)
    return score, None if changes is None else [change.to_json() for change in changes]


def scores_for_storage(
    claims: dict[str, list[ReportEvidence]],
    params: ModelParameters,
    verdicts: dict[str, bool | None],
) -> dict[str, tuple[ClaimScore, list[dict[str, Any]] | None]]:
    """:func:`score_for_storage` of many claims by key, scored together (the bulk import's
    batches: :func:`scoring.what_if.score_many_with_changes`, equal to scoring each alone)."""
    return {
        key: (score, None if changes is None else [change.to_json() for change in changes])
        for key, (score, changes) in score_many_with_changes(claims, params, verdicts).items()
    }


def score_columns(
    score: ClaimScore, now: datetime, what_would_change: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The claim columns a score is stored in (``updated_at`` too, only if it changed),
    with what would change it (:func:`score_for_storage`)."""
    return {
        "confidence": score.confidence,
        "confidence_lower": score.lower,
        "confidence_upper": score.upper,
        "log_odds": score.log_odds,
        "prior_log_odds": score.prior_log_odds,
        "label": score.label,
        "grade": score.grade,
        "n_reports": score.n_reports,
        "n_clusters": score.n_clusters,
        "explanation": explanation_json(score),
        "what_would_change": what_would_change,
        "model_version": score.model_version,
        "scored_at": now,
    }


def history_row(claim_id: int, score: ClaimScore, cause: str, now: datetime) -> dict[str, Any]:
    """The score history row of a changed score."""
    return {
        "claim_id": claim_id,
        "recorded_at": now,
        "confidence": score.confidence,
        "confidence_lower": score.lower,
        "confidence_upper": score.upper,
        "label": score.label,
        "model_version": score.model_version,
        "cause": cause,
    }


def store_score(
    session: Session,
    claim: Claim,
    score: ClaimScore,
    cause: str,
    what_would_change: list[dict[str, Any]] | None,
    now: datetime | None = None,
) -> bool:
    """Write ``score`` and what would change it on ``claim``; only if the score changed,
    append to its history and emit ``claim.score_changed`` (both in the caller's
    transaction)."""
    now = now or utcnow()
    changed = score_changed(claim, score)
    previous_confidence, previous_label = claim.confidence, claim.label
    for name, value in score_columns(score, now, what_would_change).items():
        setattr(claim, name, value)
    if changed:
        claim.updated_at = now
        session.add(ScoreHistory(**history_row(claim.id, score, cause, now)))
        emit_score_changed(session, claim, previous_confidence, previous_label, cause)
    return changed


def rescore_claim(
    session: Session, claim: Claim, params: ModelParameters, cause: str
) -> ClaimScore:
    """Recompute and store one claim's score from what the session holds now."""
    return rescore_claims(session, [claim], params, cause)[claim.id]


def rescore_claims(
    session: Session, claims: Iterable[Claim], params: ModelParameters, cause: str
) -> dict[int, ClaimScore]:
    """Recompute and store several claims' scores, reading their reports and verdicts in
    one query each (not one per claim); returns the scores by claim id."""
    started = time.perf_counter()
    session.flush()
    claims = list(claims)
    ids = [claim.id for claim in claims]
    evidence, verdicts = evidence_and_verdicts(session, ids)
    # Each claim's share of the two queries, plus its own scoring and storing.
    shared = (time.perf_counter() - started) / max(len(claims), 1)
    scores = {}
    for claim in claims:
        own = time.perf_counter()
        score, changes = score_for_storage(
            evidence.get(claim.id, []), params, verdicts.get(claim.id)
        )
        store_score(session, claim, score, cause, changes)
        scores[claim.id] = score
        for observe in rescoring_observers:
            observe(shared + time.perf_counter() - own)
    return scores


def lock_claims(session: Session, claim_ids: Iterable[int]) -> list[Claim]:
    """Row locks on the claims, in id order so concurrent writers cannot deadlock.

    Two requests adding reports to one claim would otherwise each score the claim without
    the other's report and the later commit would store a stale score (a lost update).
    """
    ids = sorted(set(claim_ids))
    if not ids:
        return []
    # FOR NO KEY UPDATE, not FOR UPDATE: a writer has usually inserted its report (or
    # verdict) before locking, and that insert holds FOR KEY SHARE on the claim through the
    # foreign key. FOR UPDATE conflicts with another writer's KEY SHARE, so two writers to
    # one claim deadlocked; NO KEY UPDATE still excludes every other writer of the claim.
    # populate_existing: a claim the session read before the lock (to find it, say) is
    # refreshed from the locked row, not left as it was before another writer committed.
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.id.in_(ids))
            .order_by(Claim.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()
    )
