"""Score a claim from its reports: confidence, interval, label, grade and explanation.

The model, step by step:

1. **Strength of one report** (:func:`weigh_report`): a signed log-likelihood ratio.

   *Learned parameters* (``params.learned_stances``, a fit by
   :func:`scoring.deployment.fit_scoring_model`): the outlet's learned per-stance ratio
   ``log P(stance | true) − log P(stance | false)`` when it has a record; otherwise its
   kind's confusion, else the pooled one, tilted up to the outlet's typed prior when that is
   more reliable (:func:`scoring.confusion.typed_prior_centre`; typed priors are clamped to
   [0.5, 0.99] and never lower the parent, so they never invert an outlet). A support's or
   denial's ratio is shifted by the attribution's learned log-odds shift (+ for a support,
   − for a denial); neutral coverage carries the learned neutral ratio, which may be
   non-zero, and a denial can weigh more than a support.

   *Documented priors* (``prior-1``, and versions stored before model v2): the noisy
   channel ``p = r·c + (1 − r)·(1 − c)`` of outlet reliability ``r`` (a learned value, else
   the typed prior clamped to [0.5, 0.99], else the kind's, else
   :data:`~scoring.attribution.DEFAULT_OUTLET_RELIABILITY`) and attribution credibility
   ``c``; a support carries ``+logit(p)``, a denial ``−logit(p)``, neutral coverage 0.

   Either way a report flagged ``interested_party`` is multiplied by
   ``params.interested_party_discount`` (0.3 by default, learned by a fit): a party denying
   a claim about itself has reasons to deny it whatever the truth.
2. **Independence** (:mod:`scoring.provenance`). Reports are grouped into provenance
   clusters. A report that cites a report of the same stance is an *echo* and adds nothing.
   Of the remaining reports of each stance in a cluster only the strongest counts: two
   outlets quoting the same source are one piece of evidence, worth its best telling.
3. **Diminishing returns** (:mod:`scoring.aggregation`). Within each stance the counted
   clusters, largest |log-LR| first, are weighted ``k ** -γ`` (``params.aggregation_exponent``).
4. **Claim layer** (:class:`~scoring.evidence.ClaimLayer`). ``log_odds = intercept +
   Σ_s a_s·E_s + Σ_f b_f·f``: ``E_s`` the tempered sums per stance, ``f`` the count features.
   The explanation adds up exactly: each cluster contributes ``a_s · weight · log-LR`` of its
   counted reports; the count terms are one more entry, "aggregation adjustment"; the
   intercept is ``prior_log_odds``, the base rate. A claim of a story with resolved claims
   starts from its story's shrunk base rate (:mod:`scoring.story_rates`): one more entry,
   "story: most of its N resolved claims were false", on top of the intercept (a resolved
   claim's own verdict left out). When the log-odds would pass ±12 every
   contribution after that start is scaled by the same factor so the sum lands on ±12.
5. **Calibration** (stored versions before model v2 only; the claim layer is the
   calibrator now): a monotone map of the confidence, one more explanation entry.
6. **Interval (90 %)**: where the confidence will land once the story has settled, given
   the reports so far (:mod:`scoring.settling`); never of zero width.
7. **Resolved claims.** With ``verdict`` given the score is still the model's own estimate;
   the verdict is recorded in :attr:`ClaimScore.verdict`.

Everything is deterministic and independent of the order of the reports. Steps 1 and 2
(:func:`assess_claim`) are kept apart from the rest (:func:`score_assessed`), so that what
one more independent report would do is found by combining the claim's weighed clusters
again with it (:func:`confidence_with`, for :mod:`scoring.what_if`), not by rescoring.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scoring.aggregation import CountedEvidence, count_features, tempered_weights
from scoring.attribution import ATTRIBUTION_PRIORS, DEFAULT_OUTLET_RELIABILITY, OUTLET_KIND_PRIORS
from scoring.confusion import (
    clamp_typed_prior,
    confusion_reliability,
    noisy_channel_log_lr,
    stance_log_lr,
    typed_prior_centre,
)
from scoring.evidence import (
    Calibration,
    ClaimScore,
    ClusterContribution,
    ModelParameters,
    ReportEvidence,
)
from scoring.labels import admiralty_grade, verbal_label
from scoring.provenance import cited_key, echo_keys, normalize_source, provenance_clusters
from scoring.settling import settled_range, settled_ranges
from scoring.story_rates import claim_story_offset
from scoring.vocabulary import STANCES
from scoring.wording import wording_factor

MAX_LOG_ODDS = 12.0
PROBABILITY_BOUNDS = (0.01, 0.99)
NOISY_BAND = 0.05
"""An outlet whose reliability is within this of 0.5 is called "noisy" in explanations."""
_NO_WEIGHT = 1e-12
_NONE: frozenset[str] = frozenset()

_STANCE_SIGN = {"supports": 1, "denies": -1, "neutral": 0}
_STANCE_INDEX = {name: i for i, name in enumerate(STANCES)}


@dataclass(frozen=True)
class WeighedReport:
    """A report with the strength the model gives it.

    Attributes
    ----------
    report : ReportEvidence
    reliability : float
        One-coin reliability of the outlet as used (for grades and wording).
    reliability_basis : str
        Where it came from: ``"learned"``, ``"outlet prior"``, ``"outlet kind"``,
        ``"pooled"`` or ``"default"``.
    credibility : float
        Attribution credibility (for the grade's digit; it weighs the report only under the
        documented priors).
    log_odds : float
        Signed log-likelihood ratio after the attribution shift and the interested-party
        multiplier.
    reliably_wrong : bool
        The outlet's learned record says, beyond its credible interval, that it is wrong
        more often than right.
    wording : float
        The multiplier its quote's hedging or assertion applied (:mod:`scoring.wording`).
    """

    report: ReportEvidence
    reliability: float
    reliability_basis: str
    credibility: float
    log_odds: float
    reliably_wrong: bool = False
    wording: float = 1.0

    @property
    def key(self) -> str:
        return self.report.key


def _clamp(value: float, bounds: tuple[float, float] = PROBABILITY_BOUNDS) -> float:
    return min(max(float(value), bounds[0]), bounds[1])


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def outlet_reliability(report: ReportEvidence, params: ModelParameters) -> tuple[float, str]:
    """The noisy channel's reliability for a report's outlet, and where it came from.

    ``"learned"`` from ``params.outlet_reliability``; ``"outlet prior"``, the typed prior
    clamped to [0.5, 0.99]; ``"outlet kind"`` from ``params.kind_reliability`` or the kind
    table; or ``"default"``.
    """
    learned = params.outlet_reliability.get(report.outlet)
    if learned is not None:
        return float(learned), "learned"
    if report.outlet_reliability is not None:
        return clamp_typed_prior(report.outlet_reliability), "outlet prior"
    kind = report.outlet_kind
    if kind in params.kind_reliability:
        return float(params.kind_reliability[kind]), "outlet kind"
    if kind in OUTLET_KIND_PRIORS:
        return OUTLET_KIND_PRIORS[kind].reliability, "outlet kind"
    return DEFAULT_OUTLET_RELIABILITY, "default"


def attribution_credibility(attribution: str, params: ModelParameters) -> float:
    """The credibility of an attribution type: the model's value, else the prior table's.

    Raises
    ------
    ValueError
        If ``attribution`` is in neither (unknown attribution types are an error, not
        silently mapped).
    """
    if attribution in params.attribution_credibility:
        return float(params.attribution_credibility[attribution])
    if attribution in ATTRIBUTION_PRIORS:
        return ATTRIBUTION_PRIORS[attribution].credibility
    raise ValueError(f"unknown attribution {attribution!r}")


def learned_stance_log_lr(
    report: ReportEvidence, params: ModelParameters
) -> tuple[np.ndarray, float, str]:
    """Per-stance log-LRs of a report's outlet under learned parameters, before the
    attribution shift: ``(log-LRs, one-coin reliability, basis)``."""
    learned = params.outlet_log_lr.get(report.outlet)
    if learned is not None:
        reliability = params.outlet_reliability.get(report.outlet)
        ratios = np.asarray(learned, dtype=float)
        if reliability is None:
            reliability = float(1 / (1 + math.exp(-0.5 * (ratios[0] - ratios[1]))))
        return ratios, float(reliability), "learned"
    parent = params.kind_confusion.get(report.outlet_kind) if report.outlet_kind else None
    basis = "outlet kind" if parent is not None else "pooled"
    parent = np.asarray(parent if parent is not None else params.pooled_confusion)
    confusion = typed_prior_centre(parent, report.outlet_reliability)
    if confusion is not parent:
        basis = "outlet prior"
    return stance_log_lr(confusion), float(confusion_reliability(confusion)), basis


def _reliably_wrong(report: ReportEvidence, params: ModelParameters, basis: str) -> bool:
    if basis != "learned":
        return False
    interval = params.outlet_reliability_interval.get(report.outlet)
    if interval is not None:
        return interval[1] < 0.5
    return params.outlet_reliability.get(report.outlet, 0.5) < 0.5


def weigh_report(report: ReportEvidence, params: ModelParameters) -> WeighedReport:
    """The evidence strength of one report, taken alone (module docstring, step 1).

    Raises
    ------
    ValueError
        On an unknown stance or attribution.
    """
    if report.stance not in _STANCE_SIGN:
        raise ValueError(f"unknown stance {report.stance!r} of report {report.key!r}")
    credibility = _clamp(attribution_credibility(report.attribution, params))
    sign = _STANCE_SIGN[report.stance]
    if params.learned_stances:
        ratios, reliability, basis = learned_stance_log_lr(report, params)
        shift = float(params.attribution_shift.get(report.attribution, 0.0))
        log_odds = float(ratios[_STANCE_INDEX[report.stance]]) + sign * shift
    else:
        reliability, basis = outlet_reliability(report, params)
        reliability = _clamp(reliability)
        log_odds = float(
            noisy_channel_log_lr(reliability, credibility)[_STANCE_INDEX[report.stance]]
        )
    if report.interested_party:
        log_odds *= _clamp(params.interested_party_discount, (0.0, 1.0))
    wording = wording_factor(report.quote, report.attribution, params.wording)
    return WeighedReport(
        report,
        reliability,
        basis,
        credibility,
        log_odds * wording,
        _reliably_wrong(report, params, basis),
        wording,
    )


@dataclass(frozen=True)
class _Cluster:
    """A provenance cluster: its members, its original (non-echo) reports by stance, and
    the ones that count (the strongest original of each stance with any weight)."""

    members: tuple[WeighedReport, ...]
    originals: Mapping[str, tuple[WeighedReport, ...]]
    counted: tuple[WeighedReport, ...]
    echoes: frozenset[str]

    @classmethod
    def of(cls, members: tuple[WeighedReport, ...]) -> _Cluster:
        if len(members) == 1:  # most clusters: a report alone repeats nothing, not even itself
            (only,) = members
            weightless = only.report.stance == "neutral" and abs(only.log_odds) < _NO_WEIGHT
            return cls(members, {only.report.stance: members}, () if weightless else members, _NONE)
        echoes = echo_keys(member.report for member in members)
        originals = {}
        counted = []
        for stance in STANCES:
            found = tuple(m for m in members if m.report.stance == stance and m.key not in echoes)
            if found:
                originals[stance] = found
                strongest = min(found, key=lambda m: (-abs(m.log_odds), m.key))
                if stance != "neutral" or abs(strongest.log_odds) >= _NO_WEIGHT:
                    counted.append(strongest)
        counted.sort(key=lambda m: (-abs(m.log_odds), m.key))
        return cls(members, originals, tuple(counted), echoes)


def _possessive(outlet: str) -> str:
    return f"{outlet}'" if outlet.endswith("s") else f"{outlet}'s"


def _noun(stance: str) -> str:
    return {"denies": "denial", "supports": "support"}.get(stance, "neutral coverage")


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _describe_counted(member: WeighedReport, discount: float, rank: int, weight: float) -> str:
    """Why a counted report weighs what it does, e.g. "Kan, anonymous source (C3): supports"."""
    report = member.report
    prior = ATTRIBUTION_PRIORS.get(report.attribution)
    phrase = prior.phrase if prior else report.attribution.replace("_", " ")
    grade = admiralty_grade(member.reliability, member.credibility)
    parts = [f"{report.outlet}, {phrase} ({grade}): {report.stance}"]
    sign = _STANCE_SIGN[report.stance]
    noun = _noun(report.stance)
    if sign and not member.reliably_wrong and abs(member.reliability - 0.5) < NOISY_BAND:
        parts.append(f"{report.outlet} is noisy: its {noun} carries little weight")
    elif abs(member.log_odds) < _NO_WEIGHT:
        parts.append("no weight of its own")
    elif sign and member.log_odds * sign < 0:
        if member.reliably_wrong:
            parts.append(
                f"{_possessive(report.outlet)} record shows it reliably wrong: its {noun} "
                "counts the other way"
            )
        else:
            parts.append(
                f"on the record, such a {noun} has more often come with claims that turned "
                "out the other way"
            )
    elif not sign:
        leaning = "true" if member.log_odds > 0 else "false"
        parts.append(f"on the record, neutral coverage comes more often with {leaning} claims")
    if report.interested_party:
        parts.append(f"{noun} by an interested party: discounted ×{discount:g}")
    if member.wording != 1.0:
        tone = "hedged" if member.wording < 1.0 else "asserted"
        parts.append(f"{tone} wording: weighted ×{member.wording:.2g}")
    if weight < 1.0:
        parts.append(f"{_ordinal(rank)} independent {noun} of the claim: weighted ×{weight:.2g}")
    return "; ".join(parts)


def _describe_uncounted(member: WeighedReport, cluster: _Cluster) -> str:
    """Why a report of the cluster adds nothing."""
    report = member.report
    reports = {m.key: m.report for m in cluster.members}
    if member.key in cluster.echoes:
        repeated = reports[cited_key(report)]
        if report.cites_inferred:
            return (
                f"{report.outlet} repeats {_possessive(repeated.outlet)} report "
                "(inferred from near-identical wording): not independent"
            )
        return f"{report.outlet} repeats {_possessive(repeated.outlet)} report: not independent"
    counted = next((m.report for m in cluster.counted if m.report.stance == report.stance), None)
    if counted is None:
        return f"{report.outlet}: neutral coverage, no weight"
    source = normalize_source(report.source)
    if source is not None and source == normalize_source(counted.source):
        return f"{report.outlet} quotes the same source as {counted.outlet}: not independent"
    return (
        f"{report.outlet} shares provenance with {_possessive(counted.outlet)} report: counted once"
    )


def _reason(
    cluster: _Cluster, scale: float, discount: float, ranks: Mapping[str, tuple[int, float]]
) -> str:
    """The plain-language reason for a cluster's contribution."""
    counted_keys = {member.key for member in cluster.counted}
    uncounted = [member for member in cluster.members if member.key not in counted_keys]
    parts = [_describe_counted(m, discount, *ranks[m.key]) for m in cluster.counted]
    if not cluster.counted:
        parts.append("neutral coverage: no weight")
        uncounted = [
            m for m in uncounted if m.key in cluster.echoes or m.report.stance != "neutral"
        ]
    elif {m.report.stance for m in cluster.counted} >= {"supports", "denies"}:
        parts.append("disputed within one provenance cluster: support and denial each count")
    parts.extend(_describe_uncounted(member, cluster) for member in uncounted)
    if scale < 1.0 and cluster.counted:
        parts.append(f"scaled ×{scale:.3g} to keep confidence inside (0, 1)")
    return "; ".join(parts)


