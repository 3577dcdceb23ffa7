"""Persistence: SQLAlchemy 2 models, engine and unit of work, Alembic migrations."""

from models.base import Base
from models.tables import (
    ApiKey,
    AuditEntry,
    Claim,
    IdempotentResponse,
    ModelVersion,
    Outlet,
    Report,
    ScoreHistory,
    Verdict,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Claim",
    "IdempotentResponse",
    "ModelVersion",
    "Outlet",
    "Report",
    "ScoreHistory",
    "Verdict",
]
