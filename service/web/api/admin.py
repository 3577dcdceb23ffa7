"""/keys and /audit: managing API keys and reading who wrote what (admin scope)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from models import ApiKey, AuditEntry
from service.newsroom.editorial import audit, get_or_404
from service.newsroom.keys import issue_key, revoke_key
from service.web.api.common import Blueprint, PagedSelect, paginate, write_operation
from service.web.api.schemas import AuditSchema, KeyCreatedSchema, KeySchema
from service.web.auth import current_caller, forget_keys_after_commit, requires
from service.web.database import request_uow
from service.web.errors import Conflict

blp = Blueprint("admin", __name__, description="API keys and the audit trail (admin)")


def _key_view(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "scope": row.scope,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@blp.route("/keys")
class Keys(MethodView):
    @requires("admin")
    @blp.response(200, KeySchema(many=True))
    @paginate(blp)
    def get(self):
        """List API keys (never the keys themselves)."""
        session = request_uow().session
        return PagedSelect(session, select(ApiKey).order_by(ApiKey.id), _key_view)

    @write_operation("admin")
    @blp.arguments(KeySchema)
    @blp.response(201, KeyCreatedSchema)
    def post(self, fields):
        """Create a key; the response is the only time the key is shown."""
        session = request_uow().session
        issued = issue_key(session, fields["name"], fields["scope"])
        audit(session, current_caller(), "create_key", f"key:{issued.id}", scope=issued.scope)
        row = session.get(ApiKey, issued.id)
        return {**_key_view(row), "key": issued.key}, {"Location": f"/api/v1/keys/{row.id}"}


@blp.route("/keys/<int:key_id>")
class KeyById(MethodView):
    @write_operation("admin", idempotent=False)
    @blp.response(200, KeySchema)
    def delete(self, key_id):
        """Revoke a key; requests with it are refused from now on."""
        session = request_uow().session
        row = get_or_404(session, ApiKey, key_id, "key")
        if row.revoked_at is not None:
            raise Conflict(f"Key {key_id} was already revoked.")
        revoke_key(session, key_id)
        forget_keys_after_commit()
        audit(session, current_caller(), "revoke_key", f"key:{key_id}")
        return _key_view(row)


@blp.route("/audit")
class Audit(MethodView):
    @requires("admin")
    @blp.response(200, AuditSchema(many=True))
    @paginate(blp)
    def get(self):
        """Every write, newest first: which key made it, what and when."""
        session = request_uow().session
        statement = select(AuditEntry).order_by(AuditEntry.id.desc())
        return PagedSelect(
            session,
            statement,
            lambda row: {
                "id": row.id,
                "recorded_at": row.recorded_at,
                "actor": row.actor,
                "action": row.action,
                "target": row.target,
                "detail": row.detail,
            },
        )
