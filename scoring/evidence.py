"""The dataclasses that cross into and out of the scoring model.

The service turns database rows into :class:`ReportEvidence` and a stored model version
into :class:`ModelParameters`; :func:`scoring.engine.score_claim` returns a
:class:`ClaimScore`, which the service stores as it is. Nothing here knows about HTTP or
SQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

from scoring.vocabulary import DEFAULT_ATTRIBUTION
from scoring.wording import WordingModel


@dataclass(frozen=True)
class ReportEvidence:
    """One report of a claim, as the scorer sees it.

    ``outlet_reliability`` is the outlet's prior reliability (probability that what the outlet
    asserts is true) typed in the outlet table; the scorer clamps it to [0.5, 0.99]
    (:data:`scoring.confusion.TYPED_PRIOR_BOUNDS`), and a learned record takes precedence.
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
    # The service linked ``cites`` itself, from near-identical wording: the explanation says
    # so, since an editor may know better than the text match.
    cites_inferred: bool = False
    # The story (event) of the report's claim, the same on every report of a claim: the
    # scorer starts the claim from its story's shrunk base rate (StoryModel).
    story: str | None = None
    # The report's own words (headline or sentence); read only by the wording model
    # (scoring.wording), which is off unless a fit switched it on.
    quote: str | None = None


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


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


COUNT_FEATURES: tuple[str, ...] = (
    "log_supports",
    "log_denials",
    "log_neutral",
    "support_share",
    "any_denial",
    "log_uncounted",
)
"""Claim-level count features of the claim layer (see :mod:`scoring.aggregation`)."""


@dataclass(frozen=True)
class ClaimLayer:
    """The claim-level logistic layer: log-odds from aggregated evidence and counts.

    ``log_odds = intercept + Σ evidence[s] · E_s + Σ counts[f] · f``, where ``E_s`` is the
    tempered sum of the counted clusters' log-likelihood ratios of stance ``s`` (supports,
    denies, neutral) and ``f`` the count features named in :data:`COUNT_FEATURES`.
    ``intercept`` ``None`` means ``logit(base_rate)`` (models stored before the layer
    existed, and ``prior-1``).
    """

    intercept: float | None = None
    evidence: tuple[float, float, float] = (1.0, 1.0, 1.0)
    counts: Mapping[str, float] = field(default_factory=dict)
    regularization: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", tuple(float(v) for v in self.evidence))
        object.__setattr__(self, "counts", _frozen(self.counts))


SETTLING_LEVELS: tuple[float, ...] = tuple(i / 40 for i in range(41))
SETTLING_BINS: tuple[int, ...] = (0, 1, 2, 3, 5, 9, 17)
"""Lower edges of the bins of "votes counted so far" (counted reports with weight: echoes
and weightless coverage excluded) the settling model keeps apart."""


def _normal_quantiles(mean: float, sd: float) -> tuple[float, ...]:
    normal = NormalDist(mean, sd)
    return tuple(normal.inv_cdf(min(max(q, 0.002), 0.998)) for q in SETTLING_LEVELS)


def _default_settling_table(direction: float) -> tuple[tuple[float, ...], ...]:
    # With no data: future evidence moves the log-odds by about 2 / sqrt(1 + n) either way,
    # drifting towards the truth by 0.8 / sqrt(1 + n); a fit replaces it with what resolved
    # claims' time-ordered reports showed.
    return tuple(
        _normal_quantiles(direction * 0.8 / math.sqrt(1 + n), 2.0 / math.sqrt(1 + n))
        for n in SETTLING_BINS
    )


@dataclass(frozen=True)
class SettlingModel:
    """Where a claim's log-odds will land once its story has settled, given the evidence so far.

    For claims with ``n`` votes counted so far (binned by :data:`SETTLING_BINS`), the quantiles
    (at :data:`SETTLING_LEVELS`) of the final log-odds minus the current one, separately
    for claims that turned out true and false. The engine mixes the two with its own
    confidence as the weight and reads the 5 % and 95 % points: the 90 % interval.
    """

    bins: tuple[int, ...] = SETTLING_BINS
    levels: tuple[float, ...] = SETTLING_LEVELS
    true: tuple[tuple[float, ...], ...] = field(
        default_factory=lambda: _default_settling_table(1.0)
    )
    false: tuple[tuple[float, ...], ...] = field(
        default_factory=lambda: _default_settling_table(-1.0)
    )

    def __post_init__(self) -> None:
        for name in ("true", "false"):
            rows = tuple(tuple(float(v) for v in row) for row in getattr(self, name))
            object.__setattr__(self, name, rows)
        object.__setattr__(self, "bins", tuple(int(b) for b in self.bins))
        object.__setattr__(self, "levels", tuple(float(v) for v in self.levels))


