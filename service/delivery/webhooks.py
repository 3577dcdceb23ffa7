"""Webhook requests: the body, the signature and one HTTP attempt.

Signature scheme (the README shows a receiver's check)::

    X-SRS-Timestamp: 1732017600                       (Unix seconds when it was sent)
    X-SRS-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

The timestamp is inside the signed material so a captured request cannot be replayed
later with a fresh timestamp; receivers reject timestamps more than five minutes away
from their clock and drop duplicates by ``X-SRS-Event-Id`` (delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-SRS-Signature"
TIMESTAMP_HEADER = "X-SRS-Timestamp"
EVENT_ID_HEADER = "X-SRS-Event-Id"
EVENT_TYPE_HEADER = "X-SRS-Event-Type"
DELIVERY_ID_HEADER = "X-SRS-Delivery-Id"
ATTEMPT_HEADER = "X-SRS-Delivery-Attempt"
SIGNATURE_TOLERANCE_SECONDS = 300
USER_AGENT = "srs-webhooks/1"
# Receivers answer; they do not send documents back. Read at most this much of a reply.
MAX_REPLY_BYTES = 64 * 1024


def event_body(event: dict[str, Any]) -> bytes:
    """The request body: the event JSON, compact, UTF-8."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    material = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), material, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a matching signature."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def headers_for(
    event: dict[str, Any], body: bytes, secret: str, delivery_id: int, attempt: int
) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: str(event["id"]),
        EVENT_TYPE_HEADER: event["type"],
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        DELIVERY_ID_HEADER: str(delivery_id),
        ATTEMPT_HEADER: str(attempt),
    }


@dataclass(frozen=True)
class AttemptResult:
    status: int | None
    error: str | None = None
    # Not worth retrying: the delivery fails now (a webhook target refused on delivery).
    final: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer other than 2xx: it is retried, not followed, so a signed body
    # never goes to an address the subscription did not name.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> AttemptResult:
    """One POST; any failure becomes an :class:`AttemptResult`, never an exception."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(MAX_REPLY_BYTES)
            return AttemptResult(status=response.status)
    except urllib.error.HTTPError as error:
        return AttemptResult(status=error.code, error=f"HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", error)
        return AttemptResult(status=None, error=f"{type(error).__name__}: {reason}"[:1000])
