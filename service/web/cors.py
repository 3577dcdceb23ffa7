"""Cross-origin requests (flask-cors): off unless ``SRS_CORS_ORIGINS`` names the origins.

Browsers then let pages from those origins call the API with a bearer key. Only ``/api/``
answers CORS; credentials (cookies) are never allowed, the key travels in a header. The
headers a client needs to read (pagination, ETag, rate limits, Retry-After) are exposed.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match"]
EXPOSED_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "X-Pagination",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Idempotent-Replayed",
]


def parse_origins(value: str | None) -> list[str]:
    """``"https://a.example, https://b.example"`` → the list; empty or unset → []."""
    return [origin.strip() for origin in (value or "").split(",") if origin.strip()]


def init_app(app: Flask) -> None:
    origins = app.config.get("CORS_ORIGINS") or []
    if isinstance(origins, str):
        origins = parse_origins(origins)
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/*": {"origins": origins}},
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        max_age=600,
    )
