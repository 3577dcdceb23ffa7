"""The first deploy: scripts/entrypoint (the image's ENTRYPOINT, and the first steps of
`make run`) run by itself against a fresh database, as a container would run it.

No Docker daemon is needed: the script is run with the virtualenv's ``srs`` on its PATH,
against a fresh SQLite file and a fresh PostgreSQL database (created on
TEST_DATABASE_URL's server, dropped afterwards), with the server replaced by a harmless
command or by a short-lived ``srs serve``. It must migrate, print one admin key on the
first start and none on the next, or write it to SRS_ADMIN_KEY_FILE, and load the seed
story only when SRS_LOAD_SEED is true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_harness import call, free_port
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from models import ApiKey, Claim
from models.database import UnitOfWork, make_engine, make_session_factory, normalize_url
from service.newsroom.keys import find_key

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "scripts" / "entrypoint"
BIN = str(Path(sys.executable).parent)
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
KEY_LINE = re.compile(r"Admin API key \(shown once\): (srs_\S+)")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def fresh_database(request, tmp_path) -> Iterator[str]:
    """A database that nothing has touched: not even migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    server = make_url(normalize_url(POSTGRES_URL))
    name = f"srs_first_deploy_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start(database_url: str, *command: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("SRS_LOAD_SEED", "SRS_ADMIN_KEY_FILE")
    }
    environment.update(PATH=f"{BIN}:{environment.get('PATH', '')}", DATABASE_URL=database_url)
    environment.update(env)
    return subprocess.run(
        [str(ENTRYPOINT), *command],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


def stored(database_url: str):
    engine = make_engine(normalize_url(database_url))
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            keys = uow.session.scalars(select(ApiKey)).all()
            claims = uow.session.scalar(select(func.count()).select_from(Claim))
            return [(k.scope, k.revoked_at) for k in keys], claims
    finally:
        engine.dispose()


def key_works(database_url: str, key: str) -> bool:
    engine = make_engine(normalize_url(database_url))
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            row = find_key(uow.session, key)
            return row is not None and row.scope == "admin"
    finally:
        engine.dispose()


def test_first_start_prints_one_admin_key_then_none_and_loads_no_seed(fresh_database):
    first = start(fresh_database, "echo", "serving")
    logs = first.stdout + first.stderr
    keys = KEY_LINE.findall(logs)
    assert len(keys) == 1, logs
    assert logs.count(keys[0]) == 1  # printed once, nowhere else
    assert first.stdout.rstrip().endswith("serving")  # then the command runs (exec)
    assert key_works(fresh_database, keys[0])
    assert "seed story not loaded" in logs
    assert stored(fresh_database) == ([("admin", None)], 0)

    second = start(fresh_database, "echo", "serving")
    logs = second.stdout + second.stderr
    assert "srs_" not in logs and not KEY_LINE.search(logs)
    assert "API keys exist already" in logs
    assert stored(fresh_database) == ([("admin", None)], 0)


def test_the_seed_story_loads_only_when_asked(fresh_database):
    start(fresh_database, "true", SRS_LOAD_SEED="no")
    assert stored(fresh_database)[1] == 0
    asked = start(fresh_database, "true", SRS_LOAD_SEED="TRUE")
    assert "seed story: 7 outlets, 6 claims, 24 reports created" in asked.stdout
    assert stored(fresh_database)[1] == 6
    again = start(fresh_database, "true", SRS_LOAD_SEED="true")  # idempotent
    assert "0 claims" in again.stdout and stored(fresh_database)[1] == 6


def test_the_key_can_go_to_a_file_instead_of_the_log(fresh_database, tmp_path):
    key_file = tmp_path / "secrets" / "admin-key"
    key_file.parent.mkdir()
    first = start(fresh_database, "true", SRS_ADMIN_KEY_FILE=str(key_file))
    key = key_file.read_text().strip()
    assert key.startswith("srs_") and key_works(fresh_database, key)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert key not in first.stdout + first.stderr and "srs_" not in first.stdout + first.stderr
    assert f"written to {key_file}" in first.stdout
    start(fresh_database, "true", SRS_ADMIN_KEY_FILE=str(key_file))
    assert key_file.read_text().strip() == key  # not overwritten on the next start


def test_a_revoked_first_key_is_not_replaced_by_a_new_one_in_the_log(fresh_database):
    key = KEY_LINE.findall(start(fresh_database, "true").stdout)[0]
    engine = make_engine(normalize_url(fresh_database))
    with UnitOfWork(make_session_factory(engine)) as uow:
        uow.session.execute(text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP"))
        uow.commit()
    engine.dispose()
    assert not key_works(fresh_database, key)
    logs = start(fresh_database, "true").stdout
    assert "srs_" not in logs and stored(fresh_database)[0][0][1] is not None


def test_the_entrypoint_then_serves_with_that_key(fresh_database, tmp_path):
    """With a short-lived `srs serve` as the command: the printed key reads the API."""
    port = free_port()
    log_path = tmp_path / "entrypoint.log"
    environment = {k: v for k, v in os.environ.items() if k != "SRS_LOAD_SEED"}
    environment.update(PATH=f"{BIN}:{environment.get('PATH', '')}", DATABASE_URL=fresh_database)
    environment.update(SRS_LOAD_SEED="true", SRS_OPEN_READS="false")
    command = [str(ENTRYPOINT), "srs", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", "1"], env=environment, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            try:
                if call(port, "GET", "/readyz", timeout=5).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        key = KEY_LINE.findall(log_path.read_text())[0]
        assert call(port, "GET", "/api/v1/claims").status == 401
        answer = call(port, "GET", "/api/v1/claims?page_size=100", key=key)
        assert answer.status == 200 and len(answer.json()) == 6
    finally:
        process.terminate()
        process.wait(timeout=30)
