"""marshmallow schemas: they validate requests, serialize responses and are the OpenAPI."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import validate

from scoring.interchange import MAX_STORY_LENGTH
from scoring.vocabulary import ATTRIBUTIONS, CLAIM_STATUSES, OUTLET_KINDS, STANCES
from service.web.api.common import (
    StrictBoolean,
    StrictDateTime,
    StrictFloat,
    StrictInteger,
    StrictSchema,
)


class RoundedFloat(ma.fields.Float):
    """A float answered to 4 decimals (0.56, not 0.5599999999999999): finer than any score
    or weight means, and one rule for every answer. Input is read as sent. A value that
    would round onto a bound its field excludes (a prior of 1e-9 in 0 < p < 1) is
    answered as it is, so answers stay within their documented range."""

    PLACES = 4

    def _serialize(self, value, attr, obj, **kwargs):
        value = super()._serialize(value, attr, obj, **kwargs)
        if value is None:
            return None
        rounded = round(value, self.PLACES)
        for bound in self.validators:
            if isinstance(bound, validate.Range) and rounded in (
                None if bound.min_inclusive else bound.min,
                None if bound.max_inclusive else bound.max,
            ):
                return value
        return rounded


Str = ma.fields.String


class StrictRoundedFloat(StrictFloat, RoundedFloat):
    """A JSON number in (never "0.8"), answered to 4 decimals."""


# JSON bodies: values as JSON types them, never coerced (see service.web.api.common).
Int = StrictInteger
Float = StrictRoundedFloat
Bool = StrictBoolean
DateTime = StrictDateTime
# Query strings are text: their numbers and times are parsed from it.
QueryInt = ma.fields.Integer
QueryFloat = ma.fields.Float
QueryDateTime = ma.fields.AwareDateTime
List = ma.fields.List
Nested = ma.fields.Nested

# Lists, not validate.And: apispec documents each validator of a list, none inside an And.
# A key has no control characters and no space at either end. The classes are spelled out
# because Python's \s, ECMA's and Rust's (the fuzzer's) differ on \x1c-\x1f, \x85 and
# \ufeff; (?!\n) because Python's $ also matches before a final newline.
_KEY_EDGE = r"[^\s\x00-\x1f\x7f-\x9f\ufeff]"  # noqa: RUF001
KEY_PATTERN = rf"^{_KEY_EDGE}(?:[^\x00-\x1f\x7f-\x9f]*{_KEY_EDGE})?(?!\n)$"
KEY = [validate.Length(min=1, max=200), validate.Regexp(KEY_PATTERN)]
# A web or FTP address with a host; the same pattern is documented and checked.
_SPACE_OR_CONTROL = r"\s\x00-\x1f\x7f-\x9f\ufeff"
_AUTHORITY_AND_PATH = rf"://[^{_SPACE_OR_CONTROL}/?#]+(?:[/?#][^{_SPACE_OR_CONTROL}]*)?(?!\n)$"
URL_PATTERN = rf"^(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp][Ss]?){_AUTHORITY_AND_PATH}"
HTTP_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?{_AUTHORITY_AND_PATH}"
# Text must show something: an all-blank claim broke the similarity index (a 500) and an
# all-blank outlet name became an outlet called "". Anchored at the start for Python's
# match(); [\s\S] because "." stops at a newline in both engines.
NOT_BLANK = validate.Regexp(
    rf"^[\s\S]*?[^{_SPACE_OR_CONTROL}]", error="Must contain a visible character."
)
NAME = [validate.Length(min=1, max=200), NOT_BLANK]
SHORT_TEXT = [validate.Length(min=1, max=500), NOT_BLANK]
# Text in a query string: at most 500 characters, which percent-encoded take at most
# 6,000 bytes (12 per character), so any valid URL fits gunicorn's request line (8,190
# bytes, service/web/serving.py) and a longer text is this schema's 422, not a 414.
QUERY_TEXT_MAX = 500
QUERY_TEXT = [validate.Length(min=1, max=QUERY_TEXT_MAX), NOT_BLANK]
LONG_TEXT = [validate.Length(min=1, max=10_000), NOT_BLANK]
PROBABILITY = validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False)
MAX_ID = 2**31 - 1
ID = validate.Range(min=1, max=MAX_ID)
STORY = [validate.Length(min=1, max=MAX_STORY_LENGTH), NOT_BLANK]


# -- outlets ---------------------------------------------------------------------------------
class OutletSchema(StrictSchema):
    id = Int(dump_only=True)
    name = Str(required=True, validate=NAME, metadata={"example": "Reuters"})
    slug = Str(
        validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$"), metadata={"example": "reuters"}
    )
    country = Str(
        allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"), metadata={"example": "GB"}
    )
    kind = Str(
        required=True, validate=validate.OneOf(OUTLET_KINDS), metadata={"example": "wire_agency"}
    )
    # Null for an outlet created unvetted from an unknown name, which is scored as its
    # kind until given one (OutletInSchema: an admin's new outlet comes with one).
    prior_reliability = Float(
        required=True, allow_none=True, validate=PROBABILITY, metadata={"example": 0.85}
    )
    prior_rationale = Str(
        required=True,
        validate=LONG_TEXT,
        metadata={"example": "Wire agency with a corrections policy."},
    )
    vetted = Bool(
        dump_only=True,
        metadata={
            "description": "False for an outlet created from a name nobody had entered "
            "(a report with new_outlet, or srs import), until an admin vets it"
        },
    )
    learned_reliability = Float(dump_only=True, allow_none=True)
    reliability = Float(dump_only=True, metadata={"description": "What scoring uses now"})
    grade = Str(dump_only=True, metadata={"description": "Admiralty source-reliability grade"})
    n_reports = Int(dump_only=True)
    created_at = DateTime(dump_only=True)
    updated_at = DateTime(dump_only=True)


class OutletInSchema(OutletSchema):
    """An outlet an admin adds: vetted, so it comes with a prior."""

    prior_reliability = Float(required=True, validate=PROBABILITY, metadata={"example": 0.85})


class OutletPatchSchema(StrictSchema):
    name = Str(validate=NAME)
    country = Str(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    kind = Str(validate=validate.OneOf(OUTLET_KINDS))
    prior_reliability = Float(validate=PROBABILITY)
    prior_rationale = Str(validate=LONG_TEXT)
    vetted = Bool(metadata={"description": "true once an admin has judged the outlet"})


class OutletAliasSchema(StrictSchema):
    id = Int(dump_only=True)
    alias = Str(required=True, validate=NAME, metadata={"example": "MEE"})
    normalised = Str(
        dump_only=True,
        metadata={
            "example": "mee",
            "description": "What names are compared by: case, punctuation, a leading 'The', "
            "diacritics and spacing folded. Unique across outlets.",
        },
    )
    created_at = DateTime(dump_only=True)


class OutletDomainSchema(StrictSchema):
    id = Int(dump_only=True)
    domain = Str(
        required=True,
        validate=[validate.Length(min=1, max=2000), NOT_BLANK],
        metadata={
            "example": "middleeasteye.net",
            "description": "A host or a URL; stored as the host, lower-case, without 'www.'. "
            "A report whose url is on it (or on a subdomain) names this outlet.",
        },
    )
    created_at = DateTime(dump_only=True)


class OutletMergeSchema(StrictSchema):
    from_outlet_id = Int(
        required=True,
        validate=ID,
        metadata={
            "description": "The outlet merged into this one: its reports, aliases and domains "
            "move here, its name becomes an alias of this one, and it is deleted"
        },
    )


class OutletMergedSchema(ma.Schema):
    outlet = Nested(OutletSchema)
    reports_moved = Int()


class OutletListArgs(StrictSchema):
    kind = Str(validate=validate.OneOf(OUTLET_KINDS))
    q = Str(validate=QUERY_TEXT, metadata={"description": "Part of the outlet's name"})


# -- scores ----------------------------------------------------------------------------------
class ContributionSchema(ma.Schema):
    members = List(Str(), metadata={"description": "Report keys, the counted one first"})
    outlets = List(Str())
    sign = Int(metadata={"description": "+1 supports, -1 denies, 0 neutral"})
    log_odds = Float()
    probability_points = Float()
    reason = Str(metadata={"example": "repeats Kan's report: not independent"})
    counted_report = Str(allow_none=True)


class HypotheticalReportSchema(ma.Schema):
    """One report that would move the claim's confidence: a new outlet's, independent of
    every report so far (it cites nothing and quotes no source of theirs)."""

    description = Str(
        metadata={"example": "an on-the-record denial by an independent B-grade wire agency"}
    )
    confidence = Float(
        metadata={"description": "The claim's confidence with this report added", "example": 0.31}
    )
    change = Float(metadata={"description": "That confidence minus the claim's confidence now"})
    stance = Str(validate=validate.OneOf(STANCES))
    attribution = Str(validate=validate.OneOf(ATTRIBUTIONS))
    outlet_kind = Str(
        validate=validate.OneOf(OUTLET_KINDS),
        metadata={"description": "A new outlet of this kind: no record, weighed as its kind"},
    )
    outlet_grade = Str(
        metadata={"description": "The new outlet's Admiralty reliability grade", "example": "B"}
    )


class ScoreSchema(ma.Schema):
    claim_id = Int()
    status = Str(validate=validate.OneOf(CLAIM_STATUSES))
    verdict = Bool(allow_none=True, metadata={"description": "Set when a fact-checker resolved it"})
    confidence = Float(metadata={"description": "The model's probability that the claim is true"})
    lower = Float()
    upper = Float()
    label = Str(metadata={"example": "roughly even chance"})
    grade = Str(metadata={"example": "C3"})
    log_odds = Float()
    prior_log_odds = Float()
    model_version = Str()
    n_reports = Int()
    n_clusters = Int()
    scored_at = DateTime(allow_none=True)
    explanation = List(Nested(ContributionSchema))
    what_would_change = List(
        Nested(HypotheticalReportSchema),
        allow_none=True,
        metadata={
            "description": "The few hypothetical reports that would move the confidence "
            "most, biggest moves first, both ways when both move it by half a point or more "
            "(computed when the score changed, stored with it). Null for a resolved claim "
            "and for a score stored before it existed."
        },
    )


class HistorySchema(ma.Schema):
    recorded_at = DateTime()
    confidence = Float()
    lower = Float()
    upper = Float()
    label = Str()
    model_version = Str()
    cause = Str()


# -- claims ----------------------------------------------------------------------------------
class ClaimSchema(StrictSchema):
    id = Int(dump_only=True)
    key = Str(validate=KEY, metadata={"example": "hamas-leadership-moved-to-turkey"})
    text = Str(
        required=True,
        validate=LONG_TEXT,
        metadata={"example": "Hamas's political leadership moved from Qatar to Turkey"},
    )
    status = Str(dump_only=True, validate=validate.OneOf(CLAIM_STATUSES))
    verdict = Bool(dump_only=True, allow_none=True)
    confidence = Float(dump_only=True, allow_none=True)
    lower = Float(dump_only=True, allow_none=True)
    upper = Float(dump_only=True, allow_none=True)
    label = Str(dump_only=True, allow_none=True)
    n_reports = Int(dump_only=True)
    n_clusters = Int(dump_only=True)
    model_version = Str(dump_only=True, allow_none=True)
    story = Str(
        allow_none=True,
        validate=STORY,
        metadata={
            "example": "hamas-leadership-2024",
            "description": "The event the claim belongs to (optional; interchange field "
            "story): the model starts the claim from the story's shrunk base rate",
        },
    )
    change_24h = Float(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Confidence now minus 24 hours ago"},
    )
    created_at = DateTime(dump_only=True)
    updated_at = DateTime(dump_only=True)


class ClaimCreatedSchema(ClaimSchema):
    warnings = List(Nested(lambda: WarningSchema()), dump_only=True)


class ClaimPatchSchema(StrictSchema):
    text = Str(validate=LONG_TEXT, metadata={"description": "The corrected claim text"})
    story = Str(
        allow_none=True,
        validate=STORY,
        metadata={
            "example": "hamas-leadership-2024",
            "description": "Move the claim to this story, or null to take it out of its "
            "story; the claim is rescored (its story's base rate is part of its score)",
        },
    )

    @ma.validates_schema
    def changes_something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give text, story or both.")


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# A slug as a query names it: all digits is read as an id, so the document's string
# alternative leaves those out ("0000" is neither a valid id nor a slug there).
QUERY_SLUG_PATTERN = r"^(?:[a-z0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*|[0-9]+(?:-[a-z0-9]+)+)$"


class OutletRef(ma.fields.Field):
    """An outlet named in a query by its id (digits) or its slug."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Must be an outlet id or slug.")
        if value.isascii() and value.isdigit():
            number = int(value)
            if not 1 <= number <= MAX_ID:
                raise ma.ValidationError(f"An outlet id is 1 to {MAX_ID}.")
            return number
        if len(value) > 200 or not re.match(SLUG_PATTERN, value):
            raise ma.ValidationError("Must be an outlet id or slug (such as 'reuters').")
        return value


