"""``srs worker``: delivers the outbox's pending deliveries to their subscribers' URLs.

All state is in the database, so a worker can be killed at any moment and restarted (or
run several times side by side):

1. *Claim* a batch of due deliveries in a short transaction: ``SELECT … FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, so concurrent workers take different rows; on SQLite (one
   writer at a time) a compare-and-set on ``attempts`` does the same. Claiming counts the
   attempt and sets ``next_attempt_at`` to the end of a *lease*.
2. POST each claimed event, signed, without holding any transaction open.
3. *Record* the answer: a 2xx marks the delivery delivered (only then: at least once);
   anything else schedules a retry with exponential backoff and jitter, or marks it
   ``failed`` after ``max_attempts``.

A worker killed between 1 and 3 leaves the delivery pending; when its lease runs out
another (or the restarted) worker claims it again, so the receiver may see an event twice
but never misses one.
"""

from __future__ import annotations

import logging
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models import Delivery, OutboxEvent, Subscription
from models.base import utcnow
from models.database import UnitOfWork, make_engine, make_session_factory
from service.delivery import outbox, webhooks
from service.delivery.targets import (
    Resolver,
    WebhookTargetRefused,
    allow_private_from_environment,
    check_webhook_target,
)

log = logging.getLogger("srs.worker")

Sender = Callable[[str, bytes, dict[str, str], float], webhooks.AttemptResult]


