"""Walks every operation of the OpenAPI document: no key is 401, a weaker key is 403."""

from __future__ import annotations

import re

import pytest

from service.web.app import create_app

# For each scope an operation needs, a key that is valid but not enough.
WEAKER_SCOPE = {"write": "read", "verdict": "write", "admin": "verdict"}
PUBLIC = {"/api/v1/healthz", "/api/v1/readyz"}
# POSTs that write nothing (their input is a body, not a query string): reads of the claim.
READS_BY_POST = {("post", "/api/v1/claims/{claim_id}/what-if")}


def _operations():
    app = create_app({"DATABASE_URL": "sqlite://"})
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation.get("x-required-scope")


OPERATIONS = list(_operations())


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_operation_but_the_probes_declares_its_scope():
    for path, method, scope in OPERATIONS:
        if path in PUBLIC:
            assert scope is None
        else:
            assert scope in ("read", "write", "verdict", "admin"), (method, path)
            if method != "get" and (method, path) not in READS_BY_POST:
                assert scope != "read", f"{method} {path} is a write"


@pytest.mark.parametrize(
    "path, method, scope",
    [op for op in OPERATIONS if op[2] is not None],
    ids=[f"{m.upper()} {p}" for p, m, s in OPERATIONS if s is not None],
)
def test_operation_refuses_a_missing_or_weaker_key(seeded, client, api_keys, path, method, scope):
    request = getattr(client, method)
    body = {"json": {}} if method in ("post", "patch", "put") else {}
    no_key = request(_url(path), **body)
    assert no_key.status_code == 401, no_key.get_json()
    assert no_key.mimetype == "application/problem+json"
    if scope in WEAKER_SCOPE:
        weaker = {"Authorization": f"Bearer {api_keys[WEAKER_SCOPE[scope]]}"}
        refused = request(_url(path), headers=weaker, **body)
        assert refused.status_code == 403, refused.get_json()
    allowed = {"Authorization": f"Bearer {api_keys[scope]}"}
    assert request(_url(path), headers=allowed, **body).status_code not in (401, 403)