def _contribution(
    cluster: _Cluster,
    log_odds: float,
    total: float,
    scale: float,
    discount: float,
    ranks: Mapping[str, tuple[int, float]],
) -> ClusterContribution:
    counted_keys = [member.key for member in cluster.counted]
    order = list(cluster.counted) + [m for m in cluster.members if m.key not in counted_keys]
    return ClusterContribution(
        members=tuple(member.key for member in order),
        outlets=tuple(member.report.outlet for member in order),
        sign=_sign(log_odds),
        log_odds=log_odds,
        probability_points=_points(total, log_odds),
        reason=_reason(cluster, scale, discount, ranks),
        counted_report=counted_keys[0] if counted_keys else None,
    )


def _sign(value: float) -> int:
    return 0 if abs(value) < _NO_WEIGHT else (1 if value > 0 else -1)


def _points(total: float, share: float) -> float:
    """Change in confidence, in points, that ``share`` of the log-odds makes when added last."""
    return 100.0 * (_sigmoid(total) - _sigmoid(total - share))


def calibrate(confidence: float, calibration: Calibration) -> float:
    """Map a raw confidence through a fitted calibration.

    Parameters
    ----------
    confidence : float
        Raw confidence in (0, 1).
    calibration : Calibration
        ``identity``; ``isotonic`` (piecewise-linear through nondecreasing ``x``/``y``,
        flat beyond the ends); or ``sigmoid`` (Platt, ``1 / (1 + exp(a·logit(p) + b))``
        with ``a ≤ 0`` so that the map never reverses the order of confidences).

    Returns
    -------
    float
        The calibrated confidence, kept within ``sigmoid(±MAX_LOG_ODDS)``.

    Raises
    ------
    ValueError
        On an unknown method, or parameters that would not give a monotone map.
    """
    if calibration.method == "identity":
        mapped = confidence
    elif calibration.method == "isotonic":
        x = np.asarray(calibration.x, dtype=float)
        y = np.asarray(calibration.y, dtype=float)
        if x.size == 0 or x.shape != y.shape or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise ValueError("isotonic calibration needs equally long, nondecreasing x and y")
        mapped = float(np.interp(confidence, x, y))
    elif calibration.method == "sigmoid":
        if calibration.a > 0:
            raise ValueError("Platt calibration with a > 0 would reverse the order of scores")
        mapped = _sigmoid(-(calibration.a * _logit(confidence) + calibration.b))
    else:
        raise ValueError(f"unknown calibration method {calibration.method!r}")
    edge = _sigmoid(-MAX_LOG_ODDS)
    return _clamp(mapped, (edge, 1.0 - edge))


