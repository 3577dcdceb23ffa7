"""Hostile or careless callers: nesting bombs, huge strings, NUL, CORS, keys in logs.

The body size limit (413), page size cap and rate limits (429 with Retry-After) are tested
in tests/test_api.py; the fuzzing in tests/test_api_fuzz.py sends malformed input of every
documented kind.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from service.web.app import create_app
from service.web.request_limits import MAX_JSON_DEPTH, MAX_JSON_STRING_BYTES

PROBLEM = "application/problem+json"


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def _post(client, auth, data, path="/api/v1/reports"):
    return client.post(path, data=data, content_type="application/json", headers=auth("write"))


def test_a_nesting_bomb_is_refused_before_parsing(seeded, client, auth):
    # 500,000 levels: Python's json would raise RecursionError; the scan refuses it first.
    bomb = b"[" * 500_000 + b"]" * 500_000
    started = time.perf_counter()
    body = _problem(_post(client, auth, bomb), 413)
    assert time.perf_counter() - started < 5
    assert str(MAX_JSON_DEPTH) in body["detail"]
    # Without a key too: the limit holds before authentication.
    anonymous = client.post("/api/v1/reports", data=bomb, content_type="application/json")
    _problem(anonymous, 413)


def test_nesting_at_the_limit_reaches_validation(seeded, client, auth):
    nested = {"claim_key": "k", "claim": "c", "outlet": "o", "stance": "supports"}
    value: object = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        value = [value]
    at_limit = json.dumps({**nested, "quote": value}).encode()
    assert "quote" in _problem(_post(client, auth, at_limit), 422)["errors"]["json"]
    over = json.dumps({**nested, "quote": [value]}).encode()
    _problem(_post(client, auth, over), 413)


def test_brackets_inside_strings_do_not_count_as_nesting(seeded, client, auth):
    body = {
        "claim_key": "brackets",
        "claim": "[" * 100 + '"\\' + "{" * 100,
        "outlet": "Reuters",
        "stance": "supports",
    }
    assert _post(client, auth, json.dumps(body).encode()).status_code == 201


def test_an_overlong_string_is_refused_unparsed(seeded, client, auth):
    body = {"claim_key": "k", "claim": "x" * (MAX_JSON_STRING_BYTES + 1), "outlet": "o"}
    detail = _problem(_post(client, auth, json.dumps(body).encode()), 413)["detail"]
    assert str(MAX_JSON_STRING_BYTES) in detail
    # The longest field the schema takes (10,000 characters, escaped) is well inside.
    quote = "\u00e9" * 10_000
    ok = {
        "claim_key": "long-quote",
        "claim": "A claim",
        "outlet": "Reuters",
        "stance": "supports",
        "quote": quote,
    }
    assert _post(client, auth, json.dumps(ok).encode()).status_code == 201


@pytest.mark.parametrize(
    "text", ['{"claim_key": "k", "claim": "a\\u0000b", "outlet": "o", "stance": "supports"}']
)
def test_nul_in_a_body_is_400_not_a_database_error(seeded, client, auth, text):
    _problem(_post(client, auth, text.encode()), 400)


def test_an_escaped_backslash_before_u0000_is_text(seeded, client, auth):
    body = {"claim_key": "k-bs", "claim": "a\\u0000b", "outlet": "Reuters", "stance": "supports"}
    response = _post(client, auth, json.dumps(body).encode())
    assert response.status_code == 201, response.get_json()


def test_nul_in_the_query_or_path_is_400(seeded, client, auth):
    _problem(client.get("/api/v1/claims?q=a%00b", headers=auth("read")), 400)
    _problem(client.post("/api/v1/models/v%00/activate", headers=auth("admin")), 400)


# -- CORS --------------------------------------------------------------------------------------
def test_cors_is_off_by_default(seeded, client, auth):
    origin = {"Origin": "https://newsroom.example"}
    response = client.get("/api/v1/claims", headers={**auth("read"), **origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/reports",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins(database_url, api_keys, monkeypatch):
    monkeypatch.setenv("SRS_CORS_ORIGINS", "https://newsroom.example, https://desk.example")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    client = app.test_client()
    allowed = {"Origin": "https://desk.example"}
    preflight = client.options(
        "/api/v1/reports",
        headers={
            **allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://desk.example"
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "idempotency-key" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    key = {"Authorization": f"Bearer {api_keys['read']}"}
    response = client.get("/api/v1/claims", headers={**key, **allowed})
    assert response.headers["Access-Control-Allow-Origin"] == "https://desk.example"
    assert "X-Pagination" in response.headers["Access-Control-Expose-Headers"]
    other = client.get("/api/v1/claims", headers={**key, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- keys ----------------------------------------------------------------------------------------
def test_keys_never_appear_in_logs(seeded, client, api_keys, caplog):
    admin = api_keys["admin"]
    wrong = admin[:-4] + ("AAAA" if not admin.endswith("AAAA") else "BBBB")
    unknown_prefix = "srs_" + "Z" * 43
    with caplog.at_level(logging.DEBUG):
        # Successes, failures, a revoked key, a malformed header, and a key created by API.
        assert (
            client.get("/api/v1/claims", headers={"Authorization": f"Bearer {admin}"}).status_code
            == 200
        )
        for presented in (wrong, unknown_prefix, "not-even-a-key"):
            response = client.get(
                "/api/v1/claims", headers={"Authorization": f"Bearer {presented}"}
            )
            assert response.status_code == 401
        created = client.post(
            "/api/v1/keys",
            json={"name": "logged?", "scope": "read"},
            headers={"Authorization": f"Bearer {admin}"},
        ).get_json()
        client.delete(f"/api/v1/keys/{created['id']}", headers={"Authorization": f"Bearer {admin}"})
        revoked = client.get(
            "/api/v1/claims", headers={"Authorization": f"Bearer {created['key']}"}
        )
        assert revoked.status_code == 401
        client.get("/api/v1/claims", headers={"Authorization": f"Basic {admin}"})
    secrets = [admin, wrong, unknown_prefix, created["key"]] + list(api_keys.values())
    # The part after the shown prefix is the secret; no 16 characters of it may be logged.
    fragments = {s[12:28] for s in secrets} | set(secrets)
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    leaked = [fragment for fragment in fragments if fragment in logged]
    assert not leaked


def test_keys_are_compared_in_constant_time(seeded, client, api_keys, monkeypatch):
    import hmac

    import service.newsroom.keys

    calls = []
    original = hmac.compare_digest

    def recording(a, b):
        calls.append((len(a), len(b)))
        return original(a, b)

    monkeypatch.setattr(service.newsroom.keys.hmac, "compare_digest", recording)
    key = api_keys["read"]
    client.get("/api/v1/claims", headers={"Authorization": f"Bearer {key}"})
    near_miss = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert (
        client.get("/api/v1/claims", headers={"Authorization": f"Bearer {near_miss}"}).status_code
        == 401
    )
    # Both the match and the near miss went through compare_digest, on equal-length hashes.
    assert len(calls) >= 2 and all(a == b == 64 for a, b in calls)
