"""The small things a fact-checker notices (issue 14, item 9), each held here: no
Retry-After on a success, floats answered to 4 decimals, counts written with their
nouns agreeing, one line from `srs export` and `srs backup` on success, the claim page's
title, the outlets index page. The chart's labels and the verdict notice are held by
tests/test_dashboard_browser.py, a clean Ctrl-C by tests/test_serve_stop.py.
"""

from __future__ import annotations

import json
import re

from test_dashboard import sign_in

from service.cli import main
from service.newsroom.wording import count_of


def test_retry_after_only_on_refusals(database_url, api_keys):
    from service.web.app import create_app

    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "RATE_LIMIT_PER_KEY": "2/minute"}
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_keys['read']}"}
    for _ in range(2):
        answer = client.get("/api/v1/claims", headers=headers)
        assert answer.status_code == 200
        assert "Retry-After" not in answer.headers
        assert "X-RateLimit-Limit" in answer.headers  # the limiter's other headers stay
    refused = client.get("/api/v1/claims", headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _floats(node):
    if isinstance(node, float):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _floats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _floats(value)


def test_floats_are_answered_to_four_decimals(seeded, client, auth):
    answers = [
        client.get(url, headers=auth("read")).get_json()
        for url in (
            "/api/v1/claims?page_size=100",
            "/api/v1/claims/1",
            "/api/v1/claims/1/score",
            "/api/v1/claims/1/history",
            "/api/v1/outlets",
            "/api/v1/claims/similar?text=Hamas+moved+to+Turkey",
        )
    ]
    floats = list(_floats(answers))
    assert len(floats) > 50
    assert all(_decimals(value) <= 4 for value in floats), [v for v in floats if _decimals(v) > 4]
    score = answers[2]
    assert score["confidence"] == round(score["confidence"], 4)


def test_counts_agree_with_their_nouns(seeded, client, auth, cli_runner, database_url):
    assert count_of(1, "report") == "1 report" and count_of(2, "report") == "2 reports"
    assert count_of(0, "cluster") == "0 clusters"
    created = client.post(
        "/api/v1/reports",
        headers=auth("admin"),
        json={
            "claim_key": "one-report-claim",
            "claim": "A claim carried by one report only",
            "outlet": "Reuters",
            "stance": "supports",
            "attribution": "named_official",
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    claim_id = created.get_json()["claim_id"]
    client.post(
        f"/api/v1/claims/{claim_id}/verdict", headers=auth("verdict"), json={"verdict": True}
    )
    review = client.get(f"/api/v1/claims/{claim_id}/claimreview", headers=auth("read")).get_json()
    explanation = review["reviewRating"]["ratingExplanation"]
    assert "1 report in 1 independent provenance cluster)" in explanation
    scores = cli_runner.invoke(main, ["--database-url", database_url, "scores"])
    assert "one-report-claim" in scores.output and "1 report in 1 cluster" in scores.output
    assert not re.search(r"\b1 (reports|clusters)\b", scores.output)
    sign_in(client, auth("read")["Authorization"].split()[-1])
    page = client.get(f"/claims/{claim_id}")
    assert "1 report in 1 independent provenance cluster<" in page.get_data(as_text=True)


def test_export_and_backup_say_what_they_did(seeded, cli_runner, database_url, tmp_path):
    args = ["--database-url", database_url]
    to_stdout = cli_runner.invoke(main, [*args, "export"])
    assert to_stdout.exit_code == 0
    assert to_stdout.stderr.strip() == "exported 24 reports"
    assert len(to_stdout.stdout.splitlines()) == 24  # the records alone on stdout
    out = tmp_path / "out.jsonl"
    to_file = cli_runner.invoke(main, [*args, "export", "--out", str(out)])
    assert to_file.stdout.strip() == f"exported 24 reports to {out}"
    assert len(out.read_text().splitlines()) == 24

    path = tmp_path / "backup.jsonl"
    backed_up = cli_runner.invoke(main, [*args, "backup", str(path)])
    assert backed_up.exit_code == 0, backed_up.output
    (line,) = backed_up.stdout.splitlines()
    assert line.startswith("backed up ") and line.endswith(f" to {path}") and "24 reports" in line
    to_stdout = cli_runner.invoke(main, [*args, "backup", "-"])
    assert to_stdout.stderr.startswith("backed up ")
    assert all(json.loads(row) for row in to_stdout.stdout.splitlines())


def test_claim_page_title_is_its_text_and_outlets_have_an_index(seeded, client, api_keys):
    sign_in(client, api_keys["read"])
    page = client.get("/claims/1").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert (
        title.startswith("Hamas&#39;s political leadership moved")
        and "hamas-leadership" not in title
    )
    index = client.get("/outlets")
    assert index.status_code == 200
    text = index.get_data(as_text=True)
    rows = re.findall(r'<tr data-outlet-id="(\d+)">(.*?)</tr>', text, re.S)
    assert len(rows) == 7
    reuters = next(row for _, row in rows if ">Reuters</a>" in row)
    assert 'href="/outlets/' in reuters and "wire agency" in reuters
    assert re.search(r'class="num reports">\d+<', reuters)
    assert 'href="/outlets"' in client.get("/").get_data(as_text=True)  # in the header


def test_rounding_never_lands_on_an_excluded_bound(app, client, auth):
    """A prior of 1e-9 is valid (0 < p < 1): answered as it is, not as 0.0, which the
    document excludes (found by the fuzz test)."""
    created = client.post(
        "/api/v1/outlets",
        headers=auth("admin"),
        json={
            "name": "Tiny prior",
            "kind": "newspaper",
            "prior_reliability": 1e-9,
            "prior_rationale": "A test of the bounds.",
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert 0 < created.get_json()["prior_reliability"] < 1e-4
