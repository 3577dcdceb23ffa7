"""What would change a claim's score: the hypothetical reports listed with it
(scoring.what_if), stored with the score, and POST /api/v1/claims/{id}/what-if."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from test_dashboard import sign_in
from test_scoring_properties import PROPERTY, _named_parameters, claims, parameters

from models import Base, Claim, Outlet, Report
from scoring.attribution import default_parameters
from scoring.engine import assess_claim, confidence_with, score_claim, weigh_report
from scoring.evidence import ReportEvidence, StoryModel
from scoring.what_if import (
    MAX_LISTED,
    MIN_MOVE,
    candidate_reports,
    score_many_with_changes,
    score_with_changes,
    what_would_change,
)
from service.newsroom.model_store import active_parameters
from service.newsroom.rescoring import claim_evidence
from service.web.database import unit_of_work

# The model is drawn by name and fitted (once a run) in the test's body, not while
# hypothesis draws inputs: a slow fit there fails its health check.
models = st.one_of(st.sampled_from(["prior", "fitted", "linear"]), parameters())


def _model(drawn):
    return _named_parameters(drawn) if isinstance(drawn, str) else drawn


# -- scoring ---------------------------------------------------------------------------------
@PROPERTY
@given(claims, models)
def test_each_listed_confidence_is_what_scoring_the_claim_with_that_report_gives(reports, drawn):
    params = _model(drawn)
    score, listed = score_with_changes(reports, params)
    assert score == score_claim(reports, params)
    assert listed == what_would_change(reports, params)
    for move in listed:
        with_it = score_claim([*reports, move.report], params)
        assert move.confidence == with_it.confidence
        assert move.change == with_it.confidence - score.confidence
        assert with_it.n_clusters == score.n_clusters + 1  # independent: a cluster of its own


@PROPERTY
@given(
    claims,
    models,
    st.integers(0, 6),
    st.integers(0, 6),
    st.floats(0.1, 3.0),
)
def test_a_claim_of_a_story_lists_what_scoring_it_with_that_report_gives(
    reports, drawn, true, false, coefficient
):
    # The story's share is part of the start the hypothetical reports are added to.
    stories = StoryModel(
        base_rate=0.6, strength=2.0, coefficient=coefficient, resolved={"the-story": (true, false)}
    )
    params = dataclasses.replace(_model(drawn), stories=stories)
    reports = [dataclasses.replace(r, story="the-story") for r in reports]
    score, listed = score_with_changes(reports, params)
    assert score == score_claim(reports, params)
    for move in listed:
        assert move.confidence == score_claim([*reports, move.report], params).confidence


@PROPERTY
@given(st.lists(claims, min_size=1, max_size=4), models, st.lists(st.booleans() | st.none()))
def test_claims_scored_together_list_what_each_scored_alone_lists(many, drawn, verdicts):
    # The bulk import scores a batch's claims together (weighing each profile once, the
    # intervals in one pass): each claim's score and list are what the recorder stores.
    params = _model(drawn)
    claims_by_key = {f"c{i}": reports for i, reports in enumerate(many)}
    verdict_of = dict(zip(claims_by_key, verdicts, strict=False))
    together = score_many_with_changes(claims_by_key, params, verdict_of)
    assert list(together) == list(claims_by_key)
    for key, reports in claims_by_key.items():
        assert together[key] == score_with_changes(reports, params, verdict_of.get(key))


@PROPERTY
@given(claims, models)
def test_the_biggest_moves_are_listed_first_and_both_ways_when_both_exist(reports, drawn):
    params = _model(drawn)
    every = what_would_change(reports, params, limit=len(candidate_reports(params)))
    listed = what_would_change(reports, params)
    assert all(abs(move.change) >= MIN_MOVE for move in every)
    assert [abs(m.change) for m in every] == sorted((abs(m.change) for m in every), reverse=True)
    assert listed[: MAX_LISTED - 1] == every[: MAX_LISTED - 1]
    if len(every) > MAX_LISTED:
        ways = {move.change > 0 for move in every}
        assert {move.change > 0 for move in listed} == ways
        assert listed[-1] in every[MAX_LISTED - 1 :]
    else:
        assert listed == every


@PROPERTY
@given(claims, st.booleans())
def test_a_resolved_claim_lists_nothing(reports, verdict):
    params = default_parameters()
    assert score_with_changes(reports, params, verdict) == (
        score_claim(reports, params, verdict),
        None,
    )


KAN = ReportEvidence("r1", "Kan", "supports", "anonymous_source", outlet_reliability=0.75)


def test_the_documented_priors_list_the_strongest_and_a_typical_report_each_way():
    listed = what_would_change([KAN], default_parameters())
    assert [(m.description, round(m.confidence, 3)) for m in listed] == [
        ("an on-the-record denial by an independent B-grade wire agency", 0.295),
        ("an on-the-record support by an independent B-grade wire agency", 0.771),
        ("an anonymous-source denial by an independent D-grade outlet", 0.53),
        ("an anonymous-source support by an independent D-grade outlet", 0.564),
    ]
    assert listed[0].to_json() == {
        "description": "an on-the-record denial by an independent B-grade wire agency",
        "confidence": listed[0].confidence,
        "change": listed[0].confidence - score_claim([KAN], default_parameters()).confidence,
        "stance": "denies",
        "attribution": "named_official",
        "outlet_kind": "wire_agency",
        "outlet_grade": "B",
    }


def test_neutral_coverage_is_tried_only_where_the_model_weighs_it():
    stances = {c.weighed.report.stance for c in candidate_reports(default_parameters())}
    assert stances == {"supports", "denies"}
    fitted = _named_parameters("fitted")
    assert {c.weighed.report.stance for c in candidate_reports(fitted)} == {
        "supports",
        "denies",
        "neutral",
    }


def test_a_claim_using_or_citing_a_candidates_key_still_gets_exact_confidences():
    params = default_parameters()
    keys = [c.weighed.key for c in candidate_reports(params)]
    reports = [
        dataclasses.replace(KAN, key=keys[0]),
        ReportEvidence("r2", "TASS", "denies", cites=keys[1]),
    ]
    listed = what_would_change(reports, params)
    assert len(listed) == MAX_LISTED
    for move in listed:
        assert move.report.key not in keys[:2]
        assert move.confidence == score_claim([*reports, move.report], params).confidence


def test_confidence_with_refuses_a_report_that_is_not_independent():
    params = default_parameters()
    assessed = assess_claim([KAN], params)
    for report in (
        ReportEvidence("r9", "Reuters", "denies", cites="r1"),
        ReportEvidence("r9", "Reuters", "denies", source="a Turkish source"),
        ReportEvidence("r1", "Reuters", "denies"),
    ):
        with pytest.raises(ValueError, match="not independent"):
            confidence_with(assessed, params, [weigh_report(report, params)])


# -- stored with the score -------------------------------------------------------------------
MAIN = "hamas-leadership-moved-to-turkey"


def _claim_id(app, key: str = MAIN) -> int:
    with unit_of_work(app) as uow:
        return uow.session.scalar(select(Claim.id).where(Claim.key == key))


def _expected(app, claim: int) -> list[dict]:
    """What the score should list: the claim's stored reports, listed afresh."""
    with unit_of_work(app) as uow:
        params = active_parameters(uow.session)
        moves = what_would_change(claim_evidence(uow.session, claim), params)
    return [
        {**move.to_json(), "confidence": round(move.confidence, 4), "change": round(move.change, 4)}
        for move in moves
    ]


