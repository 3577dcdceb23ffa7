"""Migrations go up and down cleanly on every backend."""

from __future__ import annotations

from sqlalchemy import inspect

from models import Base
from models.database import make_engine
from models.migrate import current_revision, downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_round_trip(database_url):
    assert current_revision(database_url) is not None
    assert _tables(database_url) == set(Base.metadata.tables)
    downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)


def test_notification_tables_migrate_down_and_up_alone(database_url):
    notification_tables = {"subscriptions", "outbox_events", "deliveries"}
    downgrade(database_url, "0001")
    assert current_revision(database_url) == "0001"
    left = _tables(database_url)
    assert not left & notification_tables
    assert {"claims", "reports", "api_keys"} <= left
    upgrade(database_url, "0002_subscriptions_outbox")
    assert notification_tables <= _tables(database_url)
    upgrade(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)
