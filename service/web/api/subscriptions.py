"""/subscriptions: webhooks that receive events, and what was delivered to them (admin).

Admin scope, for three reasons: a subscription makes the server send data to any URL it
names (so creating one is a privilege, not a read), a subscription's URL and filter show
another party's integration, and a change of URL would redirect someone else's signed
events. A newsroom asks its admin for a webhook as it asks for a key.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from marshmallow import validate
from sqlalchemy import select

from models import Subscription
from models.tables import DELIVERY_STATUSES
from service.delivery.events import EVENT_TYPES
from service.newsroom.editorial import get_or_404
from service.newsroom.subscriptions import (
    create_subscription,
    deactivate_subscription,
    deliveries_statement,
    delivery_view,
    subscription_view,
    update_subscription,
)
from service.web.api.common import (
    Blueprint,
    PagedSelect,
    StrictBoolean,
    StrictFloat,
    StrictInteger,
    StrictSchema,
    paginate,
    write_operation,
)
from service.web.api.schemas import HTTP_URL_PATTERN
from service.web.auth import current_caller, requires
from service.web.database import request_uow

blp = Blueprint(
    "subscriptions", __name__, description="Webhook subscriptions and their deliveries (admin)"
)

PROBABILITY = validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False)
# A list, not validate.And, and a pattern rather than validate.URL: the document then says
# exactly what is accepted (tests/test_api_fuzz.py holds the two to each other).
WEBHOOK_URL = [validate.Length(max=2000), validate.Regexp(HTTP_URL_PATTERN)]
SECRET = validate.Length(min=16, max=200)


class OutletRef(ma.fields.Field):
    """An outlet by id (integer) or slug (string)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ma.ValidationError("Must be an outlet id (integer) or slug (string).")
        if isinstance(value, str) and not 1 <= len(value) <= 200:
            raise ma.ValidationError("Must be 1 to 200 characters.")
        if isinstance(value, int) and not 1 <= value <= 2**31 - 1:
            raise ma.ValidationError(f"An outlet id is 1 to {2**31 - 1}.")
        return value


class ThresholdsSchema(StrictSchema):
    above = StrictFloat(
        validate=PROBABILITY,
        metadata={"description": "Notify when the confidence goes above this", "example": 0.8},
    )
    below = StrictFloat(
        validate=PROBABILITY,
        metadata={"description": "Notify when the confidence goes below this", "example": 0.2},
    )

    @ma.validates_schema
    def one_bound_at_least(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give above, below or both.")
        if "above" in data and "below" in data and data["below"] >= data["above"]:
            raise ma.ValidationError("below must be less than above.", "below")


class FilterSchema(StrictSchema):
    """Which events a subscription receives: every criterion given must hold; a list
    matches any of its values. ``thresholds`` narrows claim.score_changed events to
    crossings and ``verdicts`` narrows claim.resolved events; without ``event_types``,
    a filter with either receives only the events those criteria are about."""

    event_types = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1),
        metadata={"example": ["claim.score_changed", "claim.resolved"]},
    )
    claim_ids = ma.fields.List(
        StrictInteger(validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(min=1, max=1000),
    )
    outlets = ma.fields.List(
        OutletRef(
            metadata={
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    {"type": "string", "minLength": 1, "maxLength": 200},
                ]
            }
        ),
        validate=validate.Length(min=1, max=1000),
        metadata={
            "description": "Outlet ids or slugs (stored as ids): their reports, and events "
            "of claims they reported"
        },
    )
    thresholds = ma.fields.Nested(ThresholdsSchema)
    verdicts = ma.fields.List(StrictBoolean(), validate=validate.Length(min=1, max=2))


class SubscriptionSchema(StrictSchema):
    id = ma.fields.Integer(dump_only=True)
    url = ma.fields.String(
        required=True,
        validate=WEBHOOK_URL,
        metadata={"example": "https://newsroom.example/hooks/srs"},
    )
    description = ma.fields.String(load_default="", validate=validate.Length(max=500))
    filter = ma.fields.Nested(
        FilterSchema,
        allow_none=True,
        load_default=None,
        metadata={"description": "null: every event"},
    )
    active = ma.fields.Boolean(dump_only=True)
    created_by = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class SubscriptionInSchema(SubscriptionSchema):
    secret = ma.fields.String(
        load_only=True,
        validate=SECRET,
        metadata={"description": "Signing secret (16+ characters); made for you if omitted"},
    )


