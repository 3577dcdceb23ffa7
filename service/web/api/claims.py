"""/claims: what is being reported, its score, history, reports and verdict."""

from __future__ import annotations

from functools import cache

from flask import current_app
from flask.views import MethodView
from sqlalchemy import Select, bindparam, select

from models import Claim, Report, ScoreHistory
from service.newsroom.claims import change_24h_column, filtered_claims
from service.newsroom.editorial import create_claim, edit_claim, get_or_404, resolve_claim
from service.newsroom.hypothetical import score_with_hypothetical_reports
from service.newsroom.similarity import similar_claims
from service.web.api.common import (
    Blueprint,
    PagedSelect,
    paginate,
    read_operation,
    write_operation,
)
from service.web.api.presenters import (
    claim_view,
    hypothetical_score_view,
    report_view,
    score_view,
)
from service.web.api.schemas import (
    ClaimCreatedSchema,
    ClaimListArgs,
    ClaimPatchSchema,
    ClaimSchema,
    HistorySchema,
    ReportSchema,
    ScoreSchema,
    SimilarArgs,
    SimilarClaimSchema,
    VerdictSchema,
    WhatIfSchema,
    WhatIfScoreSchema,
)
from service.web.auth import current_caller
from service.web.database import request_uow
from service.web.errors import NotFound

blp = Blueprint("claims", __name__, description="Claims, their scores and verdicts")


@blp.route("/claims")
class Claims(MethodView):
    @read_operation
    @blp.etag
    @blp.arguments(ClaimListArgs, location="query")
    @blp.response(200, ClaimSchema(many=True))
    @paginate(blp)
    def get(self, args):
        """List claims: filter by status, confidence, outlet, story, update time or words; sort by
        confidence, change over 24 h or update time (prefix '-' for descending)."""
        session = request_uow().session
        return PagedSelect(session, filtered_claims(args), lambda row: claim_view(*row))

    @write_operation("write")
    @blp.arguments(ClaimSchema)
    @blp.response(201, ClaimCreatedSchema)
    def post(self, fields):
        """Create a claim before any report of it (its key defaults to a slug of its text).

        Answers with a warning naming an existing claim that reads much the same."""
        session = request_uow().session
        claim, warnings = create_claim(
            session,
            fields.get("key"),
            fields["text"],
            current_caller(),
            current_app.config["SIMILARITY_WARNING_THRESHOLD"],
            story=fields.get("story"),
        )
        body = {**claim_view(claim), "warnings": [vars(w) for w in warnings]}
        return body, {"Location": f"/api/v1/claims/{claim.id}"}


@blp.route("/claims/similar")
class SimilarClaims(MethodView):
    @read_operation
    @blp.arguments(SimilarArgs, location="query")
    @blp.response(200, SimilarClaimSchema(many=True))
    def get(self, args):
        """Stored claims that read like `text` (TF-IDF cosine), most similar first: only
        those scoring at least 0.3, so an unrelated text finds none."""
        found = similar_claims(request_uow().session, args["text"], args["k"])
        return [vars(claim) for claim in found]


@blp.route("/claims/<int:claim_id>")
class ClaimById(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, ClaimSchema)
    def get(self, claim_id):
        """One claim with its current confidence."""
        session = request_uow().session
        get_or_404(session, Claim, claim_id, "claim")
        return claim_view(
            *session.execute(select(Claim, change_24h_column()).where(Claim.id == claim_id)).one()
        )

    @write_operation("write", idempotent=False)
    @blp.etag
    @blp.arguments(ClaimPatchSchema)
    @blp.response(200, ClaimSchema)
    def patch(self, fields, claim_id):
        """Correct a claim's text or story (send If-Match with its ETag). A changed story
        rescores the claim."""
        session = request_uow().session
        get_or_404(session, Claim, claim_id, "claim")
        claim, change = session.execute(
            select(Claim, change_24h_column()).where(Claim.id == claim_id)
        ).one()
        blp.check_etag(claim_view(claim, change), ClaimSchema)
        edit_claim(session, claim, fields, current_caller())
        if "story" in fields:  # rescored: the 24-hour change is read again
            session.flush()
            change = session.scalar(select(change_24h_column()).where(Claim.id == claim_id))
        return claim_view(claim, change)


@blp.route("/claims/<int:claim_id>/score")
class ClaimScore(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, ScoreSchema)
    def get(self, claim_id):
        """Confidence, interval, label, grade, model version and the explanation: each
        provenance cluster's contribution and the reason for it."""
        # The claim as one plain row, not a Claim loaded into the session (the most frequent
        # read), rendered from the score the write stored: nothing recomputed.
        row = request_uow().session.execute(_stored_score(), {"claim_id": claim_id}).first()
        if row is None:
            raise NotFound(f"No claim with id {claim_id}.")
        return score_view(row)


@cache
def _stored_score() -> Select:
    """One claim's columns (what :func:`score_view` renders), built once."""
    return select(*Claim.__table__.columns).where(Claim.id == bindparam("claim_id"))


@blp.route("/claims/<int:claim_id>/what-if")
class ClaimWhatIf(MethodView):
    @read_operation
    @blp.arguments(WhatIfSchema)
    @blp.response(200, WhatIfScoreSchema)
    def post(self, body, claim_id):
        """The score the claim would have with these hypothetical reports added (at most
        20), with its explanation, from the active model. Nothing is stored: a read, with
        the read scope."""
        session = request_uow().session
        return hypothetical_score_view(
            score_with_hypothetical_reports(session, claim_id, body["reports"])
        )


@blp.route("/claims/<int:claim_id>/history")
class ClaimHistory(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, HistorySchema(many=True))
    @paginate(blp)
    def get(self, claim_id):
        """Every change of the claim's score, oldest first, with its cause."""
        session = request_uow().session
        get_or_404(session, Claim, claim_id, "claim")
        statement = (
            select(ScoreHistory)
            .where(ScoreHistory.claim_id == claim_id)
            .order_by(ScoreHistory.recorded_at, ScoreHistory.id)
        )
        return PagedSelect(
            session,
            statement,
            lambda row: {
                "recorded_at": row.recorded_at,
                "confidence": row.confidence,
                "lower": row.confidence_lower,
                "upper": row.confidence_upper,
                "label": row.label,
                "model_version": row.model_version,
                "cause": row.cause,
            },
        )


@blp.route("/claims/<int:claim_id>/reports")
class ClaimReports(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, ReportSchema(many=True))
    @paginate(blp)
    def get(self, claim_id):
        """The claim's reports, retracted ones included (marked), in recording order."""
        from sqlalchemy.orm import joinedload

        session = request_uow().session
        get_or_404(session, Claim, claim_id, "claim")
        statement = (
            select(Report)
            .where(Report.claim_id == claim_id)
            .options(joinedload(Report.outlet), joinedload(Report.cites))
            .order_by(Report.id)
        )
        return PagedSelect(session, statement, report_view)


@blp.route("/claims/<int:claim_id>/verdict")
class ClaimVerdict(MethodView):
    @write_operation("verdict")
    @blp.arguments(VerdictSchema)
    @blp.response(200, ScoreSchema)
    def post(self, fields, claim_id):
        """Resolve the claim true or false (verdict scope). The verdict teaches the model."""
        session = request_uow().session
        resolve_claim(
            session,
            claim_id,
            fields["verdict"],
            fields["note"],
            current_caller(),
            replaces_verdict=fields["replaces_verdict"],
        )
        return score_view(session.get(Claim, claim_id))
