"""What would change a claim's score: the few hypothetical reports that would move it most.

An editor reading "likely (0.72)" wants to know what to look for next: would one
on-the-record denial sink the claim, or would it take several? :func:`what_would_change`
tries a small, fixed set of hypothetical reports, each added alone to the claim's reports,
and lists those that move the confidence most, with the confidence each would give:
"an on-the-record denial by an independent B-grade wire agency → 0.31".

The candidates (:func:`candidate_reports`), four or five, each from a new outlet that is
independent of every report so far (it cites nothing and quotes no source, so it is a
provenance cluster of its own) and has no record, so it is weighed as its kind (its learned
confusion, else the pooled one; under the documented priors the kind's prior), exactly as
the service would weigh a report from an outlet just created with that kind:

- **the strongest next report**: a support and a denial on the record (``named_official``)
  by an outlet of the kind the model trusts most, what one report could do at most;
- **a typical next report**: a support and a denial from an anonymous source
  (``anonymous_source``) by an outlet of the default kind (``independent``: what an outlet
  first seen in a report is, until an admin says otherwise);
- **neutral coverage** by an outlet of the default kind, only where the model gives neutral
  coverage weight (learned per-stance ratios, or a claim-layer term on neutral coverage);
  its attribution does not change its weight.

Why so few: each candidate costs one combination of the claim's evidence
(:func:`scoring.engine.confidence_with`: no rescoring, no interval, no explanation), and
this runs whenever a claim's score changes, including for every claim of a bulk import.
The two profiles bracket the rest: under the documented priors an anonymous-source report
by a wire agency weighs what an on-the-record one by the default kind does. A repeat of
an existing report is not a candidate: an echo adds nothing by design.

Listed: at most :data:`MAX_LISTED`, biggest moves first, only moves of at least
:data:`MIN_MOVE`; when the biggest moves all go one way, the biggest move the other way
takes the last place, so an editor sees both what would confirm and what would sink the
claim. Each listed confidence is exactly what :func:`scoring.engine.score_claim` gives for
the claim with that report added (``tests/test_what_if.py`` holds it to that).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scoring.attribution import reliability_letter
from scoring.engine import (
    AssessedClaim,
    WeighedReport,
    assess_claim,
    confidence_with,
    independent,
    score_assessed,
    score_assessed_many,
    weigh_report,
    weighing_once,
)
from scoring.evidence import ClaimScore, ModelParameters, ReportEvidence
from scoring.vocabulary import DEFAULT_OUTLET_KIND, OUTLET_KINDS

MAX_LISTED = 4
MIN_MOVE = 0.005
"""Moves smaller than half a point of confidence are not worth an editor's attention."""

TRIED_ATTRIBUTIONS: dict[str, str] = {
    "named_official": "on-the-record",
    "anonymous_source": "anonymous-source",
}
"""The attributions tried, with how a description names them."""

KIND_PHRASES: dict[str, str] = {
    "wire_agency": "wire agency",
    "public_broadcaster": "public broadcaster",
    "state_controlled": "state-controlled outlet",
    "newspaper": "newspaper",
    "independent": "outlet",
    "aggregator": "aggregator",
    "social_account": "social media account",
}
_NOUNS = {"supports": "support", "denies": "denial", "neutral": "neutral coverage"}


@dataclass(frozen=True)
class HypotheticalReport:
    """One hypothetical report and the confidence the claim would have with it.

    ``report`` is the report as the scorer sees it (a new outlet of ``report.outlet_kind``,
    no source, no citation); ``change`` is ``confidence`` minus the claim's confidence now.
    """

    report: ReportEvidence
    description: str
    outlet_grade: str
    confidence: float
    change: float

    def to_json(self) -> dict[str, object]:
        """The stored form: what the API lists under ``what_would_change``."""
        return {
            "description": self.description,
            "confidence": self.confidence,
            "change": self.change,
            "stance": self.report.stance,
            "attribution": self.report.attribution,
            "outlet_kind": self.report.outlet_kind,
            "outlet_grade": self.outlet_grade,
        }


@dataclass(frozen=True)
class Candidate:
    """A hypothetical report tried, weighed, with its description and outlet grade."""

    weighed: WeighedReport
    description: str
    grade: str


def new_outlet_name(kind: str, params: ModelParameters, suffix: str = "") -> str:
    """A name for a hypothetical new outlet of ``kind`` ("a new wire agency") that no
    learned record of ``params`` is kept under, so that it is weighed as its kind."""
    name = f"a new {KIND_PHRASES[kind]}{suffix}"
    while name in params.outlet_log_lr or name in params.outlet_reliability:
        name += "'"
    return name


def _new_outlet(kind: str, stance: str, attribution: str, params: ModelParameters):
    key = f"what-if:{kind}:{stance}:{attribution}"
    name = new_outlet_name(kind, params)
    return weigh_report(ReportEvidence(key, name, stance, attribution, outlet_kind=kind), params)


def _trusted_kind(params: ModelParameters) -> str:
    """The kind whose new outlets the model trusts most (the first of equals)."""
    reliability = {
        kind: _new_outlet(kind, "supports", "named_official", params).reliability
        for kind in OUTLET_KINDS
    }
    return max(OUTLET_KINDS, key=lambda kind: reliability[kind])


def _neutral_weighs(params: ModelParameters) -> bool:
    return params.learned_stances or bool(params.claim_layer.counts.get("log_neutral"))


