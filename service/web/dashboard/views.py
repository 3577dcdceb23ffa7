"""The dashboard's pages: the claims board, a claim, an outlet, sign in and out, verdicts.

Pages read what the API reads (the same selects and presenters) and a verdict goes
through :func:`service.newsroom.editorial.resolve_claim`, the API's own use case, so audit,
rescoring and score history are the same whichever way a fact-checker resolves a claim.
"""

from __future__ import annotations

import marshmallow as ma
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import and_, func, select

from models import Claim, Outlet, Report, ScoreHistory, Verdict
from service.newsroom.claims import change_24h_column, filtered_claims
from service.newsroom.editorial import get_or_404, resolve_claim
from service.newsroom.keys import Caller, find_key, scope_allows
from service.newsroom.model_store import active_parameters
from service.web.api.claimreview import ClaimReviewSchema, review_of
from service.web.api.presenters import VERDICT_OF_STATUS, outlet_view
from service.web.api.schemas import CLAIM_SORTS, ClaimListArgs, VerdictSchema
from service.web.auth import session_caller
from service.web.dashboard.charts import contribution_chart, history_chart
from service.web.dashboard.evidence import (
    claim_evidence,
    claim_reports,
    outlet_reports,
    reliability_by_version,
    track_record,
)
from service.web.dashboard.security import CSRF_FIELD, check_csrf, csrf_token
from service.web.database import request_uow
from service.web.sessions import forget_key, remember_key

blp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

BOARD_PAGE_SIZE = 50
BOARD_FILTERS = ("status", "q", "min_confidence", "max_confidence", "outlet", "story", "sort")
SORTABLE = ("confidence", "change", "updated")
HISTORY_POINTS = 200
OUTLET_REPORTS = 200
# Reachable without signing in, whatever the deployment's read policy.
PUBLIC_ENDPOINTS = ("dashboard.login", "dashboard.static")


def viewer() -> Caller | None:
    """The key this browser signed in with, checked against the database once a request."""
    if "dashboard_caller" not in g:
        g.dashboard_caller = session_caller()
    return g.dashboard_caller


def published() -> bool:
    """A resolved claim's page, when the deployment publishes them (SRS_PUBLISH_RESOLVED):
    its ClaimReview is meant for search engines, which do not sign in. An open claim, or
    one that does not exist, is treated as today (the sign-in page), so nothing tells them
    apart."""
    if not (
        current_app.config.get("PUBLISH_RESOLVED")
        and request.method in ("GET", "HEAD")
        and request.endpoint == "dashboard.claim_page"
    ):
        return False
    claim = request_uow().session.get(Claim, request.view_args["claim_id"])
    return claim is not None and VERDICT_OF_STATUS.get(claim.status) is not None


@blp.before_request
def guard():
    check_csrf()
    if request.endpoint in PUBLIC_ENDPOINTS or viewer() is not None or published():
        return None
    if current_app.config.get("OPEN_READS") and request.method == "GET":
        return None
    if request.endpoint == "dashboard.board_rows":
        abort(401, "Sign in again to keep the board up to date.")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("dashboard.login", next=target))


@blp.app_context_processor
def page_context():
    # An error page does not look the key up: the error may be the database being down.
    caller = None if g.get("rendering_error") else viewer()
    return {
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token,
        "viewer": caller,
        "can_resolve": caller is not None and scope_allows(caller.scope, "verdict"),
    }


def safe_next(target: str | None) -> str:
    """A local path to go back to after signing in (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.board")


# -- sign in and out -------------------------------------------------------------------------
@blp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("dashboard/login.html", next_url=next_url)
    presented = (request.form.get("key") or "").strip()
    row = find_key(request_uow().session, presented) if presented else None
    if row is None:
        return (
            render_template(
                "dashboard/login.html",
                next_url=next_url,
                error="That key is unknown or revoked.",
            ),
            401,
            {"WWW-Authenticate": 'Bearer realm="srs"'},
        )
    remember_key(row)
    flash(f"Signed in as {row.name} ({row.scope} scope).", "info")
    return redirect(next_url, 303)


@blp.route("/logout", methods=["POST"])
def logout():
    forget_key()
    flash("Signed out.", "info")
    return redirect(url_for("dashboard.login"), 303)


# -- the board -------------------------------------------------------------------------------
def board_filters() -> tuple[dict, dict, dict]:
    """(raw values, parsed arguments, errors) of the board's query string."""
    raw = {name: request.args.get(name, "").strip() for name in BOARD_FILTERS}
    raw = {name: value for name, value in raw.items() if value}
    try:
        return raw, ClaimListArgs().load(raw), {}
    except ma.ValidationError as error:
        valid = {k: v for k, v in raw.items() if k not in error.messages}
        return raw, ClaimListArgs().load(valid), error.messages


def board_page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1


def board_rows(args: dict, page: int):
    session = request_uow().session
    statement = filtered_claims(args)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.execute(
        statement.offset((page - 1) * BOARD_PAGE_SIZE).limit(BOARD_PAGE_SIZE)
    ).all()
    return rows, total


def sort_choices(current: str) -> dict[str, str]:
    """For each sortable column, the sort its header selects (a second click reverses it)."""
    choices = {}
    for column in SORTABLE:
        wanted = column if current == f"-{column}" else f"-{column}"
        choices[column] = wanted if wanted in CLAIM_SORTS else column
    return choices


def sort_marks(current: str) -> dict[str, str]:
    return {
        column: (" ▼" if current == f"-{column}" else " ▲" if current == column else "")
        for column in SORTABLE
    }


