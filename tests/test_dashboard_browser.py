"""The dashboard in headless Chromium against the real server (`srs serve`, gunicorn).

On the seed story: the board asks for a key, shows the seed claims once signed in, a claim
page shows its charts and evidence, a verdict recorded through the form resolves the
claim, and the board, left open in another tab, changes without a reload: the event stream
(/api/v1/events, read with the dashboard's session) tells it to. Screenshots are
kept under ``artifacts/screenshots/``.

Chromium is Debian's (``scripts/ensure-chromium`` installs it; the test downloads nothing),
driven by Playwright. Under CI a missing browser or driver fails the test; elsewhere it is
skipped with the reason. One backend is enough here (PostgreSQL when configured, the
production path): the database paths behind the pages are tested on both elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from server_harness import Server, srs

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SRS = str(Path(sys.executable).with_name("srs"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAIN = "hamas-leadership-moved-to-turkey"
BACKEND = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing: run scripts/ensure-chromium (as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _srs(env, *args) -> str:
    done = subprocess.run(
        [SRS, *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def _get_json(url: str, key: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def server(database_url):
    # No SECRET_KEY: `srs serve` must give both workers one, or sessions would break
    # whenever a request lands on the other worker.
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DATABASE_URL"] = database_url
    # Every page this test opens holds an event stream, and a page left for another holds
    # its stream until the server notices (about a second): room for them all, so a 503 of
    # the per-worker cap never lands in the console. The cap has tests of its own
    # (test_stream_cap.py, and the polling test below).
    env["SRS_THREADS"] = "8"
    env["SRS_SSE_MAX_STREAMS"] = "6"
    _srs(env, "seed")
    admin = _srs(env, "keys", "bootstrap").split()[-1]
    checker = _srs(env, "keys", "create", "--scope", "verdict", "--name", "fact-checker")
    port = _free_port()
    process = subprocess.Popen(
        [SRS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not start: {process.stderr.read()}")
    yield {"base": base, "admin": admin, "checker": checker.split()[-1]}
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def _assert_chart_text_fits(page, selector: str) -> None:
    """Every text of the chart lies inside its SVG, and no two texts overlap."""
    boxes = page.evaluate(
        """(selector) => {
            const svg = document.querySelector(selector);
            const box = (e) => { const b = e.getBoundingClientRect();
                return {text: e.textContent, left: b.left, right: b.right, top: b.top,
                        bottom: b.bottom}; };
            return {svg: box(svg), texts: [...svg.querySelectorAll('text')].map(box)};
        }""",
        selector,
    )
    svg, texts = boxes["svg"], boxes["texts"]
    assert texts
    for text in texts:
        assert svg["left"] <= text["left"] and text["right"] <= svg["right"], (selector, text)
        assert svg["top"] <= text["top"] and text["bottom"] <= svg["bottom"], (selector, text)
    for index, one in enumerate(texts):
        for other in texts[index + 1 :]:
            apart = (
                one["right"] <= other["left"]
                or other["right"] <= one["left"]
                or one["bottom"] <= other["top"]
                or other["bottom"] <= one["top"]
            )
            assert apart, (selector, one, other)


@pytest.mark.parametrize("database_url", [BACKEND], indirect=True)
def test_sign_in_read_the_board_and_a_claim_record_a_verdict_see_the_board_change(
    browser, server, database_url
):
    base = server["base"]
    backend = BACKEND
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{backend}-{name}.png"), full_page=True)

    claims = _get_json(f"{base}/api/v1/claims?page_size=100", server["admin"])
    assert len(claims) == 6
    main = next(c for c in claims if c["key"] == MAIN)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    problems: list[str] = []

    def watch(page) -> None:
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} at {m.location.get('url')}")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))

    board = context.new_page()
    watch(board)

    # The board asks for a key first; the key goes in a POSTed form, never in the URL.
    board.goto(base + "/")
    assert board.url == base + "/login?next=/"
    shot(board, "01-sign-in")
    board.fill("#key", server["checker"])
    board.click("#login-form button[type=submit]")
    board.wait_for_url(base + "/")
    assert server["checker"] not in board.url

    # Every seed claim, with its confidence, label, clusters / reports and status.
    rows = board.locator("#claims-body tr[data-claim-id]")
    assert rows.count() == 6
    for claim in claims:
        row = board.locator(f'#claims-body tr[data-claim-id="{claim["id"]}"]')
        assert claim["text"] in row.inner_text()
        assert f"{claim['n_clusters']} / {claim['n_reports']}" in row.inner_text()
        assert "open" in row.locator(".status").inner_text()
    # The script runs (the CSP allows it) and follows /api/v1/events with the session.
    board.wait_for_function(
        "() => /live: event stream/.test(document.getElementById('live-status').textContent)"
    )
    shot(board, "02-board")

    # A claim page in another tab: its charts and its evidence by provenance cluster.
    claim_page = context.new_page()
    watch(claim_page)
    claim_page.goto(f"{base}/claims/{main['id']}")
    assert claim_page.locator("h1").inner_text() == main["text"]
    assert claim_page.title().startswith(main["text"][:60])  # the tab shows the text, not the key
    chart = claim_page.locator("#history-chart")
    assert chart.is_visible() and chart.bounding_box()["height"] > 100
    assert claim_page.locator("#history-chart circle.point").count() >= 1
    assert claim_page.locator("#contribution-chart g.bar").count() == main["n_clusters"]
    assert claim_page.locator("section.cluster").count() == main["n_clusters"]
    assert claim_page.locator("li.report").count() == main["n_reports"]
    _assert_chart_text_fits(claim_page, "#contribution-chart")
    _assert_chart_text_fits(claim_page, "#history-chart")
    shot(claim_page, "03-claim")

    # A verdict through the form. Its answer is held back 2.5 s after the server has
    # recorded it, so the page's event stream delivers the verdict's own events first: the
    # "This claim has changed" notice must not appear for the reader's own change.
    claim_page.wait_for_function("() => document.getElementById('claim-live') !== null")
    claim_page.evaluate(
        """() => new MutationObserver(() => {
               if (!document.getElementById('claim-live').hidden) console.warn('claim-live shown');
           }).observe(document.getElementById('claim-live'), {attributes: true})"""
    )
    notices: list[str] = []
    claim_page.on("console", lambda m: notices.append(m.text) if "claim-live" in m.text else None)

    def held_back(route):
        answer = route.fetch(max_redirects=0)
        time.sleep(2.5)
        route.fulfill(response=answer)

    claim_page.route(f"**/claims/{main['id']}/verdict", held_back)
    claim_page.check("#verdict-form input[name=verdict][value=false]")
    claim_page.fill("#note", "Hamas's political bureau stayed in Doha.")
    claim_page.click("#verdict-form button[type=submit]")
    claim_page.wait_for_selector(".flash.info")
    claim_page.unroute(f"**/claims/{main['id']}/verdict")
    claim_page.wait_for_timeout(1500)  # the new page's stream opens and checks once
    assert claim_page.locator("#claim-live").is_hidden() and not notices
    assert f"Claim {main['id']} resolved false." in claim_page.inner_text(".flash.info")
    assert "resolved: false" in claim_page.inner_text("section.score")
    assert claim_page.locator("text=JSON-LD").count() == 1
    shot(claim_page, "04-claim-resolved")

    # The board, untouched in the first tab, shows the verdict without a reload.
    row = board.locator(f'#claims-body tr[data-claim-id="{main["id"]}"]')
    row.locator(".badge.resolved_false").wait_for()
    assert "resolved: false" in row.inner_text()
    assert "changed" in row.get_attribute("class")  # highlighted as it changed
    assert "live: event stream" in board.inner_text("#live-status")  # never fell back to polling
    shot(board, "05-board-updated")

    # The outlet page: Kan's reports and how its claims resolved.
    claim_page.click("a.outlet >> text=Kan")
    claim_page.wait_for_selector("#track-record")
    assert "Of 1 resolved claim it reported" in claim_page.inner_text("#track-record")
    shot(claim_page, "06-outlet")

    # The outlets index, from the header: every outlet, each linking to its page.
    claim_page.click("header nav a >> text=Outlets")
    claim_page.wait_for_selector("#outlets")
    assert claim_page.locator("#outlets tbody tr[data-outlet-id]").count() == 7
    claim_page.click("#outlets a >> text=Reuters")
    claim_page.wait_for_selector("#track-record")
    assert claim_page.locator("h1").inner_text() == "Reuters"

    stored = _get_json(f"{base}/api/v1/claims/{main['id']}", server["admin"])
    assert stored["status"] == "resolved_false" and stored["verdict"] is False
    # No Content-Security-Policy violation, no script error, no failed request.
    assert not problems
    context.close()


def test_a_refused_event_stream_turns_into_polling(browser, database_url, tmp_path):
    """A server that serves no more streams (here none: SRS_SSE_MAX_STREAMS=0) answers the
    board's EventSource with 503; the board says so, polls, and schedules a new try."""
    srs(database_url, "seed")
    env = {"SRS_OPEN_READS": "true", "SRS_SSE_MAX_STREAMS": "0"}
    server = Server(database_url, tmp_path / "server.log", workers=1, extra_env=env).start()
    try:
        context = browser.new_context()
        board = context.new_page()
        refused: list[int] = []
        board.on(
            "response",
            lambda r: refused.append(r.status) if r.url.endswith("/api/v1/events") else None,
        )
        board.goto(f"http://127.0.0.1:{server.port}/")
        assert board.locator("#claims-body tr[data-claim-id]").count() == 6
        board.wait_for_function(
            "() => /polling every 5 s \\(event stream unavailable; trying again in 30 s\\)/"
            ".test(document.getElementById('live-status').textContent)"
        )
        assert refused and set(refused) == {503}
        context.close()
    finally:
        server.kill()
