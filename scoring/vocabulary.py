"""The closed vocabularies shared by the files, the database and the API.

Spellings here are the interchange format's (``../shared/DESIGN.md``); the database enums,
the marshmallow schemas and the JSON Lines files all take them from this module.
"""

from __future__ import annotations

STANCES: tuple[str, ...] = ("supports", "denies", "neutral")

ATTRIBUTIONS: tuple[str, ...] = (
    "named_official",  # a named person on the record
    "official_statement",  # an institution's statement
    "official_source",  # an unnamed official
    "anonymous_diplomat",
    "anonymous_source",
    "party_spokesperson",
    "document",
    "eyewitness",
    "media_report",  # relaying another outlet
    "unattributed",  # the default
)
DEFAULT_ATTRIBUTION = "unattributed"

OUTLET_KINDS: tuple[str, ...] = (
    "wire_agency",
    "public_broadcaster",
    "state_controlled",
    "newspaper",
    "independent",
    "aggregator",
    "social_account",
)
DEFAULT_OUTLET_KIND = "independent"

CLAIM_STATUSES: tuple[str, ...] = ("open", "resolved_true", "resolved_false")
