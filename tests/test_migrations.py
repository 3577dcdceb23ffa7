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


def test_each_revision_goes_down_and_up_again_and_matches_the_models(database_url):
    """Step by step from base to head: each revision is applied, reverted and applied
    again, so every downgrade is exercised, not only the walk down from head. At the end
    the schema is exactly what the models declare (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = list(reversed(list(script.walk_revisions())))
    downgrade(database_url, "base")
    for revision in revisions:
        upgrade(database_url, revision.revision)
        downgrade(database_url, revision.down_revision or "base")
        upgrade(database_url, revision.revision)
    assert current_revision(database_url) == script.get_current_head()
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


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


def test_0004_marks_outlets_made_from_unknown_names_unvetted_and_goes_back(database_url):
    """Upgrading: outlets the recorder created from unknown names (its rationale says so)
    become unvetted, their priors untouched. Downgrading: an outlet without a prior gets
    its kind's, as the recorder stored before."""
    from sqlalchemy import text

    downgrade(database_url, "0003_performance_indexes")
    engine = make_engine(database_url)
    insert = text(
        "INSERT INTO outlets (name, slug, kind, prior_reliability, prior_rationale, "
        "created_at, updated_at) VALUES (:name, :slug, :kind, :prior, :rationale, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                insert,
                [
                    {
                        "name": "Reuters",
                        "slug": "reuters",
                        "kind": "wire_agency",
                        "prior": 0.85,
                        "rationale": "Wire agency.",
                    },
                    {
                        "name": "Reuter",
                        "slug": "reuter",
                        "kind": "independent",
                        "prior": 0.6,
                        "rationale": "First seen in a report recorded by import; starts from "
                        "the prior of its kind (independent).",
                    },
                ],
            )
        upgrade(database_url, "0004_newsroom_hygiene")
        select_outlets = text("SELECT name, vetted, prior_reliability FROM outlets ORDER BY id")
        with engine.connect() as connection:
            rows = [(n, bool(v), p) for n, v, p in connection.execute(select_outlets)]
        assert rows == [("Reuters", True, 0.85), ("Reuter", False, 0.6)]
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE outlets SET prior_reliability = NULL WHERE slug = 'reuter'")
            )
            connection.execute(
                text(
                    "INSERT INTO outlets (name, slug, kind, prior_rationale, vetted, "
                    "created_at, updated_at) VALUES ('Kan 11', 'kan-11', "
                    "'public_broadcaster', '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        downgrade(database_url, "0003_performance_indexes")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT slug, prior_reliability FROM outlets"))
            priors = {slug: prior for slug, prior in rows}
        assert priors == {"reuters": 0.85, "reuter": 0.6, "kan-11": 0.75}
    finally:
        engine.dispose()
        upgrade(database_url)  # the next test on this database expects the head schema
