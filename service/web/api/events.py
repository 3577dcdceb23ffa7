"""/events: the outbox as a Server-Sent Events stream (text/event-stream).

Each event is sent as ``id: <outbox id>``, ``event: <type>``, ``data: <event JSON>``. A
stream starts after ``Last-Event-ID`` (what a browser's EventSource sends when it
reconnects), else after ``since``, else at the newest event; it polls the outbox every
second, sends a comment as a heartbeat when idle, and ends by itself after
``SSE_STREAM_SECONDS`` with a ``retry:`` hint, so that a gunicorn thread is never held for
good and the client resumes exactly where it was.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from marshmallow import validate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent
from models.database import UnitOfWork
from service.delivery.events import EVENT_TYPES
from service.delivery.outbox import event_json, latest_event_id
from service.web.api.common import Blueprint, StrictSchema, read_operation
from service.web.api.contract import MAX_ROW_ID
from service.web.database import database

blp = Blueprint("events", __name__, description="Live events (Server-Sent Events)")

LAST_EVENT_ID = "Last-Event-ID"
POLL_LIMIT = 500
# Set when this process is told to stop (service.web.serving sets it from the gunicorn
# worker's SIGTERM, SIGINT and SIGQUIT): open streams end at once with their retry hint
# instead of holding the worker until gunicorn's graceful timeout runs out and it is killed.
STOPPING = threading.Event()


# Event ids are INTEGER columns, like every id: a cursor past the largest is refused (400)
# before the stream starts, instead of answering 200 and dying mid-stream when the driver
# cannot convert it (SQLite: OverflowError past 2**63 - 1; PostgreSQL: past 2**31 - 1).
MAX_EVENT_ID = MAX_ROW_ID
EVENT_ID = validate.Range(min=0, max=MAX_EVENT_ID)


class EventStreamArgs(StrictSchema):
    since = ma.fields.Integer(
        validate=EVENT_ID,
        metadata={"description": "Send events after this id (0: every stored event)"},
    )
    claim_id = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Only this claim's events"},
    )
    types = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(EVENT_TYPES)),
        data_key="type",
        metadata={"description": "Only these event types (repeat the parameter)"},
    )


@dataclass(frozen=True)
class StreamSettings:
    duration: float
    poll: float
    heartbeat: float
    retry_ms: int


class ResumeHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    last_event_id = ma.fields.Integer(
        data_key=LAST_EVENT_ID,
        validate=EVENT_ID,
        metadata={"description": "Resume after this event id (EventSource sends it itself)"},
    )


def _poll(factory: sessionmaker[Session], after: int, claim_id, types) -> list[dict]:
    with UnitOfWork(factory) as uow:
        statement = select(OutboxEvent).where(OutboxEvent.id > after)
        if claim_id is not None:
            statement = statement.where(OutboxEvent.claim_id == claim_id)
        if types:
            statement = statement.where(OutboxEvent.type.in_(types))
        rows = uow.session.scalars(statement.order_by(OutboxEvent.id).limit(POLL_LIMIT)).all()
        return [event_json(row) for row in rows]


def _frame(event: dict) -> str:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


def event_stream(
    factory: sessionmaker[Session],
    after: int,
    settings: StreamSettings,
    *,
    claim_id: int | None = None,
    types: list[str] | None = None,
) -> Iterator[str]:
    # An id with no data sets the client's Last-Event-ID without dispatching an event, so a
    # client that reconnects before any event arrived still resumes from here.
    yield f"retry: {settings.retry_ms}\nid: {after}\n\n"
    started = last_sent = time.monotonic()
    while not STOPPING.is_set():
        events = _poll(factory, after, claim_id, types)
        for event in events:
            yield _frame(event)
            after = event["id"]
        now = time.monotonic()
        if events:
            last_sent = now
        if now - started >= settings.duration:
            break
        if len(events) == POLL_LIMIT:
            continue
        if now - last_sent >= settings.heartbeat:
            yield ": heartbeat\n\n"
            last_sent = now
        STOPPING.wait(max(0.0, min(settings.poll, settings.duration - (now - started))))
    yield f"retry: {settings.retry_ms}\n: stream ends; reconnect with Last-Event-ID\n\n"


@blp.route("/events")
class Events(MethodView):
    # A bad cursor or filter is a 400 (the stream's parameters, header included, are
    # checked before its first byte), documented as such.
    @read_operation
    @blp.arguments(EventStreamArgs, location="query", error_status_code=400)
    @blp.arguments(ResumeHeaders, location="headers", error_status_code=400)
    @blp.doc(
        responses={
            "200": {
                "description": "A stream of events: `id:` the outbox id, `event:` the type, "
                "`data:` the event JSON {id, type, occurred_at, claim_id, data}. Comments "
                "(`: heartbeat`) keep idle connections open; the stream ends after a while "
                "with a `retry:` hint.",
                # One event of the stream, as SSE clients (and schemathesis) parse it: the
                # fields of an event block, with `data` the event JSON as text.
                "content": {
                    "text/event-stream": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string", "pattern": "^[0-9]+$"},
                                "event": {"type": "string", "enum": list(EVENT_TYPES)},
                                "data": {"type": "string"},
                                "retry": {"type": "integer"},
                            },
                        }
                    }
                },
            }
        },
    )
    def get(self, args, headers):
        """Live events as Server-Sent Events: reports recorded and retracted, claims created,
        scored and resolved, models activated. Resumes after Last-Event-ID."""
        app = current_app._get_current_object()
        factory = database(app).session_factory
        after = headers.get("last_event_id", args.get("since"))
        if after is None:
            with UnitOfWork(factory) as uow:
                after = latest_event_id(uow.session)
        config = app.config
        settings = StreamSettings(
            duration=float(config["SSE_STREAM_SECONDS"]),
            poll=float(config["SSE_POLL_SECONDS"]),
            heartbeat=float(config["SSE_HEARTBEAT_SECONDS"]),
            retry_ms=int(config["SSE_RETRY_MILLISECONDS"]),
        )
        stream = event_stream(
            factory, after, settings, claim_id=args.get("claim_id"), types=args.get("types")
        )
        return Response(
            stream,
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
