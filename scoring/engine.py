"""Score a claim from its reports: confidence, interval, label, grade and explanation.

The model, step by step (numbers are the defaults of :mod:`scoring.attribution`):

1. **Strength of one report.** The outlet's reliability ``r`` (learned value for the outlet,
   else the outlet's prior from the outlet table, else its kind's, else
   :data:`~scoring.attribution.DEFAULT_OUTLET_RELIABILITY`) and the attribution's
   credibility ``c`` are combined as a noisy channel: the report is right when the outlet
   relays faithfully a source that is right, or garbles a source that is wrong,
   ``p = r·c + (1 − r)·(1 − c)``. ``p`` is 0.5 whenever either is uninformative (an
   aggregator at 0.5 adds nothing, nor does a bare relay), and an outlet worse than chance
   (``r < 0.5``) turns its report into evidence against what it says. Both are clamped to
   [0.01, 0.99] so weights stay finite. The report's log-likelihood ratio is
   ``± logit(p)``: + for supports, − for denies, 0 for neutral coverage.
2. **Interested party.** A report flagged ``interested_party`` has its log-likelihood ratio
   multiplied by ``params.interested_party_discount`` (0.3 by default): a party denying a
   claim about itself has reasons to deny it whatever the truth, so its word says little
   about which world we are in. The same holds for a party promoting a claim that serves it.
3. **Independence.** Reports are grouped into provenance clusters
   (:func:`scoring.provenance.provenance_clusters`). Within a cluster, a report that cites a
   report of the cluster is an *echo* and adds nothing, unless it takes the opposite stance:
   a report citing another in order to deny it is a rebuttal with its own evidence, not an
   echo. Of the remaining reports on each side (supports, denies) only the strongest counts;
   two outlets quoting the same source are one piece of evidence, worth its best telling.
   The cluster's contribution is the sum of its counted support and counted denial.
4. **Combination.** ``log_odds = logit(base_rate) + Σ cluster contributions``. When that
   would pass ±12 every contribution is scaled by the same factor so the sum lands on ±12:
   the explanation still adds up and confidence stays strictly inside (0, 1).
5. **Calibration.** A fitted calibration (isotonic or Platt, see
   :class:`~scoring.evidence.Calibration`) maps the raw confidence to the calibrated one;
   the difference in log-odds is one more explanation entry, "calibration on resolved
   claims", so ``prior_log_odds + Σ contributions == log_odds`` always holds.
6. **Interval (90 %).** ``log_odds ± 1.645·sd`` mapped through the sigmoid, with
   ``sd² = 1.2² / (1 + m) + k²`` and ``sd ≥ 0.25``. ``m`` is the evidence mass: each counted
   report's |log-odds| weighted by how well its outlet's reliability is known, a Beta
   pseudo-count ``n`` turned into ``n / (n + 10)`` (learned outlet 30, outlet-table prior 10,
   kind or default prior 5). ``k`` is the conflict: the smaller of the total support and
   total denial, since when independent evidence disagrees by that much one side is wrong in
   a way the model cannot see. No evidence gives a wide interval around the base rate
   (about 12–88 % at 0.5); agreeing evidence raises ``m`` and moves ``log_odds`` away from
   even, and both narrow the interval; conflict widens it. We use this rather than the
   delta-method variance of each weight because that variance *grows* with every report
   whose outlet is uncertain, so agreeing evidence would widen the interval.
7. **Resolved claims.** With ``verdict`` given the score is still the model's own estimate
   (so that resolved claims can calibrate the model); the verdict is recorded in
   :attr:`ClaimScore.verdict` and the service shows the verdict for resolved claims.

Everything is deterministic and independent of the order of the reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from scoring.attribution import ATTRIBUTION_PRIORS, DEFAULT_OUTLET_RELIABILITY, OUTLET_KIND_PRIORS
from scoring.evidence import (
    Calibration,
    ClaimScore,
    ClusterContribution,
    ModelParameters,
    ReportEvidence,
)
from scoring.labels import admiralty_grade, verbal_label
from scoring.provenance import normalize_source, provenance_clusters

MAX_LOG_ODDS = 12.0
PROBABILITY_BOUNDS = (0.01, 0.99)
Z_90 = 1.6448536269514722
SD_THIN = 1.2
SD_FLOOR = 0.25
PSEUDO_COUNTS: Mapping[str, float] = MappingProxyType(
    {"learned": 30.0, "outlet prior": 10.0, "outlet kind": 5.0, "default": 5.0}
)
_TRACK_RECORD_HALF = 10.0
_INTERVAL_LOG_ODDS = 30.0  # keeps interval ends strictly inside (0, 1) in floating point
_NO_WEIGHT = 1e-12

_STANCE_SIGN = {"supports": 1, "denies": -1, "neutral": 0}
_OPPOSITE = {"supports": "denies", "denies": "supports"}


@dataclass(frozen=True)
class WeighedReport:
    """A report with the strength the model gives it.

    Attributes
    ----------
    report : ReportEvidence
    reliability : float
        Outlet reliability used, clamped to :data:`PROBABILITY_BOUNDS`.
    reliability_basis : str
        Where it came from: ``"learned"``, ``"outlet prior"``, ``"outlet kind"``,
        ``"default"``.
    credibility : float
        Attribution credibility used, clamped likewise.
    log_odds : float
        Signed log-likelihood ratio after the interested-party discount.
    """

    report: ReportEvidence
    reliability: float
    reliability_basis: str
    credibility: float
    log_odds: float

    @property
    def key(self) -> str:
        return self.report.key

    @property
    def track_record(self) -> float:
        """How well the outlet's reliability is known, in (0, 1)."""
        count = PSEUDO_COUNTS[self.reliability_basis]
        return count / (count + _TRACK_RECORD_HALF)


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
    """The reliability used for a report's outlet, and where it came from.

    Parameters
    ----------
    report : ReportEvidence
    params : ModelParameters

    Returns
    -------
    tuple of (float, str)
        The reliability (unclamped) and its basis: ``"learned"`` from
        ``params.outlet_reliability``, ``"outlet prior"`` from the report, ``"outlet kind"``
        from ``params.kind_reliability`` or the kind table, or ``"default"``.
    """
    learned = params.outlet_reliability.get(report.outlet)
    if learned is not None:
        return float(learned), "learned"
    if report.outlet_reliability is not None:
        return float(report.outlet_reliability), "outlet prior"
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


