"""/reports: the editorial tools' main call, one report or a batch, and retractions."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from models import Claim, Report
from scoring.interchange import RecordError
from service.newsroom.editorial import get_or_404, record_reports, retract_report
from service.newsroom.keys import scope_allows
from service.newsroom.recording import UnknownOutlet
from service.web.api.common import Blueprint, read_operation, write_operation
from service.web.api.presenters import report_view, score_view
from service.web.api.schemas import (
    BatchInSchema,
    BatchOutSchema,
    RecordedReportSchema,
    ReportInSchema,
    ReportSchema,
    RetractionArgs,
    ScoreSchema,
)
from service.web.auth import current_caller
from service.web.database import request_uow
from service.web.errors import Unprocessable
from service.web.observability import count_reports_after_commit

blp = Blueprint("reports", __name__, description="Reports of claims")


def _unknown_outlet(error: UnknownOutlet, batch: bool) -> Unprocessable:
    """422 with the closest known outlets as an extension member ``suggestions``."""
    messages = {"outlet": [error.message]}
    errors = {"json": {"reports": {str(error.line): messages}} if batch else messages}
    detail = f"Report {error.line}: {error.message}" if batch else error.message
    return Unprocessable(
        detail,
        errors=errors,
        extensions={"suggestions": [vars(s) for s in error.suggestions]},
    )


def _record(bodies):
    caller = current_caller()
    recorded = record_reports(
        request_uow().session,
        bodies,
        caller,
        similarity_threshold=current_app.config["SIMILARITY_WARNING_THRESHOLD"],
        can_resolve=caller.scope is not None and scope_allows(caller.scope, "verdict"),
    )
    count_reports_after_commit(len(recorded.reports))
    return recorded


@blp.route("/reports")
class Reports(MethodView):
    @write_operation("write")
    @blp.arguments(ReportInSchema)
    @blp.response(201, RecordedReportSchema)
    @blp.alt_response(
        200,
        schema=RecordedReportSchema,
        description="Nothing was created: the report was stored already (by its report_key, "
        "or as the same report sent again: duplicate_of names it)",
    )
    def post(self, body):
        """Record one report of a claim; the claim is found or created, and its score is
        recomputed in the same transaction. One interchange-format line is a valid body.
        The same report sent again is answered with the stored one (200), counted once."""
        try:
            recorded = _record([body])
        except UnknownOutlet as error:
            raise _unknown_outlet(error, batch=False) from None
        except RecordError as error:
            raise Unprocessable(
                error.message, errors={"json": {error.field or "_schema": [error.message]}}
            ) from None
        (report,) = recorded.reports
        (outcome,) = recorded.outcomes
        claim = recorded.claims[report.claim_id]
        body = {
            "report": report_view(report),
            "outcome": outcome,
            "duplicate_of": report.id if outcome == "duplicate" else None,
            "claim_id": claim.id,
            "score": score_view(claim),
            "warnings": [vars(w) for w in recorded.warnings],
        }
        status = 201 if recorded.created else 200
        return body, status, {"Location": f"/api/v1/reports/{report.id}"}


@blp.route("/reports:batch")
class ReportBatch(MethodView):
    @write_operation("write")
    @blp.arguments(BatchInSchema)
    @blp.response(201, BatchOutSchema)
    @blp.alt_response(200, schema=BatchOutSchema, description="No report was created")
    def post(self, body):
        """Record up to 1,000 reports, all or nothing; a refusal names each failing item."""
        try:
            recorded = _record(body["reports"])
        except UnknownOutlet as error:
            raise _unknown_outlet(error, batch=True) from None
        except RecordError as error:
            raise Unprocessable(
                f"Report {error.line}: {error.message}. Nothing was recorded.",
                errors={
                    "json": {
                        "reports": {str(error.line): {error.field or "_schema": [error.message]}}
                    }
                },
            ) from None
        claims = [recorded.claims[claim_id] for claim_id in sorted(recorded.scores)]
        body = {
            "reports": [report_view(report) for report in recorded.reports],
            "outcomes": recorded.outcomes,
            "scores": [score_view(claim) for claim in claims],
            "warnings": [vars(w) for w in recorded.warnings],
        }
        return body, 201 if recorded.created else 200


@blp.route("/reports/<int:report_id>")
class ReportById(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, ReportSchema)
    def get(self, report_id):
        """One report."""
        session = request_uow().session
        get_or_404(session, Report, report_id, "report")
        report = session.scalars(
            select(Report)
            .where(Report.id == report_id)
            .options(joinedload(Report.outlet), joinedload(Report.cites))
        ).one()
        return report_view(report)

    @write_operation("write", idempotent=False)
    @blp.arguments(RetractionArgs, location="query")
    @blp.response(200, ScoreSchema)
    def delete(self, args, report_id):
        """Retract a report: it stays on record, marked, and stops counting; the claim is
        rescored and its history says why. Answers with the new score."""
        session = request_uow().session
        retract_report(session, report_id, args["reason"], current_caller())
        report = session.get(Report, report_id)
        return score_view(session.get(Claim, report.claim_id))