def _calibrated(raw_log_odds: float, calibration: Calibration) -> tuple[float, float | None]:
    """The calibrated log-odds, and the adjustment (``None`` for identity calibration)."""
    if calibration.method == "identity":
        return raw_log_odds, None
    calibrated = _logit(calibrate(_sigmoid(raw_log_odds), calibration))
    return calibrated, calibrated - raw_log_odds


def _calibration_contribution(
    raw_log_odds: float, log_odds: float, method: str
) -> ClusterContribution:
    return _named_contribution(
        log_odds - raw_log_odds,
        log_odds,
        f"calibration on resolved claims ({method}): raw "
        f"{100 * _sigmoid(raw_log_odds):.0f}% becomes {100 * _sigmoid(log_odds):.0f}%",
    )


def _named_contribution(share: float, log_odds: float, reason: str) -> ClusterContribution:
    return ClusterContribution(
        members=(),
        outlets=(),
        sign=_sign(share),
        log_odds=share,
        probability_points=_points(log_odds, share),
        reason=reason,
    )


def _clip_scale(prior_log_odds: float, evidence: float) -> float:
    """The factor that brings ``prior + scale·evidence`` within ±MAX_LOG_ODDS."""
    raw = prior_log_odds + evidence
    if abs(raw) <= MAX_LOG_ODDS:
        return 1.0
    return (math.copysign(MAX_LOG_ODDS, raw) - prior_log_odds) / evidence


