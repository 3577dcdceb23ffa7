"""/models: fitted model versions; fitting and activating one (admin)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from models import ModelVersion
from service.newsroom.editorial import audit
from service.newsroom.learning import (
    NotEnoughHistory,
    activate,
    fit_model_version,
    rescore_in_background,
    version_view,
)
from service.web.api.common import Blueprint, PagedSelect, paginate, read_operation, write_operation
from service.web.auth import current_caller
from service.web.database import database, request_uow
from service.web.errors import Conflict, NotFound

blp = Blueprint("models", __name__, description="Scoring model versions")


class ModelVersionSchema(ma.Schema):
    version = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    training_summary = ma.fields.Dict(allow_none=True)
    metrics = ma.fields.Dict(allow_none=True)
    parameters = ma.fields.Dict()


@blp.route("/models")
class ModelVersions(MethodView):
    @read_operation
    @blp.response(200, ModelVersionSchema(many=True))
    @paginate(blp)
    def get(self):
        """Model versions, newest first; one of them is active."""
        session = request_uow().session
        statement = select(ModelVersion).order_by(ModelVersion.id.desc())
        return PagedSelect(session, statement, version_view)

    @write_operation("admin")
    @blp.response(201, ModelVersionSchema)
    @blp.alt_response(409, response="CONFLICT", description="Too few resolved claims to fit")
    def post(self):
        """Fit a new version on the stored reports and verdicts and activate it; open
        claims are rescored in the background, their history naming the version."""
        session = request_uow().session
        try:
            stored = fit_model_version(session)
        except NotEnoughHistory as error:
            # The request is fine; the stored history is not enough yet (a state conflict).
            raise Conflict(str(error)) from None
        activate(session, stored.version)
        audit(session, current_caller(), "fit_model", f"model:{stored.version}")
        _after_commit_rescore(stored.version)
        return version_view(stored)


@blp.route("/models/<string:version>/activate")
class ModelActivation(MethodView):
    @write_operation("admin")
    @blp.response(200, ModelVersionSchema)
    def post(self, version):
        """Make an existing version active (e.g. roll back); open claims are rescored in
        the background."""
        session = request_uow().session
        try:
            stored = activate(session, version)
        except LookupError:
            raise NotFound(f"No model version {version!r}.") from None
        audit(session, current_caller(), "activate_model", f"model:{version}")
        _after_commit_rescore(version)
        return version_view(stored)


def _after_commit_rescore(version: str) -> None:
    """Rescore open claims once the activation is committed, outside the request."""
    from flask import current_app, g

    app = current_app._get_current_object()

    def start() -> None:
        thread = rescore_in_background(
            database(app).session_factory, cause=f"model {version} activated"
        )
        # Kept so tests (and a graceful shutdown) can wait for it.
        app.extensions.setdefault("srs.background", []).append(thread)

    g.after_commit = (*g.get("after_commit", ()), start)
