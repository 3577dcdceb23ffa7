"""Model v2: one provenance rule, learned per-stance ratios, the claim layer, the interval."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.attribution import default_parameters
from scoring.confusion import stance_log_lr
from scoring.coverage import interval_coverage
from scoring.deployment import fit_scoring_model, score_records
from scoring.engine import claim_evidence, learned_stance_log_lr, score_claim, weigh_report
from scoring.evidence import (
    ClaimLayer,
    ModelParameters,
    ReportEvidence,
    parameters_from_dict,
    parameters_to_dict,
)
from scoring.interchange import InterchangeRecord, records_evidence
from scoring.learning import ReliabilityEstimator, ReportTable
from scoring.provenance import normalize_source
from scoring.synth import generate
from scoring.vocabulary import STANCES


@pytest.fixture(scope="module")
def fitted() -> ModelParameters:
    """A model fitted on a small synthetic set with echo chains."""
    dataset = generate(600, 30, 3, echo_outlets=1, copies_per_echo=2, unlabelled_fraction=0.2)
    return fit_scoring_model(dataset.records, outlet_kinds=dataset.outlet_kinds, version="t")


def independent(stance: str, key: str, reliability: float = 0.75) -> ReportEvidence:
    return ReportEvidence(
        key=key,
        outlet=f"Independent {key}",
        stance=stance,
        attribution="document",
        source=f"a source only {key} quotes",
        outlet_reliability=reliability,
    )


# --- provenance: one rule, two APIs -------------------------------------------------------


def test_sources_fold_case_whitespace_punctuation_and_a_leading_article():
    assert normalize_source("The Turkish  diplomatic source.") == "turkish diplomatic source"
    assert normalize_source("a Turkish diplomatic source") == "turkish diplomatic source"
    assert normalize_source("an official") == "official"
    assert normalize_source(" the ") is None and normalize_source("...") is None
    assert normalize_source("Theresa May") == "theresa may"


def test_a_support_citing_neutral_coverage_is_its_own_evidence():
    # Issue 13, item 8: Reuters' on-the-record support citing Kan's neutral report.
    kan = ReportEvidence("kan", "Kan", "neutral", "anonymous_source", outlet_reliability=0.75)
    reuters = ReportEvidence(
        "reuters", "Reuters", "supports", "named_official", cites="kan", outlet_reliability=0.85
    )
    alone = score_claim([reuters], default_parameters()).confidence
    both = score_claim([kan, reuters], default_parameters())
    assert both.confidence == pytest.approx(alone) and both.confidence > 0.7
    assert "repeats" not in " ".join(c.reason for c in both.contributions)


# --- learned per-stance ratios -------------------------------------------------------------


def _records_without_features(seed: int = 4) -> list[InterchangeRecord]:
    dataset = generate(400, 25, seed)
    return [
        dataclasses.replace(r, attribution="unattributed", interested_party=False, source=None)
        for r in dataset.records
    ]


def test_an_outlet_with_no_record_and_no_features_gets_exactly_the_pooled_ratios():
    params = ReliabilityEstimator().fit(_records_without_features()).to_model_parameters("t")
    pooled = stance_log_lr(np.array(params.pooled_confusion))
    for code, stance in enumerate(STANCES):
        weighed = weigh_report(ReportEvidence("x", "never seen", stance), params)
        assert weighed.log_odds == pooled[code]
        assert weighed.reliability_basis == "pooled"
    assert pooled[1] < 0 < pooled[0]  # a denial counts against, a support for


def test_the_fit_gives_a_no_record_outlet_the_pooled_ratios_too():
    params = fit_scoring_model(_records_without_features(), version="t")
    pooled = stance_log_lr(np.array(params.pooled_confusion))
    items = claim_evidence([ReportEvidence("x", "never seen", "denies")], params).items
    assert [item.log_lr for item in items] == [pooled[1]]


def test_a_typed_prior_below_half_is_clamped_and_never_inverts_learned_ratios(fitted):
    params = fitted

    def ratios(prior):
        report = ReportEvidence("x", "new outlet", "supports", outlet_reliability=prior)
        return learned_stance_log_lr(report, params)[0].tolist()

    assert ratios(0.0) == ratios(0.3) == ratios(0.5)
    for prior in (0.0, 0.3, 0.5, 0.7, 0.99, 1.0):
        support, denial, _ = ratios(prior)
        assert support >= denial - 1e-12  # the typed prior never turns the outlet around
    assert ratios(0.95)[0] > ratios(0.5)[0] and ratios(0.95)[1] < ratios(0.5)[1]
    assert ratios(1.0) == ratios(0.99)
    parent = ReportEvidence("x", "new outlet", "supports")
    assert ratios(0.5) == learned_stance_log_lr(parent, fitted)[0].tolist()
    # The attribution's learned shift comes on top: unattributed assertions were right less
    # often than their outlets' record in the synthetic data, and the shift says so.
    assert params.attribution_shift["unattributed"] < 0


def test_fitted_ratios_let_a_denial_weigh_more_than_a_support_and_neutral_count(fitted):
    params = fitted
    pooled = stance_log_lr(np.array(params.pooled_confusion))
    assert abs(pooled[1]) != pytest.approx(abs(pooled[0]))
    assert pooled[2] != 0.0  # synthetic neutral coverage is more common on false claims
    assert params.outlet_log_lr and params.attribution_shift["document"] > 0


# --- the claim layer and aggregation -------------------------------------------------------


def test_one_credible_denial_is_not_drowned_by_ten_echoes():
    params = default_parameters()
    kan = ReportEvidence("kan", "Kan", "supports", "anonymous_source", outlet_reliability=0.75)
    echoes = [
        ReportEvidence(f"echo{i}", f"Site {i}", "supports", "media_report", cites="kan")
        for i in range(10)
    ]
    denial = ReportEvidence("deny", "Reuters", "denies", "named_official", outlet_reliability=0.85)
    assert score_claim([kan, *echoes, denial], params).confidence < 0.3


def test_volume_has_diminishing_returns():
    params = default_parameters()

    def supports(n):
        return [independent("supports", key=f"s{i:02d}") for i in range(n)]

    one, five, twenty = (score_claim(supports(n), params).log_odds for n in (1, 5, 20))
    assert five < 5 * one and twenty < 20 * one * 0.5
    reasons = " ".join(c.reason for c in score_claim(supports(5), params).contributions)
    assert "2nd independent support of the claim: weighted ×0.71" in reasons


def test_the_fitted_layer_is_explained_as_base_rate_and_adjustment(fitted):
    params = fitted
    assert params.claim_layer.intercept is not None
    reports = [independent("supports", key="a"), independent("denies", key="b")]
    score = score_claim(reports, params)
    assert score.prior_log_odds == pytest.approx(params.claim_layer.intercept)
    named = [c for c in score.contributions if not c.members]
    assert any(c.reason.startswith("aggregation adjustment") for c in named)


# --- deployment ----------------------------------------------------------------------------


def test_parameters_round_trip_through_json_and_old_versions_load(fitted):
    params = fitted
    stored = json.loads(json.dumps(parameters_to_dict(params)))
    assert parameters_from_dict(stored) == params
    old = {
        "version": "fit-2024",
        "base_rate": 0.4,
        "interested_party_discount": 0.5,
        "attribution_credibility": {"named_official": 0.9},
        "outlet_reliability": {"Kan": 0.8},
        "kind_reliability": {},
        "calibration": {"method": "identity", "x": [], "y": [], "a": -1.0, "b": 0.0},
    }
    loaded = parameters_from_dict(old)
    assert not loaded.learned_stances and loaded.claim_layer == ClaimLayer()
    assert loaded.aggregation_exponent == 0.0
    kan = ReportEvidence("k", "Kan", "supports", "named_official")
    assert score_claim([kan], loaded).confidence > 0.4


def test_score_records_is_score_claim(fitted):
    dataset = generate(120, 15, 7)
    params = fitted
    scores = score_records(dataset.records, params)
    reports = records_evidence(dataset.records)
    for key, score in scores.items():
        assert score == score_claim(reports[key], params, score.verdict)


def test_too_few_verdicts_fall_back_to_the_identity_layer():
    records = [
        InterchangeRecord(f"c{i}", "claim", f"o{i % 3}", "supports", verdict=i % 2 == 0)
        for i in range(3)
    ]
    params = fit_scoring_model(records)
    assert params.claim_layer.intercept is None and params.learned_stances


def test_interval_covers_settled_confidence_on_synthetic_streams():
    dataset = generate(500, 25, 9, unlabelled_fraction=0.0)
    train = [r for r in dataset.records if int(r.claim_key[-6:]) < 350]
    test = [r for r in dataset.records if int(r.claim_key[-6:]) >= 350]
    params = fit_scoring_model(train, version="t")
    coverage = interval_coverage(records_evidence(test), params)
    assert coverage.zero_width == 0
    assert 0.8 <= coverage.coverage <= 0.99


def test_report_table_carries_kinds_and_typed_priors():
    records = [InterchangeRecord("c", "claim", "Kan", "supports", report_key="k")]
    table = ReportTable.from_records(records, {"Kan": "newspaper"}, {"Kan": 0.3})
    assert table.outlet_kinds.tolist() == [3] and table.outlet_priors.tolist() == [0.3]
    assert ReportTable.from_records(records).outlet_kinds.tolist() == [-1]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1), st.integers(min_value=20, max_value=120))
def test_a_heavily_penalised_layer_is_the_prior_blend_and_a_free_one_follows_the_data(seed, n):
    """C → 0: every coefficient is :data:`LAYER_PRIOR` (half naive Bayes, half the vote
    count), only the intercept learned; C large: the fit leaves the prior for the data."""
    from scoring.deployment import FEATURES, fit_bounded_logistic, layer_prior

    rng = np.random.default_rng(seed)
    X = np.abs(rng.normal(size=(n, len(FEATURES))))
    X[:, FEATURES.index("support_share")] -= 0.5
    y = rng.random(n) < 0.5
    y[:2] = [True, False]
    _, tight = fit_bounded_logistic(X, y, 1e-9)
    np.testing.assert_allclose(tight, layer_prior(), atol=1e-5)
    # A column that decides the verdict: a free fit puts far more weight on it.
    decisive = FEATURES.index("supports_evidence")
    X[:, decisive] = np.where(y, 2.0, 0.0) + rng.normal(scale=0.1, size=n)
    _, free = fit_bounded_logistic(X, y, 100.0)
    assert free[decisive] > 5 * layer_prior()[decisive]
