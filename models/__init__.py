"""Persistence: SQLAlchemy 2 models, engine and unit of work, Alembic migrations."""

from models.base import Base
from models.tables import (
    ApiKey,
    AuditEntry,
    Claim,
    Delivery,
    IdempotentResponse,
    ModelVersion,
    OutboxEvent,
    Outlet,
    OutletAlias,
    OutletDomain,
    Report,
    ScoreHistory,
    Subscription,
    Verdict,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Claim",
    "Delivery",
    "IdempotentResponse",
    "ModelVersion",
    "OutboxEvent",
    "Outlet",
    "OutletAlias",
    "OutletDomain",
    "Report",
    "ScoreHistory",
    "Subscription",
    "Verdict",
]
