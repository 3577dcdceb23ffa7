"""/models: fitted model versions; fitting and activating one (admin)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from models import ModelVersion
from service.newsroom.editorial import audit
from service.newsroom.learning import (
    NotEnoughHistory,
    RolloutRule,
    UnsafeRollout,
    activate,
    activate_fitted,
    fit_model_version,
    rescore_in_background,
    version_view,
)
from service.web.api.common import Blueprint, PagedSelect, paginate, read_operation, write_operation
from service.web.auth import current_caller
from service.web.database import database, request_uow
from service.web.errors import Conflict, NotFound

blp = Blueprint("models", __name__, description="Scoring model versions")


class ModelComparisonSchema(ma.Schema):
    """A fitted version against the model that was active when it was fitted
    (``scoring.rollout``)."""

    active_version = ma.fields.String(metadata={"description": "The model compared with."})
    claims = ma.fields.Integer(
        metadata={
            "description": "Resolved claims compared on: those whose verdicts the active "
            "model had not seen (all of them for the documented priors)."
        }
    )
    candidate_brier = ma.fields.Float(
        metadata={"description": "Brier score of the new version's out-of-fold confidences."}
    )
    active_brier = ma.fields.Float(
        metadata={"description": "Brier score of the active model on the same claims."}
    )
    difference = ma.fields.Float(
        metadata={"description": "candidate_brier − active_brier (negative: the new is better)."}
    )
    interval = ma.fields.List(
        ma.fields.Float(),
        metadata={"description": "Paired bootstrap percentile interval of the difference."},
    )
    level = ma.fields.Float(metadata={"description": "Level of the interval (0.95)."})
    resamples = ma.fields.Integer(metadata={"description": "Bootstrap resamples of the claims."})
    candidate_worse = ma.fields.Boolean(
        metadata={
            "description": "The whole interval lies above 0: worse beyond noise, so the "
            "version is not activated unless forced."
        }
    )


class ModelVersionSchema(ma.Schema):
    version = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    training_summary = ma.fields.Dict(allow_none=True)
    metrics = ma.fields.Dict(allow_none=True)
    parameters = ma.fields.Dict()
    comparison = ma.fields.Nested(
        ModelComparisonSchema,
        allow_none=True,
        metadata={
            "description": "The comparison with the model active when this version was "
            "fitted; null when none was made (metrics.comparison_skipped says why)."
        },
    )
    activation_refused = ma.fields.String(
        allow_none=True,
        metadata={"description": "Why a freshly fitted version was stored but not activated."},
    )


class FitArguments(ma.Schema):
    force = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Activate even when fitted on too few verdicts, or worse than the "
            "active model beyond noise."
        },
    )


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
    @blp.arguments(FitArguments, location="query")
    @blp.response(201, ModelVersionSchema)
    @blp.alt_response(409, response="CONFLICT", description="Too few resolved claims to fit")
    def post(self, arguments):
        """Fit a new version on the stored reports and verdicts and activate it; open
        claims are rescored in the background, their history naming the version. A version
        fitted on fewer than 30 resolved claims (10 of each verdict), or worse on Brier than
        the active model beyond noise (``comparison``: its out-of-fold confidences against
        the active model's on the resolved claims the active model has not seen, with a
        paired bootstrap 95 % interval of the difference), is stored but not activated
        unless ``force=true``; ``activation_refused`` says why."""
        session = request_uow().session
        try:
            stored = fit_model_version(session)
        except NotEnoughHistory as error:
            # The request is fine; the stored history is not enough yet (a state conflict).
            raise Conflict(str(error)) from None
        audit(session, current_caller(), "fit_model", f"model:{stored.version}")
        try:
            activate_fitted(session, stored, force=arguments["force"], rule=_rollout_rule())
        except UnsafeRollout as refusal:
            return {**version_view(stored), "activation_refused": str(refusal)}
        _after_commit_rescore(stored.version)
        return version_view(stored)


@blp.route("/models/<string:version>/activate")
class ModelActivation(MethodView):
    @write_operation("admin")
    @blp.response(200, ModelVersionSchema)
    def post(self, version):
        """Make an existing version active (e.g. roll back; ``prior-1``, the documented
        priors, always exists); open claims are rescored in the background."""
        session = request_uow().session
        try:
            stored = activate(session, version)
        except LookupError:
            raise NotFound(f"No model version {version!r}.") from None
        audit(session, current_caller(), "activate_model", f"model:{version}")
        _after_commit_rescore(version)
        return version_view(stored)


def _rollout_rule() -> RolloutRule:
    """The activation thresholds; ``MODEL_MIN_RESOLVED`` / ``MODEL_MIN_EACH_VERDICT`` in the
    app config override the defaults."""
    from flask import current_app

    default = RolloutRule()
    return RolloutRule(
        int(current_app.config.get("MODEL_MIN_RESOLVED", default.min_resolved)),
        int(current_app.config.get("MODEL_MIN_EACH_VERDICT", default.min_each_verdict)),
    )


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