class SubscriptionCreatedSchema(SubscriptionSchema):
    secret = ma.fields.String(
        dump_only=True,
        metadata={"description": "The signing secret: shown in this answer only"},
    )


class SubscriptionPatchSchema(StrictSchema):
    url = ma.fields.String(validate=WEBHOOK_URL)
    description = ma.fields.String(validate=validate.Length(max=500))
    filter = ma.fields.Nested(FilterSchema, allow_none=True)
    active = StrictBoolean(metadata={"description": "false cancels the deliveries still owed"})
    secret = ma.fields.String(
        load_only=True, validate=SECRET, metadata={"description": "A new signing secret"}
    )


class SubscriptionListArgs(StrictSchema):
    active = ma.fields.Boolean()


class DeliveryListArgs(StrictSchema):
    status = ma.fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.Integer()
    event_type = ma.fields.String()
    claim_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(
        metadata={"description": "pending, delivered, failed (gave up) or cancelled"}
    )
    attempts = ma.fields.Integer()
    failures = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    last_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    last_status = ma.fields.Integer(allow_none=True, metadata={"description": "HTTP status"})
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


def _get(subscription_id: int) -> Subscription:
    return get_or_404(request_uow().session, Subscription, subscription_id, "subscription")


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @requires("admin")
    @blp.etag
    @blp.arguments(SubscriptionListArgs, location="query")
    @blp.response(200, SubscriptionSchema(many=True))
    @paginate(blp)
    def get(self, args):
        """Subscriptions, oldest first (never their secrets)."""
        statement = select(Subscription).order_by(Subscription.id)
        if "active" in args:
            statement = statement.where(Subscription.active.is_(args["active"]))
        return PagedSelect(request_uow().session, statement, subscription_view)

    @write_operation("admin")
    @blp.arguments(SubscriptionInSchema)
    @blp.response(201, SubscriptionCreatedSchema)
    def post(self, fields):
        """Subscribe a URL to events. Each delivery is a POST of the event JSON signed with
        the secret (header X-SRS-Signature); the answer shows the secret, once."""
        row, secret = create_subscription(
            request_uow().session,
            fields,
            current_caller(),
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
        )
        body = {**subscription_view(row), "secret": secret}
        return body, {"Location": f"/api/v1/subscriptions/{row.id}"}


@blp.route("/subscriptions/<int:subscription_id>")
class SubscriptionById(MethodView):
    @requires("admin")
    @blp.etag
    @blp.response(200, SubscriptionSchema)
    def get(self, subscription_id):
        """One subscription (without its secret)."""
        return subscription_view(_get(subscription_id))

    @write_operation("admin", idempotent=False)
    @blp.etag
    @blp.arguments(SubscriptionPatchSchema)
    @blp.response(200, SubscriptionSchema)
    def patch(self, changes, subscription_id):
        """Change the URL, filter, description, secret or active flag (send If-Match with
        its ETag). Deactivating cancels the deliveries still owed."""
        row = _get(subscription_id)
        blp.check_etag(subscription_view(row), SubscriptionSchema)
        update_subscription(
            request_uow().session,
            row,
            changes,
            current_caller(),
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
        )
        return subscription_view(row)

    @write_operation("admin", idempotent=False)
    @blp.response(200, SubscriptionSchema)
    def delete(self, subscription_id):
        """Deactivate the subscription: nothing more is sent and deliveries still owed are
        cancelled. Its record and delivery history stay."""
        row = _get(subscription_id)
        deactivate_subscription(request_uow().session, row, current_caller())
        return subscription_view(row)


@blp.route("/subscriptions/<int:subscription_id>/deliveries")
class SubscriptionDeliveries(MethodView):
    @requires("admin")
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @paginate(blp)
    def get(self, args, subscription_id):
        """The subscription's deliveries, newest first: attempts, last HTTP status or
        error, when it was delivered or when the next attempt is due."""
        _get(subscription_id)
        statement = deliveries_statement(subscription_id, args.get("status"))
        return PagedSelect(request_uow().session, statement, delivery_view)
