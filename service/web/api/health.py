"""Liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from service.web.database import database
from service.web.errors import ProblemSchema, ServiceUnavailable

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up (does not touch the database)."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=ProblemSchema, description="The database is unavailable")
    def get(self):
        """The database answers a trivial query."""
        try:
            with database().engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            raise ServiceUnavailable(
                "The database is unavailable.", headers={"Retry-After": "5"}
            ) from None
        return {"status": "ok"}


def register_root_aliases(app: Flask) -> None:
    """Probes at ``/healthz`` and ``/readyz`` too, where orchestrators look for them."""
    app.add_url_rule("/healthz", "healthz", lambda: Liveness().get())
    app.add_url_rule("/readyz", "readyz", lambda: Readiness().get())
