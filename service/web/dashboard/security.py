"""The dashboard's defences: a CSRF token on every form, and security headers.

*CSRF.* The session cookie is what signs a browser in, so a page on another site could
otherwise make the browser post a verdict. Every dashboard form carries a random token
kept in the (signed) session; a POST without it, or with another, is refused with 400
before the view runs, and changes nothing. The API is not concerned: its writes need the
``Authorization`` header, which a cross-site form cannot send, and the session stands for
a key there only on GET and HEAD (:mod:`service.web.auth`). SameSite=Lax on the cookie is a
second, independent layer.

*Headers.* The pages load nothing from elsewhere and run no inline script or style, so
the Content-Security-Policy allows only this origin; no page may be framed
(``frame-ancestors 'none'`` and, for older browsers, ``X-Frame-Options: DENY``).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, abort, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csrf_token() -> str:
    """This session's CSRF token (made on first use; a new session gets a new one)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Refuse an unsafe request whose token is missing or not this session's (400)."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "The form's security token is missing or expired. Reload the page, try again.")


def is_dashboard_path(path: str) -> bool:
    return not path.startswith("/api/")


def add_security_headers(response: Response) -> Response:
    """Security headers on every page the dashboard serves (all but ``/api/``)."""
    if is_dashboard_path(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            # Pages show what the signed-in key may read: not for shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
    return response
