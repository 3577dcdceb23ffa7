"""The shrunk base rate per story (issue 13, item 5): the story term of the engine, its
cross-fitting, its place in the stored parameters, and that data without stories lose
nothing."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.deployment import fit_scoring_model, score_records
from scoring.engine import score_claim
from scoring.evidence import (
    ClaimLayer,
    ModelParameters,
    ReportEvidence,
    StoryModel,
    parameters_from_dict,
    parameters_to_dict,
)
from scoring.story_rates import (
    STRENGTH_BOUNDS,
    cross_fitted_offsets,
    fit_strength,
    story_offset,
)
from scoring.synth import generate

PROPERTY = settings(max_examples=200, deadline=None, database=None)

rates = st.floats(0.05, 0.95)
strengths = st.floats(0.5, 200.0)
counts = st.integers(0, 40)
coefficients = st.floats(0.05, 3.0)


def _params(model: StoryModel, intercept: float = 0.3) -> ModelParameters:
    # Learned-stance parameters with an identity layer: only the story term is new here.
    return ModelParameters(
        version="t",
        pooled_confusion=((0.2, 0.5, 0.3), (0.6, 0.1, 0.3)),
        claim_layer=ClaimLayer(intercept=intercept),
        stories=model,
    )


def _reports(story: str | None) -> list[ReportEvidence]:
    return [
        ReportEvidence("r1", "Kan", "supports", "anonymous_source", story=story),
        ReportEvidence("r2", "Reuters", "denies", "official_source", story=story),
    ]


@PROPERTY
@given(counts, counts, rates, strengths, coefficients)
def test_the_story_term_moves_the_start_toward_the_story_rate(true, false, base, m, a):
    model = StoryModel(base_rate=base, strength=m, coefficient=a, resolved={"s": (true, false)})
    params = _params(model)
    with_story = score_claim(_reports("s"), params)
    without = score_claim(_reports(None), params)
    term = with_story.log_odds - without.log_odds
    if true + false == 0:
        assert with_story == without
        return
    rate = true / (true + false)
    shrunk = (true + m * base) / (true + false + m)
    # Toward the story's share, never past it: the shrunk rate lies between the two.
    assert min(rate, base) - 1e-12 <= shrunk <= max(rate, base) + 1e-12
    if rate > base:
        assert term > 0
    elif rate < base:
        assert term < 0
    expected = a * (math.log(shrunk / (1 - shrunk)) - math.log(base / (1 - base)))
    assert math.isclose(term, expected, rel_tol=1e-9, abs_tol=1e-9)
    total = with_story.prior_log_odds + math.fsum(c.log_odds for c in with_story.contributions)
    assert abs(total - with_story.log_odds) < 1e-9
    named = [c for c in with_story.contributions if c.reason.startswith("story 's'")]
    assert len(named) == (1 if term else 0)
    assert with_story.prior_log_odds == without.prior_log_odds


@PROPERTY
@given(counts, counts, rates, strengths)
def test_more_true_claims_in_a_story_never_lower_its_offset(true, false, base, m):
    assert story_offset(true + 1, false, base, m) > story_offset(true, false, base, m)
    assert story_offset(true, false + 1, base, m) < story_offset(true, false, base, m)
    assert story_offset(0, 0, base, m) == 0.0


@PROPERTY
@given(rates, strengths, coefficients, st.booleans(), st.sampled_from(["s", "other", None]))
def test_the_term_vanishes_without_resolved_claims_in_the_story(base, m, a, verdict, story):
    # The story's only resolved claim is the claim itself: its own verdict is left out.
    own = (1, 0) if verdict else (0, 1)
    model = StoryModel(base_rate=base, strength=m, coefficient=a, resolved={"s": own})
    params = _params(model)
    plain = score_claim(_reports(None), params, verdict)
    assert score_claim(_reports(story), params, verdict if story == "s" else None) == (
        score_claim(_reports(None), params, verdict if story == "s" else None)
    )
    assert score_claim(_reports("s"), params, verdict) == plain


def test_the_explanation_names_the_story_and_its_count():
    model = StoryModel(base_rate=0.7, strength=2.0, coefficient=1.0, resolved={"toronto": (0, 12)})
    score = score_claim(_reports("toronto"), _params(model))
    (term,) = [c for c in score.contributions if c.reason.startswith("story")]
    assert term.reason == (
        "story 'toronto': most of its 12 resolved claims were false (0 true, 12 false), "
        "against 70% true over all resolved claims"
    )
    assert term.log_odds < 0 and term.members == () and term.sign == -1


def test_reports_of_one_claim_naming_two_stories_are_an_error():
    reports = [
        ReportEvidence("r1", "Kan", "supports", story="a"),
        ReportEvidence("r2", "Kan", "denies", story="b"),
    ]
    try:
        score_claim(reports, _params(StoryModel(coefficient=1.0, resolved={"a": (1, 0)})))
    except ValueError as error:
        assert "different stories" in str(error)
    else:
        raise AssertionError("two stories were accepted")


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.booleans()), min_size=6),
    st.data(),
)
def test_a_claims_own_verdict_never_feeds_its_own_cross_fitted_offset(claims, data):
    stories = [story for story, _ in claims]
    verdicts = np.array([verdict for _, verdict in claims])
    n_folds = data.draw(st.integers(2, 5))
    fold_of = np.arange(len(claims)) % n_folds
    folds = [np.flatnonzero(fold_of == k) for k in range(n_folds)]
    offsets = cross_fitted_offsets(stories, verdicts, folds)
    i = data.draw(st.integers(0, len(claims) - 1))
    flipped = verdicts.copy()
    flipped[i] = not flipped[i]
    assert cross_fitted_offsets(stories, flipped, folds)[i] == offsets[i]
    assert all(offsets[j] == 0.0 for j in range(len(claims)) if stories[j] is None)


def test_the_strength_is_small_when_stories_differ_and_large_when_they_do_not():
    base = 0.5
    alike = {f"s{i}": (10, 10) for i in range(8)}
    apart = {f"s{i}": ((20, 0) if i % 2 else (0, 20)) for i in range(8)}
    assert fit_strength(alike, base) > 1000
    assert fit_strength(apart, base) < 2
    assert fit_strength({"s": (1, 0)}, base) == STRENGTH_BOUNDS[1]


def test_the_story_model_travels_in_the_stored_parameters():
    model = StoryModel(base_rate=0.6, strength=3.5, coefficient=0.8, resolved={"s": (2, 5)})
    params = _params(model)
    stored = json.loads(json.dumps(parameters_to_dict(params)))
    assert stored["stories"] == {
        "base_rate": 0.6,
        "strength": 3.5,
        "coefficient": 0.8,
        "resolved": {"s": [2, 5]},
    }
    assert parameters_from_dict(stored) == params
    # A version stored before stories existed loads with the term switched off.
    del stored["stories"]
    assert parameters_from_dict(stored).stories == StoryModel()


# -- fits ------------------------------------------------------------------------------------
@functools.cache
def _synthetic():
    return generate(240, 20, seed=3, unlabelled_fraction=0.1)


def _with_stories(records, n_stories: int = 6):
    """Stories whose shares of true claims differ: true claims go mostly to even-numbered
    stories, false ones mostly to odd-numbered ones."""
    out = []
    for record in records:
        number = sum(map(ord, record.claim_key))
        story = (number % (n_stories // 2)) * 2
        if record.verdict is False or (record.verdict is None and number % 2):
            story += 1
        if number % 5 == 0:  # not too clean
            story = (story + 1) % n_stories
        out.append(replace(record, story=f"story-{story}"))
    return out


def test_data_without_stories_fit_and_score_exactly_as_without_the_story_model():
    dataset = _synthetic()
    records = dataset.records
    assert all(r.story is None for r in records)
    on = fit_scoring_model(records, outlet_kinds=dataset.outlet_kinds, version="v")
    off = fit_scoring_model(
        records, outlet_kinds=dataset.outlet_kinds, version="v", use_stories=False
    )
    assert parameters_to_dict(on) == parameters_to_dict(off)
    assert on.stories == StoryModel()
    assert score_records(records, on, dataset.outlet_kinds) == score_records(
        records, off, dataset.outlet_kinds
    )


def test_a_fit_learns_that_a_mostly_false_story_starts_lower():
    dataset = _synthetic()
    records = _with_stories(dataset.records)
    params = fit_scoring_model(records, outlet_kinds=dataset.outlet_kinds, version="v")
    stories = params.stories
    assert stories.coefficient > 0
    resolved = {r.claim_key: (r.story, r.verdict) for r in records if r.verdict is not None}
    for story in ("story-0", "story-1"):
        verdicts = [v for s, v in resolved.values() if s == story]
        assert stories.resolved[story] == (sum(verdicts), len(verdicts) - sum(verdicts))
    fresh = [ReportEvidence("new", "an outlet never seen", "neutral")]
    mostly_true = score_claim([replace(fresh[0], story="story-0")], params)
    mostly_false = score_claim([replace(fresh[0], story="story-1")], params)
    unknown = score_claim([replace(fresh[0], story="never-seen")], params)
    assert mostly_false.confidence < unknown.confidence < mostly_true.confidence
    assert unknown == score_claim(fresh, params)
    # Stored and loaded, the fit scores the same.
    stored = parameters_from_dict(json.loads(json.dumps(parameters_to_dict(params))))
    assert stored.stories == params.stories
    assert score_claim([replace(fresh[0], story="story-1")], stored) == mostly_false
