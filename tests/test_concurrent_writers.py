"""Concurrent writers against PostgreSQL under a real gunicorn (``srs serve``).

1. Eight processes post 500 reports each to the same 20 claims (created on the fly by the
   first reports naming them), with Idempotency-Key retries after dropped, half-sent and
   timed-out connections and repeats of acknowledged requests. Afterwards every
   acknowledged report is stored exactly once (with the id it was acknowledged with), no
   unacknowledged one twice, and every claim's stored score equals a batch recompute.
2. Eight processes retract reports of one claim, resolve it true and false and add reports
   to it, all at once: each report is retracted once (one 200, the rest 409), every
   acknowledged verdict is stored, the claim ends on the last verdict, and its score and
   history equal a batch recompute (no lost update).

Figures go to artifacts/reliability/concurrency.json (see RELIABILITY.md).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from load_clients import ClientPlan, read_result, run_client
from reliability_figures import record_figures
from server_harness import Server, call, create_key
from sqlalchemy import func, select

from models import AuditEntry, Claim, Report, Verdict
from models.database import UnitOfWork, make_engine, make_session_factory
from service.operations.consistency import check_consistency

CLIENTS = 8
REPORTS_PER_CLIENT = 500
CLAIMS = 20
LOAD_TIMEOUT = 900

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL"),
]


def _claims(n: int) -> list[dict]:
    return [
        {"key": f"load-claim-{i:02d}", "text": f"Load-test claim number {i} about a ceasefire"}
        for i in range(n)
    ]


def _session(database_url):
    engine = make_engine(database_url)
    return engine, UnitOfWork(make_session_factory(engine))


def _consistency(database_url) -> dict:
    engine, uow = _session(database_url)
    try:
        with uow:
            report = check_consistency(uow.session)
    finally:
        engine.dispose()
    assert report.ok, report.findings[:10]
    return report.checked


@pytest.fixture
def server(database_url, tmp_path):
    serving = Server(database_url, tmp_path / "gunicorn.log").start()
    yield serving
    serving.stop()


def _run_clients(plans: list[ClientPlan]) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=run_client, args=(plan,)) for plan in plans]
    for process in processes:
        process.start()
    deadline = time.monotonic() + LOAD_TIMEOUT
    for process in processes:
        process.join(timeout=max(1, deadline - time.monotonic()))
    alive = [p for p in processes if p.is_alive()]
    for process in alive:
        process.kill()
    assert not alive, f"{len(alive)} clients did not finish in {LOAD_TIMEOUT} s"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_eight_writers_lose_nothing_and_duplicate_nothing(database_url, server, tmp_path):
    key = create_key(database_url)
    claims = _claims(CLAIMS)
    plans = [
        ClientPlan(
            port=server.port,
            key=key,
            client=client,
            reports=REPORTS_PER_CLIENT,
            claims=claims,
            seed=1000 + client,
            out=str(tmp_path / f"client-{client}.json"),
        )
        for client in range(CLIENTS)
    ]
    started = time.monotonic()
    _run_clients(plans)
    elapsed = time.monotonic() - started
    results = [read_result(plan.out) for plan in plans]
    assert not [u for r in results for u in r.unexpected], [r.unexpected[:3] for r in results]
    assert not [m for r in results for m in r.replay_mismatches]

    acknowledged = {m: i for r in results for m, i in r.acknowledged.items()}
    unacknowledged = {m for r in results for m in r.unacknowledged}
    engine, uow = _session(database_url)
    try:
        with uow:
            stored = uow.session.execute(
                select(Report.quote, func.count(), func.min(Report.id)).group_by(Report.quote)
            ).all()
            claim_count = uow.session.scalar(select(func.count()).select_from(Claim))
    finally:
        engine.dispose()
    copies = {quote: (count, first) for quote, count, first in stored}
    lost = [m for m in acknowledged if m not in copies]
    duplicated = [m for m in acknowledged if copies.get(m, (0, 0))[0] != 1]
    wrong_id = [m for m, i in acknowledged.items() if m in copies and copies[m][1] != i]
    unacknowledged_twice = [m for m in unacknowledged if copies.get(m, (0, 0))[0] > 1]
    strangers = set(copies) - set(acknowledged) - unacknowledged
    assert not lost and not duplicated and not wrong_id
    assert not unacknowledged_twice and not strangers
    assert claim_count == CLAIMS
    assert len(acknowledged) + len(unacknowledged) == CLIENTS * REPORTS_PER_CLIENT
    checked = _consistency(database_url)
    assert checked["scores"] == CLAIMS
    assert "Bearer srs_" not in server.log() and key[12:] not in server.log()

    faults: dict[str, int] = {}
    for result in results:
        for kind, count in result.faults.items():
            faults[kind] = faults.get(kind, 0) + count
    record_figures(
        "concurrency",
        {
            "writers": {
                "clients": CLIENTS,
                "reports_per_client": REPORTS_PER_CLIENT,
                "claims": CLAIMS,
                "requests_sent": sum(r.requests for r in results),
                "faults_injected": faults,
                "retries": sum(r.retries for r in results),
                "replays_of_acknowledged": sum(r.replays for r in results),
                "acknowledged": len(acknowledged),
                "unacknowledged": len(unacknowledged),
                "unacknowledged_stored_once": sum(1 for m in unacknowledged if m in copies),
                "records_checked": len(copies),
                "claims_recomputed": checked["scores"],
                "lost": len(lost),
                "duplicated": len(duplicated) + len(unacknowledged_twice),
                "seconds": round(elapsed, 1),
            }
        },
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_verdicts_and_retractions_on_one_claim(database_url, server):
    key = create_key(database_url)
    claim = {"key": "contested-claim", "text": "A contested claim everyone writes to at once"}
    outlets = ["Reuters", "Kan", "TASS", "Middle East Eye"]
    first = call(
        server.port,
        "POST",
        "/api/v1/reports:batch",
        {
            "reports": [
                {
                    "claim_key": claim["key"],
                    "claim": claim["text"],
                    "outlet": outlets[i % 4],
                    "new_outlet": True,
                    "stance": ("supports", "denies")[i % 2],
                    "quote": f"initial-{i}",
                }
                for i in range(60)
            ]
        },
        key=key,
    )
    assert first.status == 201, first.text
    report_ids = [r["id"] for r in first.json()["reports"]]
    claim_id = first.json()["scores"][0]["claim_id"]

    def worker(seed: int) -> list[tuple[str, int, int | None]]:
        rng = random.Random(seed)
        outcomes = []
        for step in range(40):
            action = rng.choice(("retract", "retract", "verdict", "report"))
            if action == "retract":
                target = rng.choice(report_ids)
                response = call(
                    server.port, "DELETE", f"/api/v1/reports/{target}?reason=w{seed}", key=key
                )
                outcomes.append(("retract", response.status, target))
            elif action == "verdict":
                response = call(
                    server.port,
                    "POST",
                    f"/api/v1/claims/{claim_id}/verdict",
                    {
                        "verdict": rng.random() < 0.5,
                        "note": f"w{seed}-{step}",
                        "replaces_verdict": True,  # writers overrule each other on purpose
                    },
                    key=key,
                )
                outcomes.append(("verdict", response.status, None))
            else:
                response = call(
                    server.port,
                    "POST",
                    "/api/v1/reports",
                    {
                        "claim_id": claim_id,
                        "outlet": rng.choice(outlets),
                        "stance": "supports",
                        "quote": f"w{seed}-{step}",
                    },
                    key=key,
                )
                outcomes.append(("report", response.status, None))
        return outcomes

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = [o for part in pool.map(worker, range(CLIENTS)) for o in part]
    elapsed = time.monotonic() - started
    statuses = {(action, status) for action, status, _ in outcomes}
    assert statuses <= {("retract", 200), ("retract", 409), ("verdict", 200), ("report", 201)}
    retracted_ok = [
        target
        for action, status, target in outcomes
        if (action, status)
        == (
            "retract",
            200,
        )
    ]
    verdicts_ok = sum(1 for action, status, _ in outcomes if (action, status) == ("verdict", 200))
    reports_ok = sum(1 for action, status, _ in outcomes if (action, status) == ("report", 201))

    engine, uow = _session(database_url)
    try:
        with uow:
            session = uow.session
            retracted = set(
                session.scalars(
                    select(Report.id).where(
                        Report.claim_id == claim_id, Report.retracted_at.is_not(None)
                    )
                )
            )
            retraction_audits = session.scalar(
                select(func.count()).where(AuditEntry.action == "retract_report")
            )
            verdicts = session.scalars(
                select(Verdict.verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id)
            ).all()
            status, n_reports = session.execute(
                select(Claim.status, Claim.n_reports).where(Claim.id == claim_id)
            ).one()
            live = session.scalar(
                select(func.count()).where(
                    Report.claim_id == claim_id, Report.retracted_at.is_(None)
                )
            )
    finally:
        engine.dispose()
    # Each report retracted once: one 200 per retracted report, one audit entry each.
    assert sorted(retracted_ok) == sorted(retracted)
    assert retraction_audits == len(retracted)
    assert len(verdicts) == verdicts_ok
    if verdicts:
        assert status == ("resolved_true" if verdicts[-1] else "resolved_false")
    assert n_reports == live == 60 + reports_ok - len(retracted)
    checked = _consistency(database_url)
    record_figures(
        "concurrency",
        {
            "one_claim": {
                "threads": CLIENTS,
                "requests_sent": len(outcomes) + 1,
                "retractions_accepted": len(retracted_ok),
                "retractions_refused_409": sum(
                    1 for a, s, _ in outcomes if (a, s) == ("retract", 409)
                ),
                "verdicts": verdicts_ok,
                "reports_added": reports_ok,
                "records_checked": 60 + reports_ok + len(verdicts),
                "claims_recomputed": checked["scores"],
                "lost_updates": 0,
                "seconds": round(elapsed, 1),
            }
        },
    )
