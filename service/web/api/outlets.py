"""/outlets: who reports, with their prior and learned reliability."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import func, select

from models import Outlet, OutletAlias, OutletDomain, Report
from service.newsroom.claims import escape_like
from service.newsroom.editorial import (
    add_outlet_name,
    create_outlet,
    edit_outlet,
    get_or_404,
    merge_outlets,
    remove_outlet_name,
)
from service.newsroom.model_store import active_parameters
from service.web.api.common import (
    Blueprint,
    PagedSelect,
    paginate,
    read_operation,
    write_operation,
)
from service.web.api.presenters import outlet_view
from service.web.api.schemas import (
    OutletAliasSchema,
    OutletDomainSchema,
    OutletInSchema,
    OutletListArgs,
    OutletMergedSchema,
    OutletMergeSchema,
    OutletPatchSchema,
    OutletSchema,
)
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
    @blp.arguments(OutletInSchema)
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


@blp.route("/outlets/<int:outlet_id>/merge")
class OutletMerge(MethodView):
    @write_operation("admin")
    @blp.arguments(OutletMergeSchema)
    @blp.response(200, OutletMergedSchema)
    def post(self, fields, outlet_id):
        """Merge another outlet into this one (admin): two names of one outlet become one.
        Its reports, aliases and domains move here, its name becomes an alias, it is
        deleted, and the claims it reported on are rescored; the audit says who."""
        session = request_uow().session
        target = get_or_404(session, Outlet, outlet_id, "outlet")
        source = get_or_404(session, Outlet, fields["from_outlet_id"], "outlet")
        moved = merge_outlets(session, target, source, current_caller())
        outlet, count = _outlet_with_count(session, outlet_id)
        return {
            "outlet": outlet_view(outlet, active_parameters(session), count),
            "reports_moved": moved,
        }


def _names_route(model, schema, field: str):
    """GET and POST on /outlets/{id}/{field}s, DELETE on /outlets/{id}/{field}s/{row id}."""
    plural = f"{field}es" if field.endswith("s") else f"{field}s"

    class Names(MethodView):
        @read_operation
        @blp.response(200, schema(many=True))
        def get(self, outlet_id):
            session = request_uow().session
            get_or_404(session, Outlet, outlet_id, "outlet")
            return session.scalars(
                select(model).where(model.outlet_id == outlet_id).order_by(model.id)
            ).all()

        @write_operation("admin")
        @blp.arguments(schema)
        @blp.response(201, schema)
        @blp.alt_response(200, schema=schema, description=f"The outlet had this {field} already")
        def post(self, fields, outlet_id):
            session = request_uow().session
            outlet = get_or_404(session, Outlet, outlet_id, "outlet")
            row, created = add_outlet_name(session, outlet, field, fields[field], current_caller())
            return row, 201 if created else 200

    class NameById(MethodView):
        @write_operation("admin", idempotent=False)
        @blp.response(204)
        def delete(self, outlet_id, row_id):
            session = request_uow().session
            outlet = get_or_404(session, Outlet, outlet_id, "outlet")
            remove_outlet_name(session, outlet, model, row_id, current_caller())

    Names.get.__doc__ = f"The outlet's {plural}."
    Names.post.__doc__ = (
        f"Give the outlet a{'n' if field == 'alias' else ''} {field} (admin). Refused with 409 "
        "if another outlet answers to it already."
    )
    NameById.delete.__doc__ = (
        f"Take a{'n' if field == 'alias' else ''} {field} from the outlet (admin)."
    )
    Names.__name__ = f"Outlet{plural.capitalize()}"
    NameById.__name__ = f"Outlet{field.capitalize()}ById"
    blp.route(f"/outlets/<int:outlet_id>/{plural}")(Names)
    blp.route(f"/outlets/<int:outlet_id>/{plural}/<int:row_id>")(NameById)


_names_route(OutletAlias, OutletAliasSchema, "alias")
_names_route(OutletDomain, OutletDomainSchema, "domain")