CLAIM_SORTS = ("confidence", "-confidence", "change", "-change", "updated", "-updated", "id")


class ClaimListArgs(StrictSchema):
    status = Str(validate=validate.OneOf(CLAIM_STATUSES))
    min_confidence = QueryFloat(validate=validate.Range(min=0, max=1))
    max_confidence = QueryFloat(validate=validate.Range(min=0, max=1))
    outlet = OutletRef(
        metadata={
            "description": "Only claims this outlet reported: its id or its slug",
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "maxLength": 200, "pattern": QUERY_SLUG_PATTERN},
            ],
        }
    )
    updated_since = QueryDateTime()
    q = Str(validate=QUERY_TEXT, metadata={"description": "Words the claim's text contains"})
    story = Str(validate=STORY, metadata={"description": "Only claims of this story (exactly)"})
    sort = Str(load_default="-updated", validate=validate.OneOf(CLAIM_SORTS))


class SimilarArgs(StrictSchema):
    text = Str(
        required=True,
        validate=QUERY_TEXT,
        metadata={"description": f"The text to match, at most {QUERY_TEXT_MAX} characters"},
    )
    k = QueryInt(load_default=5, validate=validate.Range(min=1, max=50))


class SimilarClaimSchema(ma.Schema):
    claim_id = Int()
    key = Str()
    text = Str()
    similarity = Float()