def weigh_report(report: ReportEvidence, params: ModelParameters) -> WeighedReport:
    """The evidence strength of one report, taken alone (see the module docstring, 1–2).

    Raises
    ------
    ValueError
        On an unknown stance or attribution.
    """
    if report.stance not in _STANCE_SIGN:
        raise ValueError(f"unknown stance {report.stance!r} of report {report.key!r}")
    reliability, basis = outlet_reliability(report, params)
    r = _clamp(reliability)
    c = _clamp(attribution_credibility(report.attribution, params))
    p = r * c + (1.0 - r) * (1.0 - c)
    log_odds = _STANCE_SIGN[report.stance] * _logit(p)
    if report.interested_party:
        log_odds *= _clamp(params.interested_party_discount, (0.0, 1.0))
    return WeighedReport(report, r, basis, c, log_odds)


def _repeated_report(
    report: ReportEvidence, cluster: Mapping[str, ReportEvidence]
) -> ReportEvidence | None:
    """The report of the cluster that ``report`` repeats, if it repeats one.

    Citing a report of the opposite stance is a rebuttal, not a repetition.
    """
    target = cluster.get(report.cites) if report.cites is not None else None
    if target is None or target.stance == _OPPOSITE.get(report.stance):
        return None
    return target


def _is_echo(report: ReportEvidence, cluster: Mapping[str, ReportEvidence]) -> bool:
    """Whether the report only repeats others of its cluster.

    Members of a citation cycle repeat each other in a circle; none of them is an echo, so
    the cycle still counts once instead of vanishing.
    """
    seen = {report.key}
    target = _repeated_report(report, cluster)
    if target is None:
        return False
    while target is not None and target.key not in seen:
        seen.add(target.key)
        target = _repeated_report(target, cluster)
    return target is None or target.key != report.key


