"""The outbox: events commit (or roll back) with the change that caused them, each code
path emits its event, and deliveries are owed to the subscriptions whose filter matches."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from models import Claim, Delivery, OutboxEvent, Subscription
from models.base import utcnow
from models.database import UnitOfWork
from scoring.interchange import InterchangeRecord
from service.cli.data import load_seed_story
from service.delivery import outbox
from service.newsroom.recording import ReportRecorder
from service.web.database import unit_of_work

MOVE_KEY = "hamas-leadership-moved-to-turkey"


def _events(factory, after: int = 0) -> list[SimpleNamespace]:
    with UnitOfWork(factory) as uow:
        rows = uow.session.scalars(
            select(OutboxEvent).where(OutboxEvent.id > after).order_by(OutboxEvent.id)
        )
        return [
            SimpleNamespace(id=r.id, type=r.type, claim_id=r.claim_id, payload=r.payload)
            for r in rows
        ]


def _record(session, key="k-1", outlet="Reuters", stance="supports"):
    recorder = ReportRecorder(session, actor="test", create_unknown_outlets=True)
    recorder.add(InterchangeRecord(claim_key=key, claim="A claim", outlet=outlet, stance=stance))
    return recorder.finish(cause="test")


def test_a_rolled_back_write_leaves_no_event(session_factory):
    with UnitOfWork(session_factory) as uow:
        _record(uow.session)
        uow.rollback()
    assert _events(session_factory) == []
    # Nor does a session closed without commit; a committed one leaves all its events.
    with UnitOfWork(session_factory) as uow:
        _record(uow.session)
    assert _events(session_factory) == []
    with UnitOfWork(session_factory) as uow:
        _record(uow.session)
        uow.commit()
    types = [e.type for e in _events(session_factory)]
    assert types == ["claim.created", "report.recorded", "claim.score_changed"]


def test_events_queued_before_a_rollback_do_not_leak_into_the_next_commit(session_factory):
    with UnitOfWork(session_factory) as uow:
        _record(uow.session, key="rolled-back")
        uow.rollback()
        _record(uow.session, key="kept")
        uow.commit()
    events = _events(session_factory)
    assert [e.type for e in events] == ["claim.created", "report.recorded", "claim.score_changed"]
    assert events[0].payload["key"] == "kept"


def test_a_refused_batch_writes_no_event(seeded, client, auth):
    before = _events(_factory(seeded))[-1].id
    response = client.post(
        "/api/v1/reports:batch",
        json={
            "reports": [
                {
                    "claim_key": "new-claim",
                    "claim": "New",
                    "outlet": "Reuters",
                    "stance": "supports",
                },
                {"claim_key": "new-claim", "claim": "New", "outlet": "Kan", "cites": "nope"},
            ]
        },
        headers=auth("write"),
    )
    assert response.status_code == 422
    assert _events(_factory(seeded), before) == []


def _factory(app):
    from service.web.database import database

    return database(app).session_factory


def _claim_id(app, key=MOVE_KEY) -> int:
    with unit_of_work(app) as uow:
        return uow.session.scalars(select(Claim.id).where(Claim.key == key)).one()


def test_every_code_path_emits_its_event(seeded, client, auth):
    factory = _factory(seeded)
    seed_events = _events(factory)
    assert {e.type for e in seed_events} == {
        "claim.created",
        "report.recorded",
        "claim.score_changed",
    }
    assert len([e for e in seed_events if e.type == "report.recorded"]) == 24
    mark = seed_events[-1].id
    claim_id = _claim_id(seeded)

    recorded = client.post(
        "/api/v1/reports",
        json={"claim_id": claim_id, "outlet": "Reuters", "stance": "supports"},
        headers=auth("write"),
    ).get_json()
    report_id = recorded["report"]["id"]
    client.delete(f"/api/v1/reports/{report_id}?reason=wrong+claim", headers=auth("write"))
    client.post("/api/v1/claims", json={"text": "A brand new claim"}, headers=auth("write"))
    before_verdict = client.get(f"/api/v1/claims/{claim_id}", headers=auth("read")).get_json()
    client.post(
        f"/api/v1/claims/{claim_id}/verdict",
        json={"verdict": False, "note": "denied on the record"},
        headers=auth("verdict"),
    )
    events = _events(factory, mark)
    assert [e.type for e in events] == [
        "report.recorded",
        "claim.score_changed",
        "report.retracted",
        "claim.score_changed",
        "claim.created",
        "claim.score_changed",
        "claim.resolved",
    ]
    report, raised, retracted, lowered, created, first_score, resolved = events
    assert report.claim_id == claim_id and report.payload["report_id"] == report_id
    assert report.payload["outlet_slug"] == "reuters" and report.payload["stance"] == "supports"
    assert raised.payload["confidence"] > raised.payload["previous_confidence"]
    assert retracted.payload == {
        "report_id": report_id,
        "report_key": recorded["report"]["key"],
        "outlet_id": recorded["report"]["outlet_id"],
        "outlet": "Reuters",
        "outlet_slug": "reuters",
        "reason": "wrong claim",
    }
    assert lowered.payload["previous_confidence"] == raised.payload["confidence"]
    assert "retracted" in lowered.payload["cause"]
    assert created.payload["text"] == "A brand new claim"
    assert first_score.claim_id == created.claim_id
    assert first_score.payload["previous_confidence"] is None
    assert set(first_score.payload) >= {"confidence", "lower", "upper", "label", "cause"}
    assert resolved.payload["verdict"] is False
    # The API answers to 4 decimals; the stored payload keeps the whole float.
    assert resolved.payload["confidence"] == pytest.approx(before_verdict["confidence"], abs=5e-5)
    assert resolved.payload["status"] == "resolved_false"
    # The verdict labels the claim; the model's confidence (and so its score) stays.
    assert resolved.payload["confidence"] == lowered.payload["confidence"]


def test_model_activation_emits_an_event(seeded):
    from service.newsroom.learning import activate

    factory = _factory(seeded)
    mark = _events(factory)[-1].id
    with UnitOfWork(factory) as uow:
        from models import ModelVersion
        from scoring.attribution import default_parameters
        from service.newsroom.model_store import parameters_to_json

        for version in ("v-a", "v-b"):
            uow.session.add(
                ModelVersion(
                    version=version,
                    active=False,
                    parameters=parameters_to_json(default_parameters()),
                )
            )
        uow.session.flush()
        activate(uow.session, "v-a")
        activate(uow.session, "v-b")
        uow.commit()
    events = _events(factory, mark)
    assert [(e.type, e.claim_id, e.payload) for e in events] == [
        ("model.activated", None, {"version": "v-a", "previous": None}),
        ("model.activated", None, {"version": "v-b", "previous": "v-a"}),
    ]


def _subscribe(session, filter_=None, url="http://127.0.0.1:9/hook") -> int:
    row = Subscription(url=url, filter=filter_, secret="x" * 20, created_by="test")
    session.add(row)
    session.flush()
    return row.id


def _deliveries(factory, subscription_id) -> list[tuple[str, int | None]]:
    with UnitOfWork(factory) as uow:
        rows = uow.session.execute(
            select(OutboxEvent.type, OutboxEvent.claim_id)
            .join(Delivery, Delivery.event_id == OutboxEvent.id)
            .where(Delivery.subscription_id == subscription_id)
            .order_by(OutboxEvent.id)
        )
        return [tuple(row) for row in rows]


def test_deliveries_are_owed_to_matching_subscriptions_only(session_factory):
    with UnitOfWork(session_factory) as uow:
        everything = _subscribe(uow.session)
        crossings = _subscribe(
            uow.session, {"event_types": ["claim.score_changed"], "thresholds": {"above": 0.56}}
        )
        tass_only = _subscribe(uow.session, {"event_types": ["report.recorded"], "outlets": [-1]})
        inactive = _subscribe(uow.session)
        uow.session.get(Subscription, inactive).active = False
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        summary = load_seed_story(uow.session)
        uow.commit()
    events = _events(session_factory)
    assert len(_deliveries(session_factory, everything)) == len(events)
    assert _deliveries(session_factory, tass_only) == []
    assert _deliveries(session_factory, inactive) == []
    above = {cid for cid, score in summary.scores.items() if score.confidence > 0.56}
    assert above  # the seed story has claims on both sides of 0.56
    assert _deliveries(session_factory, crossings) == [
        ("claim.score_changed", cid) for cid in sorted(above)
    ]


def test_an_outlet_filter_follows_its_reports_and_their_claims(session_factory):
    from models import Outlet

    with UnitOfWork(session_factory) as uow:
        _record(uow.session, key="followed", outlet="TASS")
        _record(uow.session, key="unrelated", outlet="Reuters")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        tass = uow.session.scalars(select(Outlet.id).where(Outlet.slug == "tass")).one()
        followed = _subscribe(
            uow.session,
            {"event_types": ["report.recorded", "claim.score_changed"], "outlets": [tass]},
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        _record(uow.session, key="followed", outlet="TASS", stance="neutral")
        _record(uow.session, key="followed", outlet="Reuters", stance="denies")
        _record(uow.session, key="unrelated", outlet="Reuters", stance="denies")
        uow.commit()
    # TASS's report, and the score change of the claim TASS reported that Reuters' denial
    # caused; the neutral report changes no score; nothing of the unrelated claim.
    delivered = _deliveries(session_factory, followed)
    assert [t for t, _ in delivered] == ["report.recorded", "claim.score_changed"]
    assert len({cid for _, cid in delivered}) == 1


def test_backlog_and_failures_are_counted_from_the_deliveries(session_factory):
    with UnitOfWork(session_factory) as uow:
        _subscribe(uow.session)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        _record(uow.session)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert outbox.outbox_backlog(uow.session) == 3
        assert outbox.delivery_failures(uow.session) == 0
        first, second, third = uow.session.scalars(select(Delivery).order_by(Delivery.id))
        first.status, first.attempts, first.delivered_at = "delivered", 3, utcnow()
        first.failures = 2
        second.status, second.attempts, second.failures = "failed", 4, 4
        third.attempts, third.failures = 1, 1
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert outbox.outbox_backlog(uow.session) == 1
        assert outbox.delivery_failures(uow.session) == 7


def test_prune_keeps_what_is_owed_or_failed(session_factory):
    with UnitOfWork(session_factory) as uow:
        subscription = _subscribe(uow.session)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        _record(uow.session)  # three events, three deliveries
        uow.commit()
    old = utcnow() - timedelta(days=30)
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(update(OutboxEvent).values(occurred_at=old))
        delivered, failed, pending = uow.session.scalars(select(Delivery).order_by(Delivery.id))
        delivered.status, delivered.delivered_at = "delivered", old
        failed.status = "failed"
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert outbox.prune(uow.session, timedelta(days=14)) == 1
        uow.commit()
    remaining = _deliveries(session_factory, subscription)
    assert [t for t, _ in remaining] == ["report.recorded", "claim.score_changed"]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_events_commit_in_id_order_on_postgresql(session_factory, monkeypatch):
    """A writer whose event got id N holds the outbox lock until it commits, so a second
    writer cannot commit N+1 while N is still invisible (which would let a reader that saw
    N+1 skip N for good)."""
    inside, release = threading.Event(), threading.Event()
    real_fan_out = outbox._fan_out

    def slow_first_fan_out(session, rows):
        real_fan_out(session, rows)
        if rows[0].payload.get("key") == "first":
            inside.set()
            release.wait(10)

    monkeypatch.setattr(outbox, "_fan_out", slow_first_fan_out)
    finished: list[str] = []

    def write(key):
        with UnitOfWork(session_factory) as uow:
            now = utcnow()
            claim = Claim(key=key, text=key, status="open", created_at=now, updated_at=now)
            uow.session.add(claim)
            uow.session.flush()
            outbox.emit_claim_created(uow.session, claim)
            uow.commit()
        finished.append(key)

    first = threading.Thread(target=write, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=write, args=("second",))
    second.start()
    second.join(1.0)
    assert second.is_alive(), "the second writer committed while the first held its event id"
    release.set()
    first.join(10)
    second.join(10)
    assert finished == ["first", "second"]
    events = _events(session_factory)
    assert [e.payload["key"] for e in events] == ["first", "second"]


def test_a_large_transaction_stores_its_events_as_a_small_one_does(session_factory, monkeypatch):
    """From COPY_EVENTS events on PostgreSQL copies them (an import batch's); the rows,
    their id order and the deliveries owed are those of the INSERT of fewer events."""
    count = outbox.COPY_EVENTS + 3
    payloads = [
        {"i": i, "text": f"ünïcode “{i}”", "score": i / 7, "none": None, "list": [i, "x"]}
        for i in range(count)
    ]

    def write(limit: int) -> list[tuple]:
        monkeypatch.setattr(outbox, "COPY_EVENTS", limit)
        with UnitOfWork(session_factory) as uow:
            mark = outbox.latest_event_id(uow.session)
            subscription = _subscribe(uow.session, {"event_types": ["model.activated"]})
            for payload in payloads:
                outbox.emit(uow.session, "model.activated", None, payload)
            outbox.emit(uow.session, "claim.created", None, {"key": "k", "text": "t"})
            uow.commit()
        events = _events(session_factory, mark)
        assert [e.id for e in events] == sorted(e.id for e in events)
        assert _deliveries(session_factory, subscription) == [("model.activated", None)] * count
        return [(e.type, e.claim_id, e.payload) for e in events]

    copied = write(outbox.COPY_EVENTS)
    inserted = write(count + 10)
    assert copied == inserted
    assert [payload for _, _, payload in copied[:count]] == payloads
