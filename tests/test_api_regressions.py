"""Bugs the API fuzzing (tests/test_api_fuzz.py) found, each pinned by an exact request."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def _status(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response


def test_the_openapi_document_defines_every_response_it_references(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    defined = set(spec["components"]["responses"])
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                ref = response.get("$ref", "")
                if ref:
                    assert ref.rsplit("/", 1)[-1] in defined, ref


@pytest.mark.parametrize(
    "method, path",
    [
        ("delete", "/api/v1/keys/6944016456375918424752128"),
        ("get", "/api/v1/claims/2147483648"),
        ("get", "/api/v1/reports/99999999999999999999"),
        ("get", "/api/v1/outlets/2147483648"),
    ],
)
def test_ids_beyond_the_integer_columns_are_404_not_500(seeded, client, auth, method, path):
    _status(getattr(client, method)(path, headers=auth("admin")), 404)


def test_a_page_far_beyond_the_end_is_empty_not_500(seeded, client, auth):
    response = client.get("/api/v1/claims?page=462376530908672658348441600", headers=auth("read"))
    assert _status(response, 200).get_json() == []


@pytest.mark.parametrize("field", ["claim", "outlet"])
def test_blank_claim_or_outlet_is_422(seeded, client, auth, field):
    body = {"claim_key": "blank", "claim": "A claim", "outlet": "Reuters", "stance": "supports"}
    body[field] = " \t "
    response = _status(client.post("/api/v1/reports", json=body, headers=auth("write")), 422)
    assert field in response.get_json()["errors"]["json"]


def test_a_claim_without_any_word_is_recorded_and_scored(database_url, client, api_keys):
    # The first claim of an empty database was a single letter: the similarity index had no
    # vocabulary and the request failed with a 500.
    headers = {"Authorization": f"Bearer {api_keys['write']}"}
    body = {
        "claim_key": "k1",
        "claim": "A",
        "outlet": "X",
        "stance": "supports",
        "new_outlet": True,
    }
    recorded = _status(client.post("/api/v1/reports", json=body, headers=headers), 201)
    assert 0 < recorded.get_json()["score"]["confidence"] < 1
    similar = client.get("/api/v1/claims/similar?text=A", headers=headers)
    assert [s["key"] for s in _status(similar, 200).get_json()] in ([], ["k1"])


def test_claims_without_latin_text_get_distinct_keys(database_url, client, api_keys):
    headers = {"Authorization": f"Bearer {api_keys['write']}"}
    first = _status(client.post("/api/v1/claims", json={"text": "中文"}, headers=headers), 201)
    second = _status(client.post("/api/v1/claims", json={"text": "日本"}, headers=headers), 201)
    assert first.get_json()["key"] != second.get_json()["key"]


@pytest.mark.parametrize("key", ["a\n", "a\x1f", " a", "x\ufeff"])
def test_keys_with_control_characters_or_edge_spaces_are_refused(seeded, client, auth, key):
    body = {"claim_key": key, "claim": "A claim", "outlet": "Reuters", "stance": "supports"}
    _status(client.post("/api/v1/reports", json=body, headers=auth("write")), 422)


def test_the_url_field_accepts_what_its_documented_pattern_accepts(seeded, client, auth):
    body = {"claim_key": "u", "claim": "A claim", "outlet": "Reuters", "stance": "supports"}
    ok = {**body, "url": "https://example.org/a?b=c#d"}
    _status(client.post("/api/v1/reports", json=ok, headers=auth("write")), 201)
    bad = {**body, "url": "Idempotent-Replayed"}
    _status(client.post("/api/v1/reports", json=bad, headers=auth("write")), 422)


def test_cites_names_a_report_by_a_valid_key_or_id(seeded, client, auth):
    body = {"claim_key": "c", "claim": "A claim", "outlet": "Reuters", "stance": "supports"}
    for cites in ("\x13\x1b\\", 2**40, 0):
        response = client.post(
            "/api/v1/reports", json={**body, "cites": cites}, headers=auth("write")
        )
        _status(response, 422)


def test_fitting_without_resolved_claims_is_a_conflict(seeded, client, auth):
    _status(client.post("/api/v1/models", headers=auth("admin")), 409)


def test_exclusive_bounds_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    prior = spec["components"]["schemas"]["Outlet"]["properties"]["prior_reliability"]
    assert prior["exclusiveMinimum"] is True and prior["exclusiveMaximum"] is True


def test_pagination_header_is_documented_as_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    header = spec["paths"]["/api/v1/claims"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    assert "application/json" in header["content"]
