"""Engines, sessions and the unit of work.

Nothing here connects at import time: :func:`make_engine` is called by the app factory or
the CLI with the URL they were configured with.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("instance") / "srs.sqlite3"


def default_database_url() -> str:
    """``DATABASE_URL`` from the environment, else the embedded SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalize_url(url)
    return f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def normalize_url(url: str) -> str:
    """Point ``postgresql://`` URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores FOREIGN KEY clauses unless told otherwise, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = normalize_url(url or default_database_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_connections_idle_for(engine, IDLE_PING_SECONDS)
    return engine


# A pooled connection that has sat idle this long is pinged before use (a database restart
# or a dropped connection is then found before a request uses it); one used more recently
# is not. Pinging on every checkout (pool_pre_ping) cost a round trip per request, a third
# of a score read's CPU; under load every connection is reused within milliseconds.
IDLE_PING_SECONDS = 1.0


def ping_connections_idle_for(engine: Engine, seconds: float) -> None:
    """Before handing out a pooled connection idle for ``seconds`` or more, ping it; a dead
    one invalidates the pool and the checkout is retried on a new connection."""

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")
        # No checkin yet: connected for this checkout (the pool clears info on reconnect).
        if checked_in_at is None or time.monotonic() - checked_in_at < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError("pooled connection found dead") from error
            raise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork:
    """One use case's transaction: commit explicitly, roll back otherwise.

    >>> with UnitOfWork(session_factory) as uow:
    ...     uow.session.add(thing)
    ...     uow.commit()
    """

    def __init__(self, session_factory: Callable[[], Session]):
        self._session_factory = session_factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        except DBAPIError as error:
            # The connection died (the database restarted or went away): the server has
            # discarded the transaction already and the pool has invalidated the
            # connection, so there is nothing left to roll back. Anything else is raised.
            if not error.connection_invalidated:
                raise
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
