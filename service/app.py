"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_smorest import Api as SmorestApi

from service import database
from service.config import load_config
from service.errors import ProblemSchema, register_error_handlers, render_http_exception


class Api(SmorestApi):
    """flask-smorest, with our problem+json errors instead of its own error body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        register_error_handlers(self._app)

    def handle_http_exception(self, error):
        return render_http_exception(error)


api = Api()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(config))
    app.json.sort_keys = False
    database.init_app(app)
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
    from service.api import register_blueprints

    register_blueprints(api, app)
    return app
