"""Rate limits per address and per API key (flask-limiter), answering 429 problem+json.

Storage is configurable (``SRS_RATE_LIMIT_STORAGE``): in-process memory by default, so a
single ``make run`` needs nothing else; Redis (``redis://…``) when several gunicorn workers
or hosts must share one count.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address

from service.auth import presented_key
from service.keys import hash_key

PROBES = ("/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz")


def _api_key_identity() -> str:
    # A hash, never the key itself: limiter storage (Redis) must not hold secrets.
    return "key:" + hash_key(presented_key() or "")[:24]


def _not_limited() -> bool:
    return not request.path.startswith("/api/") or request.path in PROBES


def _anonymous_or_not_limited() -> bool:
    return _not_limited() or presented_key() is None


limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[
        Limit(
            lambda: current_app.config["RATE_LIMIT_PER_ADDRESS"],
            key_function=get_remote_address,
            scope="address",
            exempt_when=_not_limited,
        ),
        Limit(
            lambda: current_app.config["RATE_LIMIT_PER_KEY"],
            key_function=_api_key_identity,
            scope="api-key",
            exempt_when=_anonymous_or_not_limited,
        ),
    ],
    headers_enabled=True,
)
