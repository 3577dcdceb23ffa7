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
    return database


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION_KEY]


def unit_of_work(app: Flask | None = None) -> UnitOfWork:
    return UnitOfWork(database(app).session_factory)
