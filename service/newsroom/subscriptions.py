"""Subscriptions as use cases: create, change, deactivate, and the views the API dumps.

The secret signs every delivery (see :mod:`service.delivery.webhooks`), so it is stored as it is
(a hash could not sign) and shown once, in the answer to the creation; it can be replaced
but not read back. Whoever can read the database can read the secrets: treat its backups
accordingly.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Claim, Delivery, OutboxEvent, Outlet, Subscription
from models.base import utcnow
from service.delivery.events import CLAIM_RESOLVED, CLAIM_SCORE_CHANGED, EVENT_TYPES
from service.delivery.targets import Resolver, WebhookTargetRefused, check_webhook_target
from service.newsroom.editorial import audit
from service.newsroom.errors import Conflict, InvalidInput
from service.newsroom.keys import Caller

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def normalize_filter(session: Session, raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored form of a filter the API schema has checked field by field.

    Claims and outlets must exist (outlets may be named by id or slug; ids are stored).
    Without ``event_types``, a filter with ``thresholds`` or ``verdicts`` receives only the
    events those criteria are about; otherwise every type. Raises InvalidInput naming
    each bad field under ``filter``.
    """
    if not raw:
        return None
    errors: dict[str, list[str]] = {}
    qualified = [
        event_type
        for criterion, event_type in (
            ("thresholds", CLAIM_SCORE_CHANGED),
            ("verdicts", CLAIM_RESOLVED),
        )
        if criterion in raw
    ]
    types = set(raw.get("event_types") or qualified or EVENT_TYPES)
    for criterion, event_type in (
        ("thresholds", CLAIM_SCORE_CHANGED),
        ("verdicts", CLAIM_RESOLVED),
    ):
        if criterion in raw and event_type not in types:
            errors[criterion] = [f"applies to {event_type} events, which event_types leaves out"]
    stored: dict[str, Any] = {"event_types": [t for t in EVENT_TYPES if t in types]}
    if "claim_ids" in raw:
        ids = sorted(set(raw["claim_ids"]))
        found = set(session.scalars(select(Claim.id).where(Claim.id.in_(ids))))
        missing = [str(i) for i in ids if i not in found]
        if missing:
            errors["claim_ids"] = [f"no claim with id {', '.join(missing)}"]
        stored["claim_ids"] = ids
    if "outlets" in raw:
        stored["outlets"] = _outlet_ids(session, raw["outlets"], errors)
    if "thresholds" in raw:
        stored["thresholds"] = dict(raw["thresholds"])
    if "verdicts" in raw:
        stored["verdicts"] = sorted(set(raw["verdicts"]))
    if errors:
        raise InvalidInput(
            "The filter is invalid; see errors for each field.",
            fields={"filter": errors},
        )
    return stored


def _outlet_ids(session: Session, named: list[int | str], errors: dict) -> list[int]:
    ids = {n for n in named if isinstance(n, int)}
    slugs = {n for n in named if isinstance(n, str)}
    rows = session.execute(
        select(Outlet.id, Outlet.slug).where(or_(Outlet.id.in_(ids), Outlet.slug.in_(slugs)))
    ).all()
    found_ids = {row.id for row in rows}
    found_slugs = {row.slug for row in rows}
    missing = [str(i) for i in sorted(ids - found_ids)] + sorted(slugs - found_slugs)
    if missing:
        errors["outlets"] = [f"no outlet with id or slug {', '.join(missing)}"]
    return sorted(found_ids)


def check_target(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> None:
    """Refuse (422) a webhook URL that leads to a loopback, private, link-local, multicast
    or otherwise non-public address, literally or once resolved. A name that does not
    resolve now is accepted: the worker checks every delivery again."""
    try:
        check_webhook_target(
            url, resolve=resolve or socket.getaddrinfo, allow_private=allow_private
        )
    except WebhookTargetRefused as refused:
        if refused.reason == "unresolvable":
            return
        message = str(refused)
        if refused.reason not in ("scheme", "no_host"):
            message += (
                " Webhooks go to public addresses only (SRS_WEBHOOK_ALLOW_PRIVATE=true "
                "allows private ones)."
            )
        raise InvalidInput(message, fields={"url": [message]}) from None


def create_subscription(
    session: Session,
    fields: Mapping[str, Any],
    caller: Caller,
    *,
    allow_private: bool = False,
    resolve: Resolver | None = None,
) -> tuple[Subscription, str]:
    """Store a subscription; returns it and its secret (given, or made here). Its URL
    must lead to a public address unless ``allow_private``."""
    check_target(fields["url"], allow_private=allow_private, resolve=resolve)
    secret = fields.get("secret") or new_secret()
    now = utcnow()
    row = Subscription(
        url=fields["url"],
        description=fields.get("description") or "",
        filter=normalize_filter(session, fields.get("filter")),
        secret=secret,
        active=True,
        api_key_id=caller.key_id,
        created_by=caller.actor,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit(session, caller, "create_subscription", f"subscription:{row.id}", url=row.url)
    return row, secret


def update_subscription(
    session: Session,
    row: Subscription,
    changes: Mapping[str, Any],
    caller: Caller,
    *,
    allow_private: bool = False,
    resolve: Resolver | None = None,
) -> Subscription:
    """Change the URL, filter, description, secret or active flag. Deactivating cancels the
    deliveries still owed; reactivating receives events from then on."""
    if not changes:
        raise InvalidInput("Nothing to change.", fields={"_schema": ["empty patch"]})
    if "url" in changes:
        check_target(changes["url"], allow_private=allow_private, resolve=resolve)
    if "filter" in changes:
        row.filter = normalize_filter(session, changes["filter"])
    for name in ("url", "description", "secret"):
        if name in changes:
            setattr(row, name, changes[name])
    if "active" in changes and changes["active"] != row.active:
        row.active = changes["active"]
        if not row.active:
            _cancel_pending(session, row)
    row.updated_at = utcnow()
    session.flush()
    changed = sorted(changes)
    audit(session, caller, "edit_subscription", f"subscription:{row.id}", changes=changed)
    return row


def deactivate_subscription(session: Session, row: Subscription, caller: Caller) -> Subscription:
    if not row.active:
        raise Conflict(f"Subscription {row.id} is inactive already.")
    row.active = False
    row.updated_at = utcnow()
    cancelled = _cancel_pending(session, row)
    audit(session, caller, "deactivate_subscription", f"subscription:{row.id}", cancelled=cancelled)
    return row


def _cancel_pending(session: Session, row: Subscription) -> int:
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == row.id, Delivery.status == "pending")
        .values(status="cancelled", last_error="subscription deactivated")
    )
    return result.rowcount or 0


def subscription_view(row: Subscription) -> dict[str, Any]:
    """Everything but the secret."""
    return {
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "filter": row.filter,
        "active": row.active,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def deliveries_statement(subscription_id: int, status: str | None = None):
    """A subscription's deliveries with their events, newest first."""
    statement = (
        select(Delivery, OutboxEvent.type, OutboxEvent.claim_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .where(Delivery.subscription_id == subscription_id)
        .order_by(Delivery.id.desc())
    )
    if status is not None:
        statement = statement.where(Delivery.status == status)
    return statement


def delivery_view(row) -> dict[str, Any]:
    delivery, event_type, claim_id = row
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": event_type,
        "claim_id": claim_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "failures": delivery.failures,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
        "last_attempt_at": delivery.last_attempt_at,
        "delivered_at": delivery.delivered_at,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
    }
