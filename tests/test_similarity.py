"""Similar claims: a floor under every answer (a paraphrase set written for the test), an
index maintained across sessions and processes, and the new-claim warning."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from similarity_cases import NEAR_MISSES, PARAPHRASES, STORED, UNRELATED
from sqlalchemy import select, update

from models import Claim
from models.base import utcnow
from service.newsroom import similarity
from service.newsroom.similarity import SIMILARITY_FLOOR, ClaimIndex, similar_claims


@pytest.fixture(autouse=True)
def _fresh_indexes():
    similarity.forget_all()
    yield
    similarity.forget_all()


def _index() -> ClaimIndex:
    return ClaimIndex([(i, key, text) for i, (key, text) in enumerate(STORED.items(), start=1)])


@pytest.mark.parametrize(("text", "key"), PARAPHRASES)
def test_a_paraphrase_finds_its_claim_first(text, key):
    found = _index().query(text, k=3)
    assert found and found[0].key == key, [(f.key, f.similarity) for f in found]
    assert all(f.similarity >= SIMILARITY_FLOOR for f in found)


@pytest.mark.parametrize("text", NEAR_MISSES + UNRELATED)
def test_another_subject_finds_nothing(text):
    assert _index().query(text, k=5) == []


def test_the_pruned_search_scores_as_a_full_scan_would():
    """The inverted-index search reads only rare features' postings; its scores are the
    exact cosines, as a full product of the matrix with the query gives them."""
    index = _index()
    for text, _ in PARAPHRASES:
        found = index.query(text, k=10, floor=0.0)
        q = similarity._weigh(similarity._term_frequencies([text]), index.idfs)
        full = (index.base.tocsr() @ q.T).toarray().ravel()
        for f in found:
            assert f.similarity == pytest.approx(full[index.ids.index(f.claim_id)], abs=1e-5)
        expected = {index.ids[i] for i in range(len(full)) if full[i] >= SIMILARITY_FLOOR}
        assert {f.claim_id for f in found} == expected


def test_appended_claims_are_searched_with_the_fitted_idf():
    items = list(STORED.items())
    index = ClaimIndex([(i, k, t) for i, (k, t) in enumerate(items[:4], start=1)])
    index.append([(i, k, t) for i, (k, t) in enumerate(items[4:], start=5)])
    assert index.appended == len(items) - 4
    for text, key in PARAPHRASES:
        assert index.query(text, k=1)[0].key == key


def _store(session_factory, items, now=None):
    session = session_factory()
    now = now or utcnow()
    for key, text in items:
        session.add(Claim(key=key, text=text, status="open", created_at=now, updated_at=now))
    session.commit()
    session.close()


def test_the_api_answers_only_above_the_floor(seeded, client, auth):
    for key, text in STORED.items():
        response = client.post(
            "/api/v1/claims", json={"key": key, "text": text}, headers=auth("write")
        )
        assert response.status_code == 201, response.get_json()
    for text, key in PARAPHRASES:
        found = client.get(
            f"/api/v1/claims/similar?text={quote(text)}&k=3", headers=auth("read")
        ).get_json()
        assert found[0]["key"] == key
        assert all(f["similarity"] >= SIMILARITY_FLOOR for f in found)
    for text in NEAR_MISSES + UNRELATED:
        found = client.get(
            f"/api/v1/claims/similar?text={quote(text)}", headers=auth("read")
        ).get_json()
        assert found == [], text


def test_a_claim_stored_by_another_session_is_found_by_the_next_search(
    app, session_factory, monkeypatch
):
    """Another process is another session on the same database: the index catches up with
    claims newer than its last id on every search."""
    items = list(STORED.items())
    _store(session_factory, items[:3])
    with session_factory() as session:
        assert similar_claims(session, PARAPHRASES[4][0]) == []  # index built without it
        _store(session_factory, items[3:])  # as another worker would
        assert similar_claims(session, PARAPHRASES[4][0])[0].key == PARAPHRASES[4][1]


@pytest.mark.parametrize("in_background", [False, True])
def test_a_text_edited_elsewhere_is_seen_within_the_refresh_bound(
    session_factory, monkeypatch, in_background
):
    monkeypatch.setattr(similarity, "REFRESH_SECONDS", 3600.0)
    if in_background:
        monkeypatch.setattr(similarity, "SYNC_BUILD_BELOW", 0)
    _store(session_factory, STORED.items())
    question = "A comet passed near Jupiter and astronomers photographed it"
    with session_factory() as session:
        assert similar_claims(session, question) == []
    with session_factory() as other:  # another process edits a claim's text
        other.execute(
            update(Claim)
            .where(Claim.key == "rates-ecb")
            .values(
                text="Astronomers photographed a comet passing near Jupiter", updated_at=utcnow()
            )
        )
        other.commit()
    with session_factory() as session:
        assert similar_claims(session, question) == []  # within the bound: may be stale
        monkeypatch.setattr(similarity, "REFRESH_SECONDS", 0.0)  # the bound has passed
        found = similar_claims(session, question)
        if in_background:
            similarity.wait_for_builds()
            found = similar_claims(session, question)
        assert [f.key for f in found] == ["rates-ecb"]


@pytest.mark.parametrize("in_background", [False, True])
def test_an_index_no_claim_changed_under_is_kept_past_the_refresh_time(
    session_factory, monkeypatch, in_background
):
    """The refresh checks the newest ``updated_at`` (indexed) before reading every claim."""
    if in_background:
        monkeypatch.setattr(similarity, "SYNC_BUILD_BELOW", 0)
    _store(session_factory, STORED.items(), now=utcnow() - timedelta(minutes=5))
    with session_factory() as session:
        first = similarity.claim_index(session)
        monkeypatch.setattr(similarity, "REFRESH_SECONDS", 0.0)
        similarity.claim_index(session)
        similarity.wait_for_builds()
        assert similarity.claim_index(session) is first


def test_an_emptied_database_is_read_anew(session_factory):
    items = list(STORED.items())
    _store(session_factory, items)
    with session_factory() as session:
        assert similar_claims(session, PARAPHRASES[0][0])
        session.query(Claim).delete()
        session.commit()
        _store(session_factory, [("other", "Astronomers photographed a comet near Jupiter")])
        assert similar_claims(session, PARAPHRASES[0][0]) == []
        assert session.scalar(select(Claim.key)) == "other"


def test_a_near_duplicate_new_claim_is_warned_in_the_post_answer(app, client, auth):
    for key, text in STORED.items():
        client.post("/api/v1/claims", json={"key": key, "text": text}, headers=auth("write"))
    for name in ("AP", "BBC"):  # known outlets: an unknown name would be refused
        outlet = {"name": name, "kind": "wire_agency", "prior_reliability": 0.8}
        outlet["prior_rationale"] = "A wire agency, for the test."
        assert client.post("/api/v1/outlets", json=outlet, headers=auth("admin")).status_code == 201
    text, key = PARAPHRASES[3]  # the transfer, 0.7
    response = client.post(
        "/api/v1/reports",
        json={"claim_key": "mbappe-madrid", "claim": text, "outlet": "AP", "stance": "supports"},
        headers=auth("write"),
    )
    assert response.status_code == 201, response.get_json()
    (warning,) = response.get_json()["warnings"]
    assert warning["code"] == "similar_claim" and warning["similarity"] >= 0.6
    assert warning["claim_id"] == _claim_id(client, auth, key)
    # A second report of the claim it created is not a new claim: no warning.
    again = client.post(
        "/api/v1/reports",
        json={"claim_key": "mbappe-madrid", "claim": text, "outlet": "BBC", "stance": "supports"},
        headers=auth("write"),
    )
    assert again.status_code == 201 and again.get_json()["warnings"] == []
    # An unrelated new claim: no warning either.
    other = client.post(
        "/api/v1/reports",
        json={"claim_key": "football", "claim": UNRELATED[0], "outlet": "AP", "stance": "supports"},
        headers=auth("write"),
    )
    assert other.status_code == 201 and other.get_json()["warnings"] == []
    created = client.post(
        "/api/v1/claims", json={"text": PARAPHRASES[1][0]}, headers=auth("write")
    ).get_json()
    (warning,) = created["warnings"]
    assert warning["claim_id"] == _claim_id(client, auth, PARAPHRASES[1][1])


def _claim_id(client, auth, key):
    claims = client.get("/api/v1/claims?page_size=100", headers=auth("read")).get_json()
    return next(c["id"] for c in claims if c["key"] == key)
