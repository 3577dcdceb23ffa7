"""Binds the engine and session factory to the Flask app; hands out units of work."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models.database import UnitOfWork, make_engine, make_session_factory

EXTENSION_KEY = "srs.database"


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.session_factory: sessionmaker[Session] = make_session_factory(engine)


def init_app(app: Flask) -> Database:
    # The engine connects lazily: nothing touches the database until a request does.
    database = Database(make_engine(app.config["DATABASE_URL"]))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(close_request_uow)
    return database


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION_KEY]


def unit_of_work(app: Flask | None = None) -> UnitOfWork:
    return UnitOfWork(database(app).session_factory)


def request_uow() -> UnitOfWork:
    """The unit of work of the current request, opened on first use.

    Write operations commit it once, after the response is built (see
    :func:`service.web.api.common.write_operation`), so the change and the stored idempotent
    response land in one transaction. Closed (rolled back if uncommitted) at teardown.
    """
    from flask import g

    uow = g.get("uow")
    if uow is None:
        uow = unit_of_work().__enter__()
        g.uow = uow
        if g.get("read_only"):
            # Reads need no transaction of their own: in autocommit there is no BEGIN and
            # no ROLLBACK, two round trips of the four or five a read costs. (A list's
            # count and page may then straddle a concurrent write, as across two pages.)
            uow.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return uow


def close_request_uow(_exc: BaseException | None = None) -> None:
    from flask import g

    uow = g.pop("uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)