@dataclass(frozen=True)
class WorkerSettings:
    poll_interval: float = 1.0
    batch_size: int = 10
    timeout: float = 10.0
    max_attempts: int = 10
    backoff_base: float = 5.0
    backoff_max: float = 3600.0
    # Events that owe nothing are deleted after this long; None keeps them.
    retention: timedelta | None = timedelta(days=14)
    prune_every: float = 3600.0
    # Post to loopback, private and link-local addresses too (SRS_WEBHOOK_ALLOW_PRIVATE).
    allow_private: bool = field(default_factory=allow_private_from_environment)

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery stays away from other workers: the request's
        timeout twice over, and a margin for recording the answer."""
        return timedelta(seconds=2 * self.timeout + 5)


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``base·2^(attempts−1)``,
    capped, with "equal jitter" (a uniform draw in its upper half) so that receivers
    coming back after an outage are not hit by every retry at once."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    attempt: int
    event_id: int
    event_type: str
    url: str
    secret: str
    body: bytes


class DeliveryWorker:
    """Claims, sends and records deliveries; :meth:`run` loops until ``stop`` is set."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: WorkerSettings | None = None,
        *,
        send: Sender = webhooks.post,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
        resolve: Resolver = socket.getaddrinfo,
    ):
        self.session_factory = session_factory
        self.settings = settings or WorkerSettings()
        self.send = send
        self.resolve = resolve
        self.rng = rng or random.Random()
        self.stop = stop or threading.Event()
        self._last_prune = 0.0

    # -- 1. claim --------------------------------------------------------------------------
    def claim_due(self) -> list[ClaimedDelivery]:
        with UnitOfWork(self.session_factory) as uow:
            session = uow.session
            now = utcnow()
            due = session.execute(
                select(Delivery.id, Delivery.attempts)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .where(
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                    Subscription.active.is_(True),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True, of=Delivery)
            ).all()
            claimed_ids = [row.id for row in due if self._take(session, row.id, row.attempts, now)]
            claimed = self._load(session, claimed_ids)
            uow.commit()
        return claimed

    def _take(self, session: Session, delivery_id: int, seen_attempts: int, now) -> bool:
        if seen_attempts >= self.settings.max_attempts:
            # Its last attempt was claimed by a worker that never came back.
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.attempts == seen_attempts)
                .values(status="failed", last_error="no answer recorded for the last attempt")
            )
            return False
        taken = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.attempts == seen_attempts,
                Delivery.status == "pending",
            )
            .values(
                attempts=seen_attempts + 1,
                last_attempt_at=now,
                next_attempt_at=now + self.settings.lease,
            )
        )
        return taken.rowcount == 1

    def _load(self, session: Session, ids: list[int]) -> list[ClaimedDelivery]:
        if not ids:
            return []
        rows = session.execute(
            select(Delivery, OutboxEvent, Subscription.url, Subscription.secret)
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        ).all()
        return [
            ClaimedDelivery(
                id=delivery.id,
                attempt=delivery.attempts,
                event_id=event.id,
                event_type=event.type,
                url=url,
                secret=secret,
                body=webhooks.event_body(outbox.event_json(event)),
            )
            for delivery, event, url, secret in rows
        ]

    # -- 2. send ---------------------------------------------------------------------------
    def send_one(self, claimed: ClaimedDelivery) -> webhooks.AttemptResult:
        # Checked again now, after resolving the name: it may point inside since it was
        # accepted. A refused address is final; a name that does not resolve is retried.
        try:
            check_webhook_target(
                claimed.url, resolve=self.resolve, allow_private=self.settings.allow_private
            )
        except WebhookTargetRefused as refused:
            final = refused.reason != "unresolvable"
            error = f"target refused ({refused.reason}): {refused}" if final else str(refused)
            return webhooks.AttemptResult(status=None, error=error[:1000], final=final)
        event = {"id": claimed.event_id, "type": claimed.event_type}
        headers = webhooks.headers_for(
            event, claimed.body, claimed.secret, claimed.id, claimed.attempt
        )
        return self.send(claimed.url, claimed.body, headers, self.settings.timeout)

    # -- 3. record -------------------------------------------------------------------------
    def record(self, claimed: ClaimedDelivery, result: webhooks.AttemptResult) -> str:
        """Store the answer; returns the delivery's new status."""
        now = utcnow()
        with UnitOfWork(self.session_factory) as uow:
            if result.delivered:
                status = "delivered"
                statement = (
                    update(Delivery)
                    .where(Delivery.id == claimed.id, Delivery.delivered_at.is_(None))
                    .values(
                        status=status, delivered_at=now, last_status=result.status, last_error=None
                    )
                )
            else:
                dead = result.final or claimed.attempt >= self.settings.max_attempts
                status = "failed" if dead else "pending"
                delay = backoff_delay(
                    claimed.attempt, self.settings.backoff_base, self.settings.backoff_max, self.rng
                )
                # Only while still pending: a delivery another worker delivered meanwhile
                # (after this one's lease ran out) stays delivered.
                statement = (
                    update(Delivery)
                    .where(Delivery.id == claimed.id, Delivery.status == "pending")
                    .values(
                        status=status,
                        failures=Delivery.failures + 1,
                        last_status=result.status,
                        last_error=result.error or f"HTTP {result.status}",
                        next_attempt_at=now + timedelta(seconds=delay),
                    )
                )
            uow.session.execute(statement)
            uow.commit()
        log.info(
            "delivery %s (event %s %s, attempt %s) to %s: %s -> %s",
            claimed.id,
            claimed.event_id,
            claimed.event_type,
            claimed.attempt,
            claimed.url,
            result.status if result.status is not None else result.error,
            status,
        )
        return status

    def release(self, claimed: ClaimedDelivery) -> None:
        """Give back a claimed delivery that was never sent (the worker is stopping)."""
        with UnitOfWork(self.session_factory) as uow:
            uow.session.execute(
                update(Delivery)
                .where(
                    Delivery.id == claimed.id,
                    Delivery.status == "pending",
                    Delivery.attempts == claimed.attempt,
                )
                .values(attempts=claimed.attempt - 1, next_attempt_at=utcnow())
            )
            uow.commit()

    # -- the loop ----------------------------------------------------------------------------
    def run_batch(self) -> int:
        """Claim one batch and deliver it (concurrently); returns how many were claimed."""
        batch = self.claim_due()
        if not batch:
            return 0
        threads = min(len(batch), 8)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="srs-delivery") as pool:
            futures: dict[Future, ClaimedDelivery] = {
                pool.submit(self.send_one, claimed): claimed for claimed in batch
            }
            for future in as_completed(futures):
                claimed = futures[future]
                if future.cancelled():
                    self.release(claimed)
                    continue
                self.record(claimed, future.result())
                if self.stop.is_set():
                    for other in futures:
                        other.cancel()
        return len(batch)

    def drain(self) -> int:
        """Deliver everything due now (retries falling due meanwhile included), then return."""
        total = 0
        while not self.stop.is_set():
            count = self.run_batch()
            if count == 0:
                break
            total += count
        return total

    def run(self) -> None:
        """Poll and deliver until ``stop`` is set; database outages are waited out."""
        log.info("worker started (poll every %ss)", self.settings.poll_interval)
        while not self.stop.is_set():
            try:
                count = self.run_batch()
                self._maybe_prune()
            except DBAPIError as error:
                log.warning("database error, retrying: %s", type(error.orig).__name__)
                count = 0
            if count == 0:
                self.stop.wait(self.settings.poll_interval)
        log.info("worker stopped")

    def _maybe_prune(self) -> None:
        retention = self.settings.retention
        if retention is None or time.monotonic() - self._last_prune < self.settings.prune_every:
            return
        self._last_prune = time.monotonic()
        with UnitOfWork(self.session_factory) as uow:
            pruned = outbox.prune(uow.session, retention)
            uow.commit()
        if pruned:
            log.info("pruned %s events older than %s", pruned, retention)


def run_worker(database_url: str, settings: WorkerSettings, *, once: bool = False) -> int:
    """The ``srs worker`` command: SIGTERM/SIGINT stop it after the requests in flight."""
    engine = make_engine(database_url)
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        log.info("%s: stopping after the deliveries in flight", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker = DeliveryWorker(make_session_factory(engine), settings, stop=stop)
        if once:
            return worker.drain()
        worker.run()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
