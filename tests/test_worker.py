"""The delivery worker against a real local HTTP receiver: signatures, retries with
backoff, giving up, leases; and `srs worker` killed mid-delivery and restarted, losing
nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Delivery, OutboxEvent, Subscription
from models.database import UnitOfWork
from scoring.interchange import InterchangeRecord
from service.cli.data import load_seed_story
from service.delivery import outbox
from service.delivery.worker import DeliveryWorker, WorkerSettings
from service.newsroom.recording import ReportRecorder

SRS = str(Path(sys.executable).with_name("srs"))
SECRET = "whsec_test-secret-for-the-receiver"


@dataclass
class Received:
    event_id: int
    event_type: str
    attempt: int
    signature_valid: bool
    at: float
    event: dict


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that checks each signature the way the README tells
    receivers to. ``answer(n, received)`` gives the HTTP status of the n-th request (from
    1) and may block; requests answered with a non-2xx are not counted as received."""

    answer: Callable[[int, Received], int] = lambda n, received: 200
    received: list[Received] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self):
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-SRS-Timestamp"]
                expected = hmac.new(
                    SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                signature_valid = (
                    hmac.compare_digest("sha256=" + expected, self.headers["X-SRS-Signature"])
                    and abs(time.time() - int(timestamp)) < 300
                )
                event = json.loads(body)
                got = Received(
                    event_id=int(self.headers["X-SRS-Event-Id"]),
                    event_type=self.headers["X-SRS-Event-Type"],
                    attempt=int(self.headers["X-SRS-Delivery-Attempt"]),
                    signature_valid=signature_valid,
                    at=time.monotonic(),
                    event=event,
                )
                assert got.event_id == event["id"] and got.event_type == event["type"]
                with receiver.lock:
                    receiver.requests += 1
                    n = receiver.requests
                status = receiver.answer(n, got)
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.received.append(got)
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the worker is gone (killed while this request was held)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def event_ids(self) -> set[int]:
        with self.lock:
            return {r.event_id for r in self.received}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(answer=None) -> Receiver:
        made.append(Receiver(answer) if answer else Receiver())
        return made[-1]

    yield make
    for r in made:
        r.close()


def _subscribe(factory, url: str) -> int:
    with UnitOfWork(factory) as uow:
        row = Subscription(url=url, secret=SECRET, created_by="test")
        uow.session.add(row)
        uow.commit()
        return row.id


def _record_one(factory, key="k-1", outlet="Reuters") -> None:
    with UnitOfWork(factory) as uow:
        recorder = ReportRecorder(uow.session, actor="test", create_unknown_outlets=True)
        recorder.add(
            InterchangeRecord(claim_key=key, claim="A claim", outlet=outlet, stance="supports")
        )
        recorder.finish(cause="test")
        uow.commit()


def _deliveries(factory) -> list[Delivery]:
    with UnitOfWork(factory) as uow:
        rows = uow.session.scalars(select(Delivery).order_by(Delivery.id)).all()
        uow.session.expunge_all()
        return list(rows)


def _fast(**overrides) -> WorkerSettings:
    # The receivers here listen on 127.0.0.1: private addresses allowed.
    settings = dict(
        poll_interval=0.05,
        batch_size=10,
        timeout=3.0,
        backoff_base=0.2,
        retention=None,
        allow_private=True,
    )
    return WorkerSettings(**{**settings, **overrides})


def _work_until(worker: DeliveryWorker, done: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        if worker.run_batch() == 0:
            time.sleep(0.02)


def test_deliveries_are_signed_posts_of_the_event_json(session_factory, receiver):
    hook = receiver()
    _subscribe(session_factory, hook.url)
    _record_one(session_factory)
    worker = DeliveryWorker(session_factory, _fast())
    assert worker.drain() == 3
    # The worker sends in parallel, so arrival order is not event order (receivers order
    # by event id, as the README says).
    received = sorted(hook.received, key=lambda r: r.event["id"])
    assert [r.event_type for r in received] == [
        "claim.created",
        "report.recorded",
        "claim.score_changed",
    ]
    assert all(r.signature_valid and r.attempt == 1 for r in received)
    with UnitOfWork(session_factory) as uow:
        stored = uow.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert [r.event for r in received] == [outbox.event_json(e) for e in stored]
        assert outbox.outbox_backlog(uow.session) == 0
        assert outbox.delivery_failures(uow.session) == 0
    for delivery in _deliveries(session_factory):
        assert delivery.status == "delivered" and delivery.attempts == 1
        assert delivery.last_status == 200 and delivery.delivered_at is not None
    assert worker.drain() == 0  # nothing is sent twice once recorded


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(session_factory, receiver):
    hook = receiver(lambda n, received: 500 if n <= 2 else 204)
    _subscribe(session_factory, hook.url)
    with UnitOfWork(session_factory) as uow:
        outbox.emit(uow.session, "model.activated", None, {"version": "v2", "previous": None})
        uow.commit()
    attempts_at: list[float] = []
    worker = DeliveryWorker(session_factory, _fast())
    real_send = worker.send

    def timed_send(*args):
        attempts_at.append(time.monotonic())
        return real_send(*args)

    worker.send = timed_send
    _work_until(worker, lambda: bool(hook.received))
    (delivery,) = _deliveries(session_factory)
    assert (delivery.status, delivery.attempts, delivery.failures) == ("delivered", 3, 2)
    assert delivery.last_status == 204 and delivery.last_error is None
    assert [r.attempt for r in hook.received] == [3]
    # Equal jitter: after the n-th failure, at least half of base·2^(n-1).
    first_wait, second_wait = (b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False))
    assert first_wait >= 0.1 and second_wait >= 0.2
    with UnitOfWork(session_factory) as uow:
        assert outbox.delivery_failures(uow.session) == 2


def test_the_worker_gives_up_after_max_attempts(session_factory, receiver):
    hook = receiver(lambda n, received: 503)
    _subscribe(session_factory, hook.url)
    with UnitOfWork(session_factory) as uow:
        outbox.emit(uow.session, "model.activated", None, {"version": "v2", "previous": None})
        uow.commit()
    worker = DeliveryWorker(session_factory, _fast(max_attempts=3, backoff_base=0.05))
    _work_until(worker, lambda: _deliveries(session_factory)[0].status == "failed")
    (delivery,) = _deliveries(session_factory)
    assert (delivery.attempts, delivery.failures, delivery.last_status) == (3, 3, 503)
    assert hook.requests == 3 and hook.received == []
    with UnitOfWork(session_factory) as uow:
        assert outbox.outbox_backlog(uow.session) == 0
        assert outbox.delivery_failures(uow.session) == 3


def test_redirects_and_unreachable_receivers_are_failures(session_factory, receiver):
    moved = receiver(lambda n, received: 302)
    _subscribe(session_factory, moved.url)
    _subscribe(session_factory, "http://127.0.0.1:9/nothing-listens-here")
    with UnitOfWork(session_factory) as uow:
        outbox.emit(uow.session, "model.activated", None, {"version": "v2", "previous": None})
        uow.commit()
    DeliveryWorker(session_factory, _fast()).drain()
    redirected, refused = _deliveries(session_factory)
    assert redirected.status == "pending" and redirected.last_status == 302
    assert refused.status == "pending" and refused.last_status is None
    assert "refused" in refused.last_error.lower() or "error" in refused.last_error.lower()
    assert redirected.failures == refused.failures == 1


def test_a_claimed_delivery_is_leased_to_one_worker(session_factory, receiver):
    hook = receiver()
    _subscribe(session_factory, hook.url)
    _record_one(session_factory)
    first = DeliveryWorker(session_factory, _fast(batch_size=2))
    second = DeliveryWorker(session_factory, _fast(batch_size=10))
    claimed = first.claim_due()
    assert len(claimed) == 2
    others = second.claim_due()
    assert len(others) == 1 and others[0].id not in {c.id for c in claimed}
    assert second.claim_due() == []  # everything is leased until it is recorded
    for c in claimed + others:
        first.record(c, first.send_one(c))
    assert {d.status for d in _deliveries(session_factory)} == {"delivered"}
    assert len(hook.received) == 3


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_claiming_skips_rows_locked_by_another_worker(session_factory, receiver):
    hook = receiver()
    _subscribe(session_factory, hook.url)
    _record_one(session_factory)
    with UnitOfWork(session_factory) as other:
        locked = other.session.scalars(
            select(Delivery.id).order_by(Delivery.id).limit(2).with_for_update()
        ).all()
        started = time.monotonic()
        claimed = DeliveryWorker(session_factory, _fast()).claim_due()
        assert time.monotonic() - started < 2  # did not wait for the lock
        assert [c.id for c in claimed] == [
            d.id for d in _deliveries(session_factory) if d.id not in locked
        ]


# -- srs worker as a process, killed and restarted -------------------------------------------
def _start_worker(database_url: str, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(
        [
            SRS,
            "worker",
            "--poll-interval",
            "0.1",
            "--batch-size",
            "4",
            "--timeout",
            "2",
            "--backoff-base",
            "0.2",
        ],
        env={**os.environ, "DATABASE_URL": database_url, "SRS_WEBHOOK_ALLOW_PRIVATE": "true"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_srs_worker_killed_mid_delivery_loses_nothing(
    database_url, session_factory, receiver, tmp_path
):
    held, holding = threading.Event(), threading.Event()
    held_event: list[int] = []

    def answer(n: int, received: Received) -> int:
        time.sleep(0.02)
        if n == 10:
            # The 10th request hangs until the worker that sent it has been killed, then
            # fails: the receiver never accepted it, so it must come again.
            held_event.append(received.event_id)
            holding.set()
            held.wait(30)
            return 500
        return 200

    hook = receiver(answer)
    _subscribe(session_factory, hook.url)
    with UnitOfWork(session_factory) as uow:
        load_seed_story(uow.session)  # 36 events, each owed to the subscription
        uow.commit()
    log_path = tmp_path / "worker.log"
    worker = _start_worker(database_url, log_path)
    try:
        assert holding.wait(30), log_path.read_text()
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        held.set()
    deliveries = _deliveries(session_factory)
    in_flight = [d for d in deliveries if d.event_id == held_event[0]]
    assert in_flight[0].status == "pending" and in_flight[0].attempts == 1
    assert in_flight[0].delivered_at is None
    assert sum(d.status == "delivered" for d in deliveries) < len(deliveries)

    _record_one(session_factory, key="after-the-crash")  # events while no worker runs
    worker = _start_worker(database_url, log_path)
    try:
        with UnitOfWork(session_factory) as uow:
            expected = set(uow.session.scalars(select(OutboxEvent.id)))
        # The held delivery's lease (2 × timeout + 5 s) must run out before it is retried.
        _wait(lambda: hook.event_ids() >= expected, 45, "every event to be delivered")
        _wait(
            lambda: all(d.status == "delivered" for d in _deliveries(session_factory)),
            10,
            "every delivery to be recorded",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        exit_code = worker.wait(20)
    assert exit_code == 0, log_path.read_text()
    assert "worker stopped" in log_path.read_text()
    assert len(expected) == 36 + 3
    assert all(r.signature_valid for r in hook.received)
    retried = [r for r in hook.received if r.event_id == held_event[0]]
    assert retried and retried[0].attempt >= 2
    with UnitOfWork(session_factory) as uow:
        assert outbox.outbox_backlog(uow.session) == 0
        total = uow.session.scalar(select(func.count()).select_from(Delivery))
        assert total == len(expected)
