"""The fact-checkers' dashboard: server-rendered pages at ``/`` on the API's own app.

Jinja templates, inline SVG charts and one small script (live updates through the
``/api/v1/events`` stream, or polling while it is unavailable); no build step and nothing
loaded from another site. Errors here are HTML pages; the API keeps problem+json.
"""

from __future__ import annotations

from flask import Flask

from service.web.dashboard import errors, formatting  # noqa: F401  (registers on the blueprint)
from service.web.dashboard.security import add_security_headers
from service.web.dashboard.views import blp


def init_dashboard(app: Flask) -> None:
    app.register_blueprint(blp)
    app.register_error_handler(404, errors.page_or_problem)
    app.register_error_handler(405, errors.page_or_problem)
    app.after_request(add_security_headers)
