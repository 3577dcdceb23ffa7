"""The dashboard through the Flask test client: sign-in, pages, verdicts, CSRF, headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Claim, ScoreHistory, Verdict
from service.web.database import unit_of_work

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return TOKEN.search(page.text).group(1)


def sign_in(client, key: str):
    return client.post("/login", data={"key": key, "csrf_token": csrf_token(client), "next": "/"})


def claim_id(app, key: str) -> int:
    with unit_of_work(app) as uow:
        return uow.session.scalar(select(Claim.id).where(Claim.key == key))


def counts(app, claim: int) -> tuple:
    with unit_of_work(app) as uow:
        session = uow.session
        return (
            session.scalar(select(Claim.status).where(Claim.id == claim)),
            session.scalar(select(func.count(Verdict.id))),
            session.scalar(select(func.count(AuditEntry.id))),
            session.scalar(select(func.count(ScoreHistory.id))),
        )


MAIN = "hamas-leadership-moved-to-turkey"


# -- signing in ------------------------------------------------------------------------------
def test_pages_need_a_signed_in_key_unless_reads_are_open(seeded, client):
    response = client.get("/claims/1?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/claims/1?x%3D1"
    assert client.get("/board/rows").status_code == 401  # the script's fetch: no redirect


def test_open_reads_show_the_board_without_signing_in(database_url):
    from service.web.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "OPEN_READS": True})
    response = app.test_client().get("/")
    assert response.status_code == 200 and "Sign in" in response.text


def test_sign_in_keeps_the_key_id_in_a_flagged_cookie_never_the_key(seeded, client, api_keys):
    key = api_keys["verdict"]
    response = sign_in(client, key)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert key not in cookie and key[12:] not in cookie  # the secret part never leaves
    board = client.get("/")
    assert board.status_code == 200
    assert "Signed in as" in board.text and "test verdict" in board.text


def test_secure_cookie_when_configured(database_url, api_keys):
    from service.web.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": True})
    client = app.test_client()
    assert "Secure" in sign_in(client, api_keys["read"]).headers["Set-Cookie"]


def test_a_wrong_key_is_refused_and_the_login_form_never_puts_the_key_in_a_url(seeded, client):
    page = client.get("/login")
    assert 'method="post"' in page.text and 'type="password"' in page.text
    response = client.post(
        "/login", data={"key": "srs_not-a-key", "csrf_token": TOKEN.search(page.text).group(1)}
    )
    assert response.status_code == 401 and "unknown or revoked" in response.text
    assert client.get("/").status_code == 302


def test_revoking_the_key_signs_the_browser_out(seeded, client, api_keys, auth):
    sign_in(client, api_keys["read"])
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/claims").status_code == 200
    keys = client.get("/api/v1/keys", headers=auth("admin")).json
    read_key = next(k for k in keys if k["name"] == "test read")
    revoked = client.delete(f"/api/v1/keys/{read_key['id']}", headers=auth("admin"))
    assert revoked.status_code in (200, 204)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/claims").status_code == 401


def test_sign_out_needs_the_token_and_ends_the_session(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_next_never_leaves_the_site(seeded, client, api_keys):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            data={"key": api_keys["read"], "csrf_token": csrf_token(client), "next": target},
        )
        assert response.headers["Location"] == "/"


# -- the API with the dashboard's session ----------------------------------------------------
def test_the_session_reads_the_api_but_never_writes(seeded, client, api_keys):
    sign_in(client, api_keys["admin"])
    assert client.get("/api/v1/claims/1").status_code == 200
    assert client.head("/api/v1/claims/1").status_code == 200
    before = counts(seeded, 1)
    response = client.post("/api/v1/claims/1/verdict", json={"verdict": True})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert counts(seeded, 1) == before
    # An explicit bearer header still wins over the session (here: an unknown key).
    unknown = {"Authorization": "Bearer srs_x"}
    assert client.get("/api/v1/claims", headers=unknown).status_code == 401


# -- the pages -------------------------------------------------------------------------------
def test_board_lists_every_claim_with_its_numbers(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    page = client.get("/?sort=-confidence")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-claim-id="(\d+)"', page.text)
    assert len(rows) == 6
    assert "roughly even chance" in page.text and "likely" in page.text
    assert "4 / 9" in page.text  # clusters / reports of the main claim
    assert 'id="claims-body" data-rows-url="/board/rows?sort=-confidence"' in page.text
    assert re.search(r'<script src="/dashboard/static/dashboard.js', page.text)
    fragment = client.get("/board/rows?sort=-confidence")
    assert re.findall(r'<tr data-claim-id="(\d+)"', fragment.text) == rows
    assert "<html" not in fragment.text


def test_board_filters_and_sorts_server_side(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    confidences = [
        float(c)
        for c in re.findall(r'class="num confidence">(\d+)%', client.get("/?sort=confidence").text)
    ]
    assert confidences == sorted(confidences) and len(confidences) == 6
    assert len(re.findall(r"<tr data-claim-id", client.get("/?q=Herzog").text)) == 1
    assert len(re.findall(r"<tr data-claim-id", client.get("/?min_confidence=0.58").text)) == 1
    assert "No claim matches" in client.get("/?status=resolved_true").text
    bad = client.get("/?min_confidence=lots")
    assert bad.status_code == 200 and "Ignored" in bad.text  # the other filters still apply
    assert len(re.findall(r"<tr data-claim-id", bad.text)) == 6


def test_claim_page_shows_score_charts_clusters_and_no_form_without_verdict_scope(
    seeded, client, api_keys
):
    sign_in(client, api_keys["read"])
    main = claim_id(seeded, MAIN)
    page = client.get(f"/claims/{main}")
    assert page.status_code == 200
    text = page.text
    assert '<svg id="history-chart"' in text and "<polyline" in text
    assert '<svg id="contribution-chart"' in text and text.count('<g class="bar') == 4
    assert text.count('<section class="cluster') == 4  # 9 reports in 4 provenance clusters
    assert text.count('class="report ') == 9
    assert 'repeats <a href="#report-kan-2024-11-17-hamas-move">the report by Kan</a>' in text
    assert 'id="verdict-form"' not in text and "cannot resolve claims" in text
    assert '<script type="application/ld+json">' not in text  # open: no ClaimReview
    assert "<script>" not in text  # no inline script anywhere


def test_outlet_page_shows_reliabilities_reports_and_track_record(seeded, client, api_keys, auth):
    sign_in(client, api_keys["verdict"])
    kan = next(o for o in client.get("/api/v1/outlets").json if o["name"] == "Kan")
    page = client.get(f"/outlets/{kan['id']}")
    assert page.status_code == 200
    assert "75%" in page.text and "not learned yet" in page.text
    assert "None of the claims it reported has been resolved yet" in page.text
    main = claim_id(seeded, MAIN)
    client.post(f"/api/v1/claims/{main}/verdict", json={"verdict": False}, headers=auth("verdict"))
    page = client.get(f"/outlets/{kan['id']}")
    assert "Of 1 resolved claim it reported: 0 where its reports agreed" in page.text
    assert 'class="outcome-disagreed"' in page.text


def test_errors_are_html_pages_on_the_dashboard_and_problems_on_the_api(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    for path in ("/claims/999", "/outlets/999", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path
        assert "<h1>404" in response.text
    response = client.post("/")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"]
    api = client.get("/api/v1/claims/999")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.get("/api/v1/nothing").mimetype == "application/problem+json"


# -- security headers ------------------------------------------------------------------------
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'", "frame-ancestors 'none'"),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("DENY",),
    "Referrer-Policy": ("same-origin",),
}


@pytest.mark.parametrize(
    "path", ["/login", "/", "/claims/1", "/dashboard/static/dashboard.js", "/no-such-page"]
)
def test_every_dashboard_response_carries_the_security_headers(seeded, client, api_keys, path):
    sign_in(client, api_keys["read"])
    response = client.get(path)
    for name, parts in SECURITY_HEADERS.items():
        for part in parts:
            assert part in response.headers.get(name, ""), (path, name)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "http" not in csp


def test_the_page_loads_nothing_from_elsewhere(seeded, client, api_keys):
    sign_in(client, api_keys["verdict"])
    for path in ("/", "/claims/1", "/outlets/1", "/login"):
        text = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', text), path
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), path  # CSP-safe markup


# -- verdicts through the form ---------------------------------------------------------------
def test_verdict_form_without_or_with_a_wrong_token_is_refused_and_changes_nothing(
    seeded, client, api_keys
):
    sign_in(client, api_keys["verdict"])
    main = claim_id(seeded, MAIN)
    assert 'id="verdict-form"' in client.get(f"/claims/{main}").text
    before = counts(seeded, main)
    for data in ({"verdict": "true"}, {"verdict": "true", "csrf_token": "forged"}):
        response = client.post(f"/claims/{main}/verdict", data=data)
        assert response.status_code == 400 and response.mimetype == "text/html"
        assert "security token" in response.text
        assert counts(seeded, main) == before
    # Another browser's token is no good either.
    other = seeded.test_client()
    sign_in(other, api_keys["verdict"])
    stolen = csrf_token(other, "/")
    response = client.post(
        f"/claims/{main}/verdict", data={"verdict": "true", "csrf_token": stolen}
    )
    assert response.status_code == 400 and counts(seeded, main) == before


def test_verdict_form_needs_the_verdict_scope(seeded, client, api_keys):
    sign_in(client, api_keys["write"])
    main = claim_id(seeded, MAIN)
    before = counts(seeded, main)
    response = client.post(
        f"/claims/{main}/verdict",
        data={"verdict": "true", "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert counts(seeded, main) == before


def test_verdict_form_validates_like_the_api(seeded, client, api_keys):
    sign_in(client, api_keys["verdict"])
    main = claim_id(seeded, MAIN)
    before = counts(seeded, main)
    response = client.post(
        f"/claims/{main}/verdict",
        data={"note": "no verdict chosen", "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 422 and "Missing data for required field" in response.text
    assert "no verdict chosen" in response.text  # the note is kept for another try
    assert counts(seeded, main) == before


def test_verdict_form_resolves_the_claim_exactly_as_the_api_does(seeded, client, api_keys, auth):
    main = claim_id(seeded, MAIN)
    other = claim_id(seeded, "qatar-asked-hamas-to-leave")
    sign_in(client, api_keys["verdict"])
    response = client.post(
        f"/claims/{main}/verdict",
        data={"verdict": "false", "note": "Hamas stayed in Doha", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/claims/{main}"
    page = client.get(f"/claims/{main}")
    assert f"Claim {main} resolved false." in page.text and "Hamas stayed in Doha" in page.text
    assert '<script type="application/ld+json">' in page.text
    assert (
        client.post(
            f"/api/v1/claims/{other}/verdict",
            json={"verdict": False, "note": "Hamas stayed in Doha"},
            headers=auth("verdict"),
        ).status_code
        == 200
    )
    with unit_of_work(seeded) as uow:
        session = uow.session
        for claim in (main, other):
            assert session.get(Claim, claim).status == "resolved_false"
            verdict = session.scalars(select(Verdict).where(Verdict.claim_id == claim)).one()
            assert verdict.resolved_by == "key 3 (test verdict)" and verdict.model_confidence
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resolve_claim").order_by(AuditEntry.id)
        ).all()
        assert [(e.actor, e.api_key_id, e.detail) for e in entries] == [
            (
                "test verdict",
                3,
                {"verdict": False, "note": "Hamas stayed in Doha", "replaces_verdict": False},
            )
        ] * 2
    board = client.get("/").text
    assert board.count("resolved: false") == 2
