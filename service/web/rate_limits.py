"""Rate limits per address and per API key (flask-limiter), answering 429 problem+json.

Storage is configurable (``SRS_RATE_LIMIT_STORAGE``): in-process memory by default
(``srs-memory://``, below), so a single ``make run`` needs nothing else; Redis
(``redis://…``) when several gunicorn workers or hosts must share one count.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

from service.newsroom.keys import hash_key
from service.web.auth import presented_key


class InlineSweepMemoryStorage(MemoryStorage):
    """limits' in-process counters, swept for expired entries inline at most once a second.

    The base class starts a new 10 ms timer thread whenever the previous one has fired,
    i.e. about once per request under load; starting a thread cost about 1 ms, a third of
    a score request's CPU (BENCHMARKS.md). Counters are still expired when read, so
    limits are enforced exactly as before; only the memory sweep of idle keys is batched.
    """

    STORAGE_SCHEME = ["srs-memory"]
    SWEEP_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # the base class's private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_INTERVAL
            self._MemoryStorage__expire_events()


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


def _retry_after_only_when_refused(response: Response) -> Response:
    # flask-limiter adds Retry-After (the window's reset) to every answer it counts; on a
    # success it reads as "come back in 60 s" to clients and caches. It stays on 429 and
    # 503 (and any error that set one); the X-RateLimit-* headers stay on every answer.
    if response.status_code < 400:
        response.headers.pop("Retry-After", None)
    return response


def init_rate_limits(app: Flask) -> None:
    # Registered before the limiter's own hook, so it runs after it (Flask runs
    # after_request functions in reverse order).
    app.after_request(_retry_after_only_when_refused)
    limiter.init_app(app)
