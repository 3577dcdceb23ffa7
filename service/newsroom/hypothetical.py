"""Scores a claim as it would stand with hypothetical reports added, storing nothing.

The use case behind ``POST /api/v1/claims/{id}/what-if``: the claim's live reports plus
the hypothetical ones, scored with the active model exactly as recording them would score
the claim (:func:`scoring.engine.score_claim`), with the explanation. Nothing is written:
no report, outlet, score, history row or event; the session is only read.

A hypothetical report names a stored outlet (by name, slug, alias or id, as a report does)
or a kind, for a new outlet of that kind, which has no record and no prior of its own and
so is weighed as its kind, as an outlet created from a report would be.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Claim, Outlet, Report
from scoring.engine import score_claim
from scoring.evidence import ClaimScore, ModelParameters, ReportEvidence
from scoring.what_if import new_outlet_name
from service.newsroom.editorial import get_or_404
from service.newsroom.errors import InvalidInput
from service.newsroom.model_store import active_parameters
from service.newsroom.outlet_directory import load_outlet_index
from service.newsroom.outlet_identity import resolve_outlet
from service.newsroom.rescoring import claim_evidence, latest_verdict

DEFAULT_KEY = "what-if-{n}"


@dataclass(frozen=True)
class HypotheticalScore:
    """A claim's score with the hypothetical reports, and without them (same model)."""

    claim: Claim
    score: ClaimScore
    current: ClaimScore
    keys: tuple[str, ...]  # the hypothetical reports' keys, in request order


def _refuse(index: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"Hypothetical report {index}: {message}",
        fields={"reports": {str(index): {field: [message]}}},
    )


class _Reader:
    """Reads what the hypothetical reports name: outlets and cited reports."""

    def __init__(self, session: Session, claim: Claim, params: ModelParameters):
        self.session, self.claim, self.params = session, claim, params
        self._index = None

    def outlet_fields(self, index: int, body: dict[str, Any], key: str) -> dict[str, Any]:
        """The outlet part of a report's evidence: a stored outlet's, or a new one's."""
        kind = body.get("outlet_kind")
        if kind is not None:
            name = new_outlet_name(kind, self.params, f" ({key})")
            return {"outlet": name, "outlet_kind": kind, "outlet_reliability": None}
        if body.get("outlet_id") is not None:
            outlet = self.session.get(Outlet, body["outlet_id"])
            if outlet is None:
                raise _refuse(index, "outlet_id", f"names no outlet: {body['outlet_id']}.")
        else:
            outlet = self._outlet_named(index, body["outlet"])
        return {
            "outlet": outlet.name,
            "outlet_kind": outlet.kind,
            "outlet_reliability": outlet.prior_reliability,
        }

    def _outlet_named(self, index: int, name: str) -> Outlet:
        exact = self.session.scalars(select(Outlet).where(Outlet.name == name)).first()
        if exact is not None:
            return exact
        if self._index is None:
            self._index = load_outlet_index(self.session)
        resolution = resolve_outlet(name, None, self._index)
        if resolution.found:
            return self.session.get(Outlet, resolution.outlet_id)
        message = f"names no known outlet: {name!r}"
        if resolution.suggestions:
            names = " or ".join(repr(s.name) for s in resolution.suggestions)
            message += f"; did you mean {names}?"
        raise _refuse(index, "outlet", message + " Give outlet_kind for a new outlet.")

    def cited_key(self, index: int, cites: str | int | None, keys: set[str]) -> str | None:
        """The key a report cites: another hypothetical report's, or a stored report's of
        this claim (by key or id)."""
        if cites is None or (isinstance(cites, str) and cites in keys):
            return cites
        column = Report.id if isinstance(cites, int) else Report.key
        cited = self.session.execute(
            select(Report.key, Report.claim_id).where(column == cites)
        ).first()
        if cited is None or cited.claim_id != self.claim.id:
            raise _refuse(index, "cites", f"names no report of claim {self.claim.id}: {cites!r}.")
        return cited.key


def _keys(session: Session, bodies: Sequence[dict[str, Any]], taken: set[str]) -> list[str]:
    """Each hypothetical report's key: its report_key, else the first free ``what-if-n``
    (``taken``: the keys the claim's reports use or cite)."""
    given = [body.get("report_key") for body in bodies]
    used = taken | {key for key in given if key is not None}
    defaults = (DEFAULT_KEY.format(n=n) for n in itertools.count(1))
    keys: list[str] = []
    for index, key in enumerate(given):
        if key is None:
            key = next(k for k in defaults if k not in used)
        elif key in keys:
            raise _refuse(index, "report_key", f"is another hypothetical report's: {key!r}.")
        elif session.scalars(select(Report.id).where(Report.key == key)).first() is not None:
            raise _refuse(index, "report_key", f"is a stored report's key: {key!r}.")
        keys.append(key)
    return keys


def score_with_hypothetical_reports(
    session: Session, claim_id: int, bodies: Sequence[dict[str, Any]]
) -> HypotheticalScore:
    """The claim's score with ``bodies`` (hypothetical report bodies) added, storing nothing.

    Raises
    ------
    NotFound
        No claim ``claim_id``.
    InvalidInput
        A body names an unknown outlet, cites no report of the claim, or reuses a key.
    """
    claim = get_or_404(session, Claim, claim_id, "claim")
    params = active_parameters(session)
    stored = claim_evidence(session, claim.id)
    verdict_row = latest_verdict(session, claim.id)
    verdict = None if verdict_row is None else verdict_row.verdict
    taken = {r.key for r in stored} | {r.cites for r in stored if r.cites}
    keys = _keys(session, bodies, taken)
    reader = _Reader(session, claim, params)
    hypothetical = [
        ReportEvidence(
            key=key,
            stance=body["stance"],
            attribution=body.get("attribution") or "unattributed",
            source=body.get("source"),
            interested_party=bool(body.get("interested_party")),
            cites=reader.cited_key(index, body.get("cites"), set(keys)),
            **reader.outlet_fields(index, body, key),
        )
        for index, (key, body) in enumerate(zip(keys, bodies, strict=True))
    ]
    return HypotheticalScore(
        claim=claim,
        score=score_claim([*stored, *hypothetical], params, verdict),
        current=score_claim(stored, params, verdict),
        keys=tuple(keys),
    )
