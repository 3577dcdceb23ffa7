"""Strict input (issue 14, item 3): JSON types as sent, no coercion; no publication dates in
the future; 201 only when something was created; a verdict changes only when asked to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import Verdict
from service.web.database import unit_of_work

CLAIM = {
    "claim_key": "hamas-leadership-moved-to-turkey",
    "claim": "Hamas's political leadership moved from Qatar to Turkey (November 2024)",
}


def _report(client, auth, **fields):
    body = {**CLAIM, "outlet": "Reuters", "stance": "supports", **fields}
    return client.post("/api/v1/reports", json=body, headers=auth("admin"))


def _claim_id(client, auth) -> int:
    claims = client.get("/api/v1/claims?q=Qatar%20Turkey", headers=auth("read")).get_json()
    return next(c["id"] for c in claims if c["key"] == CLAIM["claim_key"])


@pytest.mark.parametrize("verdict", ["true", "false", 0, 1, "yes", None, [], {}])
def test_a_verdict_must_be_a_json_boolean(seeded, client, auth, verdict):
    claim_id = _claim_id(client, auth)
    response = client.post(
        f"/api/v1/claims/{claim_id}/verdict", json={"verdict": verdict}, headers=auth("verdict")
    )
    assert response.status_code == 422, response.get_json()
    assert "verdict" in response.get_json()["errors"]["json"]
    score = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert score["status"] == "open"


@pytest.mark.parametrize(
    "field, value",
    [
        ("interested_party", "yes"),
        ("interested_party", 1),
        ("independent", "true"),
        ("new_outlet", 1),
        ("verdict", "true"),
        ("verdict", 0),
        ("claim_id", "1"),
        ("claim_id", True),
        ("claim_id", 1.0),
        ("outlet_id", "2"),
        ("published_at", 1731924000),
    ],
)
def test_report_fields_are_not_coerced(seeded, client, auth, field, value):
    response = _report(client, auth, **{field: value})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    "published_at",
    [
        "2099-01-01",  # a date without a time
        "2024-11-18T10:00:00",  # a time without a zone
        "18/11/2024 10:00",
        "2099-01-01T00:00:00Z",  # the future
    ],
)
def test_published_at_is_a_zoned_date_time_not_in_the_future(seeded, client, auth, published_at):
    response = _report(client, auth, published_at=published_at, source="s")
    assert response.status_code == 422, response.get_json()
    assert "published_at" in response.get_json()["errors"]["json"]


def test_published_at_may_run_a_few_minutes_ahead_but_not_more(seeded, client, auth):
    now = datetime.now(UTC)
    soon = (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    later = (now + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert _report(client, auth, published_at=soon, source="a").status_code == 201
    late = _report(client, auth, published_at=later, source="b")
    assert late.status_code == 422
    assert "10 minutes in the future" in late.get_json()["errors"]["json"]["published_at"][0]


def test_numbers_are_json_numbers(seeded, client, auth):
    body = {
        "name": "A new wire",
        "kind": "wire_agency",
        "prior_reliability": "0.8",
        "prior_rationale": "A test.",
    }
    response = client.post("/api/v1/outlets", json=body, headers=auth("admin"))
    assert response.status_code == 422
    assert "prior_reliability" in response.get_json()["errors"]["json"]
    assert (
        client.post(
            "/api/v1/outlets", json={**body, "prior_reliability": 0.8}, headers=auth("admin")
        ).status_code
        == 201
    )
    subscription = {
        "url": "https://hooks.example.org/srs",
        "filter": {"thresholds": {"above": "0.8"}},
    }
    response = client.post("/api/v1/subscriptions", json=subscription, headers=auth("admin"))
    assert response.status_code == 422


def test_query_strings_are_still_read_as_numbers_and_times(seeded, client, auth):
    response = client.get(
        "/api/v1/claims?min_confidence=0.1&updated_since=2020-01-01T00:00:00Z",
        headers=auth("read"),
    )
    assert response.status_code == 200 and response.get_json()


def test_201_only_when_a_report_is_created(seeded, client, auth):
    first = _report(client, auth, report_key="reuters-strict-1", source="a named minister")
    assert first.status_code == 201 and first.get_json()["outcome"] == "created"
    again = _report(client, auth, report_key="reuters-strict-1", source="a named minister")
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "unchanged" and again.get_json()["duplicate_of"] is None
    assert again.get_json()["report"]["id"] == first.get_json()["report"]["id"]


def test_changing_a_verdict_needs_replaces_verdict_and_is_recorded_as_such(seeded, client, auth):
    claim_id = _claim_id(client, auth)
    url = f"/api/v1/claims/{claim_id}/verdict"
    assert client.post(url, json={"verdict": True}, headers=auth("verdict")).status_code == 200
    # The same verdict again is no change.
    assert client.post(url, json={"verdict": True}, headers=auth("verdict")).status_code == 200
    flip = client.post(url, json={"verdict": False}, headers=auth("verdict"))
    assert flip.status_code == 409
    assert "replaces_verdict" in flip.get_json()["detail"]
    score = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert score["verdict"] is True
    flip = client.post(
        url, json={"verdict": False, "replaces_verdict": True}, headers=auth("verdict")
    )
    assert flip.status_code == 200 and flip.get_json()["verdict"] is False
    with unit_of_work(seeded) as uow:
        verdicts = uow.session.scalars(
            select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id)
        ).all()
        assert [(v.verdict, v.replaces_verdict) for v in verdicts] == [
            (True, False),
            (True, False),
            (False, True),
        ]


def test_the_dashboard_form_changes_a_verdict_only_as_a_change(seeded, client, auth, api_keys):
    claim_id = _claim_id(client, auth)
    client.post(
        f"/api/v1/claims/{claim_id}/verdict", json={"verdict": True}, headers=auth("verdict")
    )
    from test_dashboard import csrf_token, sign_in

    sign_in(client, api_keys["verdict"])
    page = client.get(f"/claims/{claim_id}")
    assert 'name="replaces_verdict" value="true"' in page.text
    token = csrf_token(client, f"/claims/{claim_id}")
    bad = client.post(
        f"/claims/{claim_id}/verdict", data={"verdict": "perhaps", "csrf_token": token}
    )
    assert bad.status_code == 422
    changed = client.post(
        f"/claims/{claim_id}/verdict",
        data={"verdict": "false", "replaces_verdict": "true", "csrf_token": token},
    )
    assert changed.status_code in (200, 302, 303)
    score = client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()
    assert score["verdict"] is False
