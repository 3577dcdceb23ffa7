"""Scoring a batch of claims together gives each claim exactly the score it gets alone.

``score_many`` (the bulk import's scorer) computes the intervals of all its claims in one
vectorised bisection (``settled_ranges``); every float it returns must be the one
``score_claim`` and ``settled_range`` return, bit for bit, or the two import paths would
store different scores.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scoring_properties import PROPERTY, any_parameters, claims, parameters

from scoring.engine import score_claim, score_many
from scoring.evidence import SETTLING_BINS, SETTLING_LEVELS, SettlingModel
from scoring.provenance import normalize_source
from scoring.settling import settled_range, settled_ranges

# Fewer examples than the engine's properties: each scores many claims, twice. The first
# draw of fitted parameters fits a model, which is not slow input generation.
BATCHES = settings(PROPERTY, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _bits(values) -> list[str]:
    # float.hex tells -0.0 from 0.0, which == does not.
    return [float(v).hex() for v in values]


def _table(rows: list[list[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(sorted(row)) for row in rows)


# Quantile tables as a fit may leave them: sorted, with ties and flat stretches.
quantile_rows = st.lists(
    st.lists(
        st.one_of(st.floats(-8.0, 8.0, allow_nan=False), st.sampled_from([0.0, 1.0, -1.0])),
        min_size=len(SETTLING_LEVELS),
        max_size=len(SETTLING_LEVELS),
    ),
    min_size=len(SETTLING_BINS),
    max_size=len(SETTLING_BINS),
).map(_table)
settling_models = st.one_of(
    st.just(SettlingModel()),
    st.builds(
        lambda true, false: SettlingModel(true=true, false=false), quantile_rows, quantile_rows
    ),
)


@BATCHES
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-40.0, 40.0, allow_nan=False), st.sampled_from([0.0, -0.0, 30.0])),
            st.integers(0, 40),
        ),
        max_size=30,
    ),
    settling_models,
)
def test_settled_ranges_equal_settled_range_bit_for_bit(claims_votes, settling):
    lows, highs = settled_ranges(
        [log_odds for log_odds, _ in claims_votes],
        [n_votes for _, n_votes in claims_votes],
        settling,
    )
    alone = [settled_range(log_odds, n_votes, settling) for log_odds, n_votes in claims_votes]
    assert _bits(lows) == _bits(low for low, _ in alone)
    assert _bits(highs) == _bits(high for _, high in alone)


verdicts = st.sampled_from([None, True, False])


@BATCHES
@given(st.lists(st.tuples(claims, verdicts), max_size=8), st.one_of(any_parameters, parameters()))
def test_score_many_equals_score_claim_for_each_claim(batch, params):
    by_key = {f"claim-{i}": reports for i, (reports, _) in enumerate(batch)}
    verdict_of = {f"claim-{i}": verdict for i, (_, verdict) in enumerate(batch)}
    together = score_many(by_key, params, verdict_of)
    assert list(together) == list(by_key)
    for key, reports in by_key.items():
        alone = score_claim(reports, params, verdict=verdict_of[key])
        assert together[key] == alone
        assert _bits([together[key].lower, together[key].upper]) == _bits(
            [alone.lower, alone.upper]
        )


def _normalized_char_by_char(source: str) -> str | None:
    """normalize_source as it reads, one Unicode category lookup per character."""
    text = "".join(
        " " if unicodedata.category(ch).startswith("P") else ch for ch in source.casefold()
    )
    folded = re.sub(r"^(?:a|an|the)\s+", "", " ".join(text.split()))
    return None if folded in ("", "a", "an", "the") else folded


@BATCHES
@given(st.one_of(st.text(alphabet=st.characters(max_codepoint=127)), st.text()))
def test_normalize_source_reads_ascii_as_every_text(source):
    assert normalize_source(source) == _normalized_char_by_char(source)
