"""A resolved claim as a schema.org ClaimReview, the markup fact-checkers publish.

A ClaimReview states a fact-checker's *verdict*; the service's confidence is a model's
estimate, not a review. So only resolved claims have one, and the rating comes from the
verdict:

================  ===========  =============  ===========================================
verdict           ratingValue  alternateName  scale
================  ===========  =============  ===========================================
resolved true     5            "True"         worstRating 1 (false) … bestRating 5 (true)
resolved false    1            "False"
================  ===========  =============  ===========================================

The 1–5 scale is the one most fact-checkers publish; verdicts here are binary, so only its
ends are used. The model's estimate is not lost: ``ratingExplanation`` gives its ICD 203
verbal label ("likely"…), confidence and 90 % interval (a verdict does not change the
estimate, see :func:`scoring.engine.score_claim`), so a reader sees what the reports said
next to what the fact-checker found. An open claim has no ClaimReview (the API
answers 409): publishing "likely" as a rating would present an estimate as a fact-check.

The claim's appearances are its live (not retracted) reports, earliest first, each a
NewsArticle (a SocialMediaPosting for social accounts) published by its outlet; the first
report that supports the claim is its first appearance, and its outlet the claim's author.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Claim, Report, Verdict
from scoring.attribution import ATTRIBUTION_PRIORS
from service.newsroom.wording import count_of

SCHEMA_ORG = "https://schema.org"
BEST_RATING, WORST_RATING = 5, 1
RATING_OF_VERDICT = {True: (BEST_RATING, "True"), False: (WORST_RATING, "False")}
SOCIAL_KINDS = ("social_account",)
STANCE_PHRASES = {
    "supports": "carries the claim",
    "denies": "carries a denial of the claim",
    "neutral": "mentions the claim without taking a side",
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _published(report: Report) -> datetime:
    return report.published_at or report.created_at


def _organization(name: str, url: str | None = None) -> dict[str, Any]:
    organization: dict[str, Any] = {"type": "Organization", "name": name}
    if url:
        organization["url"] = url
    return organization


def _appearance(report: Report) -> dict[str, Any]:
    """One report as the creative work in which the claim appears."""
    attribution = ATTRIBUTION_PRIORS.get(report.attribution)
    phrase = attribution.phrase if attribution else report.attribution.replace("_", " ")
    work: dict[str, Any] = {
        "type": "SocialMediaPosting" if report.outlet.kind in SOCIAL_KINDS else "NewsArticle",
        "identifier": report.key,
        "datePublished": _iso(_published(report)),
        "publisher": _organization(report.outlet.name),
        "description": f"{report.outlet.name} {STANCE_PHRASES[report.stance]} ({phrase})",
    }
    if report.url:
        work["url"] = report.url
    if report.cites is not None:
        work["isBasedOn"] = {"type": "NewsArticle", "identifier": report.cites.key}
    return work


def rating_explanation(claim: Claim, verdict: Verdict) -> str:
    found = "true" if verdict.verdict else "false"
    estimate = (
        f"The reports alone make it {claim.label} "
        f"({claim.confidence:.0%}, 90% interval {claim.confidence_lower:.0%}"
        f"–{claim.confidence_upper:.0%}, {count_of(claim.n_reports, 'report')} in "
        f"{count_of(claim.n_clusters, 'independent provenance cluster')})."
        if claim.confidence is not None
        else "The claim had no scored reports."
    )
    return f"A fact-checker resolved this claim {found}. {estimate}"


def claim_review(
    claim: Claim,
    reports: Sequence[Report],
    verdict: Verdict,
    *,
    url: str,
    publisher_name: str,
    publisher_url: str,
) -> dict[str, Any]:
    """The ClaimReview of a resolved claim, keyed as :class:`ClaimReviewSchema` dumps it.

    ``reports`` are the claim's reports with their outlets and cited reports loaded;
    retracted ones are left out. ``url`` is the absolute address of the claim's page.
    """
    live = sorted(
        (r for r in reports if r.retracted_at is None), key=lambda r: (_published(r), r.id)
    )
    first = next((r for r in live if r.stance == "supports"), live[0] if live else None)
    rating_value, rating_name = RATING_OF_VERDICT[verdict.verdict]
    item: dict[str, Any] = {
        "type": "Claim",
        "appearance": [_appearance(report) for report in live],
    }
    if first is not None:
        item["author"] = _organization(first.outlet.name)
        item["datePublished"] = _iso(_published(first))
        item["firstAppearance"] = _appearance(first)
    review: dict[str, Any] = {
        "context": SCHEMA_ORG,
        "type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.text,
        "datePublished": _iso(verdict.resolved_at),
        "author": _organization(publisher_name, publisher_url),
        "reviewRating": {
            "type": "Rating",
            "ratingValue": rating_value,
            "bestRating": BEST_RATING,
            "worstRating": WORST_RATING,
            "alternateName": rating_name,
            "ratingExplanation": rating_explanation(claim, verdict),
        },
        "itemReviewed": item,
    }
    if verdict.note:
        review["reviewBody"] = verdict.note
    return review


def review_inputs(session: Session, claim_id: int) -> tuple[list[Report], Verdict | None]:
    """What :func:`claim_review` needs besides the claim: its reports and latest verdict."""
    reports = session.scalars(
        select(Report)
        .where(Report.claim_id == claim_id)
        .options(joinedload(Report.outlet), joinedload(Report.cites))
        .order_by(Report.id)
    ).all()
    verdict = session.scalars(
        select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id.desc()).limit(1)
    ).first()
    return list(reports), verdict
