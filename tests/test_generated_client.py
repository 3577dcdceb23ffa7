"""The integrators' view (issue 14 item 10): a client generated from the OpenAPI document by
openapi-python-client reads well and works against a live server.

The document is checked first (operation names, enum names, required response fields); then
a client is generated in a temporary folder, imported, and driven over HTTP against the app
served by a local werkzeug server, on each database backend.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from service.web.api.contract import OPERATION_IDS

GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))
PACKAGE = "srs_generated_client"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from service.web.app import create_app

    # Nothing connects at startup: the document needs no database.
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:///:memory:"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield method, path, operation


def test_every_operation_has_a_unique_snake_case_name(document):
    names = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert all(name and re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in names), names
    assert len(set(names)) == len(names)
    # No stale entries: every name in the table is used.
    assert set(names) == set(OPERATION_IDS.values())
    by_route = {(m, p): op["operationId"] for m, p, op in _operations(document)}
    assert by_route[("post", "/api/v1/reports")] == "record_report"
    assert by_route[("get", "/api/v1/claims/{claim_id}/score")] == "get_claim_score"
    assert by_route[("get", "/api/v1/claims")] == "list_claims"
    assert by_route[("post", "/api/v1/claims/{claim_id}/verdict")] == "record_verdict"
    assert by_route[("delete", "/api/v1/reports/{report_id}")] == "retract_report"


def _enums(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _enums(item)
    elif isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield node
        for value in node.values():
            yield from _enums(value)


def test_enums_whose_values_are_not_identifiers_carry_names(document):
    named = 0
    for enum in _enums(document):
        values = enum["enum"]
        if all(isinstance(v, str) for v in values) and not all(v.isidentifier() for v in values):
            names = enum["x-enum-varnames"]
            assert len(names) == len(values) == len(set(names))
            assert all(name.isidentifier() for name in names)
            named += 1
    assert named >= 3  # sorts, event types (query, stream, filter), the JSON-LD context
    sort = next(
        p["schema"]
        for p in document["paths"]["/api/v1/claims"]["get"]["parameters"]
        if p["name"] == "sort"
    )
    assert dict(zip(sort["enum"], sort["x-enum-varnames"], strict=True))["-confidence"] == (
        "CONFIDENCE_DESC"
    )


def test_response_schemas_require_the_fields_always_present(document):
    schemas = document["components"]["schemas"]
    # Request schemas keep their own rules: creating a claim does not need an id.
    assert schemas["Claim"]["required"] == ["text"]
    # Creating an outlet has its own request schema, so `Outlet` is an answer only.
    assert "id" not in schemas["OutletIn"]["required"]
    claims = document["paths"]["/api/v1/claims"]
    assert claims["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Claim"
    }
    listed = claims["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["items"] == {"$ref": "#/components/schemas/ClaimResponse"}
    for name in ("ClaimResponse", "Outlet", "KeyResponse", "Subscription", "Score"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
    # Explanation entries stored before `outlets` existed lack it; problems have no detail
    # or errors when there are none.
    assert "outlets" not in schemas["Contribution"]["required"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status"}


def test_the_event_stream_is_not_parsed_as_an_object(document):
    stream = document["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
    assert "schema" not in stream["text/event-stream"]
    assert "event" in stream["text/event-stream"]["itemSchema"]["properties"]


@pytest.fixture(scope="module")
def generated(document, tmp_path_factory) -> Any:
    """The client package, generated from the app's document and imported."""
    import json

    folder = tmp_path_factory.mktemp("generated")
    (folder / "openapi.json").write_text(json.dumps(document))
    # No post hooks: formatting the generated code is not what is tested.
    (folder / "config.yaml").write_text("post_hooks: []\n")
    subprocess.run(
        [GENERATOR, "generate", "--path", str(folder / "openapi.json")]
        + ["--config", str(folder / "config.yaml"), "--meta", "none"]
        + ["--output-path", str(folder / PACKAGE)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def live_url(seeded) -> Iterator[str]:
    seeded.config["SSE_STREAM_SECONDS"] = 0.2
    seeded.config["SSE_POLL_SECONDS"] = 0.05
    server = make_server("127.0.0.1", 0, seeded, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_generated_client_drives_the_api(generated, live_url, api_keys):
    # One module per operation, named by its operationId.
    for tag, names in {
        "claims": ("list_claims", "get_claim_score", "record_verdict", "create_claim"),
        "reports": ("record_report", "retract_report", "record_report_batch"),
    }.items():
        for name in names:
            assert hasattr(importlib.import_module(f"{PACKAGE}.api.{tag}.{name}"), "sync")
    models = importlib.import_module(f"{PACKAGE}.models")
    from_module = importlib.import_module
    list_claims = from_module(f"{PACKAGE}.api.claims.list_claims")
    get_claim_score = from_module(f"{PACKAGE}.api.claims.get_claim_score")
    record_report = from_module(f"{PACKAGE}.api.reports.record_report")
    stream_events = from_module(f"{PACKAGE}.api.events.stream_events")

    reader = generated.AuthenticatedClient(base_url=live_url, token=api_keys["read"])
    writer = generated.AuthenticatedClient(base_url=live_url, token=api_keys["write"])

    claims = list_claims.sync(client=reader, sort=models.ListClaimsSort.CONFIDENCE_DESC)
    assert claims and all(isinstance(claim, models.ClaimResponse) for claim in claims)
    assert [c.confidence for c in claims] == sorted((c.confidence for c in claims), reverse=True)
    claim = claims[0]
    assert isinstance(claim.id, int) and isinstance(claim.text, str)

    answer = record_report.sync_detailed(
        client=writer,
        body=models.ReportIn(
            claim_id=claim.id,
            outlet="Generated Client Gazette",
            new_outlet=True,
            stance=models.ReportInStance.SUPPORTS,
        ),
    )
    assert answer.status_code == 201, answer.content
    recorded = answer.parsed
    assert isinstance(recorded, models.RecordedReport)
    assert recorded.claim_id == claim.id and recorded.report.outlet == "Generated Client Gazette"
    assert isinstance(recorded.report.id, int)

    score = get_claim_score.sync(claim_id=claim.id, client=reader)
    assert isinstance(score, models.Score)
    assert isinstance(score.confidence, float) and 0 < score.confidence < 1
    assert score.n_reports == recorded.score.n_reports
    assert all(isinstance(part, models.Contribution) for part in score.explanation)
    assert isinstance(score.explanation[0].log_odds, float)

    # An error is a typed problem+json.
    refused = list_claims.sync_detailed(client=reader, q="x" * 501)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Problem) and refused.parsed.status == 422
    missing = get_claim_score.sync_detailed(claim_id=2**31 - 1, client=reader)
    assert missing.status_code == 404

    # The event stream comes back as it is, not parsed as an object.
    stream = stream_events.sync_detailed(client=reader, since=0)
    assert stream.status_code == 200 and stream.parsed is None
    assert b"event: report.recorded" in stream.content
