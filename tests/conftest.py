"""Fixtures: a migrated database per test on SQLite and, when TEST_DATABASE_URL is set,
on PostgreSQL too; the Flask app, its test client and its CLI runner.

Tests that take the ``database_url`` fixture (directly or through ``app``) run once per
backend. In CI (``CI`` set) a missing TEST_DATABASE_URL is an error, not a silent skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from models import Base
from models.database import UnitOfWork, make_engine, make_session_factory, normalize_url
from models.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError("CI is set but TEST_DATABASE_URL is not: PostgreSQL must be tested")


def pytest_report_header(config: pytest.Config) -> str:
    return "database backends: " + ", ".join(BACKENDS)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated SQLite file, copied for each test (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    assert POSTGRES_URL, "TEST_DATABASE_URL is not set"
    url = normalize_url(POSTGRES_URL)
    engine = make_engine(url)
    with engine.begin() as connection:
        # A fresh schema for the session, whatever an earlier run left behind.
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    return url


def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_migrated")
        _truncate_postgres(url)
        yield url


@pytest.fixture
def session_factory(database_url: str):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def uow(session_factory) -> Iterator[UnitOfWork]:
    with UnitOfWork(session_factory) as unit:
        yield unit


@pytest.fixture
def app(database_url: str):
    from service.web.app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli_runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def seeded(app):
    """The app with the seed story loaded."""
    from service.cli.data import load_seed_story
    from service.web.database import unit_of_work

    with app.app_context(), unit_of_work(app) as unit:
        load_seed_story(unit.session)
        unit.commit()
    return app


@pytest.fixture
def api_keys(app) -> dict[str, str]:
    """One live key per scope, by scope name: {"read": "srs_…", …}."""
    from service.newsroom.keys import SCOPES, issue_key
    from service.web.database import unit_of_work

    with unit_of_work(app) as unit:
        issued = {scope: issue_key(unit.session, f"test {scope}", scope).key for scope in SCOPES}
        unit.commit()
    return issued


@pytest.fixture
def auth(api_keys):
    """Headers for a scope: ``client.get(url, headers=auth("read"))``."""
    return lambda scope: {"Authorization": f"Bearer {api_keys[scope]}"}
