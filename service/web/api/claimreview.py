"""/claims/{id}/claimreview and /claimreview: resolved claims as schema.org ClaimReview.

Served as ``application/ld+json``. The rating scale and why open claims have none are
explained in :mod:`service.newsroom.claimreview`.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

import marshmallow as ma
from flask import current_app, request, url_for
from flask.views import MethodView
from sqlalchemy import func, select

from models import Claim, Verdict
from service.newsroom.claimreview import (
    BEST_RATING,
    SCHEMA_ORG,
    WORST_RATING,
    claim_review,
    review_inputs,
)
from service.newsroom.editorial import get_or_404
from service.web.api.common import Blueprint, PagedSelect, paginate, read_operation
from service.web.database import request_uow
from service.web.errors import PROBLEM_MEDIA_TYPE, Conflict, ProblemSchema

LD_JSON = "application/ld+json"

blp = Blueprint(
    "claimreview",
    __name__,
    description="Resolved claims as schema.org ClaimReview (JSON-LD)",
)

Str = ma.fields.String
Int = ma.fields.Integer
Nested = ma.fields.Nested


def _type(*names: str) -> ma.fields.String:
    return Str(data_key="@type", required=True, metadata={"enum": list(names)})


class OrganizationLD(ma.Schema):
    type = _type("Organization")
    name = Str(required=True, metadata={"example": "Reuters"})
    url = Str(metadata={"format": "uri"})


class CitedWorkLD(ma.Schema):
    type = _type("NewsArticle")
    identifier = Str(metadata={"description": "The report key of the repeated report"})


class AppearanceLD(ma.Schema):
    type = _type("NewsArticle", "SocialMediaPosting")
    identifier = Str(metadata={"description": "The report's key"})
    url = Str(metadata={"format": "uri", "description": "Where the report was published"})
    datePublished = ma.fields.String(metadata={"format": "date-time"})
    publisher = Nested(OrganizationLD)
    description = Str(metadata={"example": "Kan carries the claim (an anonymous source)"})
    isBasedOn = Nested(CitedWorkLD, metadata={"description": "The report this one repeats"})


class ClaimLD(ma.Schema):
    type = _type("Claim")
    author = Nested(OrganizationLD, metadata={"description": "Outlet of the first appearance"})
    datePublished = Str(metadata={"format": "date-time", "description": "First appearance"})
    firstAppearance = Nested(AppearanceLD)
    appearance = ma.fields.List(Nested(AppearanceLD))


class RatingLD(ma.Schema):
    type = _type("Rating")
    ratingValue = Int(required=True, metadata={"enum": [WORST_RATING, BEST_RATING]})
    bestRating = Int(required=True, metadata={"example": BEST_RATING})
    worstRating = Int(required=True, metadata={"example": WORST_RATING})
    alternateName = Str(required=True, metadata={"enum": ["True", "False"]})
    ratingExplanation = Str(metadata={"description": "The verdict and the model's estimate"})


class ClaimReviewSchema(ma.Schema):
    """A schema.org ClaimReview (https://schema.org/ClaimReview) of one resolved claim."""

    context = Str(data_key="@context", required=True, metadata={"enum": [SCHEMA_ORG]})
    type = _type("ClaimReview")
    url = Str(required=True, metadata={"format": "uri", "description": "The claim's page"})
    claimReviewed = Str(required=True)
    datePublished = Str(required=True, metadata={"format": "date-time"})
    author = Nested(OrganizationLD, required=True)
    reviewRating = Nested(RatingLD, required=True)
    reviewBody = Str(metadata={"description": "The fact-checker's note, when given"})
    itemReviewed = Nested(ClaimLD, required=True)


def linked_data(view):
    """Serve what flask-smorest rendered as JSON under the JSON-LD media type."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = view(*args, **kwargs)
        if response.status_code == 200:
            response.mimetype = LD_JSON
        return response

    return wrapper


def public_base() -> str:
    """Scheme and host for absolute links: ``SRS_PUBLIC_URL``, else how we were reached."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def review_of(session, claim: Claim) -> dict[str, Any] | None:
    """The claim's ClaimReview, or None while it is open."""
    if claim.status == "open":
        return None
    reports, verdict = review_inputs(session, claim.id)
    if verdict is None:
        return None
    base = public_base()
    return claim_review(
        claim,
        reports,
        verdict,
        url=base + url_for("dashboard.claim_page", claim_id=claim.id),
        publisher_name=current_app.config["PUBLISHER_NAME"],
        publisher_url=current_app.config.get("PUBLISHER_URL") or base + "/",
    )


@blp.route("/claims/<int:claim_id>/claimreview")
class ClaimReviewById(MethodView):
    @read_operation
    @blp.etag
    @linked_data
    @blp.response(200, ClaimReviewSchema, content_type=LD_JSON)
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        content_type=PROBLEM_MEDIA_TYPE,
        description="The claim is open: it has no verdict to publish",
    )
    def get(self, claim_id):
        """The claim's schema.org ClaimReview (JSON-LD), once a fact-checker resolved it.

        The rating is the verdict on a 1–5 scale (5 "True", 1 "False"); the model's verbal
        label and confidence are in `reviewRating.ratingExplanation`. An open claim answers
        409: its confidence is an estimate, not a review (see `/claims/{id}/score`)."""
        session = request_uow().session
        claim = get_or_404(session, Claim, claim_id, "claim")
        review = review_of(session, claim)
        if review is None:
            raise Conflict(
                f"Claim {claim_id} is open: a ClaimReview publishes a fact-checker's verdict, "
                f"and there is none yet. Its estimate is at /api/v1/claims/{claim_id}/score."
            )
        return review


@blp.route("/claimreview")
class ClaimReviewFeed(MethodView):
    @read_operation
    @blp.etag
    @linked_data
    @blp.response(200, ClaimReviewSchema(many=True), content_type=LD_JSON)
    @paginate(blp)
    def get(self):
        """Every resolved claim's ClaimReview, most recently resolved first (paginated)."""
        session = request_uow().session
        resolved_at = (
            select(func.max(Verdict.resolved_at))
            .where(Verdict.claim_id == Claim.id)
            .correlate(Claim)
            .scalar_subquery()
        )
        statement = (
            select(Claim)
            .where(Claim.status != "open", resolved_at.is_not(None))
            .order_by(resolved_at.desc(), Claim.id.desc())
        )
        return PagedSelect(session, statement, lambda claim: review_of(session, claim))
