"""``srs backup`` / ``srs restore``: the whole database round-trips, on both backends and
across them; a restore is all or nothing, names the line and field of a bad line, and
refuses a database that holds rows unless told to replace them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability_figures import record_figures
from sqlalchemy import select

from models import Base
from models.database import UnitOfWork, make_engine, make_session_factory
from models.migrate import upgrade
from service.cli import main
from service.operations.backup import KINDS, NOT_BACKED_UP, empty_database
from service.operations.consistency import check_consistency
from service.web.app import create_app


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _populate(database_url: str) -> dict[str, str]:
    """A database with a bit of everything the service stores, written through the API."""
    from service.cli.data import load_seed_story
    from service.newsroom.keys import SCOPES, issue_key
    from service.newsroom.learning import activate, fit_model_version, rescore_open_claims
    from service.web.database import unit_of_work

    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    with unit_of_work(app) as uow:
        load_seed_story(uow.session)
        keys = {scope: issue_key(uow.session, f"backup {scope}", scope).key for scope in SCOPES}
        uow.commit()
    client = app.test_client()
    admin = _headers(keys["admin"])
    # A webhook subscription first, so the writes below leave events and deliveries.
    hook = client.post(
        "/api/v1/subscriptions", json={"url": "https://desk.example/hooks/srs"}, headers=admin
    )
    assert hook.status_code == 201, hook.get_json()
    claims = client.get("/api/v1/claims?page_size=100&sort=id", headers=admin).get_json()
    first = client.post(
        "/api/v1/reports",
        json={
            "claim_id": claims[0]["id"],
            "outlet": "A new outlet",
            "new_outlet": True,
            "stance": "denies",
            "attribution": "document",
            "source": "  a leaked memo  ",
            "url": "https://example.org/memo?x=1",
            "quote": "  untrimmed quote ",
            "published_at": "2024-11-20T10:11:12.345678Z",
            "interested_party": True,
        },
        headers={**admin, "Idempotency-Key": "backup-first"},  # a stored response
    )
    assert first.status_code == 201, first.get_json()
    report = first.get_json()["report"]
    copy = client.post(
        "/api/v1/reports",
        json={
            "claim_id": claims[0]["id"],
            "outlet": "Kan",
            "stance": "denies",
            "cites": report["id"],
        },
        headers=admin,
    )
    assert copy.status_code == 201
    # The cited report is retracted afterwards: a live report cites a retracted one.
    assert (
        client.delete(f"/api/v1/reports/{report['id']}?reason=wrong", headers=admin).status_code
        < 300
    )
    for claim, verdict in ((claims[1], True), (claims[2], False), (claims[1], True)):
        response = client.post(
            f"/api/v1/claims/{claim['id']}/verdict",
            json={"verdict": verdict, "note": "checked"},
            headers=admin,
        )
        assert response.status_code == 200
    assert (
        client.post(
            "/api/v1/claims", json={"text": "A claim nobody reported"}, headers=admin
        ).status_code
        < 300
    )
    revoked = client.post("/api/v1/keys", json={"name": "old", "scope": "read"}, headers=admin)
    client.delete(f"/api/v1/keys/{revoked.get_json()['id']}", headers=admin)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        stored = fit_model_version(uow.session)
        activate(uow.session, stored.version)
        uow.commit()
    rescore_open_claims(factory, cause="model activated")
    engine.dispose()
    return keys


def _dump(database_url: str) -> dict[str, list[tuple]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row) for row in connection.execute(select(table).order_by(table.c.id))
                ]
                for table in Base.metadata.sorted_tables
                if table.name not in NOT_BACKED_UP
            }
    finally:
        engine.dispose()


def _empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            empty_database(connection)
    finally:
        engine.dispose()


def _run(cli_runner, database_url: str, *args: str):
    return cli_runner.invoke(main, ["--database-url", database_url, *args], catch_exceptions=False)


def test_every_table_is_backed_up_or_deliberately_left_out():
    backed_up = {model.__tablename__ for model in KINDS.values()}
    assert backed_up | set(NOT_BACKED_UP) == set(Base.metadata.tables)


def test_backup_and_restore_reproduce_the_database(database_url, tmp_path, cli_runner):
    keys = _populate(database_url)
    before = _dump(database_url)
    path = tmp_path / "backup.jsonl"
    result = _run(cli_runner, database_url, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert not any(key in path.read_text() for key in keys.values())
    _empty(database_url)
    restored = _run(cli_runner, database_url, "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "0 problems" in restored.output
    after = _dump(database_url)
    assert after == before
    assert before["outbox_events"] and before["deliveries"] and before["subscriptions"]
    assert before["idempotent_responses"]  # a retry across the restore is answered once
    # The ids continue after the restored ones, and the restored keys still work.
    client = create_app({"TESTING": True, "DATABASE_URL": database_url}).test_client()
    response = client.post(
        "/api/v1/reports",
        json={
            "claim_key": "after-restore",
            "claim": "After the restore",
            "outlet": "Kan",
            "stance": "supports",
        },
        headers=_headers(keys["write"]),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["id"] > max(row[0] for row in before["reports"])
    backend = database_url.split(":", 1)[0].split("+")[0]
    record_figures(
        "backup",
        {
            backend: {
                "rows_backed_up": sum(len(rows) for rows in before.values()),
                "rows_compared_after_restore": sum(len(rows) for rows in after.values()),
                "rows_differing": sum(
                    abs(len(before[t]) - len(after[t]))
                    + sum(a != b for a, b in zip(before[t], after[t], strict=False))
                    for t in before
                ),
                "lines": len(path.read_text().splitlines()),
            }
        },
    )


def test_a_backup_restores_across_backends(database_url, tmp_path, cli_runner):
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    upgrade(source)
    _populate(source)
    path = tmp_path / "backup.jsonl"
    assert _run(cli_runner, source, "backup", str(path)).exit_code == 0
    restored = _run(cli_runner, database_url, "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert _dump(database_url) == _dump(source)
    engine = make_engine(database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        assert check_consistency(uow.session).ok
    engine.dispose()


def test_restore_refuses_a_database_with_rows_unless_told_to_replace(
    database_url, tmp_path, cli_runner
):
    _populate(database_url)
    path = tmp_path / "backup.jsonl"
    _run(cli_runner, database_url, "backup", str(path))
    before = _dump(database_url)
    refused = _run(cli_runner, database_url, "restore", str(path))
    assert refused.exit_code == 2 and "--replace" in refused.output
    replaced = _run(cli_runner, database_url, "restore", "--replace", str(path))
    assert replaced.exit_code == 0, replaced.output
    assert _dump(database_url) == before


@pytest.mark.parametrize(
    "entity, field, value, expected",
    [
        ("score_history", "confidence", "high", "field 'confidence': must be a number"),
        ("report", "record", {"stance": "maybe"}, "field 'record.stance'"),
        ("verdict", "claim_id", 999_999, "field 'claim_id': names no claim"),
        ("outlet", "kind", "blog", "field 'kind': must be one of"),
        ("audit", "surprise", 1, "field 'surprise': is not a field"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_restored(
    database_url, tmp_path, cli_runner, entity, field, value, expected
):
    _populate(database_url)
    path = tmp_path / "backup.jsonl"
    _run(cli_runner, database_url, "backup", str(path))
    lines = path.read_text().splitlines()
    # The last line of that entity: everything before it would be restored by a
    # restore that is not all-or-nothing.
    index = max(i for i, line in enumerate(lines) if json.loads(line).get("entity") == entity)
    obj = json.loads(lines[index])
    if field == "record":
        obj["record"].update(value)
    else:
        obj[field] = value
    lines[index] = json.dumps(obj)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    _empty(database_url)
    result = _run(cli_runner, database_url, "restore", str(broken))
    assert result.exit_code == 2
    assert f"line {index + 1}, {expected}" in result.output, result.output
    assert "nothing was restored" in result.output
    assert all(rows == [] for rows in _dump(database_url).values())


def test_a_truncated_backup_is_refused(database_url, tmp_path, cli_runner):
    _populate(database_url)
    path = tmp_path / "backup.jsonl"
    _run(cli_runner, database_url, "backup", str(path))
    truncated = Path(tmp_path / "truncated.jsonl")
    truncated.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    _empty(database_url)
    result = _run(cli_runner, database_url, "restore", str(truncated))
    assert result.exit_code == 2 and "truncated" in result.output
    assert all(rows == [] for rows in _dump(database_url).values())


def test_without_key_hashes_the_restored_keys_are_revoked(database_url, tmp_path, cli_runner):
    keys = _populate(database_url)
    path = tmp_path / "backup.jsonl"
    _run(cli_runner, database_url, "backup", "--without-key-hashes", str(path))
    assert '"key_hash": null' in path.read_text()
    _empty(database_url)
    assert _run(cli_runner, database_url, "restore", str(path)).exit_code == 0
    client = create_app({"TESTING": True, "DATABASE_URL": database_url}).test_client()
    assert client.get("/api/v1/claims", headers=_headers(keys["read"])).status_code == 401
    listed = _run(cli_runner, database_url, "keys", "list").output
    assert "live" not in listed and "revoked" in listed


def test_srs_check_finds_a_score_that_is_not_its_batch_recompute(database_url, cli_runner):
    _populate(database_url)
    assert _run(cli_runner, database_url, "check").exit_code == 0
    engine = make_engine(database_url)
    with engine.begin() as connection:
        from models import Claim

        claim = Claim.__table__
        first = connection.execute(select(claim.c.id).order_by(claim.c.id)).scalars().first()
        # A nudge inside the stored interval, as a half-applied write could leave it.
        nudged = claim.c.confidence * 0.999 + claim.c.confidence_lower * 0.001
        connection.execute(claim.update().where(claim.c.id == first).values(confidence=nudged))
    engine.dispose()
    result = _run(cli_runner, database_url, "check")
    assert result.exit_code == 1
    assert f"claim {first}: stored confidence" in result.output
