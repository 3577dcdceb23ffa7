"""Example-based tests of the scoring engine: provenance, labels, reasons, the seed story."""

from __future__ import annotations

import math

import pytest

from scoring.attribution import (
    ATTRIBUTION_PRIORS,
    OUTLET_KIND_PRIORS,
    default_parameters,
    reliability_letter,
)
from scoring.engine import calibrate, score_claim, score_many, weigh_report
from scoring.evidence import Calibration, ModelParameters, ReportEvidence
from scoring.labels import admiralty_grade, credibility_grade, verbal_label
from scoring.provenance import normalize_source, provenance_clusters
from scoring.vocabulary import ATTRIBUTIONS, OUTLET_KINDS

PARAMS = default_parameters()


def report(key: str, stance: str = "supports", **fields) -> ReportEvidence:
    fields.setdefault("outlet", f"Outlet {key}")
    fields.setdefault("outlet_reliability", 0.75)
    return ReportEvidence(key=key, stance=stance, **fields)


def cluster_keys(reports) -> list[list[str]]:
    return [[r.key for r in cluster] for cluster in provenance_clusters(reports)]


# --- priors -------------------------------------------------------------------------------


def test_priors_cover_the_vocabularies_exactly():
    assert set(ATTRIBUTION_PRIORS) == set(ATTRIBUTIONS)
    assert set(OUTLET_KIND_PRIORS) == set(OUTLET_KINDS)


def test_attribution_grades_agree_with_their_credibility():
    for prior in ATTRIBUTION_PRIORS.values():
        assert prior.grade == credibility_grade(prior.credibility)
    for prior in OUTLET_KIND_PRIORS.values():
        assert prior.grade == reliability_letter(prior.reliability)


def test_attribution_order_follows_accountability():
    c = {name: prior.credibility for name, prior in ATTRIBUTION_PRIORS.items()}
    assert c["named_official"] > c["official_statement"] > c["official_source"]
    assert c["official_source"] > c["anonymous_diplomat"] >= c["anonymous_source"]
    assert c["anonymous_source"] > c["unattributed"] > 0.5
    assert abs(c["media_report"] - 0.5) < 0.05


@pytest.mark.parametrize(
    ("reliability", "letter"),
    [(0.99, "A"), (0.95, "A"), (0.85, "B"), (0.80, "B"), (0.75, "C"), (0.65, "C"),
     (0.60, "D"), (0.55, "D"), (0.5, "F"), (None, "F"), (0.45, "E"), (0.1, "E")],
)  # fmt: skip
def test_reliability_letter(reliability, letter):
    assert reliability_letter(reliability) == letter


# --- provenance ---------------------------------------------------------------------------


def test_cites_join_transitively():
    reports = [report("c", cites="b"), report("b", cites="a"), report("a"), report("d")]
    assert cluster_keys(reports) == [["a", "b", "c"], ["d"]]


def test_shared_source_joins_ignoring_case_and_whitespace():
    reports = [
        report("a", source="Turkish diplomatic source"),
        report("b", source="  turkish   Diplomatic\tsource "),
        report("c", source="Hamas"),
    ]
    assert cluster_keys(reports) == [["a", "b"], ["c"]]


def test_missing_or_blank_source_never_joins():
    reports = [report("a"), report("b", source=""), report("c", source="   "), report("d")]
    assert cluster_keys(reports) == [["a"], ["b"], ["c"], ["d"]]
    assert normalize_source("  ") is None


def test_citation_cycle_does_not_hang():
    reports = [report("a", cites="c"), report("b", cites="a"), report("c", cites="b")]
    assert cluster_keys(reports) == [["a", "b", "c"]]


def test_unknown_cites_is_ignored():
    assert cluster_keys([report("a", cites="elsewhere"), report("b")]) == [["a"], ["b"]]


def test_cites_and_sources_chain_across_clusters():
    reports = [report("a", source="S"), report("b", cites="a"), report("c", source="s", cites="z")]
    assert cluster_keys(reports) == [["a", "b", "c"]]


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        provenance_clusters([report("a"), report("a")])


# --- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probability", "label"),
    [
        (0.0, "almost no chance"),
        (0.01, "almost no chance"),
        (0.049, "almost no chance"),
        (0.05, "very unlikely"),
        (0.20, "unlikely"),
        (0.45, "roughly even chance"),
        (0.5, "roughly even chance"),
        (0.55, "roughly even chance"),
        (0.551, "likely"),
        (0.80, "likely"),
        (0.801, "very likely"),
        (0.95, "very likely"),
        (0.951, "almost certain"),
        (1.0, "almost certain"),
    ],
)
def test_verbal_label_bands(probability, label):
    assert verbal_label(probability) == label


