"""Out-of-range input and over-long requests (issue 14, item 7).

An event cursor (``Last-Event-ID``, ``since``) outside the id range (INTEGER columns, as
for every id) is refused with 400 problem+json before the stream starts (it used to answer
200 and die mid-stream on SQLite's OverflowError); every integer parameter is bounded to 64
bits at most, or harmless when huge (the page number); text in
a query string is bounded in the schema (422, stated in the OpenAPI document) below what
gunicorn's request line can carry, so a client sees the 422; a URL past gunicorn's limit
gets its 414 as problem+json, not HTML. Through the Flask client and under a real gunicorn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from server_harness import Server, call, create_key

from service.web.api.events import MAX_EVENT_ID
from service.web.api.schemas import QUERY_TEXT_MAX
from service.web.serving import MAX_REQUEST_LINE, production_options

PROBLEM = "application/problem+json"
HUGE = 9223372037123211264  # the id schemathesis found: past 2**63 - 1
# The most bytes one character can take in a URL: four UTF-8 bytes, each as %XX.
WORST_BYTES_PER_CHARACTER = 12


@pytest.fixture
def open_app(app):
    app.config.update(OPEN_READS=True, SSE_STREAM_SECONDS=0.05, SSE_POLL_SECONDS=0.01)
    return app


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and "Traceback" not in json.dumps(body)
    return body


@pytest.mark.parametrize(
    ("query", "headers", "where"),
    [
        ("", {"Last-Event-ID": str(HUGE)}, ("headers", "Last-Event-ID")),
        ("", {"Last-Event-ID": str(2**63)}, ("headers", "Last-Event-ID")),
        ("", {"Last-Event-ID": str(MAX_EVENT_ID + 1)}, ("headers", "Last-Event-ID")),
        ("", {"Last-Event-ID": "-1"}, ("headers", "Last-Event-ID")),
        ("", {"Last-Event-ID": "seven"}, ("headers", "Last-Event-ID")),
        (f"?since={HUGE}", {}, ("query", "since")),
        (f"?since={2**31}", {}, ("query", "since")),
        ("?since=-1", {}, ("query", "since")),
        (f"?claim_id={2**64}", {}, ("query", "claim_id")),
    ],
)
def test_an_event_cursor_out_of_range_is_400_before_the_stream_starts(
    open_app, query, headers, where
):
    response = open_app.test_client().get("/api/v1/events" + query, headers=headers)
    body = _problem(response, 400)
    location, name = where
    assert name in body["errors"][location]


def test_the_largest_event_id_is_a_valid_cursor(open_app):
    for headers, query in (
        ({"Last-Event-ID": str(MAX_EVENT_ID)}, ""),
        ({}, f"?since={MAX_EVENT_ID}"),
    ):
        response = open_app.test_client().get("/api/v1/events" + query, headers=headers)
        assert response.status_code == 200
        text = response.get_data(as_text=True)  # the whole (short) stream, no error in it
        assert text.startswith("retry: ") and f"id: {MAX_EVENT_ID}" in text
        assert "stream ends" in text


def test_similar_claims_text_is_bounded_and_documented(open_app):
    client = open_app.test_client()
    assert client.get("/api/v1/claims/similar?text=" + "x" * QUERY_TEXT_MAX).status_code == 200
    body = _problem(client.get("/api/v1/claims/similar?text=" + "x" * (QUERY_TEXT_MAX + 1)), 422)
    assert "text" in body["errors"]["query"]
    spec = client.get("/api/v1/openapi.json").get_json()
    (text,) = [
        p
        for p in spec["paths"]["/api/v1/claims/similar"]["get"]["parameters"]
        if p["name"] == "text"
    ]
    assert text["schema"]["maxLength"] == QUERY_TEXT_MAX


def _operations(spec):
    """(path, method, every parameter: the path's and the operation's)."""
    components = spec.get("components", {}).get("parameters", {})

    def resolved(parameters):
        return [components[p["$ref"].split("/")[-1]] if "$ref" in p else p for p in parameters]

    for path, item in spec["paths"].items():
        shared = resolved(item.get("parameters", []))
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, shared + resolved(operation.get("parameters", []))


def _integer_parameters(spec):
    for path, method, parameters in _operations(spec):
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "array":
                schema = schema.get("items", {})
            if schema.get("type") == "integer":
                yield path, method, parameter, schema


def test_every_integer_parameter_is_bounded_to_64_bits_or_harmless_when_huge(open_app):
    client = open_app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    unbounded = []
    for path, method, parameter, schema in _integer_parameters(spec):
        if "maximum" in schema:
            assert schema["maximum"] <= 2**63 - 1, (path, parameter["name"])
        else:
            unbounded.append((path, method, parameter["name"], parameter["in"]))
    # Only the page number is unbounded: past any row there can be, a page is empty.
    assert unbounded and {name for *_, name, _ in unbounded} == {"page"}
    for path, method, _, _ in unbounded:
        if method == "get" and "{" not in path:
            response = client.get(f"{path}?page={2**70}", headers={"Authorization": ""})
            assert response.status_code in (200, 401, 403), (path, response.status_code)
            if response.status_code == 200:
                assert response.get_json() == []


def test_every_valid_url_fits_gunicorns_request_line(open_app):
    """The worst case of every GET: each text parameter at its maxLength in 4-byte
    characters, numbers and dates at 40 characters, ids in the path at 10."""
    spec = open_app.test_client().get("/api/v1/openapi.json").get_json()
    assert production_options("127.0.0.1", 8000)["limit_request_line"] == MAX_REQUEST_LINE
    for path, method, parameters in _operations(spec):
        length = len(f"{method.upper()} {path} HTTP/1.1") + 10 * path.count("{")
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            schema = parameter.get("schema", {})
            items = schema.get("items", schema)
            if items.get("type") == "string" and not ({"enum", "format"} & set(items)):
                assert "maxLength" in items, (path, parameter["name"])
                value = items["maxLength"] * WORST_BYTES_PER_CHARACTER
            elif "enum" in items:
                value = max(len(str(v)) for v in items["enum"])
                value *= len(items["enum"]) if schema.get("type") == "array" else 1
            else:
                value = 40  # numbers, dates
            length += len(parameter["name"]) + 2 + value
        assert length <= MAX_REQUEST_LINE, (method, path, length)


@pytest.fixture
def gunicorn(database_url, tmp_path):
    subprocess.run(
        [str(Path(sys.executable).with_name("srs")), "seed"],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    key = create_key(database_url, "read", "bounds")
    server = Server(database_url, tmp_path / "server.log", workers=1, threads=2).start()
    yield server, key
    server.stop()


def test_under_gunicorn_the_client_sees_problem_json_for_every_bound(gunicorn):
    server, key = gunicorn
    widest = "\U0001f600" * QUERY_TEXT_MAX  # 4 UTF-8 bytes each: 12 bytes in the URL
    similar = "/api/v1/claims/similar?text="
    answer = call(server.port, "GET", similar + quote(widest), key=key)
    assert answer.status == 200, answer.text
    answer = call(server.port, "GET", similar + quote(widest + "x"), key=key)
    assert answer.status == 422 and answer.headers["content-type"] == PROBLEM
    assert "text" in answer.json()["errors"]["query"]

    answer = call(server.port, "GET", similar + "x" * MAX_REQUEST_LINE, key=key)
    assert answer.status == 414 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["status"] == 414 and answer.json()["title"] == "URI Too Long"

    headers = {"X-Filler": "y" * (MAX_REQUEST_LINE + 1000)}  # one header past its limit
    answer = call(server.port, "GET", "/api/v1/claims", key=key, headers=headers)
    assert answer.status in (400, 431) and answer.headers["content-type"] == PROBLEM

    answer = call(
        server.port, "GET", "/api/v1/events", key=key, headers={"Last-Event-ID": str(HUGE)}
    )
    assert answer.status == 400 and answer.headers["content-type"] == PROBLEM
    assert "Last-Event-ID" in answer.json()["errors"]["headers"]
    assert "Traceback" not in server.log() and "OverflowError" not in server.log()