@dataclass(frozen=True)
class StoryModel:
    """A shrunk base rate per story, learned from each story's resolved claims.

    A story with ``t`` true and ``f`` false resolved claims has the rate
    ``(t + strength · base_rate) / (t + f + strength)`` (the beta-binomial posterior mean,
    shrunk toward the pooled ``base_rate`` by ``strength`` pseudo-claims); a claim of the
    story starts ``coefficient · (logit(rate) − logit(base_rate))`` log-odds from the
    claim layer's intercept. With no resolved claim in its story (or no story) the term is
    0. ``resolved`` holds ``(t, f)`` by story name as of the fit; ``coefficient`` 0 (the
    default, and every fit on data without stories) switches the term off.
    """

    base_rate: float = 0.5
    strength: float = 0.0
    coefficient: float = 0.0
    resolved: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "resolved",
            _frozen({str(k): (int(v[0]), int(v[1])) for k, v in dict(self.resolved).items()}),
        )


Confusion = tuple[tuple[float, float, float], tuple[float, float, float]]


def _confusion(value) -> Confusion:
    false, true = value
    return (tuple(float(v) for v in false), tuple(float(v) for v in true))  # type: ignore[return-value]


@dataclass(frozen=True)
class ModelParameters:
    """Everything a score depends on besides the reports: one model version.

    Two ways of weighing a report. With ``pooled_confusion`` ``None`` (the documented
    priors, ``prior-1``, and versions stored before model v2) a report carries the noisy
    channel ``±logit(r·c + (1 − r)(1 − c))`` of outlet reliability ``r`` and attribution
    credibility ``c``, neutral coverage nothing. With ``pooled_confusion`` set (a fit by
    :func:`scoring.deployment.fit_scoring_model`), a report carries its outlet's learned
    per-stance log-likelihood ratio (``outlet_log_lr``), else the ratio of its kind's
    confusion or the pooled one (tilted by a typed prior, if any), plus the attribution's
    shift on assertions; an interested party's report is multiplied by
    ``interested_party_discount`` either way.
    """

    version: str = "prior-1"
    base_rate: float = 0.5
    interested_party_discount: float = 0.3
    attribution_credibility: Mapping[str, float] = field(default_factory=dict)
    outlet_reliability: Mapping[str, float] = field(default_factory=dict)
    kind_reliability: Mapping[str, float] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    pooled_confusion: Confusion | None = None
    kind_confusion: Mapping[str, Confusion] = field(default_factory=dict)
    outlet_log_lr: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    outlet_reliability_interval: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    attribution_shift: Mapping[str, float] = field(default_factory=dict)
    aggregation_exponent: float = 0.0
    claim_layer: ClaimLayer = field(default_factory=ClaimLayer)
    settling: SettlingModel = field(default_factory=SettlingModel)
    training_summary: Mapping[str, Any] = field(default_factory=dict)
    stories: StoryModel = field(default_factory=StoryModel)
    wording: WordingModel | None = None

    def __post_init__(self) -> None:
        if self.pooled_confusion is not None:
            object.__setattr__(self, "pooled_confusion", _confusion(self.pooled_confusion))
        object.__setattr__(
            self,
            "kind_confusion",
            {k: _confusion(v) for k, v in dict(self.kind_confusion or {}).items()},
        )
        object.__setattr__(
            self,
            "outlet_log_lr",
            {k: tuple(float(x) for x in v) for k, v in dict(self.outlet_log_lr or {}).items()},
        )
        object.__setattr__(
            self,
            "outlet_reliability_interval",
            {
                k: (float(v[0]), float(v[1]))
                for k, v in dict(self.outlet_reliability_interval or {}).items()
            },
        )
        for name in (
            "attribution_credibility",
            "outlet_reliability",
            "kind_reliability",
            "kind_confusion",
            "outlet_log_lr",
            "outlet_reliability_interval",
            "attribution_shift",
            "training_summary",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def learned_stances(self) -> bool:
        """Whether reports are weighed by learned per-stance ratios (model v2)."""
        return self.pooled_confusion is not None


def parameters_to_dict(params: ModelParameters) -> dict[str, Any]:
    """The parameters as plain JSON values (dicts, lists, floats, strings)."""

    def plain(value):
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return {
        "version": params.version,
        "base_rate": float(params.base_rate),
        "interested_party_discount": float(params.interested_party_discount),
        "attribution_credibility": plain(params.attribution_credibility),
        "outlet_reliability": plain(params.outlet_reliability),
        "kind_reliability": plain(params.kind_reliability),
        "calibration": {
            "method": params.calibration.method,
            "x": list(params.calibration.x),
            "y": list(params.calibration.y),
            "a": params.calibration.a,
            "b": params.calibration.b,
        },
        "pooled_confusion": plain(params.pooled_confusion),
        "kind_confusion": plain(params.kind_confusion),
        "outlet_log_lr": plain(params.outlet_log_lr),
        "outlet_reliability_interval": plain(params.outlet_reliability_interval),
        "attribution_shift": plain(params.attribution_shift),
        "aggregation_exponent": float(params.aggregation_exponent),
        "claim_layer": {
            "intercept": params.claim_layer.intercept,
            "evidence": list(params.claim_layer.evidence),
            "counts": dict(params.claim_layer.counts),
            "regularization": params.claim_layer.regularization,
        },
        "settling": {
            "bins": list(params.settling.bins),
            "levels": list(params.settling.levels),
            "true": plain(params.settling.true),
            "false": plain(params.settling.false),
        },
        "training_summary": plain(params.training_summary),
        "stories": {
            "base_rate": float(params.stories.base_rate),
            "strength": float(params.stories.strength),
            "coefficient": float(params.stories.coefficient),
            "resolved": plain(params.stories.resolved),
        },
        "wording": None
        if params.wording is None
        else {
            "hedge_factor": params.wording.hedge_factor,
            "assertion_factor": params.wording.assertion_factor,
            "hedge_cues": list(params.wording.hedge_cues),
            "assertion_cues": list(params.wording.assertion_cues),
        },
    }


def parameters_from_dict(stored: Mapping[str, Any]) -> ModelParameters:
    """Parameters from :func:`parameters_to_dict`'s output, or from a version stored before
    model v2 (missing fields take their defaults: the noisy channel, linear sums, no layer).
    """
    calibration = stored.get("calibration") or {}
    layer = stored.get("claim_layer") or {}
    settling = stored.get("settling")
    return ModelParameters(
        version=stored["version"],
        base_rate=float(stored.get("base_rate", 0.5)),
        interested_party_discount=float(stored.get("interested_party_discount", 0.3)),
        attribution_credibility=stored.get("attribution_credibility") or {},
        outlet_reliability=stored.get("outlet_reliability") or {},
        kind_reliability=stored.get("kind_reliability") or {},
        calibration=Calibration(
            method=calibration.get("method", "identity"),
            x=tuple(calibration.get("x", ())),
            y=tuple(calibration.get("y", ())),
            a=float(calibration.get("a", -1.0)),
            b=float(calibration.get("b", 0.0)),
        ),
        pooled_confusion=stored.get("pooled_confusion"),
        kind_confusion=stored.get("kind_confusion") or {},
        outlet_log_lr=stored.get("outlet_log_lr") or {},
        outlet_reliability_interval=stored.get("outlet_reliability_interval") or {},
        attribution_shift=stored.get("attribution_shift") or {},
        aggregation_exponent=float(stored.get("aggregation_exponent", 0.0)),
        claim_layer=ClaimLayer(
            intercept=layer.get("intercept"),
            evidence=tuple(layer.get("evidence", (1.0, 1.0, 1.0))),
            counts=layer.get("counts") or {},
            regularization=layer.get("regularization"),
        ),
        settling=(
            SettlingModel(
                bins=tuple(settling["bins"]),
                levels=tuple(settling["levels"]),
                true=tuple(tuple(row) for row in settling["true"]),
                false=tuple(tuple(row) for row in settling["false"]),
            )
            if settling
            else SettlingModel()
        ),
        training_summary=stored.get("training_summary") or {},
        stories=StoryModel(**stored["stories"]) if stored.get("stories") else StoryModel(),
        wording=WordingModel(**stored["wording"]) if stored.get("wording") else None,
    )


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

    ``prior_log_odds + sum(c.log_odds for c in contributions) == log_odds`` exactly.
    ``prior_log_odds`` is the base rate (the claim layer's intercept: the log-odds of a
    claim with no reports); the aggregation adjustment (the count features' terms) and the
    calibration step, when any, are contributions of their own, with no members.
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
