"""The tables: outlets, claims, reports, verdicts, score history, API keys and the rest.

SQLAlchemy 2 typed declarative models. Vocabularies come from :mod:`scoring.vocabulary`
indirectly through the service; here they are repeated as database constraints so that no
writer, ours or not, can store a value outside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, closed_vocabulary, utcnow

# The closed vocabularies, spelled as in the interchange format. models/ depends on nothing
# of ours, so they are written out here; tests/test_models.py checks they match
# scoring.vocabulary.
STANCES = ("supports", "denies", "neutral")
ATTRIBUTIONS = (
    "named_official",
    "official_statement",
    "official_source",
    "anonymous_diplomat",
    "anonymous_source",
    "party_spokesperson",
    "document",
    "eyewitness",
    "media_report",
    "unattributed",
)
OUTLET_KINDS = (
    "wire_agency",
    "public_broadcaster",
    "state_controlled",
    "newspaper",
    "independent",
    "aggregator",
    "social_account",
)
CLAIM_STATUSES = ("open", "resolved_true", "resolved_false")
KEY_SCOPES = ("read", "write", "verdict", "admin")


class Outlet(Base):
    __tablename__ = "outlets"
    __table_args__ = (
        # NULL since migration 0004: an outlet created from an unknown name has no prior of
        # its own, and scoring gives it its kind's (pooled) behaviour instead.
        CheckConstraint(
            "prior_reliability IS NULL OR (prior_reliability > 0 AND prior_reliability < 1)",
            name="prior_reliability_range",
        ),
        CheckConstraint(
            "learned_reliability IS NULL OR (learned_reliability > 0 AND learned_reliability < 1)",
            name="learned_reliability_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The canonical name. Other names newsrooms use live in outlet_aliases; the domains it
    # publishes on in outlet_domains (issue 14, item 1).
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(closed_vocabulary("outlet_kind", OUTLET_KINDS))
    prior_reliability: Mapped[float | None] = mapped_column(Float)
    prior_rationale: Mapped[str] = mapped_column(Text, default="")
    learned_reliability: Mapped[float | None] = mapped_column(Float)
    # False for an outlet created from a name nobody had entered before (a report sent with
    # "new_outlet": true, or srs import): nobody has judged it yet. Seeded outlets and those
    # an admin adds are vetted; so is every outlet stored before 0004 except the ones the
    # recorder made from unknown names (the migration tells them by their rationale).
    vetted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    aliases: Mapped[list[OutletAlias]] = relationship(
        back_populates="outlet", order_by="OutletAlias.id", passive_deletes=True
    )
    domains: Mapped[list[OutletDomain]] = relationship(
        back_populates="outlet", order_by="OutletDomain.id", passive_deletes=True
    )


class OutletAlias(Base):
    """Another name an outlet goes by ("MEE", "ToI", "Kan 11").

    ``normalised`` is the alias as :func:`service.newsroom.outlet_identity.
    normalise_outlet_name` folds it (case, punctuation, a leading "The", diacritics,
    whitespace); it is unique across all outlets, so one spelling names one outlet. An
    outlet's canonical name and slug are not repeated here: they resolve from ``outlets``.
    """

    __tablename__ = "outlet_aliases"
    __table_args__ = (
        CheckConstraint("normalised <> ''", name="normalised_not_empty"),
        Index("ix_outlet_aliases_outlet_id", "outlet_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: an alias is part of its outlet (a merge moves the aliases first).
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(200))
    normalised: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlet: Mapped[Outlet] = relationship(back_populates="aliases")


class OutletDomain(Base):
    """A web domain an outlet publishes on: a report's ``url`` on it names the outlet.

    Stored as the host, lower-case, without a leading ``www.`` (``reuters.com``), as
    :func:`service.newsroom.outlet_identity.domain_of` reads it from a URL; the CHECK keeps
    any other writer to that form.
    """

    __tablename__ = "outlet_domains"
    __table_args__ = (
        CheckConstraint(
            "domain <> '' AND domain = lower(domain) AND domain NOT LIKE 'www.%'",
            name="domain_normalised",
        ),
        Index("ix_outlet_domains_outlet_id", "outlet_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    # 253: the longest DNS name.
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlet: Mapped[Outlet] = relationship(back_populates="domains")


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(
            "confidence IS NULL OR (confidence > 0 AND confidence < 1)", name="confidence_range"
        ),
        CheckConstraint(
            "confidence IS NULL OR (confidence_lower <= confidence "
            "AND confidence <= confidence_upper)",
            name="interval_contains_confidence",
        ),
        Index("ix_claims_status_confidence", "status", "confidence"),
        Index("ix_claims_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    text: Mapped[str] = mapped_column(Text)
    # The event the claim belongs to (interchange field ``story``, issue 13 item 5): the
    # dashboard filters by it and the model learns a base rate per story. Optional.
    story: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(
        closed_vocabulary("claim_status", CLAIM_STATUSES), default="open"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The current score and its components, written in the transaction that changed it.
    confidence: Mapped[float | None] = mapped_column(Float)
    confidence_lower: Mapped[float | None] = mapped_column(Float)
    confidence_upper: Mapped[float | None] = mapped_column(Float)
    log_odds: Mapped[float | None] = mapped_column(Float)
    prior_log_odds: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(8))
    n_reports: Mapped[int] = mapped_column(Integer, default=0)
    n_clusters: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # "What would change it" (issue 13 item 8): the hypothetical reports that would move the
    # score most, with the confidence each would give. Computed with the score and stored
    # beside its explanation, because reads never recompute; NULL when not computed.
    what_would_change: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reports: Mapped[list[Report]] = relationship(
        back_populates="claim", order_by="Report.id", foreign_keys="Report.claim_id"
    )
    verdicts: Mapped[list[Verdict]] = relationship(back_populates="claim", order_by="Verdict.id")


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("cites_id IS NULL OR cites_id <> id", name="no_self_citation"),
        # An inferred link is still a link; and a report its sender calls independent is
        # never inferred to be an echo (issue 14, item 2).
        CheckConstraint("NOT cites_inferred OR cites_id IS NOT NULL", name="inferred_has_cites"),
        CheckConstraint("NOT (cites_inferred AND independent)", name="independent_not_inferred"),
        Index("ix_reports_claim_id", "claim_id"),
        Index("ix_reports_outlet_id", "outlet_id"),
        # Live reports only (migration 0003): index-only counts per outlet, evidence in order.
        Index(
            "ix_reports_live_outlet_claim",
            "outlet_id",
            "claim_id",
            postgresql_where=text("retracted_at IS NULL"),
            sqlite_where=text("retracted_at IS NULL"),
        ),
        Index(
            "ix_reports_live_claim",
            "claim_id",
            "id",
            postgresql_where=text("retracted_at IS NULL"),
            sqlite_where=text("retracted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="RESTRICT"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="RESTRICT"))
    stance: Mapped[str] = mapped_column(closed_vocabulary("stance", STANCES))
    attribution: Mapped[str] = mapped_column(
        closed_vocabulary("attribution", ATTRIBUTIONS), default="unattributed"
    )
    source: Mapped[str | None] = mapped_column(String(500))
    interested_party: Mapped[bool] = mapped_column(Boolean, default=False)
    cites_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="RESTRICT"))
    # True when ``cites_id`` was not stated by the sender but inferred from near-identical
    # wording to an earlier report of another outlet: scoring treats it as any citation
    # (one provenance cluster); explanations and exports say it was inferred.
    cites_inferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The sender says this report is its own reporting, not an echo: never inferred to cite.
    independent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(String(2000))
    quote: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A retraction keeps the row (others may cite it) but takes it out of the score.
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retraction_reason: Mapped[str | None] = mapped_column(Text)

    claim: Mapped[Claim] = relationship(back_populates="reports", foreign_keys=[claim_id])
    outlet: Mapped[Outlet] = relationship()
    cites: Mapped[Report | None] = relationship(remote_side=[id])


class Verdict(Base):
    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="RESTRICT"), index=True)
    verdict: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(200))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The model's estimate when the verdict came in: what calibration is fitted on.
    model_confidence: Mapped[float | None] = mapped_column(Float)
    # True when this verdict overturned an earlier, opposite one: changing a verdict must be
    # asked for explicitly ("replaces_verdict": true) and is recorded as such.
    replaces_verdict: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    claim: Mapped[Claim] = relationship(back_populates="verdicts")


class ScoreHistory(Base):
    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_claim_recorded", "claim_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confidence: Mapped[float] = mapped_column(Float)
    confidence_lower: Mapped[float] = mapped_column(Float)
    confidence_upper: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(40))
    model_version: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the key, shown in listings so a person can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scope: Mapped[str] = mapped_column(closed_vocabulary("key_scope", KEY_SCOPES))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IdempotentResponse(Base):
    """The first response to a POST with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_key_per_api_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    """A fitted (or prior) scoring model: its parameters, calibration and metrics."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    training_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# -- notifications ---------------------------------------------------------------------------
DELIVERY_STATUSES = ("pending", "delivered", "failed", "cancelled")


class Subscription(Base):
    """A webhook: where to POST events, which ones (``filter``) and the signing secret."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    # The normalized filter (see service.newsroom.subscriptions); NULL matches every event.
    filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Kept as it is, not hashed: signing each delivery needs the secret itself.
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """Something that happened, written in the transaction that made it happen.

    Ids grow in commit order (see service.delivery.outbox), so ``id > last seen`` is a safe cursor
    for the event stream and for ``Last-Event-ID``.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_claim_id", "claim_id"),
        Index("ix_outbox_events_occurred_at", "occurred_at"),
        # AUTOINCREMENT on SQLite: ids of pruned events are never handed out again.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    # No foreign key: an event is a record of the past and outlives what it names.
    claim_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """One event owed to one subscription, and how its delivery went so far."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_deliveries_event_subscription"),
        CheckConstraint("attempts >= 0 AND failures >= 0", name="counts_not_negative"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_deliveries_subscription_id", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(
        closed_vocabulary("delivery_status", DELIVERY_STATUSES), default="pending"
    )
    # Attempts started (a worker killed mid-request still used one); failures: attempts that
    # ended without a 2xx answer.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt is due; while an attempt runs, when its lease runs out.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[OutboxEvent] = relationship()
    subscription: Mapped[Subscription] = relationship()