class VerdictSchema(StrictSchema):
    verdict = Bool(required=True, metadata={"description": "true: the claim is true"})
    note = Str(load_default="", validate=validate.Length(max=10_000))
    replaces_verdict = Bool(
        load_default=False,
        metadata={
            "description": "Required (true) to change a claim resolved the other way; the "
            "new verdict is recorded as replacing it. Without it such a change is a 409."
        },
    )


# -- reports ---------------------------------------------------------------------------------
class KeyOrId(ma.fields.Field):
    """A report named by its key (string) or its id (integer)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ma.ValidationError("Must be a report key (string) or id (integer).")
        if isinstance(value, str):
            if len(value) > 200 or not re.match(KEY_PATTERN, value):
                raise ma.ValidationError(
                    "A report key is 1 to 200 characters, without control characters or "
                    "spaces at either end."
                )
        elif not 1 <= value <= MAX_ID:
            raise ma.ValidationError(f"A report id is 1 to {MAX_ID}.")
        return value


class ReportInSchema(StrictSchema):
    """One report; the field names are the interchange format's, plus ids."""

    claim_id = Int(validate=ID)
    claim_key = Str(validate=KEY, metadata={"example": "hamas-leadership-moved-to-turkey"})
    claim = Str(
        validate=LONG_TEXT,
        metadata={"example": "Hamas's political leadership moved from Qatar to Turkey"},
    )
    verdict = Bool(
        allow_none=True,
        load_default=None,
        metadata={"description": "Interchange field; non-null needs the verdict scope"},
    )
    report_key = Str(validate=KEY, metadata={"example": "reuters-2024-11-18-turkish-denial"})
    outlet_id = Int(validate=ID)
    outlet = Str(
        validate=NAME,
        metadata={
            "example": "Reuters",
            "description": "The outlet's name, slug or an alias (case, punctuation, a leading "
            "'The' and diacritics do not matter); else the domain of url names it. An "
            "unknown name is refused with suggestions unless new_outlet is true.",
        },
    )
    new_outlet = Bool(
        load_default=False,
        metadata={
            "description": "Create the outlet (unvetted, without a prior of its own) if its "
            "name is not known. Not part of the interchange format."
        },
    )
    stance = Str(required=True, validate=validate.OneOf(STANCES), metadata={"example": "denies"})
    attribution = Str(
        load_default="unattributed",
        validate=validate.OneOf(ATTRIBUTIONS),
        metadata={"example": "official_source"},
    )
    source = Str(
        allow_none=True, validate=SHORT_TEXT, metadata={"example": "Turkish diplomatic source"}
    )
    interested_party = Bool(load_default=False)
    independent = Bool(
        load_default=False,
        metadata={
            "description": "The sender says this report is its own reporting, not an echo: it "
            "is never inferred to repeat another outlet's report"
        },
    )
    cites = KeyOrId(
        allow_none=True,
        metadata={
            "description": "The report this one repeats: its key or id",
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 200, "pattern": KEY_PATTERN},
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            ],
        },
    )
    published_at = DateTime(
        allow_none=True,
        metadata={
            "example": "2024-11-18T10:00:00Z",
            "description": "When the outlet published it; not more than 10 minutes ahead of "
            "the service's clock",
        },
    )
    url = Str(
        allow_none=True,
        validate=[validate.Length(max=2000), validate.Regexp(URL_PATTERN)],
    )
    quote = Str(allow_none=True, validate=LONG_TEXT)
    story = Str(
        allow_none=True,
        validate=STORY,
        metadata={
            "example": "hamas-leadership-2024",
            "description": "The claim's story (event). Given to a claim without one; a "
            "story other than the claim's is refused (422).",
        },
    )

    @ma.validates_schema
    def names_a_claim_and_an_outlet(self, data, **kwargs):
        errors = {}
        if data.get("claim_id") is None and not (data.get("claim_key") and data.get("claim")):
            errors["claim_id"] = ["Give claim_id, or claim_key with the claim text."]
        if data.get("outlet_id") is None and not data.get("outlet"):
            errors["outlet"] = ["Give outlet (a name) or outlet_id."]
        if errors:
            raise ma.ValidationError(errors)


