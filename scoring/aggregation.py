"""From counted clusters to claim features: diminishing returns within a stance, and counts.

Evidence from independent clusters of one stance is not simply added. Within each stance
the counted clusters are sorted by the size of their log-likelihood ratio, largest first,
and the k-th is weighted ``k ** -γ`` (``γ = params.aggregation_exponent``, learned; 0 is the
plain sum). Reasons: clusters the provenance rules could not join are rarely fully
independent (outlets follow each other without saying so), so ten supports are worth less
than ten times one, and a credible denial is not drowned by volume; and with ``γ > 0`` the
sum over ``n`` equal clusters grows like ``n ** (1 − γ)``, so volume alone cannot carry a
claim to certainty. Adding a cluster never lowers the tempered sum of its stance (the new
cluster's weight is at least the last weight, and the clusters it displaces lose weight in
order of size), so an independent support never lowers confidence.

The count features of the claim layer (:class:`scoring.evidence.ClaimLayer`) are computed
here too, from the same counted clusters, so the engine and the fit see the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.evidence import COUNT_FEATURES

N_STANCES = 3


@dataclass(frozen=True)
class CountedEvidence:
    """One counted cluster's vote of one stance: its log-LR and a tie-breaking key."""

    stance: int  # index in STANCES
    log_lr: float
    key: str


def tempered_weights(items: Sequence[CountedEvidence], exponent: float) -> list[float]:
    """The weight ``k ** -γ`` of each item, ``k`` its rank within its stance by |log-LR|."""
    weights = [0.0] * len(items)
    for stance in range(N_STANCES):
        ranked = sorted(
            (i for i, item in enumerate(items) if item.stance == stance),
            key=lambda i: (-abs(items[i].log_lr), items[i].key),
        )
        for rank, i in enumerate(ranked, start=1):
            weights[i] = rank ** (-exponent) if exponent else 1.0
    return weights


def stance_sums(items: Sequence[CountedEvidence], exponent: float) -> tuple[float, float, float]:
    """Tempered sums of log-LRs per stance (supports, denies, neutral)."""
    weights = tempered_weights(items, exponent)
    sums = [[], [], []]
    for item, weight in zip(items, weights, strict=True):
        sums[item.stance].append(weight * item.log_lr)
    return tuple(math.fsum(values) for values in sums)  # type: ignore[return-value]


def count_features(
    n_supports: int, n_denials: int, n_neutral: int, n_reports: int
) -> dict[str, float]:
    """The claim layer's count features, by name (:data:`COUNT_FEATURES`).

    ``n_*`` count clusters with an original (non-echo) report of each stance; the share of
    supports among assertions is Laplace-smoothed and centred (0 with no assertion);
    ``log_uncounted`` is ``log1p`` of the reports that counted for nothing of their own
    (echoes and same-source duplicates): volume beyond independent evidence. Every feature is
    0 for a claim with no reports, so the layer's intercept is the base rate.
    """
    features = {
        "log_supports": math.log1p(n_supports),
        "log_denials": math.log1p(n_denials),
        "log_neutral": math.log1p(n_neutral),
        "support_share": (n_supports + 1.0) / (n_supports + n_denials + 2.0) - 0.5,
        "any_denial": 1.0 if n_denials else 0.0,
        "log_uncounted": math.log1p(max(n_reports - n_supports - n_denials - n_neutral, 0)),
    }
    assert tuple(features) == COUNT_FEATURES
    return features


COUNT_SIGNS: dict[str, int] = {
    "log_supports": 1,
    "log_denials": -1,
    "log_neutral": 0,
    "support_share": 1,
    "any_denial": -1,
    "log_uncounted": 0,
}
"""Sign constraints of the count coefficients (0: free). With these, and non-negative
coefficients on the stance sums, an independent support (one more support cluster: more
supports, a larger share) never lowers the confidence and a denial never raises it."""