def test_grade_combines_reliability_letter_and_credibility_digit():
    assert admiralty_grade(0.85, 0.9) == "B2"
    assert admiralty_grade(0.75, 0.6) == "C3"
    assert admiralty_grade(None, 0.5) == "F6"
    assert admiralty_grade(0.85, 0.3) == "B4"
    assert admiralty_grade(0.85, 0.1) == "B5"
    assert admiralty_grade(0.99, 0.99) == "A2"
    assert admiralty_grade(0.99, 0.99, corroborated=True) == "A1"


# --- reports and reasons ------------------------------------------------------------------


def test_report_strength_is_a_noisy_channel():
    weighed = weigh_report(report("a", attribution="anonymous_source"), PARAMS)
    p = 0.75 * 0.60 + 0.25 * 0.40
    assert weighed.log_odds == pytest.approx(math.log(p / (1 - p)))
    assert weighed.reliability_basis == "outlet prior"


def test_reliability_precedence():
    learned = ModelParameters(outlet_reliability={"Kan": 0.9}, kind_reliability={"newspaper": 0.6})
    kan = ReportEvidence("k", "Kan", "supports", outlet_reliability=0.75, outlet_kind="newspaper")
    assert weigh_report(kan, learned).reliability == 0.9
    other = ReportEvidence(
        "o", "Other", "supports", outlet_reliability=0.7, outlet_kind="newspaper"
    )
    assert weigh_report(other, learned).reliability == 0.7
    by_kind = ReportEvidence("n", "Other", "supports", outlet_kind="newspaper")
    assert weigh_report(by_kind, learned).reliability == 0.6
    wire = ReportEvidence("w", "W", "supports", outlet_kind="wire_agency")
    assert weigh_report(wire, learned).reliability == 0.85  # kind table: not in the model
    assert (
        weigh_report(ReportEvidence("x", "X", "supports"), learned).reliability_basis == "default"
    )


def test_reliability_is_clamped_so_weights_stay_finite():
    certain = report("a", outlet_reliability=1.0, attribution="named_official")
    assert math.isfinite(weigh_report(certain, PARAMS).log_odds)


def test_unknown_attribution_or_stance_is_an_error():
    with pytest.raises(ValueError, match="attribution"):
        score_claim([report("a", attribution="rumour")], PARAMS)
    with pytest.raises(ValueError, match="stance"):
        score_claim([report("a", stance="maybe")], PARAMS)


def test_reason_names_outlet_attribution_and_grade():
    score = score_claim([report("a", outlet="Kan", attribution="anonymous_source")], PARAMS)
    assert score.contributions[0].reason == "Kan, anonymous source (C3): supports"


def test_reason_for_named_official():
    score = score_claim([report("a", attribution="named_official")], PARAMS)
    assert "named official on the record" in score.contributions[0].reason


def test_reason_for_echo_and_interested_denial():
    reports = [
        report("kan", outlet="Kan"),
        report("copy", outlet="Site", attribution="media_report", cites="kan"),
        report("deny", "denies", outlet="Reuters", interested_party=True),
    ]
    reasons = {c.counted_report: c.reason for c in score_claim(reports, PARAMS).contributions}
    assert "Site repeats Kan's report: not independent" in reasons["kan"]
    assert "denial by an interested party: discounted ×0.3" in reasons["deny"]


def test_reason_for_shared_source():
    reports = [report("a", outlet="Reuters", source="X"), report("b", outlet="MEE", source="x")]
    (contribution,) = score_claim(reports, PARAMS).contributions
    assert "MEE quotes the same source as Reuters: not independent" in contribution.reason


def test_neutral_only_cluster_has_zero_weight_and_a_reason():
    score = score_claim([report("a", "neutral")], PARAMS)
    (contribution,) = score.contributions
    assert contribution.log_odds == 0 and contribution.sign == 0
    assert contribution.reason == "neutral coverage: no weight"
    assert score.n_reports == 1 and score.confidence == pytest.approx(0.5)


def test_a_typed_prior_below_half_is_noisy_never_inverted():
    # Issue 13, item 6: an editor who types 0.3 means "noisy", not "reliably wrong".
    score = score_claim([report("a", outlet="TASS", outlet_reliability=0.3)], PARAMS)
    assert score.confidence == pytest.approx(0.5)
    assert "TASS is noisy" in score.contributions[0].reason
    assert "reliably wrong" not in score.contributions[0].reason
    twenty = [report(f"r{i}", outlet=f"T{i}", outlet_reliability=0.3) for i in range(20)]
    assert score_claim(twenty, PARAMS).confidence == pytest.approx(0.5)


