"""The application factory."""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from flask_smorest import Api as SmorestApi

from service.config import load_config
from service.web import auth, cors, database, observability, request_limits
from service.web.errors import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    ProblemSchema,
    register_error_handlers,
    render_http_exception,
)
from service.web.rate_limits import init_rate_limits

JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


class Api(SmorestApi):
    """flask-smorest, with our problem+json errors instead of its own error body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        register_error_handlers(self._app)

    def handle_http_exception(self, error):
        return render_http_exception(error)

    def _register_responses(self):
        # Error responses are documented as problem+json, which is what they are.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": ProblemSchema}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {
                "description": "Default error response",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": ProblemSchema}},
            },
            lazy=True,
        )


def require_json_body() -> None:
    """Bodies of API writes are JSON; anything else is 415, before validation sees it."""
    if request.method not in JSON_BODY_METHODS or not request.path.startswith("/api/"):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise Problem(
            f"Send the body as application/json, not {mimetype or 'an unnamed type'}.",
            status=415,
            title="Unsupported Media Type",
        )


api = Api()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(config))
    app.json.sort_keys = False
    observability.init_app(app)
    database.init_app(app)
    auth.init_app(app)
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Records reports of claims and scores how confident to be that each "
                    "claim is true, with an interval and an explanation."
                )
            },
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "An API key"}
    )
    from service.web.api import register_blueprints

    register_blueprints(api, app)
    request_limits.init_app(app)
    cors.init_app(app)
    from service.web.dashboard import init_dashboard

    init_dashboard(app)
    app.before_request(require_json_body)
    init_rate_limits(app)
    # Behind SRS_PROXIES reverse proxies (docker-compose.yml: nginx, 1), the client's address
    # and scheme are the ones they pass on (X-Forwarded-For/-Proto/-Host), for the
    # per-address rate limits and the access log; never trusted when no proxy is declared.
    proxies = int(app.config["PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app
