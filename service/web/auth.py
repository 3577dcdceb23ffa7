"""API-key authentication and scopes for the API's operations.

Keys arrive as ``Authorization: Bearer <key>``. Writes always need a key of the right
scope; reads need one unless the deployment sets ``SRS_OPEN_READS``. A browser signed in
to the dashboard (:mod:`service.web.sessions`) may read without the header: its session
cookie stands for the key on GET and HEAD only, so a cross-site form can never write
through the API. Each decorated operation documents its scope in the OpenAPI document
(``x-required-scope``), which is what the auth test walks.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from service.newsroom.keys import Caller, find_key, scope_allows
from service.web.database import request_uow, unit_of_work
from service.web.errors import Forbidden, Unauthorized
from service.web.sessions import session_key, signed_in_key_id

SAFE_METHODS = ("GET", "HEAD")


ANONYMOUS = Caller(key_id=None, name="anonymous", scope=None)


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def session_caller() -> Caller | None:
    """The key a dashboard session signed in with, looked up now (revoked: None)."""
    if signed_in_key_id() is None:
        return None
    with unit_of_work() as uow:
        row = session_key(uow.session)
        return None if row is None else Caller(key_id=row.id, name=row.name, scope=row.scope)


def authenticate(needed: str) -> Caller:
    """The caller, checked for scope ``needed``; raises 401 or 403 problems."""
    presented = presented_key()
    if presented is None:
        caller = session_caller() if request.method in SAFE_METHODS else None
        if caller is None:
            if needed == "read" and current_app.config.get("OPEN_READS"):
                return ANONYMOUS
            raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
    else:
        # The request's own unit of work: one connection checkout and transaction per request.
        row = find_key(request_uow().session, presented)
        caller = None if row is None else Caller(row.id, row.name, row.scope)
        if caller is None:
            raise Unauthorized("The API key is unknown or revoked.")
    if not scope_allows(caller.scope, needed):
        raise Forbidden(f"This operation needs a key with the '{needed}' scope.")
    return caller


def current_caller() -> Caller:
    return g.get("caller", ANONYMOUS)


def requires(scope: str):
    """Check the caller's key before anything else in the view (even body validation)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.caller = authenticate(scope)
            return view(*args, **kwargs)

        doc = dict(getattr(view, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual["security"] = [{"bearerAuth": []}]
        manual["x-required-scope"] = scope
        responses = dict(manual.get("responses", {}))
        responses.setdefault(401, "UNAUTHORIZED")
        responses.setdefault(403, "FORBIDDEN")
        manual["responses"] = responses
        doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return wrapper

    return decorator
