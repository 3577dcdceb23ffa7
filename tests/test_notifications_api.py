"""/api/v1/subscriptions and the /api/v1/events stream, through the Flask test client."""

from __future__ import annotations

import json

import pytest

PROBLEM = "application/problem+json"
HOOK = "https://newsroom.example/hooks/srs"


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def _subscribe(client, auth, **body):
    response = client.post(
        "/api/v1/subscriptions", json={"url": HOOK, **body}, headers=auth("admin")
    )
    assert response.status_code == 201, response.get_json()
    return response


def _claim_id(client, auth, key="hamas-leadership-moved-to-turkey"):
    claims = client.get("/api/v1/claims?page_size=100", headers=auth("read")).get_json()
    return next(c["id"] for c in claims if c["key"] == key)


# -- subscriptions ---------------------------------------------------------------------------
def test_create_shows_the_secret_once(seeded, client, auth):
    created = _subscribe(client, auth, description="desk alerts")
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["filter"] is None and body["active"] is True
    assert body["created_by"].endswith("(test admin)")
    assert created.headers["Location"] == f"/api/v1/subscriptions/{body['id']}"
    fetched = client.get(created.headers["Location"], headers=auth("admin"))
    assert fetched.status_code == 200 and "ETag" in fetched.headers
    assert "secret" not in fetched.get_json()
    listed = client.get("/api/v1/subscriptions", headers=auth("admin"))
    assert [s["id"] for s in listed.get_json()] == [body["id"]]
    assert "secret" not in listed.get_json()[0]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1
    given = _subscribe(client, auth, secret="my-own-secret-of-some-length").get_json()
    assert given["secret"] == "my-own-secret-of-some-length"


def test_filters_are_validated_and_normalized(seeded, client, auth):
    claim_id = _claim_id(client, auth)
    crossings = _subscribe(
        client,
        auth,
        filter={"thresholds": {"above": 0.8, "below": 0.2}, "claim_ids": [claim_id]},
    ).get_json()
    assert crossings["filter"] == {
        "event_types": ["claim.score_changed"],
        "claim_ids": [claim_id],
        "thresholds": {"above": 0.8, "below": 0.2},
    }
    outlets = client.get("/api/v1/outlets?page_size=100", headers=auth("read")).get_json()
    reuters = next(o for o in outlets if o["slug"] == "reuters")
    tass = next(o for o in outlets if o["slug"] == "tass")
    by_outlet = _subscribe(
        client, auth, filter={"outlets": ["reuters", tass["id"]], "verdicts": [False]}
    ).get_json()
    assert by_outlet["filter"] == {
        "event_types": ["claim.resolved"],
        "outlets": sorted([reuters["id"], tass["id"]]),
        "verdicts": [False],
    }


@pytest.mark.parametrize(
    "body, where",
    [
        ({"url": "ftp://example.org/hook"}, ["url"]),
        ({"url": "not a url"}, ["url"]),
        ({"url": HOOK, "secret": "short"}, ["secret"]),
        ({"url": HOOK, "colour": "red"}, ["colour"]),
        ({"url": HOOK, "filter": {"event_types": ["claim.exploded"]}}, ["filter", "event_types"]),
        ({"url": HOOK, "filter": {"thresholds": {}}}, ["filter", "thresholds"]),
        ({"url": HOOK, "filter": {"thresholds": {"above": 1.5}}}, ["filter", "thresholds"]),
        (
            {"url": HOOK, "filter": {"thresholds": {"above": 0.2, "below": 0.8}}},
            ["filter", "thresholds"],
        ),
        ({"url": HOOK, "filter": {"claim_ids": [999999]}}, ["filter", "claim_ids"]),
        ({"url": HOOK, "filter": {"outlets": ["no-such-outlet"]}}, ["filter", "outlets"]),
        (
            {"url": HOOK, "filter": {"event_types": ["report.recorded"], "verdicts": [True]}},
            ["filter", "verdicts"],
        ),
    ],
)
def test_bad_subscriptions_are_422_problems_naming_the_field(seeded, client, auth, body, where):
    problem = _problem(client.post("/api/v1/subscriptions", json=body, headers=auth("admin")), 422)
    errors = problem["errors"]["json"]
    for key in where:
        assert key in errors, problem
        errors = errors[key]
    assert client.get("/api/v1/subscriptions", headers=auth("admin")).get_json() == []


def test_subscriptions_need_the_admin_scope(seeded, client, auth):
    _problem(client.post("/api/v1/subscriptions", json={"url": HOOK}, headers=auth("write")), 403)
    _problem(client.get("/api/v1/subscriptions", headers=auth("verdict")), 403)
    _problem(client.get("/api/v1/subscriptions"), 401)


