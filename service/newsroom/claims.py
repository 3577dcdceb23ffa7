"""Claim queries the API and the dashboard share: the filtered, sorted list of claims, the
confidence change over 24 hours beside each, and words matched literally with LIKE."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Claim, Outlet, Report, ScoreHistory
from models.base import utcnow


def escape_like(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (used with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def change_24h_column():
    """Confidence now minus confidence 24 h ago (or at the claim's first score)."""
    day_ago = utcnow() - timedelta(hours=24)
    before = (
        select(ScoreHistory.confidence)
        .where(ScoreHistory.claim_id == Claim.id, ScoreHistory.recorded_at <= day_ago)
        .order_by(ScoreHistory.recorded_at.desc(), ScoreHistory.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first = (
        select(ScoreHistory.confidence)
        .where(ScoreHistory.claim_id == Claim.id)
        .order_by(ScoreHistory.recorded_at, ScoreHistory.id)
        .limit(1)
        .scalar_subquery()
    )
    return (Claim.confidence - func.coalesce(before, first)).label("change_24h")


def filtered_claims(args):
    """(claim, change over 24 h) rows for ClaimListArgs; the dashboard's board uses it too."""
    change = change_24h_column()
    statement = select(Claim, change)
    if "status" in args:
        statement = statement.where(Claim.status == args["status"])
    if "min_confidence" in args:
        statement = statement.where(Claim.confidence >= args["min_confidence"])
    if "max_confidence" in args:
        statement = statement.where(Claim.confidence <= args["max_confidence"])
    if "updated_since" in args:
        statement = statement.where(Claim.updated_at >= args["updated_since"])
    if "outlet" in args:
        outlet = args["outlet"]
        if isinstance(outlet, str):  # a slug
            outlet = select(Outlet.id).where(Outlet.slug == outlet).scalar_subquery()
        reported = select(Report.claim_id).where(
            Report.outlet_id == outlet, Report.retracted_at.is_(None)
        )
        statement = statement.where(Claim.id.in_(reported))
    if "story" in args:
        statement = statement.where(Claim.story == args["story"])
    if "q" in args:
        for word in args["q"].split()[:10]:
            statement = statement.where(Claim.text.ilike(f"%{escape_like(word)}%", escape="\\"))
    sort = args.get("sort", "-updated")
    column = {
        "confidence": Claim.confidence,
        "change": change,
        "updated": Claim.updated_at,
        "id": Claim.id,
    }[sort.lstrip("-")]
    ordering = column.desc() if sort.startswith("-") else column.asc()
    return statement.order_by(ordering.nulls_last(), Claim.id)