def _claim_grade(
    contributions: Sequence[ClusterContribution],
    weighed: Mapping[str, WeighedReport],
    confidence: float,
) -> str:
    """Admiralty-style grade: the outlet that moved the score most, and the confidence."""
    strongest = next(
        (c for c in contributions if c.counted_report is not None and c.sign != 0), None
    )
    reliability = weighed[strongest.counted_report].reliability if strongest else None
    corroborated = sum(1 for c in contributions if c.counted_report and c.sign > 0) >= 2
    return admiralty_grade(reliability, confidence, corroborated)


@dataclass(frozen=True)
class ClaimEvidence:
    """What the claim layer reads of a claim: counted votes and count features.

    ``items`` has one entry per counted report (a cluster's strongest original of a stance);
    ``counts`` are the layer's count features (:func:`scoring.aggregation.count_features`).
    Independent of ``aggregation_exponent`` and of the layer, so a fit can try many.
    """

    items: tuple[CountedEvidence, ...]
    counts: Mapping[str, float]


@dataclass(frozen=True)
class AssessedClaim:
    """A claim's reports weighed (step 1) and grouped by provenance (step 2), ready to be
    combined (:func:`score_assessed`), with reports added too (:func:`confidence_with`):
    what-if questions need not weigh and group the claim's reports again for each.

    ``counts`` are the claim layer's count features; ``start`` is the log-odds the evidence
    of an open claim is added to (``prior_log_odds`` plus its story's share); ``cited``
    holds every key a report of the claim cites: a new report with such a key would join
    the citing report's cluster.
    """

    weighed: Mapping[str, WeighedReport]
    clusters: tuple[_Cluster, ...]
    counts: Mapping[str, float]
    start: float
    cited: frozenset[str]
    story: str | None = None