@dataclass(frozen=True)
class _Cluster:
    """A provenance cluster: all members (by key) and the ones that count (strongest first)."""

    members: tuple[WeighedReport, ...]
    counted: tuple[WeighedReport, ...]

    @property
    def log_odds(self) -> float:
        return math.fsum(member.log_odds for member in self.counted)

    @classmethod
    def of(cls, members: tuple[WeighedReport, ...]) -> _Cluster:
        reports = {member.key: member.report for member in members}
        counted = []
        for stance in ("supports", "denies"):
            originals = [
                member
                for member in members
                if member.report.stance == stance and not _is_echo(member.report, reports)
            ]
            if originals:
                counted.append(min(originals, key=lambda m: (-abs(m.log_odds), m.key)))
        counted.sort(key=lambda m: (-abs(m.log_odds), m.key))
        return cls(members, tuple(counted))


def _possessive(outlet: str) -> str:
    return f"{outlet}'" if outlet.endswith("s") else f"{outlet}'s"


def _noun(stance: str) -> str:
    return "denial" if stance == "denies" else "support"


def _describe_counted(member: WeighedReport, discount: float) -> str:
    """Why a counted report weighs what it does, e.g. "Kan, anonymous source (C3): supports"."""
    report = member.report
    prior = ATTRIBUTION_PRIORS.get(report.attribution)
    phrase = prior.phrase if prior else report.attribution.replace("_", " ")
    grade = admiralty_grade(member.reliability, member.credibility)
    parts = [f"{report.outlet}, {phrase} ({grade}): {report.stance}"]
    if abs(member.log_odds) < _NO_WEIGHT:
        parts.append("no weight of its own")
    elif member.reliability < 0.5:
        parts.append(
            f"{_possessive(report.outlet)} record is worse than chance: its {_noun(report.stance)} "
            "counts the other way"
        )
    if report.interested_party:
        parts.append(f"{_noun(report.stance)} by an interested party: discounted ×{discount:g}")
    return "; ".join(parts)


def _describe_uncounted(member: WeighedReport, cluster: _Cluster) -> str:
    """Why a report of the cluster adds nothing."""
    report = member.report
    if report.stance == "neutral":
        return f"{report.outlet}: neutral coverage, no weight"
    reports = {m.key: m.report for m in cluster.members}
    repeated = _repeated_report(report, reports)
    if repeated is not None and _is_echo(report, reports):
        return f"{report.outlet} repeats {_possessive(repeated.outlet)} report: not independent"
    counted = next(m.report for m in cluster.counted if m.report.stance == report.stance)
    source = normalize_source(report.source)
    if source is not None and source == normalize_source(counted.source):
        return f"{report.outlet} quotes the same source as {counted.outlet}: not independent"
    return (
        f"{report.outlet} shares provenance with {_possessive(counted.outlet)} report: counted once"
    )


def _reason(cluster: _Cluster, scale: float, discount: float) -> str:
    """The plain-language reason for a cluster's contribution."""
    counted_keys = {member.key for member in cluster.counted}
    uncounted = [member for member in cluster.members if member.key not in counted_keys]
    parts = [_describe_counted(member, discount) for member in cluster.counted]
    if not cluster.counted:
        parts.append("neutral coverage: no weight")
        uncounted = [member for member in uncounted if member.report.stance != "neutral"]
    elif len(cluster.counted) == 2:
        parts.append("disputed within one provenance cluster: support and denial each count")
    parts.extend(_describe_uncounted(member, cluster) for member in uncounted)
    if scale < 1.0 and cluster.counted:
        parts.append(f"scaled ×{scale:.3g} to keep confidence inside (0, 1)")
    return "; ".join(parts)


