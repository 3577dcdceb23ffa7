"""Rows to the dictionaries the response schemas dump."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from models import Claim, Outlet, Report
from scoring.attribution import OUTLET_KIND_PRIORS, reliability_letter
from scoring.evidence import ModelParameters
from service.newsroom.hypothetical import HypotheticalScore
from service.newsroom.rescoring import score_columns

VERDICT_OF_STATUS = {"open": None, "resolved_true": True, "resolved_false": False}


def claim_view(claim: Claim, change_24h: float | None = None) -> dict[str, Any]:
    return {
        "id": claim.id,
        "key": claim.key,
        "text": claim.text,
        "status": claim.status,
        "verdict": VERDICT_OF_STATUS[claim.status],
        "confidence": claim.confidence,
        "lower": claim.confidence_lower,
        "upper": claim.confidence_upper,
        "label": claim.label,
        "n_reports": claim.n_reports,
        "n_clusters": claim.n_clusters,
        "model_version": claim.model_version,
        "story": claim.story,
        "change_24h": change_24h,
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
    }


def score_view(claim: Claim) -> dict[str, Any]:
    """A claim's score document, from a Claim or a row of the claims table."""
    return {
        "claim_id": claim.id,
        "status": claim.status,
        "verdict": VERDICT_OF_STATUS[claim.status],
        "confidence": claim.confidence,
        "lower": claim.confidence_lower,
        "upper": claim.confidence_upper,
        "label": claim.label,
        "grade": claim.grade,
        "log_odds": claim.log_odds,
        "prior_log_odds": claim.prior_log_odds,
        "model_version": claim.model_version,
        "n_reports": claim.n_reports,
        "n_clusters": claim.n_clusters,
        "scored_at": claim.scored_at,
        "explanation": claim.explanation or [],
        "what_would_change": claim.what_would_change,
    }


def hypothetical_score_view(scored: HypotheticalScore) -> dict[str, Any]:
    """A claim's score with hypothetical reports, laid out as a stored score is (nothing of
    it is stored: the columns it would be stored in are read as the claim's)."""
    columns = score_columns(scored.score, now=None, what_would_change=None)
    as_stored = SimpleNamespace(id=scored.claim.id, status=scored.claim.status, **columns)
    current = scored.current.confidence
    return {
        **score_view(as_stored),
        "current_confidence": current,
        "change": scored.score.confidence - current,
        "hypothetical_reports": list(scored.keys),
    }


def report_view(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "key": report.key,
        "claim_id": report.claim_id,
        "outlet_id": report.outlet_id,
        "outlet": report.outlet.name,
        "stance": report.stance,
        "attribution": report.attribution,
        "source": report.source,
        "interested_party": report.interested_party,
        "cites": report.cites.key if report.cites is not None else None,
        "cites_id": report.cites_id,
        "cites_inferred": report.cites_inferred,
        "independent": report.independent,
        "published_at": report.published_at,
        "url": report.url,
        "quote": report.quote,
        "created_at": report.created_at,
        "retracted_at": report.retracted_at,
        "retraction_reason": report.retraction_reason,
    }


def outlet_view(outlet: Outlet, params: ModelParameters, n_reports: int | None = None):
    reliability = params.outlet_reliability.get(outlet.name)
    if reliability is None:
        reliability = outlet.learned_reliability or outlet.prior_reliability
    if reliability is None:  # unvetted, no record: scored as its kind
        reliability = params.kind_reliability.get(outlet.kind)
    if reliability is None:
        reliability = OUTLET_KIND_PRIORS[outlet.kind].reliability
    return {
        "id": outlet.id,
        "name": outlet.name,
        "slug": outlet.slug,
        "country": outlet.country,
        "kind": outlet.kind,
        "prior_reliability": outlet.prior_reliability,
        "prior_rationale": outlet.prior_rationale,
        "vetted": outlet.vetted,
        "learned_reliability": outlet.learned_reliability,
        "reliability": reliability,
        "grade": reliability_letter(reliability),
        "n_reports": n_reports,
        "created_at": outlet.created_at,
        "updated_at": outlet.updated_at,
    }