def test_only_a_learned_record_may_count_against_what_it_says():
    learned = ModelParameters(outlet_reliability={"TASS": 0.3})
    score = score_claim([report("a", outlet="TASS")], learned)
    assert score.confidence < 0.5
    assert "reliably wrong" in score.contributions[0].reason


# --- provenance in the score --------------------------------------------------------------


def test_counted_report_is_the_strongest_and_comes_first():
    reports = [report("weak", source="S", outlet_reliability=0.6), report("strong", source="S")]
    (contribution,) = score_claim(reports, PARAMS).contributions
    assert contribution.members == ("strong", "weak")
    assert contribution.counted_report == "strong"


def test_a_stronger_echo_does_not_replace_what_it_repeats():
    original = [report("a", outlet_reliability=0.6)]
    echo = report("b", cites="a", outlet_reliability=0.95, attribution="named_official")
    assert (
        score_claim(original + [echo], PARAMS).confidence
        == score_claim(original, PARAMS).confidence
    )


def test_rebuttal_citing_a_report_is_its_own_evidence():
    kan = report("kan")
    rebuttal = report("rebut", "denies", cites="kan", attribution="named_official")
    score = score_claim([kan, rebuttal], PARAMS)
    assert score.n_clusters == 1
    (contribution,) = score.contributions
    assert set(contribution.members) == {"kan", "rebut"}
    assert contribution.counted_report == "rebut" and contribution.log_odds < 0
    assert "support and denial each count" in contribution.reason


def test_citation_cycle_counts_once():
    cycle = [report("a", cites="b"), report("b", cites="a")]
    single = score_claim([report("a")], PARAMS)
    assert score_claim(cycle, PARAMS).confidence == pytest.approx(single.confidence)


def test_no_reports_gives_the_base_rate_and_a_wide_interval():
    score = score_claim([], ModelParameters(base_rate=0.3))
    assert score.confidence == pytest.approx(0.3)
    assert score.contributions == () and score.n_clusters == 0
    assert score.upper - score.lower > 0.5
    assert score.grade == "F4"


def test_clipping_keeps_confidence_inside_and_the_sum_exact():
    reports = [
        report(f"r{i}", outlet_reliability=0.99, attribution="named_official") for i in range(20)
    ]
    score = score_claim(reports, PARAMS)
    assert 0 < score.confidence < 1 and score.log_odds == pytest.approx(12)
    total = score.prior_log_odds + sum(c.log_odds for c in score.contributions)
    assert abs(total - score.log_odds) < 1e-12
    assert "scaled" in score.contributions[0].reason
    assert score.grade == "A1"


def test_verdict_is_recorded_without_replacing_the_estimate():
    reports = [report("a")]
    resolved = score_claim(reports, PARAMS, verdict=False)
    assert resolved.verdict is False
    assert resolved.confidence == score_claim(reports, PARAMS).confidence


def test_score_many_scores_each_claim():
    scores = score_many({"x": [report("a")], "y": []}, PARAMS, verdicts={"x": True})
    assert list(scores) == ["x", "y"] and scores["x"].verdict is True
    assert scores["y"].confidence == pytest.approx(0.5)


# --- calibration --------------------------------------------------------------------------


def test_isotonic_calibration_is_one_more_contribution():
    calibration = Calibration("isotonic", x=(0.0, 0.5, 1.0), y=(0.1, 0.4, 0.9))
    params = ModelParameters(calibration=calibration)
    score = score_claim([report("a")], params)
    raw = score_claim([report("a")], ModelParameters())
    assert score.confidence == pytest.approx(calibrate(raw.confidence, calibration))
    adjustment = [c for c in score.contributions if c.reason.startswith("calibration")]
    assert len(adjustment) == 1 and adjustment[0].members == ()
    total = score.prior_log_odds + sum(c.log_odds for c in score.contributions)
    assert abs(total - score.log_odds) < 1e-12
    assert score.confidence == pytest.approx(1 / (1 + math.exp(-score.log_odds)), abs=1e-15)


