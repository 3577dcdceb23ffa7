"""Makes the OpenAPI document say exactly what the API accepts, where marshmallow and
flask-smorest alone would document something looser (found by fuzzing it: tests/test_api_fuzz.py).

- Path ids are database INTEGERs: a larger number is a 404 and documented as out of range,
  not an overflow inside the driver (a 500).
- ``Range(min_inclusive=False)`` becomes ``exclusiveMinimum``/``exclusiveMaximum``; apispec
  drops the inclusiveness, so 0 looked like a valid probability.
- A report names its claim (``claim_id``, or ``claim_key`` with ``claim``) and its outlet
  (``outlet_id`` or ``outlet``): a rule of the schema as a whole, written out as ``anyOf``;
  a hypothetical report (``POST /claims/{id}/what-if``) names exactly one of ``outlet``,
  ``outlet_id`` and ``outlet_kind``, written out as ``oneOf``.
- A nullable nested schema is ``allOf: [$ref], nullable: true``; apispec writes it as
  ``anyOf: [$ref, {type: object, nullable: true}]``, whose second branch admits any object
  at all (a subscription filter with made-up fields, which validation then refuses).

And it makes the document pleasant to generate a client from (issue 14 item 10; the test is
tests/test_generated_client.py, with openapi-python-client):

- Every operation has an ``operationId`` named for what it does (``OPERATION_IDS``); a new
  route without a name here stops the app from starting, so none is left to a generator.
- An enum whose values are not identifiers (``-confidence``, ``claim.resolved``) carries
  ``x-enum-varnames`` (``CONFIDENCE_DESC``, ``CLAIM_RESOLVED``).
- A response schema lists as ``required`` the fields every answer has. Where the same
  marshmallow schema also reads requests (Claim, Outlet, Key, Subscription), responses get a
  ``…Response`` copy, so a generated client never demands an ``id`` on create.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1

# What the ReportIn schema's ``names_a_claim_and_an_outlet`` validator checks.
REPORT_NAMES_CLAIM_AND_OUTLET = [
    {"anyOf": [{"required": ["claim_id"]}, {"required": ["claim_key", "claim"]}]},
    {"anyOf": [{"required": ["outlet_id"]}, {"required": ["outlet"]}]},
]


# What the WhatIfReport schema's ``names_one_outlet`` validator checks.
WHAT_IF_NAMES_ONE_OUTLET = [
    {"required": ["outlet"]},
    {"required": ["outlet_id"]},
    {"required": ["outlet_kind"]},
]


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in our routes: 0 to 2**31 - 1, the range of the id columns."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def exclusive_bounds(self, field: ma.fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: exclusive Range bounds as OpenAPI 3.0 spells them."""
    out: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                out["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                out["exclusiveMaximum"] = True
    return out


def before_blueprints(api: Api, app: Flask) -> None:
    """Install the id converter and the documentation rules before any route exists."""
    app.url_map.converters["int"] = RowIdConverter
    api.ma_plugin.converter.add_attribute_function(exclusive_bounds)


_LOOSE_NULL = {"type": "object", "nullable": True}


def objects_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every object (dict) inside ``node``, each before what it holds, so a caller may
    change one as it gets it."""
    if isinstance(node, list):
        for item in node:
            yield from objects_in(item)
    elif isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from objects_in(value)


def tighten_nullable_refs(node: Any) -> None:
    """Rewrite apispec's loose nullable nested schemas in place, wherever they are."""
    for found in objects_in(node):
        branches = found.get("anyOf")
        if not (isinstance(branches, list) and len(branches) == 2 and _LOOSE_NULL in branches):
            continue
        # apispec writes the two branches in either order (PATCH schemas: null first).
        ref = branches[1 - branches.index(_LOOSE_NULL)]
        if isinstance(ref, dict) and set(ref) == {"$ref"}:
            del found["anyOf"]
            found["allOf"] = [ref]
            found["nullable"] = True


# (method, path below /api/v1) → operationId: what a generated client calls each operation.
OPERATION_IDS = {
    ("get", "/healthz"): "check_liveness",
    ("get", "/readyz"): "check_readiness",
    ("get", "/outlets"): "list_outlets",
    ("post", "/outlets"): "create_outlet",
    ("get", "/outlets/{outlet_id}"): "get_outlet",
    ("patch", "/outlets/{outlet_id}"): "update_outlet",
    ("post", "/outlets/{outlet_id}/merge"): "merge_outlet",
    ("get", "/outlets/{outlet_id}/aliases"): "list_outlet_aliases",
    ("post", "/outlets/{outlet_id}/aliases"): "add_outlet_alias",
    ("delete", "/outlets/{outlet_id}/aliases/{row_id}"): "remove_outlet_alias",
    ("get", "/outlets/{outlet_id}/domains"): "list_outlet_domains",
    ("post", "/outlets/{outlet_id}/domains"): "add_outlet_domain",
    ("delete", "/outlets/{outlet_id}/domains/{row_id}"): "remove_outlet_domain",
    ("get", "/claims"): "list_claims",
    ("post", "/claims"): "create_claim",
    ("get", "/claims/similar"): "find_similar_claims",
    ("get", "/claims/{claim_id}"): "get_claim",
    ("patch", "/claims/{claim_id}"): "update_claim_text",
    ("get", "/claims/{claim_id}/score"): "get_claim_score",
    ("post", "/claims/{claim_id}/what-if"): "score_claim_what_if",
    ("get", "/claims/{claim_id}/history"): "get_claim_history",
    ("get", "/claims/{claim_id}/reports"): "list_claim_reports",
    ("post", "/claims/{claim_id}/verdict"): "record_verdict",
    ("get", "/claims/{claim_id}/claimreview"): "get_claim_review",
    ("get", "/claimreview"): "list_claim_reviews",
    ("post", "/reports"): "record_report",
    ("post", "/reports:batch"): "record_report_batch",
    ("get", "/reports/{report_id}"): "get_report",
    ("delete", "/reports/{report_id}"): "retract_report",
    ("get", "/models"): "list_model_versions",
    ("post", "/models"): "fit_model_version",
    ("post", "/models/{version}/activate"): "activate_model_version",
    ("get", "/keys"): "list_keys",
    ("post", "/keys"): "create_key",
    ("delete", "/keys/{key_id}"): "revoke_key",
    ("get", "/audit"): "list_audit_entries",
    ("get", "/subscriptions"): "list_subscriptions",
    ("post", "/subscriptions"): "create_subscription",
    ("get", "/subscriptions/{subscription_id}"): "get_subscription",
    ("patch", "/subscriptions/{subscription_id}"): "update_subscription",
    ("delete", "/subscriptions/{subscription_id}"): "deactivate_subscription",
    ("get", "/subscriptions/{subscription_id}/deliveries"): "list_subscription_deliveries",
    ("get", "/events"): "stream_events",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def name_operations(paths: dict[str, Any], prefix: str) -> None:
    """Give every operation its ``operationId``; an unnamed one is a startup error."""
    unnamed = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            name = OPERATION_IDS.get((method, path.removeprefix(prefix)))
            if name is None:
                unnamed.append(f"{method.upper()} {path}")
            else:
                operation["operationId"] = name
    if unnamed:
        raise RuntimeError(f"Name these operations in contract.OPERATION_IDS: {unnamed}")


def enum_varname(value: str) -> str:
    """``-confidence`` → ``CONFIDENCE_DESC``, ``claim.resolved`` → ``CLAIM_RESOLVED``,
    ``https://schema.org`` → ``SCHEMA_ORG``."""
    descending = value.startswith("-")
    name = re.sub(r"^[a-z]+://", "", value.lstrip("-"))
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").upper()
    return name + ("_DESC" if descending else "")


def name_enum_values(node: Any) -> None:
    """``x-enum-varnames`` on every string enum with a value that is not an identifier."""
    for found in objects_in(node):
        values = found.get("enum")
        if (
            isinstance(values, list)
            and all(isinstance(value, str) for value in values)
            and not all(value.isidentifier() for value in values)
        ):
            names = [enum_varname(value) for value in values]
            if len(set(names)) != len(names) or not all(name.isidentifier() for name in names):
                raise RuntimeError(f"No distinct names for the enum {values}")
            found["x-enum-varnames"] = names


# Fields a response may leave out: every other field of a response schema is in every answer
# (the presenters build each answer with all of its keys, null where there is no value).
NOT_ALWAYS_PRESENT = {
    # Explanations are stored with the score; ones stored before a field existed lack it.
    "Contribution": {"outlets", "counted_report"},
    # problem+json: type, title and status always; detail, errors and (for an unknown
    # outlet) suggestions when there are some.
    "Problem": {"detail", "instance", "errors", "suggestions"},
}
# Response schemas whose ``required`` stays as written: the ClaimReview JSON-LD (its own
# rules, in claimreview.py), flask-smorest's pagination header, and a subscription's filter,
# which holds only the criteria that were given.
REQUIRED_AS_WRITTEN = {
    "Health",
    "ClaimReview",
    "ClaimLD",
    "RatingLD",
    "OrganizationLD",
    "AppearanceLD",
    "CitedWorkLD",
    "PaginationMetadata",
    "Filter",
    "Thresholds",
}
RESPONSE_SUFFIX = "Response"
_SCHEMA_REF = "#/components/schemas/"


def _refs(node: Any) -> Iterator[dict[str, Any]]:
    """Every ``{"$ref": "#/components/schemas/…"}`` object inside ``node``."""
    for found in objects_in(node):
        ref = found.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
            yield found


def _reachable(roots: list[Any], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = [ref["$ref"].removeprefix(_SCHEMA_REF) for ref in _refs(roots)]
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(ref["$ref"].removeprefix(_SCHEMA_REF) for ref in _refs(schemas[name]))
    return seen


def require_response_fields(api: Api, paths: dict[str, Any]) -> None:
    """``required`` on response schemas: every field but those in ``NOT_ALWAYS_PRESENT``."""
    schemas = api.spec.components.schemas
    requests: list[Any] = []
    responses: list[Any] = [api.spec.components.responses]
    for operations in paths.values():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                requests += [operation.get("requestBody"), operation.get("parameters")]
                responses.append(operation.get("responses"))
    read = _reachable(requests, schemas)
    answered = _reachable(responses, schemas) - REQUIRED_AS_WRITTEN
    renamed = {name: name + RESPONSE_SUFFIX for name in answered & read}
    for name in sorted(answered):
        schema = schemas[name]
        if name in renamed:
            schema = schemas[renamed[name]] = copy.deepcopy(schema)
        left_out = NOT_ALWAYS_PRESENT.get(name, set())
        schema["required"] = [
            field for field in schema.get("properties", {}) if field not in left_out
        ]
    # Answers and the response copies point at the response copies.
    for ref in _refs([responses, [schemas[renamed.get(name, name)] for name in answered]]):
        name = ref["$ref"].removeprefix(_SCHEMA_REF)
        if name in renamed:
            ref["$ref"] = _SCHEMA_REF + renamed[name]


def after_blueprints(api: Api, prefix: str) -> None:
    """Add the schema-wide rules marshmallow validators check but apispec cannot see, and
    what a generated client needs (names, enum names, required response fields)."""
    schemas = api.spec.components.schemas
    tighten_nullable_refs(schemas)
    if "ReportIn" in schemas:
        schemas["ReportIn"]["allOf"] = REPORT_NAMES_CLAIM_AND_OUTLET
    if "WhatIfReport" in schemas:
        schemas["WhatIfReport"]["oneOf"] = WHAT_IF_NAMES_ONE_OUTLET
    if "Thresholds" in schemas:
        # One bound at least (below < above is checked too, but JSON Schema cannot say it).
        schemas["Thresholds"]["minProperties"] = 1
    if "ClaimPatch" in schemas:
        # Text, story or both: an empty patch is refused (422 "Give text, story or both.").
        schemas["ClaimPatch"]["minProperties"] = 1
    if "OutletPatch" in schemas:
        # An empty patch changes nothing and is refused (422 "Nothing to change").
        schemas["OutletPatch"]["minProperties"] = 1
    # to_dict() hands out apispec's own dictionary of paths, the one the document is made of.
    paths = api.spec.to_dict()["paths"]
    name_operations(paths, prefix)
    require_response_fields(api, paths)
    name_enum_values([paths, schemas])
