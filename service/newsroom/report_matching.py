"""One vote per report, for the recorder and the bulk import alike.

:class:`ReportMatcher` holds, per claim, the facts :mod:`service.newsroom.report_identity`
compares (outlet, stance, url, quote, source, times, citation, independence) of the
claim's live stored reports, read once per claim in one query, plus the reports recorded
since in the same unit of work. For each new report it answers the stored report it
repeats (a duplicate: not stored, answered with the stored one) or, failing that, the
report of another outlet it nearly repeats (an inferred echo: stored with that citation,
flagged as inferred). Both write paths ask it the same questions in the same order, so
they store the same rows.

The window within which two reports of one outlet quoting the same source are one report
is ``SRS_DUPLICATE_SOURCE_WINDOW_HOURS`` (24 by default).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Claim, Report
from service.newsroom.report_identity import (
    DEFAULT_SOURCE_WINDOW,
    ReportFacts,
    find_duplicate,
    inferred_echo_of,
)


def source_window_from_environment() -> timedelta:
    hours = os.environ.get("SRS_DUPLICATE_SOURCE_WINDOW_HOURS")
    if hours is None or not hours.strip():
        return DEFAULT_SOURCE_WINDOW
    try:
        value = float(hours)
    except ValueError:
        raise ValueError(
            f"SRS_DUPLICATE_SOURCE_WINDOW_HOURS must be a number of hours, not {hours!r}"
        ) from None
    if value < 0:
        raise ValueError("SRS_DUPLICATE_SOURCE_WINDOW_HOURS must not be negative")
    return timedelta(hours=value)


@dataclass(frozen=True)
class Match:
    duplicate_of: ReportFacts | None = None  # the report it repeats
    echo_of: ReportFacts | None = None  # the report it nearly repeats (inferred cites)


class ReportMatcher:
    """The live reports of the claims a unit of work touches, as facts to compare."""

    def __init__(self, source_window: timedelta | None = None):
        self.source_window = (
            source_window if source_window is not None else source_window_from_environment()
        )
        self._by_claim: dict[Hashable, list[ReportFacts]] = {}

    def loaded(self, claim: Hashable) -> bool:
        return claim in self._by_claim

    def start_claim(self, claim: Hashable) -> None:
        """A claim with nothing stored yet (created in this unit of work)."""
        self._by_claim.setdefault(claim, [])

    def load(self, session: Session, claims: Mapping[int, str]) -> None:
        """Read the live reports of stored claims, given as id → key (one query), in id
        order: arrival."""
        ids = sorted(claims)
        if not ids:
            return
        statement = (
            select(
                Report.id,
                Report.key.label("report_key"),
                Claim.key,
                Report.outlet_id,
                Report.stance,
                Report.url,
                Report.quote,
                Report.source,
                Report.published_at,
                Report.created_at,
                Report.cites_id,
                Report.independent,
            )
            .join(Claim, Report.claim_id == Claim.id)
            .where(Report.claim_id.in_(ids), Report.retracted_at.is_(None))
            .order_by(Report.id)
        )
        found: dict[Hashable, list[ReportFacts]] = {key: [] for key in claims.values()}
        for row in session.execute(statement):
            found[row.key].append(
                ReportFacts(
                    ref=row.id,
                    outlet=row.outlet_id,
                    claim=row.key,
                    stance=row.stance,
                    url=row.url,
                    quote=row.quote,
                    source=row.source,
                    published_at=row.published_at,
                    received_at=row.created_at,
                    cites=row.cites_id,
                    independent=row.independent,
                    key=row.report_key,
                )
            )
        for key, facts in found.items():
            self._by_claim.setdefault(key, facts)

    def match(self, new: ReportFacts) -> Match:
        """What ``new`` is: a duplicate of a report, an inferred echo of one, or neither.
        The answer names the facts matched (their ``ref`` and ``key``)."""
        known = self._by_claim.get(new.claim, [])
        same_outlet = [r for r in known if r.outlet == new.outlet and r.stance == new.stance]
        duplicate = find_duplicate(new, same_outlet, self.source_window)
        if duplicate is not None:
            return Match(duplicate_of=duplicate)
        return Match(echo_of=inferred_echo_of(new, known))

    def remember(self, facts: ReportFacts) -> None:
        """A report recorded in this unit of work: later ones are compared with it too."""
        self._by_claim.setdefault(facts.claim, []).append(facts)
