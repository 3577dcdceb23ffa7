"""The transactional outbox: events written in the transaction that caused them.

A use case calls one of the ``emit_*`` functions while it changes the data; the event is
queued on the session. Just before that session commits, the queued events are inserted
into ``outbox_events`` together with one ``deliveries`` row for every active subscription
whose filter matches, so the change, its events and the deliveries owed for them commit
or roll back together: a rolled-back write leaves no event, a committed one cannot lose
its notifications.

Event ids are a safe cursor (``id > last seen``) for the event stream: on PostgreSQL the
insert and the commit happen under a transaction-scoped advisory lock, so events commit
in id order and a reader never sees id 11 before id 10 becomes visible. The lock is taken
after every row lock of the transaction, at commit, so it cannot deadlock with them, and is
held only for the insert and the commit. SQLite serializes writers by itself.

The event contract (what webhooks receive and the event stream sends)::

    {"id": 42, "type": "claim.score_changed", "occurred_at": "2024-11-18T10:00:00+00:00",
     "claim_id": 7, "data": {...}}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, event, exists, func, insert, select, text
from sqlalchemy.orm import Session

from models import Claim, Delivery, OutboxEvent, Report, Subscription
from models.base import utcnow
from models.copying import copy_rows, reserve_ids
from service.delivery.events import (
    CLAIM_CREATED,
    CLAIM_RESOLVED,
    CLAIM_SCORE_CHANGED,
    EVENT_TYPES,
    IMPORT_BATCH_RECORDED,
    MODEL_ACTIVATED,
    REPORT_RECORDED,
    REPORT_RETRACTED,
    filter_matches,
    needs_claim_outlets,
)

_PENDING = "srs.outbox.pending"
# From this many events a transaction on, PostgreSQL gets them by COPY (an import batch's);
# below it one INSERT … RETURNING is one round trip fewer (an API write's few events).
COPY_EVENTS = 100
# pg_advisory_xact_lock key of the outbox ("SRSO"); any constant no other code uses.
OUTBOX_LOCK_KEY = 0x5352534F


@dataclass(frozen=True)
class PendingEvent:
    type: str
    claim_id: int | None
    data: dict[str, Any]
    occurred_at: datetime


def emit(session: Session, event_type: str, claim_id: int | None, data: dict[str, Any]) -> None:
    """Queue an event; it is written when (and only if) ``session`` commits."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    pending = session.info.setdefault(_PENDING, [])
    pending.append(PendingEvent(event_type, claim_id, data, utcnow()))


# -- the events, one function each, so each payload has one shape ---------------------------
def emit_claim_created(session: Session, claim: Claim) -> None:
    emit(session, CLAIM_CREATED, claim.id, {"key": claim.key, "text": claim.text})


def emit_report_recorded(session: Session, report: Report) -> None:
    outlet = report.outlet
    emit(
        session,
        REPORT_RECORDED,
        report.claim_id,
        {
            "report_id": report.id,
            "report_key": report.key,
            "outlet_id": outlet.id,
            "outlet": outlet.name,
            "outlet_slug": outlet.slug,
            "stance": report.stance,
            "attribution": report.attribution,
            "cites_report_id": report.cites_id,
            "url": report.url,
        },
    )


def emit_import_batch_recorded(
    session: Session,
    first_line: int,
    last_line: int,
    counts: dict[str, int],
    claim_ids: Iterable[int],
    outlet_ids: Iterable[int],
) -> None:
    """One batch of an ``srs import`` stored: in place of a ``report.recorded`` event per
    report (a million of them for a large file were most of the outbox's cost), the lines
    it covered, what it stored (``counts``), the claims whose reports or verdicts it
    changed and the outlets of the reports it created."""
    emit(
        session,
        IMPORT_BATCH_RECORDED,
        None,
        {
            "first_line": first_line,
            "last_line": last_line,
            **counts,
            "claim_ids": sorted(claim_ids),
            "outlet_ids": sorted(outlet_ids),
        },
    )


def emit_report_retracted(session: Session, report: Report, reason: str) -> None:
    outlet = report.outlet
    emit(
        session,
        REPORT_RETRACTED,
        report.claim_id,
        {
            "report_id": report.id,
            "report_key": report.key,
            "outlet_id": outlet.id,
            "outlet": outlet.name,
            "outlet_slug": outlet.slug,
            "reason": reason,
        },
    )


def emit_score_changed(
    session: Session,
    claim: Claim,
    previous_confidence: float | None,
    previous_label: str | None,
    cause: str,
) -> None:
    """After ``claim``'s stored score changed (call it with the new values in place)."""
    emit(
        session,
        CLAIM_SCORE_CHANGED,
        claim.id,
        {
            "confidence": claim.confidence,
            "previous_confidence": previous_confidence,
            "lower": claim.confidence_lower,
            "upper": claim.confidence_upper,
            "label": claim.label,
            "previous_label": previous_label,
            "grade": claim.grade,
            "status": claim.status,
            "n_reports": claim.n_reports,
            "n_clusters": claim.n_clusters,
            "model_version": claim.model_version,
            "cause": cause,
        },
    )


