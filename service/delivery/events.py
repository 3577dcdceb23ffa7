"""The event types, and which events a subscription's filter lets through.

Pure: no database, no Flask. A stored filter is the normalized form built by
:func:`service.newsroom.subscriptions.normalize_filter`::

    {"event_types": ["claim.score_changed", "claim.resolved"],   # always present
     "claim_ids": [7, 9],                                         # optional
     "outlets": [3],                                              # optional (ids)
     "thresholds": {"above": 0.8, "below": 0.2},                  # optional
     "verdicts": [false]}                                         # optional

Every criterion present must hold (AND); a list matches any of its values (OR).
``thresholds`` narrows ``claim.score_changed`` events to crossings and ``verdicts``
narrows ``claim.resolved`` events to those verdicts; neither affects other types.
A filter of ``None`` matches every event.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

REPORT_RECORDED = "report.recorded"
REPORT_RETRACTED = "report.retracted"
IMPORT_BATCH_RECORDED = "import.batch_recorded"
CLAIM_CREATED = "claim.created"
CLAIM_SCORE_CHANGED = "claim.score_changed"
CLAIM_RESOLVED = "claim.resolved"
MODEL_ACTIVATED = "model.activated"
EVENT_TYPES = (
    REPORT_RECORDED,
    REPORT_RETRACTED,
    IMPORT_BATCH_RECORDED,
    CLAIM_CREATED,
    CLAIM_SCORE_CHANGED,
    CLAIM_RESOLVED,
    MODEL_ACTIVATED,
)
REPORT_EVENTS = (REPORT_RECORDED, REPORT_RETRACTED)


def crosses(thresholds: Mapping[str, float], previous: float | None, confidence: float) -> bool:
    """Whether a change from ``previous`` to ``confidence`` went above ``above`` or below
    ``below``. A first score (no previous one) crosses when it lands beyond a bound."""
    above, below = thresholds.get("above"), thresholds.get("below")
    if above is not None and confidence > above and (previous is None or previous <= above):
        return True
    return below is not None and confidence < below and (previous is None or previous >= below)


def needs_claim_outlets(filter_: Mapping[str, Any] | None) -> bool:
    """Whether matching needs the outlets that reported each event's claim."""
    return bool(filter_) and "outlets" in filter_


def filter_matches(
    filter_: Mapping[str, Any] | None,
    event_type: str,
    claim_id: int | None,
    data: Mapping[str, Any],
    claim_outlet_ids: Set[int] = frozenset(),
) -> bool:
    """Whether an event passes a stored filter.

    ``claim_outlet_ids`` are the outlets with a live report of the event's claim: an
    outlet criterion matches report events of that outlet, and claim events of claims it
    reported. An import batch's summary (``import.batch_recorded``) matches a claim or
    outlet criterion when one of the claims or outlets its data names is listed.
    """
    if not filter_:
        return True
    if event_type not in filter_.get("event_types", EVENT_TYPES):
        return False
    batch = event_type == IMPORT_BATCH_RECORDED
    if "claim_ids" in filter_:
        claims = set(data.get("claim_ids", ())) if batch else {claim_id}
        if not set(filter_["claim_ids"]) & claims:
            return False
    if "outlets" in filter_:
        if batch:
            outlets = data.get("outlet_ids", ())
        else:
            outlets = {data.get("outlet_id")} if event_type in REPORT_EVENTS else claim_outlet_ids
        if not set(filter_["outlets"]) & set(outlets):
            return False
    if event_type == CLAIM_SCORE_CHANGED and "thresholds" in filter_:
        return crosses(filter_["thresholds"], data.get("previous_confidence"), data["confidence"])
    if event_type == CLAIM_RESOLVED and "verdicts" in filter_:
        return data.get("verdict") in filter_["verdicts"]
    return True
