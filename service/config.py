"""Configuration read from the environment, overridable by a mapping (tests, CLI)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from models.database import default_database_url, normalize_url


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.strip() else None


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings the app reads; each environment variable is named in ``ENVIRONMENT``."""
    config: dict[str, Any] = {
        "DATABASE_URL": default_database_url(),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or os.urandom(32).hex(),
        # How long each process trusts a key it found live without looking it up again:
        # the most a revocation takes to reach every worker (0: look up every request).
        "API_KEY_CACHE_SECONDS": float(os.environ.get("SRS_KEY_CACHE_SECONDS", 5)),
        # Reads need a key unless a deployment opts into open reads.
        "OPEN_READS": _flag("SRS_OPEN_READS"),
        # Each resolved claim's dashboard page (with its ClaimReview) readable without signing
        # in, for search engines; open claims and every other page stay behind the key.
        "PUBLISH_RESOLVED": _flag("SRS_PUBLISH_RESOLVED"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("SRS_MAX_BODY_BYTES", 2 * 1024 * 1024)),
        "MAX_PAGE_SIZE": 100,
        "BATCH_LIMIT": 1000,
        "SIMILARITY_WARNING_THRESHOLD": float(os.environ.get("SRS_SIMILARITY_WARNING", 0.6)),
        "API_TITLE": "Source-reliability scoring API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "v1/openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": os.environ.get("SRS_SWAGGER_UI_URL", ""),
        "JSON_SORT_KEYS": False,
        "RATE_LIMIT_PER_ADDRESS": os.environ.get("SRS_RATE_LIMIT_PER_ADDRESS", "1200/minute"),
        "RATE_LIMIT_PER_KEY": os.environ.get("SRS_RATE_LIMIT_PER_KEY", "600/minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("SRS_RATE_LIMIT_STORAGE", "srs-memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXIES": int(os.environ.get("SRS_PROXIES") or 0),
        # Origins allowed to call the API from a browser; none (CORS off) unless set.
        "CORS_ORIGINS": os.environ.get("SRS_CORS_ORIGINS", ""),
        # The dashboard's login session (a signed cookie holding the key's id, never the key).
        "SESSION_COOKIE_NAME": "srs_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SRS_SECURE_COOKIES"),
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=float(os.environ.get("SRS_SESSION_HOURS", 12))
        ),
        # Absolute links (ClaimReview's url) and who publishes the reviews.
        "PUBLIC_URL": os.environ.get("SRS_PUBLIC_URL", ""),
        "PUBLISHER_NAME": os.environ.get("SRS_PUBLISHER_NAME", "Source-reliability scoring"),
        "PUBLISHER_URL": os.environ.get("SRS_PUBLISHER_URL", ""),
        # Server-Sent Events (/api/v1/events): a stream ends after this long and the client
        # reconnects with Last-Event-ID, so no gunicorn thread is held for good.
        "SSE_STREAM_SECONDS": float(os.environ.get("SRS_SSE_STREAM_SECONDS", 60)),
        # Streams one process serves at once (each holds a thread under gunicorn); past
        # it a stream is refused with 503 and Retry-After. None: no cap (in-process
        # servers); `srs serve` sets it to its threads less two unless this is set.
        "SSE_MAX_STREAMS": _optional_int(os.environ.get("SRS_SSE_MAX_STREAMS")),
        "SSE_POLL_SECONDS": 1.0,
        "SSE_HEARTBEAT_SECONDS": 15.0,
        "SSE_RETRY_MILLISECONDS": 3000,
        # Webhooks may point at loopback, private and link-local addresses only when set
        # (receivers on a private network, tests); see service.delivery.targets.
        "WEBHOOK_ALLOW_PRIVATE": _flag("SRS_WEBHOOK_ALLOW_PRIVATE"),
        # Read by `srs serve` and `srs worker`, which configure logging for their process.
        "LOG_LEVEL": os.environ.get("SRS_LOG_LEVEL", "INFO"),
        "LOG_FORMAT": os.environ.get("SRS_LOG_FORMAT", "json"),
    }
    if overrides:
        config.update(overrides)
    config["DATABASE_URL"] = normalize_url(config["DATABASE_URL"])
    return config


# The environment variables the app reads, for the docs and the docker-compose test.
ENVIRONMENT = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SRS_OPEN_READS",
    "SRS_KEY_CACHE_SECONDS",
    "SRS_PUBLISH_RESOLVED",
    "SRS_MAX_BODY_BYTES",
    "SRS_SIMILARITY_WARNING",
    "SRS_SWAGGER_UI_URL",
    "SRS_RATE_LIMIT_PER_ADDRESS",
    "SRS_RATE_LIMIT_PER_KEY",
    "SRS_RATE_LIMIT_STORAGE",
    "SRS_CORS_ORIGINS",
    "SRS_PROXIES",
    "SRS_SECURE_COOKIES",
    "SRS_SESSION_HOURS",
    "SRS_PUBLIC_URL",
    "SRS_PUBLISHER_NAME",
    "SRS_PUBLISHER_URL",
    "SRS_SSE_STREAM_SECONDS",
    "SRS_SSE_MAX_STREAMS",
    "SRS_WEBHOOK_ALLOW_PRIVATE",
    "SRS_DUPLICATE_SOURCE_WINDOW_HOURS",
    "SRS_LOG_LEVEL",
    "SRS_LOG_FORMAT",
    # Read by scripts/entrypoint (the container's first start) and `srs keys bootstrap`.
    "SRS_LOAD_SEED",
    "SRS_ADMIN_KEY_FILE",
)