def assess_claim(
    reports: Sequence[ReportEvidence],
    params: ModelParameters,
    weigh: Callable[[ReportEvidence], WeighedReport] | None = None,
) -> AssessedClaim:
    """Weigh and group a claim's reports: steps 1 and 2 of :func:`score_claim`. ``weigh``
    replaces :func:`weigh_report` with ``params`` (:func:`weighing_once`, for batches).

    Raises
    ------
    ValueError
        On duplicate report keys, an unknown stance or attribution, or reports naming
        different stories.
    """
    if weigh is None:
        weighed = {report.key: weigh_report(report, params) for report in reports}
    else:
        weighed = {report.key: weigh(report) for report in reports}
    clusters = tuple(
        _Cluster.of(tuple(weighed[report.key] for report in members))
        for members in provenance_clusters(reports)
    )
    cited = frozenset(key for key in map(cited_key, reports) if key is not None)
    counts = _counts(clusters, len(weighed))
    story = claim_story(reports)
    prior = _prior_log_odds(params)
    start = prior + _story_term(story, params, prior, None)[0]
    return AssessedClaim(weighed, clusters, counts, start, cited, story)


def _counts(clusters: Sequence[_Cluster], n_reports: int) -> dict[str, float]:
    n_by_stance = [sum(1 for c in clusters if stance in c.originals) for stance in STANCES]
    return count_features(*n_by_stance, n_reports=n_reports)


