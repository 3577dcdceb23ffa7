"""ClaimReview JSON-LD of a resolved seed claim, field by field, and the feed of them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

MAIN = "hamas-leadership-moved-to-turkey"
LD_JSON = "application/ld+json"

# Google's ClaimReview structured-data guidelines (Search Central, "Fact check"), and the
# schema.org types they use. Every one is checked on the resolved seed claim below.
GOOGLE_CLAIMREVIEW = {
    "ClaimReview": {
        "required": ("claimReviewed", "reviewRating", "url"),
        "recommended": ("author", "datePublished", "itemReviewed"),
    },
    "Rating": {
        "required": ("alternateName",),
        "recommended": ("ratingValue", "bestRating", "worstRating"),
    },
    "Claim": {
        # appearance or firstAppearance: we give both.
        "recommended": ("appearance", "firstAppearance", "author", "datePublished"),
    },
    "Organization": {"recommended": ("name", "url")},
}


def _has(node: dict, *fields: str) -> list[str]:
    return [f for f in fields if node.get(f) in (None, "", [], {})]


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def resolved(seeded, client, auth):
    """The main seed claim, with one more report (it has a URL) and one retracted, resolved
    false by a fact-checker."""
    claims = client.get("/api/v1/claims?page_size=100", headers=auth("read")).json
    main = next(c for c in claims if c["key"] == MAIN)
    recorded = client.post(
        "/api/v1/reports",
        json={
            "claim_id": main["id"],
            "report_key": "aa-2024-11-20-relay",
            "outlet": "Middle East Eye",
            "stance": "supports",
            "attribution": "media_report",
            "cites": "kan-2024-11-17-hamas-move",
            "published_at": "2024-11-20T08:00:00Z",
            "url": "https://www.middleeasteye.net/news/hamas-turkey-relay",
        },
        headers=auth("write"),
    )
    assert recorded.status_code == 201, recorded.json
    reports = client.get(f"/api/v1/claims/{main['id']}/reports", headers=auth("read")).json
    retracted = next(r for r in reports if r["key"] == "agg000-2024-11-19-toi-relay")
    deleted = client.delete(
        f"/api/v1/reports/{retracted['id']}?reason=duplicate", headers=auth("write")
    )
    assert deleted.status_code == 200, deleted.json
    verdict = client.post(
        f"/api/v1/claims/{main['id']}/verdict",
        json={"verdict": False, "note": "Hamas's political bureau stayed in Doha."},
        headers=auth("verdict"),
    )
    assert verdict.status_code == 200
    score = client.get(f"/api/v1/claims/{main['id']}/score", headers=auth("read")).json
    return {"claim": main, "reports": reports, "score": score}


def test_claimreview_of_a_resolved_seed_claim_has_every_field(resolved, client, auth):
    claim = resolved["claim"]
    response = client.get(f"/api/v1/claims/{claim['id']}/claimreview", headers=auth("read"))
    assert response.status_code == 200
    assert response.mimetype == LD_JSON
    review = json.loads(response.get_data(as_text=True))

    # The guidelines' fields are all there, at every level.
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    for type_name, node in (
        ("ClaimReview", review),
        ("Rating", review["reviewRating"]),
        ("Claim", review["itemReviewed"]),
        ("Organization", review["author"]),
    ):
        assert node["@type"] == type_name
        for level in ("required", "recommended"):
            missing = _has(node, *GOOGLE_CLAIMREVIEW[type_name].get(level, ()))
            assert not missing, f"{type_name} lacks {level} {missing}"

    # claimReviewed, url (the claim's dashboard page, absolute), author, datePublished.
    assert review["claimReviewed"] == claim["text"]
    assert review["url"] == f"http://localhost/claims/{claim['id']}"
    assert review["author"] == {
        "@type": "Organization",
        "name": "Source-reliability scoring",
        "url": "http://localhost/",
    }
    assert abs(_iso(review["datePublished"]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert review["reviewBody"] == "Hamas's political bureau stayed in Doha."

    # reviewRating: the verdict on the documented 1-5 scale; the model's label explained.
    rating = review["reviewRating"]
    assert (rating["ratingValue"], rating["bestRating"], rating["worstRating"]) == (1, 5, 1)
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert rating["alternateName"] == "False"
    assert resolved["score"]["label"] in rating["ratingExplanation"]
    assert "resolved this claim false" in rating["ratingExplanation"]

    # itemReviewed: the claim, first carried by Kan, with every live report as appearance.
    item = review["itemReviewed"]
    assert item["author"] == {"@type": "Organization", "name": "Kan"}
    assert item["datePublished"] == "2024-11-17T18:00:00Z"
    assert item["firstAppearance"]["identifier"] == "kan-2024-11-17-hamas-move"
    appearances = item["appearance"]
    live = {r["key"]: r for r in resolved["reports"] if r["key"] != "agg000-2024-11-19-toi-relay"}
    live["aa-2024-11-20-relay"] = {"outlet": "Middle East Eye"}
    assert {a["identifier"] for a in appearances} == set(live)  # the retracted one is out
    published = [_iso(a["datePublished"]) for a in appearances]
    assert published == sorted(published)  # earliest first
    for appearance in appearances:
        assert appearance["@type"] == "NewsArticle"
        assert appearance["publisher"] == {
            "@type": "Organization",
            "name": live[appearance["identifier"]]["outlet"],
        }
        assert appearance["description"]
    relay = next(a for a in appearances if a["identifier"] == "aa-2024-11-20-relay")
    assert relay["url"] == "https://www.middleeasteye.net/news/hamas-turkey-relay"
    assert relay["isBasedOn"] == {"@type": "NewsArticle", "identifier": "kan-2024-11-17-hamas-move"}
    assert all("url" not in a for a in appearances if a is not relay)  # none made up

    # The page at `url` carries the same markup, for crawlers that read pages.
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    key = auth("read")["Authorization"].split()[1]
    assert client.post("/login", data={"key": key, "csrf_token": token}).status_code == 303
    page = client.get(f"/claims/{claim['id']}").get_data(as_text=True)
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert json.loads(embedded.group(1)) == review


def test_links_use_the_configured_public_url_and_publisher(resolved, seeded, client, auth):
    seeded.config.update(
        PUBLIC_URL="https://checks.example.org/",
        PUBLISHER_NAME="Example Fact Check",
        PUBLISHER_URL="https://example.org/",
    )
    url = f"/api/v1/claims/{resolved['claim']['id']}/claimreview"
    review = client.get(url, headers=auth("read")).json
    assert review["url"] == f"https://checks.example.org/claims/{resolved['claim']['id']}"
    assert review["author"] == {
        "@type": "Organization",
        "name": "Example Fact Check",
        "url": "https://example.org/",
    }


def test_claimreview_is_cached_with_an_etag(resolved, client, auth):
    url = f"/api/v1/claims/{resolved['claim']['id']}/claimreview"
    first = client.get(url, headers=auth("read"))
    again = client.get(url, headers={**auth("read"), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_an_open_claim_has_no_claimreview(seeded, client, auth):
    claims = client.get("/api/v1/claims", headers=auth("read")).json
    response = client.get(f"/api/v1/claims/{claims[0]['id']}/claimreview", headers=auth("read"))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "open" in response.json["detail"] and "/score" in response.json["detail"]
    missing = client.get("/api/v1/claims/999/claimreview", headers=auth("read"))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/claims/{claims[0]['id']}/claimreview").status_code == 401


def test_the_feed_lists_resolved_claims_newest_verdict_first_paginated(resolved, client, auth):
    feed = client.get("/api/v1/claimreview", headers=auth("read"))
    assert feed.status_code == 200 and feed.mimetype == LD_JSON
    assert [r["claimReviewed"] for r in feed.json] == [resolved["claim"]["text"]]
    claims = client.get("/api/v1/claims?status=open", headers=auth("read")).json
    other = claims[0]
    client.post(
        f"/api/v1/claims/{other['id']}/verdict", json={"verdict": True}, headers=auth("verdict")
    )
    feed = client.get("/api/v1/claimreview?page_size=1", headers=auth("read"))
    assert json.loads(feed.headers["X-Pagination"])["total"] == 2
    assert 'rel="next"' in feed.headers["Link"]
    (newest,) = feed.json
    assert newest["claimReviewed"] == other["text"]
    assert newest["reviewRating"]["ratingValue"] == 5
    assert newest["reviewRating"]["alternateName"] == "True"
    second = client.get("/api/v1/claimreview?page_size=1&page=2", headers=auth("read")).json
    assert second[0]["claimReviewed"] == resolved["claim"]["text"]


def test_claimreview_is_documented_as_json_ld(app, client):
    spec = client.get("/api/v1/openapi.json").json
    one = spec["paths"]["/api/v1/claims/{claim_id}/claimreview"]["get"]
    assert one["x-required-scope"] == "read"
    assert set(one["responses"]["200"]["content"]) == {LD_JSON}
    assert "409" in one["responses"]
    feed = spec["paths"]["/api/v1/claimreview"]["get"]
    assert set(feed["responses"]["200"]["content"]) == {LD_JSON}
    schema = spec["components"]["schemas"]["ClaimReview"]["properties"]
    assert {"@context", "@type", "claimReviewed", "reviewRating", "url", "author"} <= set(schema)
    assert {"datePublished", "itemReviewed"} <= set(schema)
