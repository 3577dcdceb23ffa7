"""Stored reports as plain rows: the one joined query, and what its rows are read into.

A report is read with its claim, its outlet and the report it cites (an outer join, on
:data:`CITED`) by :func:`stored_reports`; every reader builds on it: scoring (a claim's
live reports as :class:`~scoring.evidence.ReportEvidence`, :func:`evidence_by_claim`),
export and learning (:func:`export_records`, as :class:`~scoring.interchange.InterchangeRecord`),
the bulk import (its batch's stored keys) and the backup (every report). Plain rows, not
ORM objects: building an object for each report, its outlet and its citation was most of
a rescore's cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from models import Claim, Outlet, Report, Verdict
from scoring.evidence import ReportEvidence
from scoring.interchange import InterchangeRecord

# The report a report cites.
CITED = aliased(Report, name="cited")

# What the joins add to a report's own columns, by name.
JOINED_COLUMNS = (
    Claim.key.label("claim_key"),
    Claim.text.label("claim_text"),
    Claim.story.label("claim_story"),
    Outlet.name.label("outlet_name"),
    CITED.key.label("cites_key"),
)

# The columns of a ReportEvidence, in the order of its fields.
EVIDENCE_COLUMNS = (
    Report.key,
    Outlet.name,
    Report.stance,
    Report.attribution,
    Report.source,
    Report.interested_party,
    CITED.key,
    Outlet.prior_reliability,
    Outlet.kind,
    Report.published_at,
    Report.cites_inferred,
    Claim.story,
    Report.quote,
)


def stored_reports(*columns: Any) -> Select:
    """``SELECT columns`` of reports joined to their claim and outlet and (outer) to the
    report they cite (:data:`CITED`); the caller adds the condition and the order.
    Without ``columns``: every column of the report and :data:`JOINED_COLUMNS`."""
    return (
        select(*(columns or (Report.__table__, *JOINED_COLUMNS)))
        .select_from(Report)
        .join(Claim, Report.claim_id == Claim.id)
        .join(Outlet, Report.outlet_id == Outlet.id)
        .outerjoin(CITED, Report.cites_id == CITED.id)
    )


def record_from_row(row: Any, verdict: bool | None) -> InterchangeRecord:
    """The interchange record of a row of :func:`stored_reports` (its claim's verdict is
    read apart: a claim has one for all its reports)."""
    return InterchangeRecord(
        claim_key=row.claim_key,
        claim=row.claim_text,
        outlet=row.outlet_name,
        stance=row.stance,
        verdict=verdict,
        report_key=row.key,
        attribution=row.attribution,
        source=row.source,
        interested_party=row.interested_party,
        cites=row.cites_key,
        published_at=row.published_at,
        url=row.url,
        quote=row.quote,
        independent=row.independent,
        cites_inferred=row.cites_inferred,
        retracted_at=row.retracted_at,
        retraction_reason=row.retraction_reason,
        story=row.claim_story,
    )


@cache
def _evidence_statement() -> Select:
    # Built once: constructing a select with an alias and joins costs more Python than
    # running it (the compiled form is cached by SQLAlchemy, the statement object is not).
    return (
        stored_reports(Report.claim_id, *EVIDENCE_COLUMNS)
        .where(
            Report.claim_id.in_(bindparam("claim_ids", expanding=True)),
            Report.retracted_at.is_(None),
        )
        .order_by(Report.claim_id, Report.id)
    )


@cache
def _verdicts_statement() -> Select:
    return (
        select(Verdict.claim_id, Verdict.verdict)
        .where(Verdict.claim_id.in_(bindparam("claim_ids", expanding=True)))
        .order_by(Verdict.id)
    )


def evidence_by_claim(
    session: Session, claim_ids: Iterable[int]
) -> dict[int, list[ReportEvidence]]:
    """Live reports of several claims in one query, by claim id, each in report id order.

    Only the columns the scorer reads, as plain rows: building ORM objects for each report,
    its outlet and the report it cites was most of a rescore's cost."""
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    evidence: dict[int, list[ReportEvidence]] = {}
    for claim_id, *columns in session.execute(_evidence_statement(), {"claim_ids": ids}):
        evidence.setdefault(claim_id, []).append(ReportEvidence(*columns))
    return evidence


@cache
def _evidence_and_verdict_statement() -> Select:
    # The claim's latest verdict rides on each of its reports' rows: one round trip, not
    # two, for the write that rescores a claim (an index lookup per row on verdicts).
    latest = (
        select(Verdict.verdict)
        .where(Verdict.claim_id == Report.claim_id)
        .order_by(Verdict.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        stored_reports(Report.claim_id, latest, *EVIDENCE_COLUMNS)
        .where(
            Report.claim_id.in_(bindparam("claim_ids", expanding=True)),
            Report.retracted_at.is_(None),
        )
        .order_by(Report.claim_id, Report.id)
    )


def evidence_and_verdicts(
    session: Session, claim_ids: Iterable[int]
) -> tuple[dict[int, list[ReportEvidence]], dict[int, bool]]:
    """:func:`evidence_by_claim` and :func:`latest_verdicts` together: one query for the
    claims with a live report, a second only for those without one."""
    ids = sorted(set(claim_ids))
    evidence: dict[int, list[ReportEvidence]] = {}
    verdicts: dict[int, bool] = {}
    if not ids:
        return evidence, verdicts
    statement = _evidence_and_verdict_statement()
    for claim_id, verdict, *columns in session.execute(statement, {"claim_ids": ids}):
        evidence.setdefault(claim_id, []).append(ReportEvidence(*columns))
        if verdict is not None:
            verdicts[claim_id] = verdict
    verdicts.update(latest_verdicts(session, [i for i in ids if i not in evidence]))
    return evidence, verdicts


def latest_verdicts(session: Session, claim_ids: Iterable[int]) -> dict[int, bool]:
    """Each claim's latest verdict (claims without one are left out), in one query."""
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    rows = session.execute(_verdicts_statement(), {"claim_ids": ids})
    return {claim_id: verdict for claim_id, verdict in rows}


def export_records(
    session: Session, chunk: int = 1000, *, retracted: bool = False
) -> Iterator[InterchangeRecord]:
    """Every live report as an interchange record, read in chunks by id (keyset paging);
    with ``retracted``, retracted reports too, with their retraction (``srs export``: an
    echo may cite one, and ``srs import`` stores it retracted)."""
    last_id = 0
    live = () if retracted else (Report.retracted_at.is_(None),)
    while True:
        rows = session.execute(
            stored_reports().where(Report.id > last_id, *live).order_by(Report.id).limit(chunk)
        ).all()
        if not rows:
            return
        verdicts = latest_verdicts(session, {row.claim_id for row in rows})
        for row in rows:
            yield record_from_row(row, verdicts.get(row.claim_id))
        last_id = rows[-1].id
