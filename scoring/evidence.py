"""The dataclasses that cross into and out of the scoring model.

The service turns database rows into :class:`ReportEvidence` and a stored model version
into :class:`ModelParameters`; :func:`scoring.engine.score_claim` returns a
:class:`ClaimScore`, which the service stores as it is. Nothing here knows about HTTP or
SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from scoring.vocabulary import DEFAULT_ATTRIBUTION


@dataclass(frozen=True)
class ReportEvidence:
    """One report of a claim, as the scorer sees it.

    ``outlet_reliability`` is the outlet's prior reliability (probability that what the outlet
    asserts is true) from the outlet table; a learned value in
    :attr:`ModelParameters.outlet_reliability` takes precedence over it.
    """

    key: str
    outlet: str
    stance: str
    attribution: str = DEFAULT_ATTRIBUTION
    source: str | None = None
    interested_party: bool = False
    cites: str | None = None
    outlet_reliability: float | None = None
    outlet_kind: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class Calibration:
    """A monotone map from raw to calibrated confidence, fitted on resolved claims.

    ``method`` is ``"isotonic"`` (piecewise-linear through ``x``/``y``) or ``"sigmoid"``
    (Platt: ``1 / (1 + exp(a * logit(p) + b))``). ``"identity"`` leaves confidence alone.
    """

    method: str = "identity"
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = -1.0
    b: float = 0.0


def _frozen(mapping: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class ModelParameters:
    """Everything a score depends on besides the reports: one model version."""

    version: str = "prior-1"
    base_rate: float = 0.5
    interested_party_discount: float = 0.3
    attribution_credibility: Mapping[str, float] = field(default_factory=dict)
    outlet_reliability: Mapping[str, float] = field(default_factory=dict)
    kind_reliability: Mapping[str, float] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)

    def __post_init__(self) -> None:
        for name in ("attribution_credibility", "outlet_reliability", "kind_reliability"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


@dataclass(frozen=True)
class ClusterContribution:
    """One provenance cluster's share of the score.

    ``members`` are report keys, the cluster's strongest (counted) report first;
    ``log_odds`` is what the cluster adds to the claim's log-odds and
    ``probability_points`` the change in confidence (×100) it causes when added last.
    """

    members: tuple[str, ...]
    outlets: tuple[str, ...]
    sign: int
    log_odds: float
    probability_points: float
    reason: str
    counted_report: str | None = None


@dataclass(frozen=True)
class ClaimScore:
    """A claim's confidence with its interval, label and explanation.

    ``prior_log_odds + sum(c.log_odds for c in contributions) == log_odds`` exactly (the
    calibration step, when any, is itself one contribution).
    """

    confidence: float
    lower: float
    upper: float
    log_odds: float
    prior_log_odds: float
    label: str
    grade: str
    contributions: tuple[ClusterContribution, ...]
    n_reports: int
    n_clusters: int
    model_version: str
    verdict: bool | None = None
