"""API keys are trusted from each process's cache for a bounded time: a key revoked by one
process (another gunicorn worker, the CLI) is refused by every process within that bound,
and at once by the process that revoked it. Two app instances on one database stand for
two workers; each cache's clock is a fake one the test moves."""

from __future__ import annotations

import pytest

from service.newsroom.keys import issue_key
from service.web.app import create_app
from service.web.auth import CALLER_CACHE_KEY
from service.web.database import unit_of_work


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _worker(database_url: str, seconds: float | None = None):
    config = {"TESTING": True, "DATABASE_URL": database_url}
    if seconds is not None:
        config["API_KEY_CACHE_SECONDS"] = seconds
    app = create_app(config)
    clock = FakeClock()
    app.extensions[CALLER_CACHE_KEY].clock = clock
    return app, app.test_client(), clock


def _keys(app) -> tuple[dict, dict, int]:
    with unit_of_work(app) as uow:
        admin = issue_key(uow.session, "admin", "admin")
        reader = issue_key(uow.session, "reader", "read")
        uow.commit()
    bearer = lambda issued: {"Authorization": f"Bearer {issued.key}"}  # noqa: E731
    return bearer(admin), bearer(reader), reader.id


def test_the_default_bound_is_five_seconds(database_url):
    app, _, _ = _worker(database_url)
    assert app.extensions[CALLER_CACHE_KEY].seconds == 5


def test_a_key_revoked_elsewhere_is_refused_within_the_bound(database_url):
    first, first_client, first_clock = _worker(database_url)
    second, second_client, _ = _worker(database_url)
    admin, reader, reader_id = _keys(first)
    for client in (first_client, second_client):
        assert client.get("/api/v1/claims", headers=reader).status_code == 200

    revoked = second_client.delete(f"/api/v1/keys/{reader_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    # The revoking process refuses it at once, and so does the other one after the bound:
    # until then it trusts the lookup it made (which is what the cache is for).
    assert second_client.get("/api/v1/claims", headers=reader).status_code == 401
    first_clock.now += 4.9
    assert first_client.get("/api/v1/claims", headers=reader).status_code == 200
    first_clock.now += 0.1
    refused = first_client.get("/api/v1/claims", headers=reader)
    assert refused.status_code == 401 and "unknown or revoked" in refused.get_json()["detail"]
    # Use does not renew an entry: a key looked up at t is refused by t + bound, however
    # often it is used in between.
    admin_id = first_client.get("/api/v1/keys", headers=admin).get_json()
    admin_id = next(k["id"] for k in admin_id if k["name"] == "admin")
    for _ in range(4):
        first_clock.now += 1
        assert first_client.get("/api/v1/claims", headers=admin).status_code == 200
    assert second_client.delete(f"/api/v1/keys/{admin_id}", headers=admin).status_code == 200
    first_clock.now += 1  # 5 s after first_client looked the admin key up
    assert first_client.get("/api/v1/claims", headers=admin).status_code == 401


def test_without_a_cache_revocation_is_immediate_everywhere(database_url):
    first, first_client, _ = _worker(database_url, seconds=0)
    second, second_client, _ = _worker(database_url, seconds=0)
    admin, reader, reader_id = _keys(first)
    assert first_client.get("/api/v1/claims", headers=reader).status_code == 200
    assert second_client.delete(f"/api/v1/keys/{reader_id}", headers=admin).status_code == 200
    assert first_client.get("/api/v1/claims", headers=reader).status_code == 401


@pytest.mark.parametrize("presented", ["srs_" + "Z" * 43, "not-a-key"])
def test_refused_keys_are_not_cached(database_url, presented):
    app, client, _ = _worker(database_url)
    for _ in range(2):
        assert (
            client.get(
                "/api/v1/claims", headers={"Authorization": f"Bearer {presented}"}
            ).status_code
            == 401
        )
    # A key issued after a refusal is accepted at once (nothing negative was kept).
    _, reader, _ = _keys(app)
    assert client.get("/api/v1/claims", headers=reader).status_code == 200
    assert len(app.extensions[CALLER_CACHE_KEY]._entries) == 1
