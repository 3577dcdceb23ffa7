"""Makes the OpenAPI document say exactly what the API accepts, where marshmallow and
flask-smorest alone would document something looser (found by fuzzing it: tests/test_api_fuzz.py).

- Path ids are database INTEGERs: a larger number is a 404 and documented as out of range,
  not an overflow inside the driver (a 500).
- ``Range(min_inclusive=False)`` becomes ``exclusiveMinimum``/``exclusiveMaximum``; apispec
  drops the inclusiveness, so 0 looked like a valid probability.
- A report names its claim (``claim_id``, or ``claim_key`` with ``claim``) and its outlet
  (``outlet_id`` or ``outlet``): a rule of the schema as a whole, written out as ``anyOf``.
- A nullable nested schema is ``allOf: [$ref], nullable: true``; apispec writes it as
  ``anyOf: [$ref, {type: object, nullable: true}]``, whose second branch admits any object
  at all (a subscription filter with made-up fields, which validation then refuses).
"""

from __future__ import annotations

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


def tighten_nullable_refs(node: Any) -> None:
    """Rewrite apispec's loose nullable nested schemas in place, wherever they are."""
    if isinstance(node, list):
        for item in node:
            tighten_nullable_refs(item)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("anyOf")
    if (
        isinstance(branches, list)
        and len(branches) == 2
        and set(branches[0]) == {"$ref"}
        and branches[1] == _LOOSE_NULL
    ):
        del node["anyOf"]
        node["allOf"] = [branches[0]]
        node["nullable"] = True
    for value in node.values():
        tighten_nullable_refs(value)


def after_blueprints(api: Api) -> None:
    """Add the schema-wide rules marshmallow validators check but apispec cannot see."""
    schemas = api.spec.components.schemas
    tighten_nullable_refs(schemas)
    if "ReportIn" in schemas:
        schemas["ReportIn"]["allOf"] = REPORT_NAMES_CLAIM_AND_OUTLET
    if "Thresholds" in schemas:
        # One bound at least (below < above is checked too, but JSON Schema cannot say it).
        schemas["Thresholds"]["minProperties"] = 1
    if "OutletPatch" in schemas:
        # An empty patch changes nothing and is refused (422 "Nothing to change").
        schemas["OutletPatch"]["minProperties"] = 1
