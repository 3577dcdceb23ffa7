"""The API through the Flask test client: each endpoint's success path and its errors."""

from __future__ import annotations

import json

import pytest

from service.newsroom.similarity import SIMILARITY_FLOOR

PROBLEM = "application/problem+json"
MOVE_KEY = "hamas-leadership-moved-to-turkey"
MOVE_TEXT = "Hamas's political leadership moved from Qatar to Turkey (November 2024)"


def _claim_id(client, auth, key):
    claims = client.get("/api/v1/claims?page_size=100", headers=auth("read")).get_json()
    return next(c["id"] for c in claims if c["key"] == key)


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body


# -- reads -------------------------------------------------------------------------------------
def test_claims_list_filters_sorts_and_paginates(seeded, client, auth):
    response = client.get("/api/v1/claims?sort=-confidence&page_size=2", headers=auth("read"))
    assert response.status_code == 200
    claims = response.get_json()
    assert len(claims) == 2 and claims[0]["confidence"] >= claims[1]["confidence"]
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["total"] == 6 and meta["total_pages"] == 3
    assert 'rel="next"' in response.headers["Link"]
    everything = client.get("/api/v1/claims?page_size=100", headers=auth("read")).get_json()
    assert {c["status"] for c in everything} == {"open"}
    words = client.get("/api/v1/claims?q=airspace+Herzog", headers=auth("read")).get_json()
    assert [c["key"] for c in words] == ["turkey-denied-herzog-airspace"]
    high = client.get("/api/v1/claims?min_confidence=0.99", headers=auth("read")).get_json()
    assert high == []
    tass = client.get("/api/v1/outlets?q=TASS", headers=auth("read")).get_json()[0]
    by_outlet = client.get(f"/api/v1/claims?outlet={tass['id']}", headers=auth("read"))
    assert [c["key"] for c in by_outlet.get_json()] == ["hamas-secret-meeting-turkey-2023-12"]
    since = client.get("/api/v1/claims?updated_since=2100-01-01T00:00:00Z", headers=auth("read"))
    assert since.get_json() == []
    by_change = client.get("/api/v1/claims?sort=change", headers=auth("read"))
    assert by_change.status_code == 200 and all(c["change_24h"] == 0 for c in by_change.get_json())


def test_page_size_is_capped(seeded, client, auth):
    body = _problem(client.get("/api/v1/claims?page_size=101", headers=auth("read")), 422)
    assert "page_size" in body["errors"]["query"]


