"""Every error is ``application/problem+json`` (RFC 9457), rendered here and only here.

The use cases' own errors (:mod:`service.newsroom.errors`) become problem types in one
place, :func:`problem_for`; the API renders them as problem+json, the dashboard as pages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, json
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from service.newsroom import errors as newsroom

PROBLEM_MEDIA_TYPE = "application/problem+json"
# RFC 9110's names where werkzeug still uses the older ones, so one status has one title.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
log = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem detail; ``errors`` carries field-level messages on 422."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(metadata={"example": "Unprocessable Content"})
    status = ma.fields.Integer(metadata={"example": 422})
    detail = ma.fields.String(metadata={"example": "The request body is invalid."})
    instance = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "Field-level messages, by location and field"})
    suggestions = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "On a report naming an unknown outlet: the closest known outlets "
            "(outlet_id, name, matched, score)"
        },
    )


class Problem(Exception):
    """An error a view raises on purpose; rendered as problem+json with ``status``."""

    status = 400
    title = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ):
        super().__init__(detail)
        # RFC 9457 extension members, beside the standard ones (e.g. "suggestions").
        self.extensions = dict(extensions or {})
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable Content"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class PreconditionFailed(Problem):
    status, title = 412, "Precondition Failed"


class ServiceUnavailable(Problem):
    status, title = 503, "Service Unavailable"


# The use cases' errors and the problem type each becomes (InvalidInput: see problem_for).
NEWSROOM_PROBLEMS: dict[type[newsroom.NewsroomError], type[Problem]] = {
    newsroom.NotFound: NotFound,
    newsroom.Conflict: Conflict,
    newsroom.Forbidden: Forbidden,
}


def problem_for(error: newsroom.NewsroomError) -> Problem:
    """The problem a use case's error is, for the API and the dashboard alike."""
    if isinstance(error, newsroom.InvalidInput):
        # The use cases name fields of the request body, which webargs calls "json".
        return Unprocessable(error.detail, errors={"json": error.fields})
    for kind, problem in NEWSROOM_PROBLEMS.items():
        if isinstance(error, kind):
            return problem(error.detail)
    return Problem(error.detail)


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {**(extensions or {})}
    body.update({"type": "about:blank", "title": title, "status": status})
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and flask-smorest's errors (``abort``), with webargs' 422 messages."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    detail = data.get("message") or error.description
    headers = dict(data.get("headers") or {})
    if error.code in (400, 422) and errors:
        detail = "The request is invalid; see errors for each field."
    if error.code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="srs"')
    if error.code == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    status = error.code or 500
    return problem_response(status, TITLES.get(status, error.name), detail, errors, headers)


def render_problem(error: Problem) -> Response:
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="srs"')
    return problem_response(
        error.status, error.title, error.detail, error.errors, headers, error.extensions
    )


def render_newsroom_error(error: newsroom.NewsroomError) -> Response:
    return render_problem(problem_for(error))


def render_integrity_error(error: IntegrityError) -> Response:
    log.info("integrity error: %s", error.orig)
    return problem_response(409, "Conflict", "The change conflicts with stored data.")


# A deadlock or serialization failure: the transaction was rolled back whole, so the same
# request (with its Idempotency-Key) can simply be sent again.
TRANSACTION_CONFLICTS = {"40001", "40P01"}


def render_database_error(error: DBAPIError) -> Response:
    if getattr(error.orig, "sqlstate", None) in TRANSACTION_CONFLICTS:
        log.info("transaction conflict: %s", type(error.orig).__name__)
        return problem_response(
            503,
            "Service Unavailable",
            "The change collided with a concurrent one and was not made; send it again.",
            headers={"Retry-After": "1"},
        )
    # A lost or refused connection is an outage: tell clients to come back, leak nothing.
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return problem_response(
            503,
            "Service Unavailable",
            "The database is unavailable; retry later.",
            headers={"Retry-After": "5"},
        )
    return render_unexpected(error)


def render_unexpected(error: Exception) -> Response:
    log.exception("unhandled error")
    detail = repr(error) if current_app.debug else "An unexpected error occurred."
    return problem_response(500, "Internal Server Error", detail)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Problem, render_problem)
    app.register_error_handler(newsroom.NewsroomError, render_newsroom_error)
    app.register_error_handler(IntegrityError, render_integrity_error)
    app.register_error_handler(DBAPIError, render_database_error)
    app.register_error_handler(Exception, render_unexpected)
