"""Coverage of the 90 % interval on time-ordered streams of reports (scoring.coverage)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from scoring.attribution import default_parameters
from scoring.coverage import interval_coverage, time_order
from scoring.engine import score_claim
from scoring.evidence import ReportEvidence

PARAMS = default_parameters()
START = datetime(2024, 11, 18, 8, tzinfo=UTC)

# Four outlets quoting one source: one provenance cluster, so every prefix scores the same
# and the final confidence is inside every interval (3 checks, all pass).
STEADY = [
    ReportEvidence(f"s{i}", f"outlet {i}", "supports", "anonymous_source", source="a diplomat")
    for i in range(4)
]
# A lone unattributed support, then four on-the-record denials by reliable outlets: the
# final confidence (about 0.003) is outside each earlier interval (4 checks, none pass).
TURN = [ReportEvidence("t0", "a blog", "supports")] + [
    ReportEvidence(f"t{i}", f"wire {i}", "denies", "named_official", outlet_reliability=0.95)
    for i in range(1, 5)
]


def test_coverage_counts_the_checks_a_hand_made_stream_passes():
    steady = interval_coverage({"steady": STEADY}, PARAMS)
    assert (steady.coverage, steady.checks, steady.claims) == (1.0, 3, 1)
    turn = interval_coverage({"turn": TURN}, PARAMS)
    assert (turn.coverage, turn.checks) == (0.0, 4)
    both = interval_coverage({"steady": STEADY, "turn": TURN}, PARAMS)
    assert both.coverage == pytest.approx(3 / 7)  # pooled over checks
    assert both.claim_coverage == pytest.approx(0.5)  # every claim counts once
    widths = [score_claim(s[:k], PARAMS) for s in (STEADY, TURN) for k in range(1, len(s))]
    assert both.mean_width == pytest.approx(sum(w.upper - w.lower for w in widths) / 7)
    assert both.zero_width == 0 and both.min_width > 0
    assert both.to_json()["nominal"] == 0.9


def test_streams_follow_publication_time_then_file_order():
    dated = [replace(r, published_at=START + timedelta(hours=i)) for i, r in enumerate(TURN)]
    shuffled = [dated[3], dated[0], dated[4], dated[2], dated[1]]
    assert [r.key for r in time_order(shuffled)] == ["t0", "t1", "t2", "t3", "t4"]
    assert interval_coverage({"c": shuffled}, PARAMS) == interval_coverage({"c": TURN}, PARAMS)
    undated_first = [TURN[0], *dated[1:]]
    assert [r.key for r in time_order(undated_first)] == ["t1", "t2", "t3", "t4", "t0"]
    # With the support last, the earlier intervals are about the denials and hold it.
    assert interval_coverage({"c": undated_first}, PARAMS).coverage > 0


def test_claims_with_one_report_are_not_checked_and_params_can_vary_by_claim():
    empty = interval_coverage({"one": STEADY[:1]}, PARAMS)
    assert (empty.coverage, empty.checks, empty.claims) == (None, 0, 0)
    asked = []

    def params_of(key):
        asked.append(key)
        return PARAMS

    interval_coverage({"steady": STEADY, "one": TURN[:1]}, params_of)
    assert asked == ["steady"]
