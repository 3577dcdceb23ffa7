"""What an editor expects of the seed story, asserted on the scores the service stores."""

from __future__ import annotations

import pytest

from scoring.attribution import default_parameters
from scoring.engine import score_claim
from scoring.evidence import ReportEvidence
from seeds.loader import read_seed_story


@pytest.fixture(scope="module")
def story():
    return read_seed_story()


def _evidence(story, claim_key, *, without_copies=False):
    priors = {o.name: (o.prior_reliability, o.kind) for o in story.outlets}
    return [
        ReportEvidence(
            key=r.report_key,
            outlet=r.outlet,
            stance=r.stance,
            attribution=r.attribution,
            source=r.source,
            interested_party=r.interested_party,
            cites=r.cites,
            outlet_reliability=priors[r.outlet][0],
            outlet_kind=priors[r.outlet][1],
        )
        for r in story.reports
        if r.claim_key == claim_key and not (without_copies and r.cites)
    ]


def _score(story, claim_key, **kwargs):
    return score_claim(_evidence(story, claim_key, **kwargs), default_parameters())


@pytest.mark.parametrize(
    "claim_key", ["turkey-cut-ties-with-israel", "turkey-denied-herzog-airspace"]
)
def test_on_record_claims_are_likely_or_better(story, claim_key):
    assert _score(story, claim_key).confidence >= 0.55


def test_the_move_to_turkey_stays_near_even_and_copies_do_not_push_it(story):
    score = _score(story, "hamas-leadership-moved-to-turkey")
    assert 0.40 <= score.confidence <= 0.65
    alone = _score(story, "hamas-leadership-moved-to-turkey", without_copies=True)
    assert abs(score.confidence - alone.confidence) < 0.01
    assert score.n_clusters < score.n_reports


def test_the_december_meeting_is_unlikely_or_roughly_even(story):
    score = _score(story, "hamas-secret-meeting-turkey-2023-12")
    assert score.label in ("unlikely", "roughly even chance")


def test_interested_denials_are_discounted_in_the_explanation(story):
    reasons = " ".join(
        c.reason for c in _score(story, "hamas-leadership-moved-to-turkey").contributions
    )
    assert "interested party" in reasons and "not independent" in reasons