class ReportSchema(ma.Schema):
    id = Int()
    key = Str()
    claim_id = Int()
    outlet_id = Int()
    outlet = Str()
    stance = Str()
    attribution = Str()
    source = Str(allow_none=True)
    interested_party = Bool()
    cites = Str(allow_none=True)
    cites_id = Int(allow_none=True)
    cites_inferred = Bool(
        metadata={
            "description": "The citation was inferred from near-identical wording to an "
            "earlier report of another outlet, not stated by the sender"
        }
    )
    independent = Bool()
    published_at = DateTime(allow_none=True)
    url = Str(allow_none=True)
    quote = Str(allow_none=True)
    created_at = DateTime()
    retracted_at = DateTime(allow_none=True)
    retraction_reason = Str(allow_none=True)


class WarningSchema(ma.Schema):
    code = Str(
        metadata={
            "example": "similar_claim",
            "description": "similar_claim, outlet_resolved (the outlet name was read as "
            "another spelling of a known outlet) or outlet_created (an unknown outlet was "
            "created unvetted, as new_outlet asked)",
        }
    )
    message = Str()
    claim_id = Int(allow_none=True)
    similarity = Float(allow_none=True)
    outlet_id = Int(allow_none=True)


OUTCOMES = ("created", "unchanged", "duplicate")
OUTCOME_DESCRIPTION = (
    "created; unchanged (its report_key is stored with the same content); duplicate (the "
    "same report as one stored: same outlet, claim and stance, and the same url, quote, or "
    "source within the window; nothing was stored or counted, report is the stored one)"
)


