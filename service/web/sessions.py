"""The dashboard's login: which API key a browser signed in with, kept in the Flask session.

The session cookie is signed with ``SECRET_KEY`` and holds the key's id and its public
prefix, never the key: a stolen cookie cannot be replayed as an ``Authorization`` header,
and the key is looked up again on every request, so revoking it logs the browser out at
once. The prefix guards against an id that a restored or rebuilt database gave to another
key. The cookie is HttpOnly and SameSite=Lax (``Secure`` with ``SRS_SECURE_COOKIES``).
"""

from __future__ import annotations

from flask import session
from sqlalchemy.orm import Session

from models import ApiKey

KEY_ID = "api_key_id"
KEY_PREFIX = "api_key_prefix"


def remember_key(row: ApiKey) -> None:
    """Sign the browser in as ``row``; starts a fresh session (no fixation of an old one)."""
    session.clear()
    session[KEY_ID] = row.id
    session[KEY_PREFIX] = row.prefix
    session.permanent = True


def forget_key() -> None:
    session.clear()


def signed_in_key_id() -> int | None:
    key_id = session.get(KEY_ID)
    return key_id if isinstance(key_id, int) else None


def session_key(db_session: Session) -> ApiKey | None:
    """The live key this browser signed in with, or None (none, revoked or replaced)."""
    key_id = signed_in_key_id()
    if key_id is None:
        return None
    row = db_session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or row.prefix != session.get(KEY_PREFIX):
        return None
    return row