def test_the_score_lists_what_would_change_it_as_stored_and_a_resolved_claim_nothing(
    seeded, client, auth
):
    claim = _claim_id(seeded)
    score = client.get(f"/api/v1/claims/{claim}/score", headers=auth("read")).get_json()
    assert score["what_would_change"] == _expected(seeded, claim)
    assert len(score["what_would_change"]) == MAX_LISTED
    assert {move["change"] > 0 for move in score["what_would_change"]} == {True, False}
    # A new report rescores the claim, and what would change it with it.
    body = {
        "claim_id": claim,
        "outlet": "Reuters",
        "stance": "denies",
        "attribution": "named_official",
    }
    recorded = client.post("/api/v1/reports", json=body, headers=auth("write")).get_json()
    assert recorded["score"]["what_would_change"] == _expected(seeded, claim)
    assert recorded["score"]["what_would_change"] != score["what_would_change"]
    # Reads never recompute: they answer what is stored.
    sentinel = [{**score["what_would_change"][0], "description": "stored, not recomputed"}]
    with unit_of_work(seeded) as uow:
        uow.session.execute(
            update(Claim).where(Claim.id == claim).values(what_would_change=sentinel)
        )
        uow.commit()
    read = client.get(f"/api/v1/claims/{claim}/score", headers=auth("read")).get_json()
    assert read["what_would_change"] == sentinel
    verdict = {"verdict": False, "note": "checked"}
    resolved = client.post(f"/api/v1/claims/{claim}/verdict", json=verdict, headers=auth("verdict"))
    assert resolved.status_code == 200 and resolved.get_json()["what_would_change"] is None
    with unit_of_work(seeded) as uow:
        assert uow.session.get(Claim, claim).what_would_change is None


# -- POST /claims/{id}/what-if ---------------------------------------------------------------
def _everything(app) -> dict:
    """Every row of every table, to show that a what-if writes nothing."""
    with unit_of_work(app) as uow:
        return {
            table.name: sorted(map(tuple, uow.session.execute(table.select())), key=repr)
            for table in Base.metadata.sorted_tables
        }


def _evidence_of(session, key: str, outlet_name: str | None, **fields) -> ReportEvidence:
    """A hypothetical report as the scorer should see it: a stored outlet's prior and kind."""
    outlet = session.scalars(select(Outlet).where(Outlet.name == outlet_name)).one()
    return ReportEvidence(
        key,
        outlet.name,
        outlet_reliability=outlet.prior_reliability,
        outlet_kind=outlet.kind,
        **fields,
    )


