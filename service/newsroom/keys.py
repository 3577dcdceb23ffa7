"""API keys: random, shown once, stored as a SHA-256 hash, compared in constant time; and
the :class:`Caller` a key stands for, which use cases record as the actor.

A plain SHA-256 is enough here: keys are 256-bit random strings, not passwords, so there is
nothing for a slow hash to protect against, and lookups stay one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey
from models.base import utcnow

KEY_PREFIX = "srs_"
PREFIX_LENGTH = 12
SCOPES = ("read", "write", "verdict", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is acting: the key's id, name and scope (anonymous: no key, no scope)."""

    key_id: int | None
    name: str
    scope: str | None

    @property
    def actor(self) -> str:
        return self.name if self.key_id is None else f"key {self.key_id} ({self.name})"


@dataclass(frozen=True)
class IssuedKey:
    id: int
    name: str
    scope: str
    key: str  # the secret: shown once, never stored


def issue_key(session: Session, name: str, scope: str) -> IssuedKey:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=secret[:PREFIX_LENGTH], key_hash=hash_key(secret), scope=scope)
    session.add(row)
    session.flush()
    return IssuedKey(id=row.id, name=name, scope=scope, key=secret)


def find_key(session: Session, presented: str) -> ApiKey | None:
    """The live key matching ``presented``, or None.

    Looked up by the non-secret prefix, then compared by hash with ``hmac.compare_digest``
    so the time taken does not reveal how much of a guess was right.
    """
    if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
        return None
    presented_hash = hash_key(presented)
    candidates = session.scalars(
        select(ApiKey).where(
            ApiKey.prefix == presented[:PREFIX_LENGTH], ApiKey.revoked_at.is_(None)
        )
    ).all()
    for candidate in candidates:
        if hmac.compare_digest(candidate.key_hash, presented_hash):
            return candidate
    return None


def scope_allows(granted: str, needed: str) -> bool:
    """``admin`` includes every scope; ``write`` and ``verdict`` include ``read``."""
    if granted == "admin" or granted == needed:
        return True
    return needed == "read" and granted in ("write", "verdict")


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    row = session.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