def claim_evidence(reports: Sequence[ReportEvidence], params: ModelParameters) -> ClaimEvidence:
    """The counted votes and count features of a claim, as :func:`score_claim` sees them."""
    assessed = assess_claim(reports, params)
    items = tuple(
        CountedEvidence(_STANCE_INDEX[m.report.stance], m.log_odds, m.key)
        for cluster in assessed.clusters
        for m in cluster.counted
    )
    return ClaimEvidence(items, assessed.counts)


def _prior_log_odds(params: ModelParameters) -> float:
    intercept = params.claim_layer.intercept
    if intercept is None:
        intercept = _logit(_clamp(params.base_rate))
    return max(min(float(intercept), MAX_LOG_ODDS), -MAX_LOG_ODDS)


def score_claim(
    reports: Sequence[ReportEvidence],
    params: ModelParameters,
    verdict: bool | None = None,
) -> ClaimScore:
    """Score one claim from its reports: the one scorer, online, in evaluation and in fits.

    Parameters
    ----------
    reports : sequence of ReportEvidence
        The claim's reports in any order; keys must be unique.
    params : ModelParameters
        The model version (see :class:`~scoring.evidence.ModelParameters`).
    verdict : bool or None
        A fact-checker's verdict on a resolved claim. It is recorded in the score but does
        not replace the model's estimate.

    Returns
    -------
    ClaimScore
        Confidence strictly inside (0, 1), its 90 % interval, ICD 203 label, Admiralty-style
        grade (:mod:`scoring.labels`) and one contribution per provenance cluster (plus the
        aggregation adjustment and calibration, when any), ordered by |log-odds|, largest
        first; ``prior_log_odds + Σ contributions == log_odds``.

    Raises
    ------
    ValueError
        On duplicate report keys, an unknown stance or attribution, or an invalid
        calibration.

    Examples
    --------
    >>> from scoring.attribution import default_parameters
    >>> report = ReportEvidence("r1", "Kan", "supports", "anonymous_source",
    ...                         outlet_reliability=0.75)
    >>> score = score_claim([report], default_parameters())
    >>> round(score.confidence, 3), score.label, score.contributions[0].reason
    (0.55, 'roughly even chance', 'Kan, anonymous source (C3): supports')
    """
    return score_assessed(assess_claim(reports, params), params, verdict)


def score_assessed(
    assessed: AssessedClaim, params: ModelParameters, verdict: bool | None = None
) -> ClaimScore:
    """:func:`score_claim` of a claim :func:`assess_claim` weighed and grouped with the
    same ``params``: steps 3 to 7."""
    unbounded, n_votes = _score_without_interval(assessed, params, verdict)
    low, high = settled_range(unbounded.log_odds, n_votes, params.settling)
    return _with_interval(unbounded, low, high)


def _score_without_interval(
    assessed: AssessedClaim, params: ModelParameters, verdict: bool | None
) -> tuple[ClaimScore, int]:
    """Steps 3 to 5 and 7 of the module docstring: the score with an interval of zero
    width, and the votes counted (what the interval, step 6, depends on besides it)."""
    weighed, clusters, counts = assessed.weighed, assessed.clusters, assessed.counts
    layer = params.claim_layer
    prior = _prior_log_odds(params)
    story_share, story_reason = _story_term(assessed.story, params, prior, verdict)
    combined = _combine(clusters, counts, prior + story_share, params)
    log_odds, scale = combined.log_odds, combined.scale
    ranks = _ranks(combined.items, combined.weights)
    discount = _clamp(params.interested_party_discount, (0.0, 1.0))
    contributions = [
        _contribution(cluster, share, log_odds, scale, discount, ranks)
        for cluster, share in zip(clusters, combined.shares, strict=True)
    ]
    if combined.adjustment != 0.0:
        reason = _adjustment_reason(counts, layer, scale)
        contributions.append(_named_contribution(combined.adjustment, log_odds, reason))
    if story_share != 0.0:
        contributions.append(_named_contribution(story_share, log_odds, story_reason))
    if combined.calibration_shift is not None:
        method = params.calibration.method
        contributions.append(_calibration_contribution(combined.raw, log_odds, method))
    contributions.sort(key=lambda c: (-abs(c.log_odds), min(c.members, default="~"), c.reason))
    confidence = _sigmoid(log_odds)
    score = ClaimScore(
        confidence=confidence,
        lower=confidence,
        upper=confidence,
        log_odds=log_odds,
        prior_log_odds=prior,
        label=verbal_label(confidence),
        grade=_claim_grade(contributions, weighed, confidence),
        contributions=tuple(contributions),
        n_reports=len(weighed),
        n_clusters=len(clusters),
        model_version=params.version,
        verdict=verdict,
    )
    # Evidence so far is what counted: echoes and weightless coverage do not narrow it.
    return score, len(combined.items)


