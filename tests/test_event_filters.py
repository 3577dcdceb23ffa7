"""Pure parts of notifications: filter matching, threshold crossings, signatures, backoff."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from service.delivery.events import EVENT_TYPES, crosses, filter_matches
from service.delivery.webhooks import event_body, sign, verify
from service.delivery.worker import backoff_delay

SCORE = "claim.score_changed"


def _score(previous, confidence):
    return {"previous_confidence": previous, "confidence": confidence}


@pytest.mark.parametrize(
    "previous, confidence, expected",
    [
        (0.7, 0.85, True),  # went above 0.8
        (0.8, 0.81, True),  # from exactly the bound, upward
        (0.85, 0.9, False),  # was above already
        (0.9, 0.7, False),  # fell, but not below 0.2
        (0.3, 0.15, True),  # went below 0.2
        (0.2, 0.19, True),  # from exactly the bound, downward
        (0.1, 0.15, False),  # below already, and rising
        (0.5, 0.6, False),  # moved between the bounds
        (None, 0.9, True),  # a first score beyond a bound counts
        (None, 0.5, False),
    ],
)
def test_threshold_crossings(previous, confidence, expected):
    assert crosses({"above": 0.8, "below": 0.2}, previous, confidence) is expected


def test_one_sided_thresholds():
    assert crosses({"above": 0.8}, 0.7, 0.9)
    assert not crosses({"above": 0.8}, 0.3, 0.1)
    assert crosses({"below": 0.2}, 0.3, 0.1)
    assert not crosses({"below": 0.2}, 0.7, 0.9)


def test_no_filter_matches_everything():
    for event_type in EVENT_TYPES:
        assert filter_matches(None, event_type, None, {})
        assert filter_matches({}, event_type, 3, {})


def test_thresholds_narrow_score_changes_only():
    crossings = {"event_types": [SCORE, "claim.resolved"], "thresholds": {"above": 0.8}}
    assert filter_matches(crossings, SCORE, 1, _score(0.7, 0.9))
    assert not filter_matches(crossings, SCORE, 1, _score(0.5, 0.6))
    # A resolution is let through by event_types; thresholds say nothing about it.
    assert filter_matches(crossings, "claim.resolved", 1, {"verdict": True})
    assert not filter_matches(crossings, "report.recorded", 1, {"outlet_id": 1})


def test_verdicts_narrow_resolutions_only():
    falsified = {"event_types": ["claim.resolved"], "verdicts": [False]}
    assert filter_matches(falsified, "claim.resolved", 1, {"verdict": False})
    assert not filter_matches(falsified, "claim.resolved", 1, {"verdict": True})


def test_claim_and_outlet_criteria():
    by_claim = {"event_types": list(EVENT_TYPES), "claim_ids": [7]}
    assert filter_matches(by_claim, SCORE, 7, _score(0.5, 0.6))
    assert not filter_matches(by_claim, SCORE, 8, _score(0.5, 0.6))
    assert not filter_matches(by_claim, "model.activated", None, {"version": "v"})

    by_outlet = {"event_types": list(EVENT_TYPES), "outlets": [3]}
    # Report events: the report's own outlet.
    assert filter_matches(by_outlet, "report.recorded", 1, {"outlet_id": 3}, frozenset({4}))
    assert not filter_matches(by_outlet, "report.recorded", 1, {"outlet_id": 4}, frozenset({3}))
    # Claim events: any outlet that reported the claim.
    assert filter_matches(by_outlet, SCORE, 1, _score(0.5, 0.6), frozenset({3, 4}))
    assert not filter_matches(by_outlet, SCORE, 1, _score(0.5, 0.6), frozenset({4}))
    assert not filter_matches(by_outlet, "model.activated", None, {})


def test_an_import_batch_summary_matches_the_claims_and_outlets_it_names():
    batch = "import.batch_recorded"
    summary = {"first_line": 1, "last_line": 5000, "claim_ids": [7, 9], "outlet_ids": [3, 5]}
    assert filter_matches({"event_types": [batch], "claim_ids": [9, 11]}, batch, None, summary)
    assert not filter_matches({"event_types": [batch], "claim_ids": [8]}, batch, None, summary)
    assert filter_matches({"event_types": [batch], "outlets": [5]}, batch, None, summary)
    # The outlets of the claims' other reports do not count: the batch's reports do.
    assert not filter_matches(
        {"event_types": [batch], "outlets": [4]}, batch, None, summary, frozenset({4})
    )
    assert not filter_matches({"event_types": ["report.recorded"]}, batch, None, summary)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = event_body({"id": 1, "type": "claim.created", "data": {"text": "ü"}})
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256)
    assert sign("s3cret-s3cret-s3cret", 1700000000, body) == "sha256=" + expected.hexdigest()


def test_verification_refuses_tampering_other_secrets_and_stale_timestamps():
    body = b'{"id":1}'
    signature = sign("secret-one-secret-one", "1700000000", body)
    now = 1700000000 + 10
    assert verify("secret-one-secret-one", "1700000000", body, signature, now=now)
    assert not verify("secret-one-secret-one", "1700000000", body + b" ", signature, now=now)
    assert not verify("secret-two-secret-two", "1700000000", body, signature, now=now)
    assert not verify("secret-one-secret-one", "1700000001", body, signature, now=now)
    assert not verify("secret-one-secret-one", "1700000000", body, signature, now=now + 3600)
    assert not verify("secret-one-secret-one", None, body, signature, now=now)
    assert not verify("secret-one-secret-one", "1700000000", body, None, now=now)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    for attempts in range(1, 12):
        ceiling = min(60.0, 2.0 * 2 ** (attempts - 1))
        delays = [backoff_delay(attempts, 2.0, 60.0, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 1  # jittered, not a fixed delay
    assert backoff_delay(30, 2.0, 60.0, rng) <= 60.0


def test_the_readme_verification_snippet_accepts_our_signatures_only():
    import re
    import time
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    snippet = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", readme, re.S)
    namespace: dict = {}
    exec(snippet.group(1), namespace)
    body = event_body({"id": 7, "type": "claim.created", "data": {}})
    timestamp = str(int(time.time()))
    headers = {
        "X-SRS-Timestamp": timestamp,
        "X-SRS-Signature": sign("a-secret-of-16+", timestamp, body),
    }
    assert namespace["verify"]("a-secret-of-16+", headers, body)
    assert not namespace["verify"]("another-secret!!", headers, body)
    assert not namespace["verify"]("a-secret-of-16+", headers, body + b"\n")
