"""API-key authentication and scopes for the API's operations.

Keys arrive as ``Authorization: Bearer <key>``. Writes always need a key of the right
scope; reads need one unless the deployment sets ``SRS_OPEN_READS``. A browser signed in
to the dashboard (:mod:`service.web.sessions`) may read without the header: its session
cookie stands for the key on GET and HEAD only, so a cross-site form can never write
through the API. Each decorated operation documents its scope in the OpenAPI document
(``x-required-scope``), which is what the auth test walks.
"""

from __future__ import annotations

import threading
import time
from functools import wraps

from flask import Flask, current_app, g, request

from service.newsroom.keys import Caller, find_key, hash_key, scope_allows
from service.web.database import request_uow, unit_of_work
from service.web.errors import Forbidden, Unauthorized
from service.web.sessions import session_key, signed_in_key_id

SAFE_METHODS = ("GET", "HEAD")


ANONYMOUS = Caller(key_id=None, name="anonymous", scope=None)
CALLER_CACHE_KEY = "srs.callers"


class CallerCache:
    """Live keys found in the database, kept for a bounded time by each process.

    A key's lookup is a query on every request otherwise: a third of a score read. An entry
    lives ``seconds`` from the lookup that found it and is not renewed by use, so a key
    revoked anywhere (another worker, ``srs keys revoke``) is refused by every process at
    most ``seconds`` after the revocation commits; the process that revokes forgets its
    entries at once. Only live keys are kept (a refused key is looked up every time), at
    most ``size`` of them, by the hash of the key, never the key.
    """

    def __init__(self, seconds: float, size: int = 1024, clock=time.monotonic):
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, key_hash: str, caller: Caller, looked_up_at: float) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.size:
                now = self.clock()
                self._entries = {h: e for h, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= self.size:
                    self._entries.clear()
            self._entries[key_hash] = (looked_up_at + self.seconds, caller)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def init_app(app: Flask) -> None:
    app.extensions[CALLER_CACHE_KEY] = CallerCache(app.config["API_KEY_CACHE_SECONDS"])


def caller_cache() -> CallerCache:
    return current_app.extensions[CALLER_CACHE_KEY]


def forget_keys_after_commit() -> None:
    """A key was revoked: after the commit, this process looks every key up again (other
    processes do within the cache's bound)."""
    g.after_commit = (*g.get("after_commit", ()), caller_cache().clear)


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
        caller = key_caller(presented)
        if caller is None:
            raise Unauthorized("The API key is unknown or revoked.")
    if not scope_allows(caller.scope, needed):
        raise Forbidden(f"This operation needs a key with the '{needed}' scope.")
    return caller


def key_caller(presented: str) -> Caller | None:
    """The live key ``presented`` stands for: from the process's cache, else looked up in
    the request's own unit of work (one connection checkout and transaction a request)."""
    cache = caller_cache()
    presented_hash = hash_key(presented)
    caller = cache.get(presented_hash)
    if caller is not None:
        return caller
    looked_up_at = cache.clock()
    row = find_key(request_uow().session, presented)
    if row is None:
        return None
    caller = Caller(row.id, row.name, row.scope)
    cache.put(presented_hash, caller, looked_up_at)
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