def test_what_if_scores_the_claim_with_hypothetical_reports_and_stores_nothing(
    seeded, client, auth
):
    claim = _claim_id(seeded)
    with unit_of_work(seeded) as uow:
        stored = claim_evidence(uow.session, claim)
        params = active_parameters(uow.session)
        kan = next(r for r in stored if r.outlet == "Kan")
        new_wire = "a new wire agency (what-if-2)"
        hypothetical = [
            _evidence_of(
                uow.session, "what-if-1", "Reuters", stance="denies", attribution="named_official"
            ),
            ReportEvidence(
                "what-if-2",
                new_wire,
                "supports",
                source="a Qatari source",
                outlet_kind="wire_agency",
            ),
            _evidence_of(uow.session, "echo", "TASS", stance="supports", cites=kan.key),
        ]
    before = _everything(seeded)
    body = {
        "reports": [
            {"outlet": "reuters", "stance": "denies", "attribution": "named_official"},
            {"outlet_kind": "wire_agency", "stance": "supports", "source": "a Qatari source"},
            {"outlet": "TASS", "stance": "supports", "cites": kan.key, "report_key": "echo"},
        ]
    }
    response = client.post(f"/api/v1/claims/{claim}/what-if", json=body, headers=auth("read"))
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    expected = score_claim([*stored, *hypothetical], params)
    now = score_claim(stored, params)
    assert answer["confidence"] == round(expected.confidence, 4)
    assert answer["current_confidence"] == round(now.confidence, 4)
    assert answer["change"] == round(expected.confidence - now.confidence, 4)
    assert answer["hypothetical_reports"] == ["what-if-1", "what-if-2", "echo"]
    assert answer["n_reports"] == len(stored) + 3
    assert [c["reason"] for c in answer["explanation"]] == [
        c.reason for c in expected.contributions
    ]
    assert any("TASS repeats Kan's report" in c["reason"] for c in answer["explanation"])
    # Nothing written: no row of any table (reports, outlets, scores, history, outbox events,
    # idempotent responses, audit) changed.
    assert _everything(seeded) == before


STORED_KEY = "<a stored report's key>"


@pytest.mark.parametrize(
    "report, field, message",
    [
        ({"outlet": "Reuterz"}, "outlet", "did you mean 'Reuters'?"),
        ({"outlet_id": 99999}, "outlet_id", "names no outlet: 99999"),
        ({"outlet": "Kan", "cites": "no-such-report"}, "cites", "names no report"),
        ({"outlet": "Kan", "cites": STORED_KEY}, "cites", "names no report"),
        ({"outlet": "Kan", "report_key": STORED_KEY}, "report_key", "stored report's key"),
    ],
)  # fmt: skip
def test_what_if_refuses_what_it_cannot_read_with_a_problem(
    seeded, client, auth, report, field, message
):
    claim = _claim_id(seeded)
    with unit_of_work(seeded) as uow:
        # A report of another claim: cited, it is refused; as a key, it is taken.
        other = uow.session.scalars(select(Report.key).where(Report.claim_id != claim)).first()
    report = {name: other if value == STORED_KEY else value for name, value in report.items()}
    report["stance"] = "denies"
    response = client.post(
        f"/api/v1/claims/{claim}/what-if",
        json={"reports": [{"outlet": "Kan", "stance": "supports"}, report]},
        headers=auth("read"),
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    (found,) = response.get_json()["errors"]["json"]["reports"]["1"][field]
    assert message in found


def test_what_if_bounds_its_input_and_needs_a_read_key(seeded, client, auth):
    claim = _claim_id(seeded)
    url = f"/api/v1/claims/{claim}/what-if"
    one = {"outlet_kind": "newspaper", "stance": "denies"}
    too_many = client.post(url, json={"reports": [one] * 21}, headers=auth("read"))
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"]["json"]["reports"] == ["Length must be between 1 and 20."]
    both = client.post(url, json={"reports": [{**one, "outlet": "Kan"}]}, headers=auth("read"))
    assert both.status_code == 422
    assert (
        client.post(
            "/api/v1/claims/99999/what-if", json={"reports": [one]}, headers=auth("read")
        ).status_code
        == 404
    )
    assert client.post(url, json={"reports": [one]}).status_code == 401
    assert client.post(url, json={"reports": [one] * 20}, headers=auth("read")).status_code == 200


def test_the_claim_page_shows_what_would_change_it(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    claim = _claim_id(seeded)
    with unit_of_work(seeded) as uow:
        stored = uow.session.get(Claim, claim).what_would_change
    page = client.get(f"/claims/{claim}").text
    section = page[page.index('id="what-would-change"') : page.index("<h2>History</h2>")]
    assert section.count("<li") == len(stored) == MAX_LISTED
    for move in stored:
        shown = f"{move['description']} → <strong>{100 * move['confidence']:.0f}%</strong>"
        assert f"{shown} ({100 * move['change']:+.1f} pts)" in section