class RecordedReportSchema(ma.Schema):
    report = Nested(ReportSchema)
    outcome = Str(validate=validate.OneOf(OUTCOMES), metadata={"description": OUTCOME_DESCRIPTION})
    duplicate_of = Int(
        allow_none=True, metadata={"description": "The stored report's id, for a duplicate"}
    )
    claim_id = Int()
    score = Nested(ScoreSchema)
    warnings = List(Nested(WarningSchema))


class BatchInSchema(StrictSchema):
    reports = List(Nested(ReportInSchema), required=True, validate=validate.Length(min=1, max=1000))


class BatchOutSchema(ma.Schema):
    reports = List(Nested(ReportSchema))
    outcomes = List(
        Str(validate=validate.OneOf(OUTCOMES)),
        metadata={"description": "One per report, in order: " + OUTCOME_DESCRIPTION},
    )
    scores = List(Nested(ScoreSchema))
    warnings = List(Nested(WarningSchema))


class RetractionArgs(StrictSchema):
    reason = Str(load_default="retracted", validate=QUERY_TEXT)


# -- what if ---------------------------------------------------------------------------------
MAX_HYPOTHETICAL_REPORTS = 20


class WhatIfReportSchema(StrictSchema):
    """A hypothetical report: a report body's fields where they make sense. Its outlet is
    a stored one (outlet or outlet_id) or a new one of a kind (outlet_kind): exactly one."""

    report_key = Str(
        validate=KEY,
        metadata={
            "description": "Its key in the explanation and for cites (default what-if-1, "
            "what-if-2, …); not a stored report's"
        },
    )
    outlet = Str(
        validate=NAME,
        metadata={"example": "Reuters", "description": "A stored outlet's name, slug or alias"},
    )
    outlet_id = Int(validate=ID)
    outlet_kind = Str(
        validate=validate.OneOf(OUTLET_KINDS),
        metadata={
            "example": "wire_agency",
            "description": "A new outlet of this kind, with no record and no prior of its own",
        },
    )
    stance = Str(required=True, validate=validate.OneOf(STANCES), metadata={"example": "denies"})
    attribution = Str(
        load_default="unattributed",
        validate=validate.OneOf(ATTRIBUTIONS),
        metadata={"example": "named_official"},
    )
    source = Str(allow_none=True, validate=SHORT_TEXT)
    interested_party = Bool(load_default=False)
    cites = KeyOrId(
        allow_none=True,
        metadata={
            "description": "The report this one repeats: a report of this claim (its key or "
            "id) or another hypothetical report (its report_key)",
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 200, "pattern": KEY_PATTERN},
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            ],
        },
    )

    @ma.validates_schema
    def names_one_outlet(self, data, **kwargs):
        named = [name for name in ("outlet", "outlet_id", "outlet_kind") if name in data]
        if len(named) != 1:
            raise ma.ValidationError(
                "Give exactly one of outlet, outlet_id and outlet_kind.", field_name="outlet"
            )


