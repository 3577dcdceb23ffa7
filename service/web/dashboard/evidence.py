"""What the claim and outlet pages show, read from the stored rows (nothing recomputed).

A claim's evidence is grouped by the provenance clusters its stored explanation names, so
the page shows exactly what the score counted: the counted report of each cluster, and
which report repeats which. An outlet's track record compares its stances with the
verdicts on the claims it reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Claim, ModelVersion, Outlet, Report


@dataclass(frozen=True)
class EvidenceReport:
    report: Report
    counted: bool
    repeats: Report | None  # the report it cites (may belong to another claim)


@dataclass(frozen=True)
class EvidenceCluster:
    number: int
    sign: int
    log_odds: float
    probability_points: float
    reason: str
    reports: tuple[EvidenceReport, ...]


@dataclass
class ClaimEvidence:
    clusters: list[EvidenceCluster] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)  # calibration: no reports
    unexplained: list[Report] = field(default_factory=list)  # live, yet in no cluster
    retracted: list[Report] = field(default_factory=list)


def claim_reports(session: Session, claim_id: int) -> list[Report]:
    return list(
        session.scalars(
            select(Report)
            .where(Report.claim_id == claim_id)
            .options(joinedload(Report.outlet), joinedload(Report.cites).joinedload(Report.outlet))
            .order_by(Report.id)
        ).all()
    )


def claim_evidence(claim: Claim, reports: Sequence[Report]) -> ClaimEvidence:
    """The claim's reports grouped as its stored explanation grouped them."""
    by_key = {report.key: report for report in reports}
    evidence = ClaimEvidence(retracted=[r for r in reports if r.retracted_at is not None])
    placed: set[str] = set()
    for contribution in claim.explanation or []:
        members = [by_key[key] for key in contribution.get("members", []) if key in by_key]
        if not members:
            evidence.adjustments.append(contribution)
            continue
        counted = contribution.get("counted_report")
        evidence.clusters.append(
            EvidenceCluster(
                number=len(evidence.clusters) + 1,
                sign=int(contribution.get("sign", 0)),
                log_odds=float(contribution["log_odds"]),
                probability_points=float(contribution.get("probability_points") or 0.0),
                reason=contribution.get("reason", ""),
                reports=tuple(
                    EvidenceReport(report=r, counted=r.key == counted, repeats=r.cites)
                    for r in members
                ),
            )
        )
        placed.update(r.key for r in members)
    evidence.unexplained = [r for r in reports if r.retracted_at is None and r.key not in placed]
    return evidence


# -- outlets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionReliability:
    version: str
    created_at: datetime
    active: bool
    reliability: float | None  # None: this version uses the outlet's prior


def reliability_by_version(session: Session, outlet: Outlet) -> list[VersionReliability]:
    versions = session.scalars(select(ModelVersion).order_by(ModelVersion.created_at)).all()
    return [
        VersionReliability(
            version=v.version,
            created_at=v.created_at,
            active=v.active,
            reliability=(v.parameters.get("outlet_reliability") or {}).get(outlet.name),
        )
        for v in versions
    ]


@dataclass(frozen=True)
class ResolvedClaimRecord:
    claim: Claim
    stances: tuple[str, ...]
    verdict: bool
    outcome: str  # "agreed", "disagreed", "mixed" (both sides) or "neutral"


def _outcome(stances: set[str], verdict: bool) -> str:
    sides = stances - {"neutral"}
    if not sides:
        return "neutral"
    if len(sides) == 2:
        return "mixed"
    right = "supports" if verdict else "denies"
    return "agreed" if sides == {right} else "disagreed"


def track_record(session: Session, outlet_id: int) -> list[ResolvedClaimRecord]:
    """How the resolved claims this outlet reported on came out, against its stances."""
    rows = session.execute(
        select(Claim, Report.stance)
        .join(Report, Report.claim_id == Claim.id)
        .where(
            Report.outlet_id == outlet_id,
            Report.retracted_at.is_(None),
            Claim.status != "open",
        )
        .order_by(Claim.updated_at.desc(), Claim.id)
    ).all()
    stances: dict[int, set[str]] = {}
    claims: dict[int, Claim] = {}
    for claim, stance in rows:
        claims.setdefault(claim.id, claim)
        stances.setdefault(claim.id, set()).add(stance)
    records = []
    for claim_id, claim in claims.items():
        verdict = claim.status == "resolved_true"
        records.append(
            ResolvedClaimRecord(
                claim=claim,
                stances=tuple(sorted(stances[claim_id])),
                verdict=verdict,
                outcome=_outcome(stances[claim_id], verdict),
            )
        )
    return records


def outlet_reports(session: Session, outlet_id: int, limit: int) -> list[Report]:
    return list(
        session.scalars(
            select(Report)
            .where(Report.outlet_id == outlet_id)
            .options(joinedload(Report.claim))
            .order_by(Report.published_at.desc().nulls_last(), Report.id.desc())
            .limit(limit)
        ).all()
    )
