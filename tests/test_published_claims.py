"""Publishing resolved claims (issue 14 item 10): with SRS_PUBLISH_RESOLVED, a resolved
claim's dashboard page, with its ClaimReview JSON-LD, is readable without signing in, as
search engines need; open claims and everything else stay behind the key."""

from __future__ import annotations

import extruct
import pytest

from service.config import load_config


@pytest.fixture
def claims(seeded, client, auth) -> dict[str, dict]:
    """Two open claims of the seed story, one of them then resolved through the API."""
    listed = client.get("/api/v1/claims?status=open", headers=auth("read")).get_json()
    assert len(listed) >= 2
    resolved = client.post(
        f"/api/v1/claims/{listed[0]['id']}/verdict",
        json={"verdict": True, "note": "Confirmed by the ministry."},
        headers={**auth("verdict"), "Idempotency-Key": "publish-test"},
    )
    assert resolved.status_code == 200, resolved.get_json()
    return {"resolved": {**listed[0], "status": "resolved_true"}, "open": listed[1]}


def _signs_in(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_setting_is_read_from_the_environment(monkeypatch):
    assert load_config()["PUBLISH_RESOLVED"] is False
    monkeypatch.setenv("SRS_PUBLISH_RESOLVED", "true")
    assert load_config()["PUBLISH_RESOLVED"] is True


def test_a_resolved_claims_page_is_public_when_published(seeded, claims):
    seeded.config["PUBLISH_RESOLVED"] = True
    browser = seeded.test_client()  # never signed in
    resolved = claims["resolved"]
    page = browser.get(f"/claims/{resolved['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    found = extruct.extract(html, base_url="http://localhost/", syntaxes=["json-ld"])["json-ld"]
    reviews = [item for item in found if item.get("@type") == "ClaimReview"]
    assert len(reviews) == 1
    review = reviews[0]
    assert review["claimReviewed"] == resolved["text"]
    assert review["reviewRating"]["alternateName"] == (
        "True" if resolved["status"] == "resolved_true" else "False"
    )
    assert review["url"].endswith(f"/claims/{resolved['id']}")
    # The page does not name the key that resolved it; HEAD is answered too.
    assert "Confirmed by the ministry." in html and "(test verdict)" not in html
    assert browser.head(f"/claims/{resolved['id']}").status_code == 200


def test_open_claims_and_everything_else_stay_behind_the_key(seeded, claims):
    seeded.config["PUBLISH_RESOLVED"] = True
    browser = seeded.test_client()
    resolved_id = claims["resolved"]["id"]
    # An open claim and a claim that does not exist both get the sign-in page.
    assert _signs_in(browser.get(f"/claims/{claims['open']['id']}"))
    assert _signs_in(browser.get("/claims/2147483647"))
    for path in ("/", "/outlets", "/board/rows"):
        answer = browser.get(path)
        assert _signs_in(answer) or answer.status_code == 401, path
    # The API keeps its own policy: the same claim and its ClaimReview need a key.
    assert browser.get(f"/api/v1/claims/{resolved_id}").status_code == 401
    assert browser.get(f"/api/v1/claims/{resolved_id}/claimreview").status_code == 401
    # Publishing is reading: posting a verdict on the public page is still refused.
    posted = browser.post(f"/claims/{resolved_id}/verdict", data={"verdict": "false"})
    assert posted.status_code in (302, 400, 401)


def test_without_the_setting_a_resolved_claims_page_needs_signing_in(seeded, claims):
    assert seeded.config["PUBLISH_RESOLVED"] is False
    assert _signs_in(seeded.test_client().get(f"/claims/{claims['resolved']['id']}"))
