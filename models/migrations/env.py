"""Alembic environment: runs against the engine or URL the caller configured."""

from __future__ import annotations

from alembic import context

from models.base import Base
from models.database import default_database_url, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or default_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or default_database_url())
    with engine.connect() as connection:
        _run_with(connection)
    engine.dispose()


def _run_with(connection) -> None:
    # Batch mode: SQLite cannot ALTER most constraints, so Alembic copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
