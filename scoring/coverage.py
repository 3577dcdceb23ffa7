"""Does the 90 % interval mean something? Its coverage on time-ordered streams of reports.

The interval the engine gives with a score is read as: where the confidence will land once
the story has settled, given the evidence so far. :func:`interval_coverage` checks exactly
that on claims whose reports arrive one after another. For each claim with at least two
reports, ordered by ``published_at`` (undated reports after dated ones, ties and undated
reports in the order given, i.e. file order), the claim is scored on its first ``k``
reports for ``k = 1 … n − 1``; each such score is one check, which passes when the final
confidence (scored on all ``n`` reports with the same parameters) lies inside its interval
(ends included). Coverage is the share of checks that pass; a well-made 90 % interval
passes about 90 % of them.

Claims with many reports contribute many checks; ``claim_coverage`` weighs every claim
equally instead (the mean of each claim's share of passed checks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scoring.evidence import ModelParameters, ReportEvidence

NOMINAL = 0.90
_ZERO_WIDTH = 1e-9


@dataclass(frozen=True)
class IntervalCoverage:
    """Coverage of the 90 % interval; see the module docstring.

    ``checks`` and ``claims`` count what was checked; ``zero_width`` the checks whose
    interval had (numerically) zero width; widths are in confidence (0–1) units.
    """

    coverage: float | None
    claim_coverage: float | None
    mean_width: float | None
    min_width: float | None
    zero_width: int
    checks: int
    claims: int
    nominal: float = NOMINAL

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def time_order(reports: Sequence[ReportEvidence]) -> list[ReportEvidence]:
    """Reports by ``published_at``; undated after dated; otherwise as given (stable)."""
    dated = [r for r in reports if r.published_at is not None]
    undated = [r for r in reports if r.published_at is None]
    return sorted(dated, key=lambda report: report.published_at) + undated


def interval_coverage(
    claims: Mapping[str, Sequence[ReportEvidence]],
    params: ModelParameters | Callable[[str], ModelParameters],
) -> IntervalCoverage:
    """Coverage of the 90 % interval on each claim's time-ordered stream of reports.

    Parameters
    ----------
    claims : mapping of str to sequence of ReportEvidence
        Each claim's reports, by claim key; claims with fewer than two are skipped.
    params : ModelParameters, or a function of the claim key returning them
        The scorer's parameters (a function lets each claim be scored by the model of the
        fold that held it out).
    """
    from scoring.engine import score_claim

    inside: list[bool] = []
    widths: list[float] = []
    per_claim: list[float] = []
    for key, reports in claims.items():
        if len(reports) < 2:
            continue
        claim_params = params(key) if callable(params) else params
        stream = time_order(reports)
        final = score_claim(stream, claim_params).confidence
        passed = []
        for k in range(1, len(stream)):
            score = score_claim(stream[:k], claim_params)
            passed.append(score.lower <= final <= score.upper)
            widths.append(score.upper - score.lower)
        inside.extend(passed)
        per_claim.append(float(np.mean(passed)))
    if not inside:
        return IntervalCoverage(None, None, None, None, 0, 0, 0)
    width = np.asarray(widths)
    return IntervalCoverage(
        coverage=float(np.mean(inside)),
        claim_coverage=float(np.mean(per_claim)),
        mean_width=float(width.mean()),
        min_width=float(width.min()),
        zero_width=int((width < _ZERO_WIDTH).sum()),
        checks=len(inside),
        claims=len(per_claim),
    )