def _contribution(
    cluster: _Cluster, log_odds: float, total: float, scale: float, discount: float
) -> ClusterContribution:
    counted_keys = [member.key for member in cluster.counted]
    order = list(cluster.counted) + [m for m in cluster.members if m.key not in counted_keys]
    return ClusterContribution(
        members=tuple(member.key for member in order),
        outlets=tuple(member.report.outlet for member in order),
        sign=_sign(log_odds),
        log_odds=log_odds,
        probability_points=_points(total, log_odds),
        reason=_reason(cluster, scale, discount),
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
    share = log_odds - raw_log_odds
    return ClusterContribution(
        members=(),
        outlets=(),
        sign=_sign(share),
        log_odds=share,
        probability_points=_points(log_odds, share),
        reason=(
            f"calibration on resolved claims ({method}): raw "
            f"{100 * _sigmoid(raw_log_odds):.0f}% becomes {100 * _sigmoid(log_odds):.0f}%"
        ),
    )


def _clip_scale(prior_log_odds: float, evidence: float) -> float:
    """The factor that brings ``prior + scale·evidence`` within ±MAX_LOG_ODDS."""
    raw = prior_log_odds + evidence
    if abs(raw) <= MAX_LOG_ODDS:
        return 1.0
    return (math.copysign(MAX_LOG_ODDS, raw) - prior_log_odds) / evidence


def _interval(log_odds: float, clusters: Sequence[_Cluster], scale: float) -> tuple[float, float]:
    """The 90 % interval around ``log_odds`` (see the module docstring, step 6)."""
    counted = [member for cluster in clusters for member in cluster.counted]
    mass = math.fsum(m.track_record * abs(m.log_odds) for m in counted)
    support = scale * math.fsum(max(m.log_odds, 0.0) for m in counted)
    denial = scale * math.fsum(max(-m.log_odds, 0.0) for m in counted)
    conflict = min(support, denial)
    sd = max(SD_FLOOR, math.sqrt(SD_THIN**2 / (1.0 + mass) + conflict**2))
    low = max(log_odds - Z_90 * sd, -_INTERVAL_LOG_ODDS)
    high = min(log_odds + Z_90 * sd, _INTERVAL_LOG_ODDS)
    return _sigmoid(low), _sigmoid(high)


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


def score_claim(
    reports: Sequence[ReportEvidence],
    params: ModelParameters,
    verdict: bool | None = None,
) -> ClaimScore:
    """Score one claim from its reports.

    Parameters
    ----------
    reports : sequence of ReportEvidence
        The claim's reports in any order; keys must be unique.
    params : ModelParameters
        The model version: base rate, discount, credibility and reliability tables,
        calibration.
    verdict : bool or None
        A fact-checker's verdict on a resolved claim. It is recorded in the score but does
        not replace the model's estimate: ``confidence`` stays what the reports support, so
        resolved claims can be used to calibrate the model. The service shows the verdict
        for resolved claims.

    Returns
    -------
    ClaimScore
        Confidence strictly inside (0, 1), its 90 % interval, ICD 203 label, Admiralty-style
        grade (:mod:`scoring.labels`) and one contribution per provenance cluster (plus
        calibration), ordered by |log-odds|, largest first; ``prior_log_odds +
        Σ contributions == log_odds``.

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
    weighed = {report.key: weigh_report(report, params) for report in reports}
    clusters = [
        _Cluster.of(tuple(weighed[report.key] for report in members))
        for members in provenance_clusters(reports)
    ]
    prior = _logit(_clamp(params.base_rate))
    scale = _clip_scale(prior, math.fsum(cluster.log_odds for cluster in clusters))
    shares = [scale * cluster.log_odds for cluster in clusters]
    raw = prior + math.fsum(shares)
    log_odds, adjustment = _calibrated(raw, params.calibration)
    discount = _clamp(params.interested_party_discount, (0.0, 1.0))
    contributions = [
        _contribution(cluster, share, log_odds, scale, discount)
        for cluster, share in zip(clusters, shares, strict=True)
    ]
    if adjustment is not None:
        contributions.append(_calibration_contribution(raw, log_odds, params.calibration.method))
    contributions.sort(key=lambda c: (-abs(c.log_odds), min(c.members, default="")))
    confidence = _sigmoid(log_odds)
    lower, upper = _interval(log_odds, clusters, scale)
    return ClaimScore(
        confidence=confidence,
        lower=min(lower, confidence),
        upper=max(upper, confidence),
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
        In the order of ``claims``.
    """
    verdicts = verdicts or {}
    return {key: score_claim(reports, params, verdicts.get(key)) for key, reports in claims.items()}