def _describe(stance: str, attribution: str, kind: str, grade: str) -> str:
    """E.g. "an on-the-record denial by an independent B-grade wire agency"."""
    outlet = f"an independent {grade}-grade {KIND_PHRASES[kind]}"
    if stance == "neutral":
        return f"neutral coverage by {outlet}"
    adjective = TRIED_ATTRIBUTIONS[attribution]
    article = "an" if adjective[0] in "aeiou" else "a"
    return f"{article} {adjective} {_NOUNS[stance]} by {outlet}"


_last: tuple[ModelParameters, tuple[Candidate, ...]] | None = None


def candidate_reports(params: ModelParameters) -> tuple[Candidate, ...]:
    """The hypothetical reports tried (module docstring), weighed with ``params``.

    They do not depend on the claim: those of the last ``params`` object (by identity) are
    kept, so a request or a batch that scores its claims with one object weighs them once.
    """
    global _last
    if _last is not None and _last[0] is params:
        return _last[1]
    strongest = (_trusted_kind(params), "named_official")
    typical = (DEFAULT_OUTLET_KIND, "anonymous_source")
    tried = [
        (*profile, stance) for profile in (strongest, typical) for stance in ("supports", "denies")
    ]
    if _neutral_weighs(params):
        tried.append((*typical, "neutral"))
    candidates = []
    for kind, attribution, stance in tried:
        weighed = _new_outlet(kind, stance, attribution, params)
        grade = reliability_letter(weighed.reliability)
        candidates.append(Candidate(weighed, _describe(stance, attribution, kind, grade), grade))
    _last = (params, tuple(candidates))
    return _last[1]


def _unused_key(weighed: WeighedReport, assessed: AssessedClaim) -> WeighedReport:
    """The candidate under a key the claim does not use (its keys are the caller's)."""
    report = weighed.report
    if independent(report, assessed):
        return weighed
    while not independent(report, assessed):
        report = dataclasses.replace(report, key=report.key + "'")
    return dataclasses.replace(weighed, report=report)


def what_would_change(
    reports: Sequence[ReportEvidence],
    params: ModelParameters,
    limit: int = MAX_LISTED,
) -> tuple[HypotheticalReport, ...]:
    """The hypothetical reports that would move the claim's confidence most.

    Parameters
    ----------
    reports : sequence of ReportEvidence
        The claim's reports, as for :func:`scoring.engine.score_claim`.
    params : ModelParameters
    limit : int
        At most this many are listed.

    Returns
    -------
    tuple of HypotheticalReport
        Biggest moves first (module docstring), both directions when both move by
        :data:`MIN_MOVE` or more; empty when nothing tried would.

    Examples
    --------
    >>> from scoring.attribution import default_parameters
    >>> kan = ReportEvidence("r1", "Kan", "supports", "anonymous_source", outlet_reliability=0.75)
    >>> top = what_would_change([kan], default_parameters())[0]
    >>> top.description, round(top.confidence, 3)
    ('an on-the-record denial by an independent B-grade wire agency', 0.295)
    """
    assessed = assess_claim(reports, params)
    return _moves(assessed, params, confidence_with(assessed, params), limit)


def score_with_changes(
    reports: Sequence[ReportEvidence], params: ModelParameters, verdict: bool | None = None
) -> tuple[ClaimScore, tuple[HypotheticalReport, ...] | None]:
    """:func:`scoring.engine.score_claim` and :func:`what_would_change` of an open claim,
    weighing and grouping its reports once; for a resolved claim (``verdict`` given)
    nothing is tried and the second item is ``None``: no report would change a verdict."""
    assessed = assess_claim(reports, params)
    score = score_assessed(assessed, params, verdict)
    if verdict is not None:
        return score, None
    return score, _moves(assessed, params, score.confidence, MAX_LISTED)


def score_many_with_changes(
    claims: Mapping[str, Sequence[ReportEvidence]],
    params: ModelParameters,
    verdicts: Mapping[str, bool | None] | None = None,
) -> dict[str, tuple[ClaimScore, tuple[HypotheticalReport, ...] | None]]:
    """:func:`score_with_changes` of many claims, scored together as
    :func:`scoring.engine.score_many` scores them (each equal to scoring it alone)."""
    verdicts = verdicts or {}
    weigh = weighing_once(params)
    assessed = {key: assess_claim(reports, params, weigh) for key, reports in claims.items()}
    scores = score_assessed_many(assessed, params, verdicts)
    return {
        key: (
            score,
            None
            if verdicts.get(key) is not None
            else _moves(assessed[key], params, score.confidence, MAX_LISTED),
        )
        for key, score in scores.items()
    }


def _moves(
    assessed: AssessedClaim, params: ModelParameters, now: float, limit: int
) -> tuple[HypotheticalReport, ...]:
    moves = []
    for candidate in candidate_reports(params):
        weighed = _unused_key(candidate.weighed, assessed)
        confidence = confidence_with(assessed, params, [weighed])
        if abs(confidence - now) >= MIN_MOVE:
            moves.append(
                HypotheticalReport(
                    weighed.report,
                    candidate.description,
                    candidate.grade,
                    confidence,
                    confidence - now,
                )
            )
    moves.sort(key=lambda move: (-abs(move.change), move.description))
    listed = moves[:limit]
    if len(listed) > 1 and len({move.change > 0 for move in listed}) == 1:
        other = next((m for m in moves[limit:] if (m.change > 0) != (listed[0].change > 0)), None)
        if other is not None:
            listed[-1] = other
    return tuple(listed)