def test_platt_calibration_and_invalid_calibrations():
    assert calibrate(0.7, Calibration("sigmoid", a=-1.0, b=0.0)) == pytest.approx(0.7)
    assert calibrate(0.7, Calibration("sigmoid", a=-2.0, b=0.0)) > 0.7
    with pytest.raises(ValueError):
        calibrate(0.7, Calibration("sigmoid", a=1.0))
    with pytest.raises(ValueError):
        calibrate(0.7, Calibration("isotonic", x=(0.0, 1.0), y=(0.9, 0.1)))
    with pytest.raises(ValueError):
        calibrate(0.7, Calibration("bayes"))
    assert 0 < calibrate(0.5, Calibration("isotonic", x=(0.0, 1.0), y=(0.0, 0.0))) < 1


# --- the seed story -----------------------------------------------------------------------

TURKISH_SOURCE = "Turkish diplomatic source"
STORY = [
    ReportEvidence("kan", "Kan", "supports", "anonymous_source", source="unnamed sources (Kan)",
                   outlet_reliability=0.75, outlet_kind="public_broadcaster"),
    ReportEvidence("toi", "The Times of Israel", "supports", "anonymous_diplomat",
                   source="an Arab diplomat", outlet_reliability=0.75, outlet_kind="newspaper"),
    ReportEvidence("reuters-turkey", "Reuters", "denies", "official_source", source=TURKISH_SOURCE,
                   interested_party=True, outlet_reliability=0.85, outlet_kind="wire_agency"),
    ReportEvidence("reuters-hamas", "Reuters", "denies", "party_spokesperson", source="Hamas",
                   interested_party=True, outlet_reliability=0.85, outlet_kind="wire_agency"),
    ReportEvidence("mee-turkey", "Middle East Eye", "denies", "official_source",
                   source="Turkish Diplomatic  Source", interested_party=True,
                   outlet_reliability=0.65, outlet_kind="independent"),
]  # fmt: skip
COPIES = [
    ReportEvidence("aggregator", "Aggregator", "supports", "media_report", cites="toi",
                   outlet_reliability=0.5, outlet_kind="aggregator"),
    ReportEvidence("site", "News site", "supports", "media_report", cites="kan",
                   outlet_reliability=0.5, outlet_kind="aggregator"),
]  # fmt: skip


def test_seed_story_lands_near_even_chance():
    score = score_claim(STORY + COPIES, PARAMS)
    assert 0.35 <= score.confidence <= 0.70
    assert score.lower < score.confidence < score.upper
    assert score.n_reports == 7 and score.n_clusters == 4


def test_seed_story_copies_change_almost_nothing():
    with_copies = score_claim(STORY + COPIES, PARAMS).confidence
    assert abs(with_copies - score_claim(STORY, PARAMS).confidence) < 0.01


def test_seed_story_turkish_denials_are_one_cluster():
    score = score_claim(STORY + COPIES, PARAMS)
    turkish = next(c for c in score.contributions if "reuters-turkey" in c.members)
    assert turkish.members == ("reuters-turkey", "mee-turkey")
    assert "discounted ×0.3" in turkish.reason and turkish.sign == -1
    kan = next(c for c in score.contributions if c.counted_report == "kan")
    assert "News site repeats Kan's report: not independent" in kan.reason


def test_seed_story_explanation_adds_up_and_is_ordered():
    score = score_claim(STORY + COPIES, PARAMS)
    total = score.prior_log_odds + sum(c.log_odds for c in score.contributions)
    assert abs(total - score.log_odds) < 1e-12
    sizes = [abs(c.log_odds) for c in score.contributions]
    assert sizes == sorted(sizes, reverse=True)
    assert score.contributions[0].counted_report == "toi"


def test_an_inferred_echo_is_explained_as_inferred_and_adds_nothing():
    original = ReportEvidence("r1", "Kan", "supports", "anonymous_source", outlet_reliability=0.75)
    stated = ReportEvidence("r2", "Ynet", "supports", cites="r1", outlet_reliability=0.6)
    inferred = ReportEvidence(
        "r2", "Ynet", "supports", cites="r1", outlet_reliability=0.6, cites_inferred=True
    )
    params = default_parameters()
    with_stated = score_claim([original, stated], params)
    with_inferred = score_claim([original, inferred], params)
    assert with_inferred.confidence == with_stated.confidence
    assert with_inferred.confidence == score_claim([original], params).confidence
    (reason,) = (c.reason for c in with_inferred.contributions if "r2" in c.members)
    assert "Ynet repeats Kan's report (inferred from near-identical wording)" in reason
    (stated_reason,) = (c.reason for c in with_stated.contributions if "r2" in c.members)
    assert "inferred" not in stated_reason
