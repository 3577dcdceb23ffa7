"""/outlets: who reports, with their prior and learned reliability."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import func, select

from models import Outlet, Report
from service.newsroom.editorial import create_outlet, edit_outlet, get_or_404
from service.newsroom.model_store import active_parameters
from service.web.api.common import (
    Blueprint,
    PagedSelect,
    escape_like,
    paginate,
    read_operation,
    write_operation,
)
from service.web.api.presenters import outlet_view
from service.web.api.schemas import OutletListArgs, OutletPatchSchema, OutletSchema
from service.web.auth import current_caller
from service.web.database import request_uow

blp = Blueprint("outlets", __name__, description="Outlets and their reliability")


def _report_count():
    return (
        select(func.count(Report.id))
        .where(Report.outlet_id == Outlet.id, Report.retracted_at.is_(None))
        .correlate(Outlet)
        .scalar_subquery()
        .label("n_reports")
    )


def _outlet_with_count(session, outlet_id: int):
    get_or_404(session, Outlet, outlet_id, "outlet")
    return session.execute(select(Outlet, _report_count()).where(Outlet.id == outlet_id)).one()


@blp.route("/outlets")
class Outlets(MethodView):
    @read_operation
    @blp.etag
    @blp.arguments(OutletListArgs, location="query")
    @blp.response(200, OutletSchema(many=True))
    @paginate(blp)
    def get(self, args):
        """List outlets (filter by kind or name)."""
        statement = select(Outlet, _report_count()).order_by(Outlet.name, Outlet.id)
        if "kind" in args:
            statement = statement.where(Outlet.kind == args["kind"])
        if "q" in args:
            statement = statement.where(
                Outlet.name.ilike(f"%{escape_like(args['q'])}%", escape="\\")
            )
        session = request_uow().session
        params = active_parameters(session)
        return PagedSelect(session, statement, lambda row: outlet_view(row[0], params, row[1]))

    @write_operation("admin")
    @blp.arguments(OutletSchema)
    @blp.response(201, OutletSchema)
    def post(self, fields):
        """Add an outlet with its prior reliability and the reason for it (admin)."""
        session = request_uow().session
        outlet = create_outlet(session, fields, current_caller())
        view = outlet_view(outlet, active_parameters(session), 0)
        return view, {"Location": f"/api/v1/outlets/{outlet.id}"}


@blp.route("/outlets/<int:outlet_id>")
class OutletById(MethodView):
    @read_operation
    @blp.etag
    @blp.response(200, OutletSchema)
    def get(self, outlet_id):
        """One outlet."""
        session = request_uow().session
        outlet, count = _outlet_with_count(session, outlet_id)
        return outlet_view(outlet, active_parameters(session), count)

    @write_operation("admin", idempotent=False)
    @blp.etag
    @blp.arguments(OutletPatchSchema)
    @blp.response(200, OutletSchema)
    def patch(self, changes, outlet_id):
        """Change an outlet (admin; send If-Match with its ETag). Rescores its claims."""
        session = request_uow().session
        outlet, count = _outlet_with_count(session, outlet_id)
        params = active_parameters(session)
        blp.check_etag(outlet_view(outlet, params, count), OutletSchema)
        edit_outlet(session, outlet, changes, current_caller())
        return outlet_view(outlet, params, count)
