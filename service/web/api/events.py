"""/events: the outbox as a Server-Sent Events stream (text/event-stream).

Each event is sent as ``id: <outbox id>``, ``event: <type>``, ``data: <event JSON>``. A
stream starts after ``Last-Event-ID`` (what a browser's EventSource sends when it
reconnects), else after ``since``, else at the newest event; it polls the outbox every
second, sends a comment as a heartbeat when idle, and ends by itself after
``SSE_STREAM_SECONDS`` with a ``retry:`` hint, so that a gunicorn thread is never held for
good and the client resumes exactly where it was.

Streams never starve the API: under gunicorn's threaded workers each open stream holds one
of the worker's threads, so a process serves at most ``SSE_MAX_STREAMS`` streams at once
(``SRS_SSE_MAX_STREAMS``; by default its threads less two, see service.web.serving). A
stream past the cap is refused before it starts: 503 problem+json with ``Retry-After``,
and the dashboard then polls and tries the stream again later. The other threads are
always left to the API (probes, reads, writes).
"""

from __future__ import annotations

import json
import select as io_select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import marshmallow as ma
from flask import Response, current_app, request
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
from service.web.errors import ProblemSchema, ServiceUnavailable

blp = Blueprint("events", __name__, description="Live events (Server-Sent Events)")

LAST_EVENT_ID = "Last-Event-ID"
POLL_LIMIT = 500
# Set when this process is told to stop (service.web.serving sets it from the gunicorn
# worker's SIGTERM, SIGINT and SIGQUIT): open streams end at once with their retry hint
# instead of holding the worker until gunicorn's graceful timeout runs out and it is killed.
STOPPING = threading.Event()
# A refused stream's Retry-After (seconds): about as long as a stream lasts would be too
# long for a dashboard that polls meanwhile; a few dashboards' worth of streams end and
# free their slots within this.
REFUSED_RETRY_AFTER = 30


class StreamSlots:
    """At most ``limit`` streams of this process at once (None: no cap). Each slot is taken
    before a stream starts and given back when the server closes the response: at its end,
    when the client went away, or when the worker stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def take(self, limit: int | None) -> bool:
        with self._lock:
            if limit is not None and self.open >= limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


def stream_slots(app) -> StreamSlots:
    """This process's slots for the app (each gunicorn worker has its own app after fork)."""
    return app.extensions.setdefault("srs_event_streams", StreamSlots())


class _HeldStream:
    """The stream's iterable: the WSGI server calls close() exactly when it is done with
    the response, even when the generator never started (a client that left at once),
    which a ``finally`` inside the generator would not see."""

    def __init__(self, stream: Iterator[str], slots: StreamSlots) -> None:
        self._stream = stream
        self._slots: StreamSlots | None = slots

    def __iter__(self) -> Iterator[str]:
        return self._stream

    def close(self) -> None:
        try:
            self._stream.close()  # type: ignore[attr-defined]
        finally:
            slots, self._slots = self._slots, None
            if slots is not None:
                slots.give_back()


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


def client_gone_probe(environ) -> Callable[[], bool]:
    """Whether the client has hung up, seen without writing to it: gunicorn hands the
    connection's socket over in the environ, and a readable socket with nothing to read
    has been closed by the other end. So a stream's slot is free within a poll of the
    client leaving (a reloaded dashboard) instead of at the next failed heartbeat write.
    Other servers (the test client): never gone."""
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        return lambda: False

    def gone() -> bool:
        try:
            readable, _, _ = io_select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except (OSError, ValueError):  # reset, closed, or a TLS socket (cannot peek)
            return not hasattr(sock, "do_handshake")

    return gone


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
    client_gone: Callable[[], bool] = lambda: False,
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
        if now - started >= settings.duration or client_gone():
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
                # fields of an event block, with `data` the event JSON as text. It is the
                # stream's `itemSchema` (OpenAPI 3.2's word for it, which schemathesis reads
                # in 3.0 documents too), with no `schema`: a generated client then hands
                # back the response as it came instead of parsing the stream as one object.
                "content": {
                    "text/event-stream": {
                        "itemSchema": {
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
            },
            "503": {
                "description": "This server process already serves as many streams as it "
                "may (`SRS_SSE_MAX_STREAMS`, so that streams never take every thread from "
                "the rest of the API): try again after `Retry-After` seconds, and poll the "
                "API meanwhile, as the dashboard does.",
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait before opening the stream again",
                        "schema": {"type": "integer", "minimum": 1},
                    }
                },
                "content": {"application/problem+json": {"schema": ProblemSchema}},
            },
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
        limit = config.get("SSE_MAX_STREAMS")
        slots = stream_slots(app)
        if not slots.take(None if limit is None else int(limit)):
            raise ServiceUnavailable(
                "This server has as many event streams open as it serves at once; "
                f"poll the API and open the stream again after {REFUSED_RETRY_AFTER} s.",
                headers={"Retry-After": str(REFUSED_RETRY_AFTER)},
            )
        stream = event_stream(
            factory,
            after,
            settings,
            claim_id=args.get("claim_id"),
            types=args.get("types"),
            client_gone=client_gone_probe(request.environ),
        )
        return Response(
            _HeldStream(stream, slots),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