def test_an_idempotent_retry_creates_one_subscription(seeded, client, auth):
    headers = {**auth("admin"), "Idempotency-Key": "hook-1"}
    first = client.post("/api/v1/subscriptions", json={"url": HOOK}, headers=headers)
    again = client.post("/api/v1/subscriptions", json={"url": HOOK}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(client.get("/api/v1/subscriptions", headers=auth("admin")).get_json()) == 1


def test_patch_needs_if_match_and_changes_the_subscription(seeded, client, auth):
    location = _subscribe(client, auth).headers["Location"]
    _problem(client.patch(location, json={"description": "x"}, headers=auth("admin")), 428)
    etag = client.get(location, headers=auth("admin")).headers["ETag"]
    changed = client.patch(
        location,
        json={"description": "only crossings", "filter": {"thresholds": {"above": 0.9}}},
        headers={**auth("admin"), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["filter"]["thresholds"] == {"above": 0.9}
    _problem(
        client.patch(
            location, json={"description": "y"}, headers={**auth("admin"), "If-Match": etag}
        ),
        412,
    )
    _problem(
        client.patch(
            "/api/v1/subscriptions/999",
            json={"description": "z"},
            headers={**auth("admin"), "If-Match": etag},
        ),
        404,
    )


def test_deactivation_cancels_what_is_owed_and_deliveries_are_listed(seeded, client, auth):
    subscription = _subscribe(client, auth).get_json()
    claim_id = _claim_id(client, auth)
    client.post(
        "/api/v1/reports",
        json={"claim_id": claim_id, "outlet": "Reuters", "stance": "denies"},
        headers=auth("write"),
    )
    deliveries_url = f"/api/v1/subscriptions/{subscription['id']}/deliveries"
    owed = client.get(deliveries_url, headers=auth("admin")).get_json()
    assert [d["event_type"] for d in owed] == ["claim.score_changed", "report.recorded"]
    assert {d["status"] for d in owed} == {"pending"} and owed[0]["attempts"] == 0
    assert owed[0]["claim_id"] == claim_id and owed[0]["next_attempt_at"]

    deleted = client.delete(f"/api/v1/subscriptions/{subscription['id']}", headers=auth("admin"))
    assert deleted.status_code == 200 and deleted.get_json()["active"] is False
    cancelled = client.get(f"{deliveries_url}?status=cancelled", headers=auth("admin")).get_json()
    assert len(cancelled) == 2 and cancelled[0]["next_attempt_at"] is None
    _problem(
        client.delete(f"/api/v1/subscriptions/{subscription['id']}", headers=auth("admin")), 409
    )
    # Nothing more is owed to it.
    client.post(
        "/api/v1/reports",
        json={"claim_id": claim_id, "outlet": "Kan", "stance": "supports"},
        headers=auth("write"),
    )
    assert len(client.get(deliveries_url, headers=auth("admin")).get_json()) == 2
    _problem(client.get(f"{deliveries_url}?status=lost", headers=auth("admin")), 422)
    _problem(client.get("/api/v1/subscriptions/999/deliveries", headers=auth("admin")), 404)


def test_an_import_owes_one_summary_per_batch(quick_stream, client, auth):
    import io

    from service.operations.importing import import_stream

    claim_id = _claim_id(client, auth)
    outlets = client.get("/api/v1/outlets?page_size=100", headers=auth("read")).get_json()
    kan = next(o["id"] for o in outlets if o["name"] == "Kan")
    summaries = _subscribe(
        client, auth, filter={"event_types": ["import.batch_recorded"], "claim_ids": [claim_id]}
    ).get_json()
    reports = _subscribe(client, auth, filter={"event_types": ["report.recorded"]}).get_json()
    claim = "Hamas's political leadership moved from Qatar to Turkey (November 2024)"
    lines = [
        {"claim_key": "hamas-leadership-moved-to-turkey", "claim": claim, "outlet": "Kan",
         "stance": "denies", "source": f"imported {i}"}
        for i in range(3)
    ] + [{"claim_key": "imported", "claim": "An imported claim", "outlet": "Kan",
          "stance": "supports"}]  # fmt: skip
    text = "".join(json.dumps(line) + "\n" for line in lines)
    import_stream(quick_stream.config["DATABASE_URL"], io.StringIO(text), batch_size=2)

    def owed(subscription):
        url = f"/api/v1/subscriptions/{subscription['id']}/deliveries"
        return client.get(url, headers=auth("admin")).get_json()

    # Lines 1-2 and 3-4 each touched the seed claim; no report.recorded for any line.
    assert [d["event_type"] for d in owed(summaries)] == ["import.batch_recorded"] * 2
    assert owed(reports) == []
    stream = client.get(
        "/api/v1/events?since=0&type=import.batch_recorded", headers=auth("read")
    ).get_data(as_text=True)
    sent = _events(stream)
    assert [(e["claim_id"], e["data"]["first_line"], e["data"]["last_line"]) for e in sent] == [
        (None, 1, 2),
        (None, 3, 4),
    ]
    assert [e["data"]["reports_created"] for e in sent] == [2, 2]
    assert sent[0]["data"]["claim_ids"] == [claim_id] and sent[0]["data"]["outlet_ids"] == [kan]
    assert claim_id in sent[1]["data"]["claim_ids"] and len(sent[1]["data"]["claim_ids"]) == 2
    assert sent[1]["data"]["claims_created"] == 1


# -- the event stream ------------------------------------------------------------------------
def _frames(text: str) -> list[dict[str, str]]:
    """Server-Sent Events frames as field → value (comments under ':')."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        frame: dict[str, str] = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            frame[field] = value[1:] if value.startswith(" ") else value
        frames.append(frame)
    return frames


def _events(text: str) -> list[dict]:
    out = []
    for frame in _frames(text):
        if "data" in frame:
            event = json.loads(frame["data"])
            assert frame["id"] == str(event["id"]) and frame["event"] == event["type"]
            out.append(event)
    return out


@pytest.fixture
def quick_stream(seeded):
    seeded.config.update(SSE_STREAM_SECONDS=0.6, SSE_POLL_SECONDS=0.05, SSE_HEARTBEAT_SECONDS=0.2)
    return seeded


def test_stream_replays_and_resumes_after_last_event_id(quick_stream, client, auth):
    response = client.get("/api/v1/events?since=0", headers=auth("read"))
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    events = _events(text)
    assert len(events) == 6 + 24 + 6  # the seed story: claims, reports, first scores
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    for event in events:
        assert set(event) == {"id", "type", "occurred_at", "claim_id", "data"}
        assert event["occurred_at"].endswith("+00:00")
    frames = _frames(text)
    assert frames[0]["retry"] == "3000" and frames[0]["id"] == "0"
    assert frames[-1]["retry"] == "3000"  # the stream ends itself with a retry hint

    resumed = client.get(
        "/api/v1/events", headers={**auth("read"), "Last-Event-ID": str(events[9]["id"])}
    )
    assert [e["id"] for e in _events(resumed.get_data(as_text=True))] == [
        e["id"] for e in events[10:]
    ]
    # Last-Event-ID wins over since, as when a browser reconnects to the URL it was given.
    both = client.get(
        "/api/v1/events?since=0",
        headers={**auth("read"), "Last-Event-ID": str(events[-1]["id"])},
    )
    assert _events(both.get_data(as_text=True)) == []


def test_stream_starts_at_the_newest_event_and_sends_what_happens(quick_stream, client, auth):
    claim_id = _claim_id(client, auth)
    stream = client.get(f"/api/v1/events?claim_id={claim_id}", headers=auth("read"))
    # The stream's start was fixed when it opened; this report comes after it.
    client.post(
        "/api/v1/reports",
        json={"claim_id": claim_id, "outlet": "Reuters", "stance": "denies"},
        headers=auth("write"),
    )
    client.post("/api/v1/claims", json={"text": "Another claim entirely"}, headers=auth("write"))
    events = _events(stream.get_data(as_text=True))
    assert [e["type"] for e in events] == ["report.recorded", "claim.score_changed"]
    assert {e["claim_id"] for e in events} == {claim_id}


def test_stream_filters_by_type_and_beats_when_idle(quick_stream, client, auth):
    response = client.get(
        "/api/v1/events?since=0&type=claim.created&type=claim.resolved", headers=auth("read")
    )
    text = response.get_data(as_text=True)
    assert {e["type"] for e in _events(text)} == {"claim.created"}
    assert ": heartbeat" in text


def test_streams_past_the_cap_are_refused_with_retry_after(quick_stream, client, auth):
    quick_stream.config.update(SSE_MAX_STREAMS=1)
    first = client.get("/api/v1/events", headers=auth("read"), buffered=False)
    assert first.status_code == 200
    refused = client.get("/api/v1/events", headers=auth("read"))
    _problem(refused, 503)
    # 30 s, or the rate-limit window's reset when that is later (flask-limiter keeps the later).
    assert 30 <= int(refused.headers["Retry-After"]) <= 60
    first.close()  # the server is done with it (end, client gone): its slot is free again
    again = client.get("/api/v1/events", headers=auth("read"), buffered=False)
    assert again.status_code == 200
    again.close()
    # Documented: the 503, its Retry-After and its problem body.
    spec = client.get("/api/v1/openapi.json").get_json()
    refusal = spec["paths"]["/api/v1/events"]["get"]["responses"]["503"]
    assert "Retry-After" in refusal["headers"]
    assert "application/problem+json" in refusal["content"]


def test_stream_refuses_bad_resume_points_and_missing_keys(quick_stream, client, auth):
    # 400, not 422: the stream's cursor and filters (tests/test_request_bounds.py).
    _problem(client.get("/api/v1/events", headers={**auth("read"), "Last-Event-ID": "abc"}), 400)
    _problem(client.get("/api/v1/events?type=claim.exploded", headers=auth("read")), 400)
    _problem(client.get("/api/v1/events"), 401)


def test_openapi_documents_notifications(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    stream = spec["paths"]["/api/v1/events"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert stream["x-required-scope"] == "read"
    assert {p["name"] for p in stream["parameters"]} >= {"Last-Event-ID", "since", "claim_id"}
    create = spec["paths"]["/api/v1/subscriptions"]["post"]
    assert create["x-required-scope"] == "admin"
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