def _with_interval(score: ClaimScore, low: float, high: float) -> ClaimScore:
    """``score`` with its 90 % interval, from the settled range of its log-odds."""
    confidence = score.confidence
    return replace(
        score, lower=min(_sigmoid(low), confidence), upper=max(_sigmoid(high), confidence)
    )


@dataclass(frozen=True)
class _Combination:
    """Steps 3 to 5 of the module docstring for a claim's clusters: the counted votes with
    their tempered weights, each cluster's share of the log-odds, the count terms, the
    clipping scale and the log-odds before and after calibration."""

    items: list[CountedEvidence]
    weights: list[float]
    shares: list[float]
    adjustment: float
    scale: float
    raw: float
    log_odds: float
    calibration_shift: float | None


def _combine(
    clusters: Sequence[_Cluster], counts: Mapping[str, float], prior: float, params: ModelParameters
) -> _Combination:
    """Combine weighed clusters into log-odds: the one place :func:`score_claim` and
    :func:`confidence_with` do it. The result does not depend on the order of ``clusters``
    (ranks are by size then key, sums are exactly rounded)."""
    layer = params.claim_layer
    counted = [(index, m) for index, cluster in enumerate(clusters) for m in cluster.counted]
    items = [CountedEvidence(_STANCE_INDEX[m.report.stance], m.log_odds, m.key) for _, m in counted]
    weights = tempered_weights(items, params.aggregation_exponent)
    per_cluster: list[list[float]] = [[] for _ in clusters]
    for (index, _), item, weight in zip(counted, items, weights, strict=True):
        per_cluster[index].append(layer.evidence[item.stance] * weight * item.log_lr)
    cluster_totals = [math.fsum(values) for values in per_cluster]
    adjustment = math.fsum(layer.counts.get(name, 0.0) * value for name, value in counts.items())
    scale = _clip_scale(prior, math.fsum(cluster_totals) + adjustment)
    shares = [scale * total for total in cluster_totals]
    adjustment *= scale
    raw = prior + math.fsum(shares) + adjustment
    log_odds, calibration_shift = _calibrated(raw, params.calibration)
    return _Combination(items, weights, shares, adjustment, scale, raw, log_odds, calibration_shift)


def independent(report: ReportEvidence, assessed: AssessedClaim) -> bool:
    """Whether ``report`` would be a provenance cluster of its own among the claim's
    reports: its key is new and cited by none of them, it cites nothing and names no
    source."""
    return (
        report.key not in assessed.weighed
        and report.key not in assessed.cited
        and cited_key(report) is None
        and normalize_source(report.source) is None
    )


@functools.lru_cache(maxsize=256)
def _alone(member: WeighedReport) -> _Cluster:
    # What-if candidates are the same few reports for every claim a model scores.
    return _Cluster.of((member,))


def confidence_with(
    assessed: AssessedClaim, params: ModelParameters, added: Sequence[WeighedReport] = ()
) -> float:
    """The confidence :func:`score_claim` gives the claim with ``added`` reports.

    Each added report (weighed by :func:`weigh_report` with the same ``params``) must be
    :func:`independent` of the claim's reports and of the others added. Exactly
    ``score_claim(reports + [m.report for m in added], params).confidence``, for the cost of
    steps 3 to 5 alone: no interval, no explanation.

    Raises
    ------
    ValueError
        If an added report is not independent.
    """
    keys = [member.key for member in added]
    if len(set(keys)) != len(keys) or not all(independent(m.report, assessed) for m in added):
        raise ValueError("an added report is not independent of the claim's reports")
    clusters = (*assessed.clusters, *map(_alone, added))
    counts = _counts(clusters, len(assessed.weighed) + len(added))
    return _sigmoid(_combine(clusters, counts, assessed.start, params).log_odds)


def claim_story(reports: Sequence[ReportEvidence]) -> str | None:
    """The story of a claim's reports (reports without one say nothing).

    Raises
    ------
    ValueError
        If reports of the claim name different stories.
    """
    stories = {report.story for report in reports if report.story is not None}
    if len(stories) > 1:
        raise ValueError(f"the reports of one claim name different stories: {sorted(stories)}")
    return next(iter(stories), None)