def test_etag_gives_304_when_unchanged(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    first = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read"))
    etag = first.headers["ETag"]
    again = client.get(
        f"/api/v1/claims/{claim_id}/score", headers={**auth("read"), "If-None-Match": etag}
    )
    assert again.status_code == 304


def test_score_explains_itself(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    score = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert 0 < score["lower"] <= score["confidence"] <= score["upper"] < 1
    assert score["label"] and score["grade"] and score["model_version"]
    total = score["prior_log_odds"] + sum(c["log_odds"] for c in score["explanation"])
    # Each answered float is rounded to 4 decimals: the sum holds to their rounding.
    assert total == pytest.approx(score["log_odds"], abs=5e-5 * (len(score["explanation"]) + 2))
    assert any("not independent" in c["reason"] for c in score["explanation"])
    assert score["n_reports"] == 9 and score["n_clusters"] < 9


def test_reports_history_and_single_report(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    reports = client.get(f"/api/v1/claims/{claim_id}/reports?page_size=50", headers=auth("read"))
    assert len(reports.get_json()) == 9
    echo = next(r for r in reports.get_json() if r["cites"])
    one = client.get(f"/api/v1/reports/{echo['id']}", headers=auth("read")).get_json()
    assert one["cites_id"] and one["outlet"]
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    assert len(history) == 1 and history[0]["cause"] == "seed story loaded"


def test_outlets_show_prior_and_grade(seeded, client, auth):
    outlets = client.get("/api/v1/outlets?kind=wire_agency", headers=auth("read")).get_json()
    assert [o["name"] for o in outlets] == ["Reuters"]
    reuters = client.get(f"/api/v1/outlets/{outlets[0]['id']}", headers=auth("read")).get_json()
    assert reuters["prior_reliability"] == 0.85 and reuters["grade"] == "B"
    assert reuters["n_reports"] == 2


def test_similar_claims(seeded, client, auth):
    found = client.get(
        "/api/v1/claims/similar?text=Turkey+severed+relations+with+Israel&k=3",
        headers=auth("read"),
    ).get_json()
    # Only matches above the floor: the other Turkey claims share a word, not the claim.
    assert [f["key"] for f in found] == ["turkey-cut-ties-with-israel"]
    assert found[0]["similarity"] >= SIMILARITY_FLOOR


def test_open_reads_need_no_key(database_url):
    from service.web.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "OPEN_READS": True})
    assert app.test_client().get("/api/v1/claims").status_code == 200
    refused = app.test_client().post("/api/v1/claims", json={"text": "x"})
    assert refused.status_code == 401


def test_health_and_readiness(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/api/v1/readyz").status_code == 200


def test_readiness_fails_when_the_database_is_unreachable():
    from service.web.app import create_app

    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    body = _problem(client.get("/readyz"), 503)
    assert "Traceback" not in json.dumps(body)
    assert client.get("/readyz").headers["Retry-After"]


def test_openapi_document_and_docs(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/reports"]["post"]
    assert post["x-required-scope"] == "write"
    assert "422" in post["responses"] and "401" in post["responses"]
    assert client.get("/api/docs").status_code in (200, 308)


# -- writes ------------------------------------------------------------------------------------
def _move_report(**extra):
    return {
        "claim_key": MOVE_KEY,
        "claim": MOVE_TEXT,
        "outlet": "Reuters",
        "stance": "supports",
        "attribution": "named_official",
        "source": "A minister",
        **extra,
    }


def test_post_report_rescores_the_claim_in_the_same_response(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    before = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    response = client.post("/api/v1/reports", json=_move_report(), headers=auth("write"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["claim_id"] == claim_id
    assert body["score"]["confidence"] > before["confidence"]
    assert response.headers["Location"] == f"/api/v1/reports/{body['report']['id']}"
    stored = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert stored["confidence"] == body["score"]["confidence"]
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    assert len(history) == 2 and "recorded by key" in history[-1]["cause"]


def test_one_line_of_an_import_file_is_a_valid_body(seeded, client, auth):
    from seeds.loader import STORY_FILE

    line = json.loads(STORY_FILE.read_text().splitlines()[0])
    line["report_key"] = "another-key"
    # Under another key it is still the same report (same outlet, claim, stance, quote).
    response = client.post("/api/v1/reports", json=line, headers=auth("write"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "duplicate"
    line.update(quote="A later report in other words.", source="another source", url=None)
    response = client.post("/api/v1/reports", json=line, headers=auth("write"))
    assert response.status_code == 201, response.get_json()


def test_post_report_by_ids_and_citation_by_id(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    reports = client.get(f"/api/v1/claims/{claim_id}/reports", headers=auth("read")).get_json()
    kan = next(r for r in reports if r["outlet"] == "Kan")
    response = client.post(
        "/api/v1/reports",
        json={
            "claim_id": claim_id,
            "outlet_id": kan["outlet_id"],
            "stance": "supports",
            "attribution": "media_report",
            "cites": kan["id"],
        },
        headers=auth("write"),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["cites"] == kan["key"]


def test_new_claim_like_an_existing_one_gets_a_warning(seeded, client, auth):
    response = client.post(
        "/api/v1/reports",
        json={
            "claim_key": "moved",
            "claim": "Hamas leadership moved from Qatar to Turkey",
            "outlet": "Reuters",
            "stance": "supports",
        },
        headers=auth("write"),
    )
    assert response.status_code == 201
    (warning,) = response.get_json()["warnings"]
    assert warning["code"] == "similar_claim"
    assert warning["claim_id"] == _claim_id(client, auth, MOVE_KEY)


def test_idempotent_retry_returns_the_first_response_and_writes_nothing(seeded, client, auth):
    headers = {**auth("write"), "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/reports", json=_move_report(), headers=headers)
    second = client.post("/api/v1/reports", json=_move_report(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    claim_id = first.get_json()["claim_id"]
    reports = client.get(f"/api/v1/claims/{claim_id}/reports", headers=auth("read")).get_json()
    assert len(reports) == 10
    other = client.post("/api/v1/reports", json=_move_report(stance="denies"), headers=headers)
    assert "Idempotency-Key" in _problem(other, 422)["errors"]["headers"]


def test_batch_is_all_or_nothing_with_per_item_errors(seeded, client, auth):
    good = _move_report(report_key="b-1")
    bad = _move_report(report_key="b-2", cites="no-such-report")
    refused = client.post(
        "/api/v1/reports:batch", json={"reports": [good, bad]}, headers=auth("write")
    )
    body = _problem(refused, 422)
    assert body["errors"]["json"]["reports"]["1"] == {
        "cites": ["names no stored report: 'no-such-report'"]
    }
    claim_id = _claim_id(client, auth, MOVE_KEY)
    assert (
        len(client.get(f"/api/v1/claims/{claim_id}/reports", headers=auth("read")).get_json()) == 9
    )
    invalid = client.post(
        "/api/v1/reports:batch", json={"reports": [good, {"stance": "x"}]}, headers=auth("write")
    )
    assert "1" in _problem(invalid, 422)["errors"]["json"]["reports"]
    accepted = client.post("/api/v1/reports:batch", json={"reports": [good]}, headers=auth("write"))
    assert accepted.status_code == 201
    assert [s["claim_id"] for s in accepted.get_json()["scores"]] == [claim_id]


def test_batch_size_is_limited(seeded, client, auth):
    reports = [_move_report(report_key=f"k{i}") for i in range(1001)]
    body = _problem(
        client.post("/api/v1/reports:batch", json={"reports": reports}, headers=auth("write")), 422
    )
    assert "reports" in body["errors"]["json"]


def test_retraction_rescores_and_records_why(seeded, client, auth):
    claim_id = _claim_id(client, auth, MOVE_KEY)
    reports = client.get(f"/api/v1/claims/{claim_id}/reports", headers=auth("read")).get_json()
    denial = next(r for r in reports if r["key"] == "reuters-2024-11-18-turkish-denial")
    before = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    response = client.delete(
        f"/api/v1/reports/{denial['id']}?reason=wrong+claim", headers=auth("write")
    )
    assert response.status_code == 200
    assert response.get_json()["n_reports"] == before["n_reports"] - 1
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    assert "retracted" in history[-1]["cause"] and "wrong claim" in history[-1]["cause"]
    again = client.delete(f"/api/v1/reports/{denial['id']}", headers=auth("write"))
    _problem(again, 409)


def test_verdict_resolves_the_claim(seeded, client, auth):
    claim_id = _claim_id(client, auth, "turkey-denied-herzog-airspace")
    response = client.post(
        f"/api/v1/claims/{claim_id}/verdict",
        json={"verdict": True, "note": "Confirmed by Herzog's office"},
        headers=auth("verdict"),
    )
    assert response.status_code == 200
    score = response.get_json()
    assert score["status"] == "resolved_true" and score["verdict"] is True
    claim = client.get(f"/api/v1/claims/{claim_id}", headers=auth("read")).get_json()
    assert claim["status"] == "resolved_true"
    resolved = client.get("/api/v1/claims?status=resolved_true", headers=auth("read")).get_json()
    assert [c["id"] for c in resolved] == [claim_id]


def test_claims_are_created_and_patched_with_if_match(seeded, client, auth):
    created = client.post(
        "/api/v1/claims", json={"text": "Qatar closed the Hamas office"}, headers=auth("write")
    )
    assert created.status_code == 201
    claim = created.get_json()
    assert claim["key"] == "qatar-closed-the-hamas-office" and claim["n_reports"] == 0
    url = f"/api/v1/claims/{claim['id']}"
    _problem(
        client.post(
            "/api/v1/claims", json={"text": "Qatar closed the Hamas office"}, headers=auth("write")
        ),
        409,
    )
    etag = client.get(url, headers=auth("read")).headers["ETag"]
    missing = client.patch(url, json={"text": "Qatar shut the office"}, headers=auth("write"))
    _problem(missing, 428)
    stale = client.patch(
        url,
        json={"text": "Qatar shut the office"},
        headers={**auth("write"), "If-Match": '"stale"'},
    )
    _problem(stale, 412)
    patched = client.patch(
        url, json={"text": "Qatar shut the office"}, headers={**auth("write"), "If-Match": etag}
    )
    assert patched.status_code == 200 and patched.get_json()["text"] == "Qatar shut the office"


def test_outlets_are_created_and_patched_by_admins(seeded, client, auth):
    body = {
        "name": "Anadolu Agency",
        "kind": "state_controlled",
        "country": "TR",
        "prior_reliability": 0.5,
        "prior_rationale": "Turkish state agency.",
    }
    created = client.post("/api/v1/outlets", json=body, headers=auth("admin"))
    assert created.status_code == 201 and created.get_json()["slug"] == "anadolu-agency"
    _problem(client.post("/api/v1/outlets", json=body, headers=auth("admin")), 409)
    reuters = client.get("/api/v1/outlets?q=Reuters", headers=auth("read")).get_json()[0]
    url = f"/api/v1/outlets/{reuters['id']}"
    etag = client.get(url, headers=auth("read")).headers["ETag"]
    claim_id = _claim_id(client, auth, MOVE_KEY)
    before = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    patched = client.patch(
        url, json={"prior_reliability": 0.95}, headers={**auth("admin"), "If-Match": etag}
    )
    assert patched.status_code == 200, patched.get_json()
    after = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert after["confidence"] != before["confidence"]


def test_keys_and_audit_trail(seeded, client, auth):
    created = client.post(
        "/api/v1/keys", json={"name": "desk", "scope": "write"}, headers=auth("admin")
    )
    assert created.status_code == 201
    new_key = created.get_json()["key"]
    ok = client.post(
        "/api/v1/reports", json=_move_report(), headers={"Authorization": f"Bearer {new_key}"}
    )
    assert ok.status_code == 201
    listed = client.get("/api/v1/keys", headers=auth("admin")).get_json()
    assert all("key" not in k for k in listed)
    key_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/keys/{key_id}", headers=auth("admin")).status_code == 200
    revoked = client.post(
        "/api/v1/reports", json=_move_report(), headers={"Authorization": f"Bearer {new_key}"}
    )
    _problem(revoked, 401)
    trail = client.get("/api/v1/audit", headers=auth("admin")).get_json()
    actions = [entry["action"] for entry in trail]
    assert actions[:3] == ["revoke_key", "record_report", "create_key"]
    assert trail[1]["actor"] == "desk"


# -- errors ------------------------------------------------------------------------------------
def test_error_statuses_are_problem_json(seeded, client, auth):
    _problem(client.get("/api/v1/claims"), 401)
    _problem(client.get("/api/v1/claims", headers={"Authorization": "Bearer srs_nope"}), 401)
    _problem(client.post("/api/v1/reports", json=_move_report(), headers=auth("read")), 403)
    _problem(client.get("/api/v1/claims/999999", headers=auth("read")), 404)
    _problem(client.put("/api/v1/claims", headers=auth("read")), 405)
    _problem(
        client.post(
            "/api/v1/reports", data="{oops", content_type="application/json", headers=auth("write")
        ),
        400,
    )
    _problem(
        client.post(
            "/api/v1/reports",
            data="stance=supports",
            content_type="application/x-www-form-urlencoded",
            headers=auth("write"),
        ),
        415,
    )
    body = _problem(
        client.post("/api/v1/reports", json={"stance": "maybe", "extra": 1}, headers=auth("write")),
        422,
    )
    assert set(body["errors"]["json"]) >= {"stance", "extra"}


def test_a_body_over_the_limit_is_413(database_url, api_keys):
    from service.web.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "MAX_CONTENT_LENGTH": 1000})
    response = app.test_client().post(
        "/api/v1/reports",
        data=json.dumps({"quote": "x" * 5000}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_keys['write']}"},
    )
    _problem(response, 413)


def test_a_report_with_a_verdict_needs_the_verdict_scope(seeded, client, auth):
    refused = client.post("/api/v1/reports", json=_move_report(verdict=True), headers=auth("write"))
    _problem(refused, 403)
    accepted = client.post(
        "/api/v1/reports", json=_move_report(verdict=True), headers=auth("admin")
    )
    assert accepted.status_code == 201
    assert accepted.get_json()["score"]["status"] == "resolved_true"


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {
                "claim_key": "k",
                "claim": "c",
                "outlet": "o",
                "stance": "supports",
                "attribution": "little bird",
            },
            "attribution",
        ),
        ({"outlet": "o", "stance": "supports"}, "claim_id"),
        ({"claim_key": "k", "claim": "c", "stance": "supports"}, "outlet"),
        (
            {"claim_key": "k", "claim": "c", "outlet": "o", "stance": "supports", "cites": True},
            "cites",
        ),
        (
            {
                "claim_key": "k",
                "claim": "c",
                "outlet": "o",
                "stance": "supports",
                "published_at": "2024-11-18",
            },
            "published_at",
        ),
        ({"claim_id": 999, "outlet": "o", "stance": "supports"}, None),
    ],
)
def test_bad_report_bodies_name_the_field(seeded, client, auth, body, field):
    response = client.post("/api/v1/reports", json=body, headers=auth("write"))
    if field is None:
        _problem(response, 404)
    else:
        assert field in _problem(response, 422)["errors"]["json"]


def test_a_changed_claim_text_under_the_same_key_is_refused(seeded, client, auth):
    body = _move_report(claim="A different text")
    errors = _problem(client.post("/api/v1/reports", json=body, headers=auth("write")), 422)
    assert "claim" in errors["errors"]["json"]


def _limited_app(database_url, **limits):
    from service.web.app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url, **limits})


def test_rate_limit_per_api_key_answers_429_with_retry_after(database_url, api_keys):
    app = _limited_app(database_url, RATE_LIMIT_PER_KEY="3/minute")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_keys['read']}"}
    statuses = [client.get("/api/v1/claims", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/claims", headers=headers)
    _problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0
    other_key = {"Authorization": f"Bearer {api_keys['write']}"}
    assert client.get("/api/v1/claims", headers=other_key).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_rate_limit_per_address_covers_anonymous_callers(database_url):
    app = _limited_app(database_url, RATE_LIMIT_PER_ADDRESS="2/minute")
    client = app.test_client()
    assert [client.get("/api/v1/claims").status_code for _ in range(3)] == [401, 401, 429]


def test_rate_limits_can_be_shared_through_redis(database_url, api_keys):
    """The storage docker-compose uses: two app instances share one count."""
    import uuid

    settings = {
        "RATE_LIMIT_PER_KEY": "2/minute",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"srs-test-{uuid.uuid4().hex}",
    }
    first = _limited_app(database_url, **settings).test_client()
    second = _limited_app(database_url, **settings).test_client()
    headers = {"Authorization": f"Bearer {api_keys['read']}"}
    assert first.get("/api/v1/claims", headers=headers).status_code == 200
    assert second.get("/api/v1/claims", headers=headers).status_code == 200
    assert first.get("/api/v1/claims", headers=headers).status_code == 429
