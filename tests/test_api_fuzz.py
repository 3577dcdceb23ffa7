"""Property-based fuzzing of the API with schemathesis, from the app's own OpenAPI document.

Every operation gets a bounded number of generated requests (valid and invalid ones), sent
with an admin key through the WSGI app on the seed story, on both backends. Each response
must pass schemathesis' checks (no 5xx; status code, content type, headers and body as
documented; invalid input refused; auth not ignored) and ours: every error response is
problem+json whose ``status`` is the response's status. Counts go to
``artifacts/reliability/fuzz.json`` for RELIABILITY.md.
"""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from reliability_figures import record_figures

from service.web.app import create_app

PROBLEM = "application/problem+json"
IDEMPOTENCY = "Idempotency-Key"
EXAMPLES_PER_OPERATION = 40
SENT: dict[str, dict[str, int]] = {}


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    """Every 4xx/5xx is RFC 9457 problem+json naming its own status, with no traceback."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM, f"error as {content_type!r}"
    body = json.loads(response.content)
    assert body.get("status") == response.status_code, body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert "Traceback" not in response.content.decode("utf-8", "replace")
    return None


SCHEMA_REFUSAL = "The request is invalid; see errors for each field."
# Rules between fields that validation checks and JSON Schema cannot state.
CROSS_FIELD_RULES = {"below must be less than above."}


def _messages(errors):
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return [errors]


@schemathesis.check
def valid_requests_pass_validation(ctx, response, case):
    """A request the document calls valid is never refused by the request validation (the
    per-operation 422 allowance above is for refusals by stored data, not by the schema)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code == 422:
        body = json.loads(response.content)
        if body.get("detail") == SCHEMA_REFUSAL:
            assert set(_messages(body.get("errors"))) <= CROSS_FIELD_RULES, body
    return None


@pytest.fixture
def fuzzed_app(database_url):
    # Rate limits stay on but far above what a fuzz run sends, so no 429 hides a result.
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATE_LIMIT_PER_ADDRESS": "1000000/minute",
            "RATE_LIMIT_PER_KEY": "1000000/minute",
            # The event stream ends quickly, so each fuzzed GET of it returns.
            "SSE_STREAM_SECONDS": 0.2,
            "SSE_POLL_SECONDS": 0.05,
        }
    )
    from service.cli.data import load_seed_story
    from service.newsroom.keys import issue_key
    from service.web.database import unit_of_work

    with app.app_context(), unit_of_work(app) as unit:
        load_seed_story(unit.session)
        admin = issue_key(unit.session, "fuzz admin", "admin").key
        unit.commit()
    app.config["FUZZ_ADMIN_KEY"] = admin
    return app


# The document is read from an app without a database (nothing connects at startup);
# each test sends its cases to its own app, on its own backend. schemathesis' own pytest
# plugin (``schema.parametrize``) does not work with pytest 9.2's node ids, so the tests are
# parametrized here and each operation's cases come from its public ``as_strategy``.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
CONFIG = schemathesis.Config.from_dict(
    {
        # NUL cannot be stored in PostgreSQL text; the API refuses it with 400 before it
        # gets there (tests/test_abuse.py), so valid requests are generated without it.
        "generation": {"allow-x00": False},
        "checks": {
            # A well-formed If-Match that names another version is answered 412, as HTTP
            # says; the generator cannot know the current ETag.
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
        },
        "operations": [
            {
                # A report must agree with what is stored (claim_key with claim_id, text with
                # the claim's text, cites within the claim): refusals the schema cannot state.
                "include-path-regex": "^/api/v1/reports(:batch)?$",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            {
                # A hypothetical report must name a stored outlet and cite a report of the
                # claim: refusals by stored data, as for reports.
                "include-path-regex": "^/api/v1/claims/[^/]+/what-if$",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
            {
                # A subscription's thresholds must have below < above (see CROSS_FIELD_RULES).
                "include-path-regex": "^/api/v1/subscriptions",
                "include-method": ["POST", "PATCH"],
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            },
        ],
    }
)
SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", create_app({"DATABASE_URL": "sqlite://"}), config=CONFIG
)
LOADED = list(SCHEMA.get_all_operations())
OPERATIONS = {op.ok().label: op.ok() for op in LOADED if hasattr(op, "ok")}


def test_every_operation_of_the_document_can_be_fuzzed():
    # An operation schemathesis cannot read (e.g. a $ref to a missing component) would
    # otherwise drop out of the fuzzing silently.
    unreadable = [str(op.err()) for op in LOADED if not hasattr(op, "ok")]
    assert not unreadable, unreadable
    assert len(OPERATIONS) >= 20


def _cases(operation):
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_conforms_to_its_openapi_document(label, fuzzed_app, database_url):
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {fuzzed_app.config['FUZZ_ADMIN_KEY']}"}
    backend = database_url.split(":", 1)[0].split("+")[0]
    counts = SENT.setdefault(backend, {"requests": 0, "errors_4xx": 0, "server_errors": 0})

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation))
    def conforms(case):
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        declared = {parameter.name for parameter in operation.query}
        if negative and set(case.query or {}) - declared:
            # Unknown query parameters are ignored (webargs' EXCLUDE, so pagination and
            # filters can share one query string); OpenAPI cannot forbid them either.
            reject()
        if not negative and IDEMPOTENCY in (case.headers or {}):
            # One key per generated request: reusing a key with another body is a 422 by
            # design (tests/test_api.py covers it), not a refusal of valid data.
            case.headers[IDEMPOTENCY] = f"fuzz-{uuid.uuid4().hex}"
        response = case.call_and_validate(
            app=fuzzed_app,
            headers=headers,
            additional_checks=[errors_are_problem_json, valid_requests_pass_validation],
        )
        counts["requests"] += 1
        counts["errors_4xx"] += 400 <= response.status_code < 500
        counts["server_errors"] += response.status_code >= 500

    try:
        conforms()
    finally:
        record_figures(
            "fuzz",
            {
                "examples_per_operation": EXAMPLES_PER_OPERATION,
                "operations": len(OPERATIONS),
                "sent": SENT,
            },
        )