def _story_term(
    story: str | None, params: ModelParameters, prior: float, verdict: bool | None
) -> tuple[float, str]:
    """The story's share of the log-odds (module docstring, step 4) and its reason; a
    start beyond ±MAX_LOG_ODDS is cut there."""
    model = params.stories
    if model.coefficient == 0.0 or story is None:
        return 0.0, ""
    offset, true, false = claim_story_offset(model, story, verdict)
    share = model.coefficient * offset
    share = max(min(prior + share, MAX_LOG_ODDS), -MAX_LOG_ODDS) - prior
    n = true + false
    if n == 1:
        counted = f"its one resolved claim was {'true' if true else 'false'}"
    elif true > false:
        counted = f"most of its {n} resolved claims were true ({true} true, {false} false)"
    elif false > true:
        counted = f"most of its {n} resolved claims were false ({true} true, {false} false)"
    else:
        counted = f"its {n} resolved claims were split evenly"
    reason = (
        f"story {story!r}: {counted}, against {100 * model.base_rate:.0f}% true over all "
        "resolved claims"
    )
    return share, reason


def _ranks(items: Sequence[CountedEvidence], weights: Sequence[float]):
    """Each counted report's rank within its stance and its tempered weight, by key."""
    ranks = {}
    for stance in range(len(STANCES)):
        order = sorted(
            (i for i, item in enumerate(items) if item.stance == stance),
            key=lambda i: -weights[i],
        )
        for rank, i in enumerate(order, start=1):
            ranks[items[i].key] = (rank, weights[i])
    return ranks


def _adjustment_reason(counts: Mapping[str, float], layer, scale: float) -> str:
    terms = [
        (name, layer.counts.get(name, 0.0) * value * scale)
        for name, value in counts.items()
        if layer.counts.get(name, 0.0) * value
    ]
    terms.sort(key=lambda term: -abs(term[1]))
    described = ", ".join(f"{name.replace('_', ' ')} {value:+.2f}" for name, value in terms)
    return f"aggregation adjustment (how many independent reports, of which stance): {described}"


def weighing_once(params: ModelParameters) -> Callable[[ReportEvidence], WeighedReport]:
    """:func:`weigh_report` for ``params``, each distinct report profile weighed once: a
    report's strength depends on nothing else of it (its outlet, the outlet's prior and
    kind, stance, attribution, interested party and, with the wording model on, its quote),
    and a batch of claims repeats few."""
    strengths: dict[tuple, tuple] = {}
    reads_quote = params.wording is not None

    def weigh(report: ReportEvidence) -> WeighedReport:
        profile = (
            report.outlet,
            report.outlet_reliability,
            report.outlet_kind,
            report.stance,
            report.attribution,
            report.interested_party,
            report.quote if reads_quote else None,
        )
        strength = strengths.get(profile)
        if strength is None:
            weighed = weigh_report(report, params)
            strength = strengths[profile] = (
                weighed.reliability,
                weighed.reliability_basis,
                weighed.credibility,
                weighed.log_odds,
                weighed.reliably_wrong,
                weighed.wording,
            )
        return WeighedReport(report, *strength)

    return weigh


def score_many(
    claims: Mapping[str, Sequence[ReportEvidence]],
    params: ModelParameters,
    verdicts: Mapping[str, bool | None] | None = None,
) -> dict[str, ClaimScore]:
    """Score many claims with one model version, e.g. to rescore after learning.

    Parameters
    ----------
    claims : mapping of str to sequence of ReportEvidence
        Each claim's key and reports.
    params : ModelParameters
    verdicts : mapping of str to bool or None, optional
        Verdicts of resolved claims, passed to :func:`score_claim`.

    Returns
    -------
    dict of str to ClaimScore
        In the order of ``claims``; each equal to :func:`score_claim`'s score of the claim.

    Notes
    -----
    The claims are scored together: their intervals, most of a claim's scoring time when
    computed alone, come from one vectorised bisection over all of them
    (:func:`~scoring.settling.settled_ranges`).
    """
    weigh = weighing_once(params)
    assessed = {key: assess_claim(reports, params, weigh) for key, reports in claims.items()}
    return score_assessed_many(assessed, params, verdicts)


def score_assessed_many(
    claims: Mapping[str, AssessedClaim],
    params: ModelParameters,
    verdicts: Mapping[str, bool | None] | None = None,
) -> dict[str, ClaimScore]:
    """:func:`score_many` of claims :func:`assess_claim` weighed and grouped with the same
    ``params``: :func:`score_assessed` of each, the intervals computed together."""
    verdicts = verdicts or {}
    unbounded = [
        _score_without_interval(assessed, params, verdicts.get(key))
        for key, assessed in claims.items()
    ]
    lows, highs = settled_ranges(
        [score.log_odds for score, _ in unbounded],
        [n_votes for _, n_votes in unbounded],
        params.settling,
    )
    return {
        key: _with_interval(score, low, high)
        for key, (score, _), low, high in zip(claims, unbounded, lows, highs, strict=True)
    }