def emit_claim_resolved(
    session: Session,
    claim: Claim,
    verdict: bool,
    confidence: float | None,
    note: str,
    resolved_by: str,
) -> None:
    """A verdict; ``confidence`` is the model's estimate when the verdict came in."""
    emit(
        session,
        CLAIM_RESOLVED,
        claim.id,
        {
            "verdict": verdict,
            "confidence": confidence,
            "status": claim.status,
            "note": note,
            "resolved_by": resolved_by,
        },
    )


def emit_model_activated(session: Session, version: str, previous_version: str | None) -> None:
    emit(session, MODEL_ACTIVATED, None, {"version": version, "previous": previous_version})


# -- writing at commit -----------------------------------------------------------------------
@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        write_events(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending_events(session: Session, transaction) -> None:
    # Events queued in a transaction that rolled back (or closed) never happened.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def write_events(session: Session, pending: list[PendingEvent]) -> list[SimpleNamespace]:
    """Insert ``pending`` and the deliveries they owe; called inside the committing transaction.

    One multi-row INSERT, not an ORM object per event: a bulk import queues thousands of
    events a batch, and building and flushing them one by one was half its time; on
    PostgreSQL, from :data:`COPY_EVENTS` events on, ids drawn first and the rows copied."""
    session.flush()  # the rows the events name (claims) go first
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK_KEY})
    values = [
        {"type": e.type, "claim_id": e.claim_id, "payload": e.data, "occurred_at": e.occurred_at}
        for e in pending
    ]
    table = OutboxEvent.__table__
    if postgres and len(values) >= COPY_EVENTS:
        # Under the lock, so the ids drawn are still in commit order.
        ids = reserve_ids(session, table, len(values))
        copy_rows(session, table, [{"id": i, **v} for i, v in zip(ids, values, strict=True)])
    else:
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = session.execute(statement, values).scalars().all()
    rows = [SimpleNamespace(id=i, **v) for i, v in zip(ids, values, strict=True)]
    _fan_out(session, rows)
    return rows


def _fan_out(session: Session, rows: list[SimpleNamespace]) -> None:
    subscriptions = session.scalars(
        select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
    ).all()
    if not subscriptions:
        return
    claim_outlets: dict[int, frozenset[int]] = {}
    if any(needs_claim_outlets(s.filter) for s in subscriptions):
        claim_outlets = _claim_outlets(session, {r.claim_id for r in rows if r.claim_id})
    now = utcnow()
    for row in rows:
        outlets = claim_outlets.get(row.claim_id, frozenset()) if row.claim_id else frozenset()
        for subscription in subscriptions:
            if filter_matches(subscription.filter, row.type, row.claim_id, row.payload, outlets):
                session.add(
                    Delivery(
                        event_id=row.id,
                        subscription_id=subscription.id,
                        status="pending",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    session.flush()


def _claim_outlets(session: Session, claim_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The outlets with a live report of each claim."""
    found: dict[int, set[int]] = {}
    ids = sorted(set(claim_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Report.claim_id, Report.outlet_id)
            .where(Report.claim_id.in_(ids[start : start + 500]), Report.retracted_at.is_(None))
            .distinct()
        )
        for claim_id, outlet_id in rows:
            found.setdefault(claim_id, set()).add(outlet_id)
    return {claim_id: frozenset(outlets) for claim_id, outlets in found.items()}


# -- reading -----------------------------------------------------------------------------------
def _rounded(value: Any) -> Any:
    # Floats to 4 decimals, as the API answers them (service.web.api.schemas.RoundedFloat).
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def event_json(row: OutboxEvent) -> dict[str, Any]:
    """The event as webhooks receive it and the event stream sends it (floats to 4
    decimals, like the API's answers; the stored payload keeps them whole)."""
    return {
        "id": row.id,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
        "claim_id": row.claim_id,
        "data": _rounded(row.payload),
    }


def latest_event_id(session: Session) -> int:
    return session.scalar(select(func.max(OutboxEvent.id))) or 0


def outbox_backlog(session: Session) -> int:
    """Deliveries still owed: pending, whether due now, waiting for a retry or in flight."""
    return session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
    )


def delivery_failures(session: Session) -> int:
    """Delivery attempts that ended without a 2xx answer, over every stored delivery."""
    return session.scalar(select(func.coalesce(func.sum(Delivery.failures), 0)))


def prune(session: Session, older_than: timedelta) -> int:
    """Delete events older than ``older_than`` that owe nothing, with their finished
    deliveries; failed deliveries (and so their events) are kept for inspection."""
    cutoff = utcnow() - older_than
    unfinished = exists().where(
        Delivery.event_id == OutboxEvent.id, Delivery.status.in_(("pending", "failed"))
    )
    ids = session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.occurred_at < cutoff, ~unfinished).limit(5000)
    ).all()
    if not ids:
        return 0
    session.execute(delete(Delivery).where(Delivery.event_id.in_(ids)))
    session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))
    return len(ids)
