"""Pooled PostgreSQL connections are pinged before use only when they have sat idle: a
connection the database dropped while it idled is replaced before a request uses it, and
one used a moment ago costs no ping (the round trip that was a third of a read)."""

from __future__ import annotations

import time

import pytest
from conftest import POSTGRES_URL
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from models.database import make_engine, ping_connections_idle_for

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL")


def _engine(url: str, idle_seconds: float):
    engine = create_engine(url)
    ping_connections_idle_for(engine, idle_seconds)
    pings = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted
    return engine, pings


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_migrated):
    engine, pings = _engine(postgres_migrated, idle_seconds=0.05)
    first = _backend(engine)
    killer = create_engine(postgres_migrated, poolclass=NullPool)
    with killer.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    killer.dispose()
    time.sleep(0.1)
    second = _backend(engine)  # no error: the dead connection was found by the ping
    assert second != first and len(pings) == 1
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_migrated):
    engine, pings = _engine(postgres_migrated, idle_seconds=5)
    backends = {_backend(engine) for _ in range(20)}
    assert len(backends) == 1 and pings == []
    engine.dispose()


def test_the_service_engine_pings_idle_connections_only(postgres_migrated):
    engine = make_engine(postgres_migrated)
    assert not engine.pool._pre_ping  # no ping on every checkout
    first = _backend(engine)
    assert _backend(engine) == first
    engine.dispose()
