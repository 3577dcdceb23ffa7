"""Crash consistency: SIGKILL gunicorn (master and workers at once) in the middle of a write
load on PostgreSQL, twice, and start it again each time.

Clients keep retrying with their Idempotency-Keys across the crashes. Afterwards every
report that got a 201 is stored once with the id it was given, none is stored twice, and
the database is whole (service/operations/consistency.py): every claim's score equals a batch
recompute, its history ends at its score, every idempotent response names stored rows. A
half-written report, score or outbox event would fail one of these checks.

Figures go to artifacts/reliability/crash.json (see RELIABILITY.md).
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from load_clients import ClientPlan, read_result, run_client
from reliability_figures import record_figures
from server_harness import Server, call, create_key
from sqlalchemy import func, select

from models import Delivery, OutboxEvent, Report
from models.database import UnitOfWork, make_engine, make_session_factory
from service.operations.consistency import check_consistency

CLIENTS = 4
CLAIMS = 8
CRASHES = 2
LOAD_BEFORE_CRASH = 6.0  # seconds of writes before each SIGKILL
LOAD_AFTER_LAST = 4.0

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL"),
]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sigkill_mid_load_loses_no_acknowledged_write(database_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    server = Server(database_url, log).start()
    key = create_key(database_url)
    # A subscription to every event (no worker runs, nothing is sent): each committed
    # change must leave its events, and each event its delivery, whatever the crash.
    hook = call(
        server.port,
        "POST",
        "/api/v1/subscriptions",
        {"url": "https://desk.example/hooks/srs"},
        key=key,
    )
    assert hook.status == 201, hook.text
    claims = [
        {"key": f"crash-{i}", "text": f"Crash-test claim {i} on a border"} for i in range(CLAIMS)
    ]
    stop_file = tmp_path / "stop"
    plans = [
        ClientPlan(
            port=server.port,
            key=key,
            client=client,
            reports=100_000,
            claims=claims,
            seed=2000 + client,
            out=str(tmp_path / f"client-{client}.json"),
            fault_rate=0.03,
            stop_file=str(stop_file),
            max_attempts=120,
        )
        for client in range(CLIENTS)
    ]
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=run_client, args=(plan,)) for plan in plans]
    downtime = []
    try:
        for process in processes:
            process.start()
        for _ in range(CRASHES):
            time.sleep(LOAD_BEFORE_CRASH)
            killed_at = time.monotonic()
            server.kill()
            server = Server(database_url, log, port=server.port).start()
            downtime.append(time.monotonic() - killed_at)
        time.sleep(LOAD_AFTER_LAST)
        stop_file.write_text("stop")
        for process in processes:
            process.join(timeout=300)
        assert not [p for p in processes if p.is_alive()]
        # The restarted server answers as before.
        assert call(server.port, "GET", "/api/v1/claims", key=key).status == 200
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        server.stop()

    results = [read_result(plan.out) for plan in plans]
    assert not [u for r in results for u in r.unexpected], [r.unexpected[:3] for r in results]
    assert not [m for r in results for m in r.replay_mismatches]
    acknowledged = {m: i for r in results for m, i in r.acknowledged.items()}
    unacknowledged = {m for r in results for m in r.unacknowledged}
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            copies = {
                quote: (count, first)
                for quote, count, first in uow.session.execute(
                    select(Report.quote, func.count(), func.min(Report.id)).group_by(Report.quote)
                )
            }
            consistency = check_consistency(uow.session)
            events = uow.session.scalar(select(func.count()).select_from(OutboxEvent))
            deliveries = uow.session.scalar(select(func.count()).select_from(Delivery))
            recorded_events = uow.session.scalar(
                select(func.count()).where(OutboxEvent.type == "report.recorded")
            )
    finally:
        engine.dispose()
    lost = [m for m, i in acknowledged.items() if copies.get(m, (0, None)) != (1, i)]
    twice = [m for m in unacknowledged if copies.get(m, (0, 0))[0] > 1]
    strangers = set(copies) - set(acknowledged) - unacknowledged
    assert len(acknowledged) > 50, "the load did not get going before the crash"
    assert not lost and not twice and not strangers
    assert consistency.ok, consistency.findings[:10]
    # One report.recorded event per stored report of the load, one delivery per event.
    assert recorded_events == len(copies)
    assert deliveries == events
    record_figures(
        "crash",
        {
            "clients": CLIENTS,
            "claims": CLAIMS,
            "sigkills": CRASHES,
            "restart_seconds": [round(d, 1) for d in downtime],
            "requests_sent": sum(r.requests for r in results),
            "connection_faults_injected": sum(sum(r.faults.values()) for r in results),
            "retries": sum(r.retries for r in results),
            "acknowledged": len(acknowledged),
            "unacknowledged": len(unacknowledged),
            "records_checked": len(copies),
            "consistency_checked": consistency.checked,
            "lost": len(lost),
            "duplicated": len(twice),
            "outbox_events_checked": events,
            "deliveries_checked": deliveries,
            "half_written": len(consistency.findings) + abs(events - deliveries),
        },
    )