class WhatIfSchema(StrictSchema):
    reports = List(
        Nested(WhatIfReportSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_HYPOTHETICAL_REPORTS),
    )


class WhatIfScoreSchema(ScoreSchema):
    """The claim's score with the hypothetical reports added; nothing is stored."""

    class Meta:
        exclude = ("scored_at", "what_would_change")

    current_confidence = Float(
        metadata={
            "description": "The claim's confidence without the hypothetical reports, under "
            "the same (active) model"
        }
    )
    change = Float(metadata={"description": "confidence minus current_confidence"})
    hypothetical_reports = List(
        Str(),
        metadata={"description": "The hypothetical reports' keys, as the explanation names them"},
    )


# -- keys and audit --------------------------------------------------------------------------
class KeySchema(StrictSchema):
    id = Int(dump_only=True)
    name = Str(required=True, validate=NAME)
    scope = Str(required=True, validate=validate.OneOf(("read", "write", "verdict", "admin")))
    prefix = Str(dump_only=True)
    created_at = DateTime(dump_only=True)
    revoked_at = DateTime(dump_only=True, allow_none=True)


class KeyCreatedSchema(KeySchema):
    key = Str(dump_only=True, metadata={"description": "The key itself: shown this once only"})


class AuditSchema(ma.Schema):
    id = Int()
    recorded_at = DateTime()
    actor = Str()
    action = Str()
    target = Str()
    detail = ma.fields.Dict(allow_none=True)