@blp.route("/")
def board():
    raw, args, errors = board_filters()
    page = board_page()
    rows, total = board_rows(args, page)
    pages = max(1, -(-total // BOARD_PAGE_SIZE))
    session = request_uow().session
    outlets = session.execute(select(Outlet.id, Outlet.name).order_by(Outlet.name))
    stories = session.scalars(
        select(Claim.story).where(Claim.story.is_not(None)).distinct().order_by(Claim.story)
    )

    def board_url(**changes) -> str:
        return url_for("dashboard.board", **{**raw, **changes})

    return render_template(
        "dashboard/board.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        prev_url=board_url(page=page - 1) if page > 1 else None,
        next_url=board_url(page=page + 1) if page < pages else None,
        filters=raw,
        errors=errors,
        sort=args["sort"],
        sort_urls={c: board_url(sort=s) for c, s in sort_choices(args["sort"]).items()},
        sort_marks=sort_marks(args["sort"]),
        outlets=outlets.all(),
        stories=stories.all(),
        statuses=("open", "resolved_true", "resolved_false"),
        rows_url=url_for("dashboard.board_rows", **raw, **({"page": page} if page > 1 else {})),
    )


@blp.route("/board/rows", endpoint="board_rows")
def board_rows_fragment():
    """The board's rows alone, for the page's script to swap in when claims change."""
    _, args, _ = board_filters()
    rows, _ = board_rows(args, board_page())
    return render_template("dashboard/_board_rows.html", rows=rows)


# -- a claim ---------------------------------------------------------------------------------
def claim_page_context(claim_id: int) -> dict:
    session = request_uow().session
    get_or_404(session, Claim, claim_id, "claim")
    claim, change = session.execute(
        select(Claim, change_24h_column()).where(Claim.id == claim_id)
    ).one()
    reports = claim_reports(session, claim_id)
    history = list(
        reversed(
            session.scalars(
                select(ScoreHistory)
                .where(ScoreHistory.claim_id == claim_id)
                .order_by(ScoreHistory.recorded_at.desc(), ScoreHistory.id.desc())
                .limit(HISTORY_POINTS)
            ).all()
        )
    )
    verdicts = session.scalars(
        select(Verdict).where(Verdict.claim_id == claim_id).order_by(Verdict.id)
    ).all()
    review = review_of(session, claim)
    return {
        "claim": claim,
        "change": change,
        "evidence": claim_evidence(claim, reports),
        "history": history,
        "history_chart": history_chart(history),
        "contribution_chart": contribution_chart(claim.explanation or []),
        "verdicts": verdicts,
        "claim_review": None if review is None else ClaimReviewSchema().dump(review),
        "form_errors": {},
        "form": {},
    }


@blp.route("/claims/<int:claim_id>")
def claim_page(claim_id: int):
    return render_template("dashboard/claim.html", **claim_page_context(claim_id))


@blp.route("/claims/<int:claim_id>/verdict", methods=["POST"])
def claim_verdict(claim_id: int):
    """Resolve the claim from the page's form: the API's use case, the caller's key."""
    caller = viewer()
    if caller is None:
        abort(401, "Sign in with a key that has the verdict scope.")
    if not scope_allows(caller.scope, "verdict"):
        abort(403, "Your key cannot resolve claims: it needs the verdict scope.")
    form = {
        name: request.form[name]
        for name in ("verdict", "note", "replaces_verdict")
        if name in request.form
    }
    # A form sends text; the schema takes JSON booleans only, so the form's own two
    # values are read here and anything else is refused by the schema.
    booleans = {"true": True, "false": False}
    loaded = {
        name: booleans.get(value, value) if name != "note" else value
        for name, value in form.items()
    }
    try:
        fields = VerdictSchema().load(loaded)
    except ma.ValidationError as error:
        context = claim_page_context(claim_id)
        context.update(form_errors=error.messages, form=form)
        return render_template("dashboard/claim.html", **context), 422
    uow = request_uow()
    g.caller = caller
    resolve_claim(
        uow.session,
        claim_id,
        fields["verdict"],
        fields["note"],
        caller,
        replaces_verdict=fields["replaces_verdict"],
    )
    uow.commit()
    for run_after_commit in g.pop("after_commit", ()):
        run_after_commit()
    found = "true" if fields["verdict"] else "false"
    flash(f"Claim {claim_id} resolved {found}.", "info")
    return redirect(url_for("dashboard.claim_page", claim_id=claim_id), 303)


# -- outlets ---------------------------------------------------------------------------------
@blp.route("/outlets")
def outlets_index():
    """Every outlet: kind, prior, the reliability and grade scoring uses now, live reports."""
    session = request_uow().session
    live = and_(Report.outlet_id == Outlet.id, Report.retracted_at.is_(None))
    rows = session.execute(
        select(Outlet, func.count(Report.id))
        .outerjoin(Report, live)
        .group_by(Outlet.id)
        .order_by(Outlet.name, Outlet.id)
    ).all()
    params = active_parameters(session)
    return render_template(
        "dashboard/outlets.html", outlets=[outlet_view(o, params, n) for o, n in rows]
    )


@blp.route("/outlets/<int:outlet_id>")
def outlet_page(outlet_id: int):
    session = request_uow().session
    outlet = get_or_404(session, Outlet, outlet_id, "outlet")
    reports = outlet_reports(session, outlet_id, OUTLET_REPORTS)
    records = track_record(session, outlet_id)
    outcomes = {name: 0 for name in ("agreed", "disagreed", "mixed", "neutral")}
    for record in records:
        outcomes[record.outcome] += 1
    return render_template(
        "dashboard/outlet.html",
        outlet=outlet,
        view=outlet_view(outlet, active_parameters(session)),
        versions=reliability_by_version(session, outlet),
        reports=reports,
        report_limit=OUTLET_REPORTS,
        records=records,
        outcomes=outcomes,
    )
