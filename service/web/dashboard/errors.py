"""Errors on dashboard pages are HTML pages; under ``/api/`` they stay problem+json."""

from __future__ import annotations

import logging

from flask import Response, current_app, g, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from service.newsroom.errors import NewsroomError
from service.web.dashboard.security import is_dashboard_path
from service.web.dashboard.views import blp
from service.web.errors import Problem, problem_for, render_http_exception

log = logging.getLogger(__name__)


def error_page(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    g.rendering_error = True
    body = render_template("dashboard/error.html", status=status, title=title, detail=detail)
    response = Response(body, status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@blp.errorhandler(HTTPException)
def page_for_http_exception(error: HTTPException) -> Response:
    headers = {}
    allowed = getattr(error, "valid_methods", None)
    if error.code == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    return error_page(error.code or 500, error.name, error.description or "", headers)


@blp.errorhandler(Problem)
def page_for_problem(error: Problem) -> Response:
    headers = {k: v for k, v in error.headers.items() if k == "Retry-After"}
    return error_page(error.status, error.title, error.detail, headers)


@blp.errorhandler(NewsroomError)
def page_for_newsroom_error(error: NewsroomError) -> Response:
    return page_for_problem(problem_for(error))


@blp.errorhandler(Exception)
def page_for_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on a dashboard page")
    detail = repr(error) if current_app.debug else "Something went wrong on our side."
    return error_page(500, "Internal Server Error", detail)


@blp.errorhandler(DBAPIError)
def page_for_database_error(error: DBAPIError) -> Response:
    # A lost or refused connection is an outage: ask to come back, show no details.
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return error_page(
            503,
            "Service Unavailable",
            "The database is unavailable; try again in a moment.",
            {"Retry-After": "5"},
        )
    return page_for_unexpected(error)


def page_or_problem(error: HTTPException) -> Response:
    """404/405 outside any blueprint: a page for browsers, problem+json under /api/."""
    if is_dashboard_path(request.path):
        return page_for_http_exception(error)
    return render_http_exception(error)
