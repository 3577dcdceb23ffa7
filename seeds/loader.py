"""Reads and validates the seed story: outlets with their priors, the other names and the
web domains newsrooms know them by, and reports of claims.

Pure: returns dataclasses and raises :class:`scoring.interchange.RecordError` naming the
file, record and field of the first bad value. Persisting them is the service's job
(``srs seed``), through the same path as ``srs import``. Seeds may import the service's
code (a seeded outlet is a :class:`service.newsroom.outlets.NewOutlet`); the service
imports nothing from here but the seed command (:mod:`service.cli.data`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from scoring.interchange import InterchangeRecord, RecordError, check_consistency, read_records
from scoring.vocabulary import OUTLET_KINDS
from service.newsroom.outlet_identity import MAX_NAME_LENGTH
from service.newsroom.outlets import NewOutlet as OutletSeed

SEEDS_DIR = Path(__file__).resolve().parent
OUTLETS_FILE = SEEDS_DIR / "outlets.json"
STORY_FILE = SEEDS_DIR / "story.jsonl"

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A domain as the outlet_domains table holds it: lower-case host labels, no "www.", no
# scheme, port or path (in ASCII: internationalised names in their xn-- form).
DOMAIN_PATTERN = re.compile(r"^(?!www\.)(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}$")
OUTLET_FIELDS = frozenset(
    {"name", "slug", "kind", "prior_reliability", "rationale", "country", "aliases", "domains"}
)


def outlet_from_json(obj: object, index: int) -> OutletSeed:
    """Validate one outlet object; ``index`` counts from 1 and names it in errors."""
    if not isinstance(obj, dict):
        raise RecordError(index, None, "an outlet must be a JSON object")
    for field in ("name", "slug", "kind", "prior_reliability", "rationale"):
        if obj.get(field) in (None, ""):
            raise RecordError(index, field, "is required")
    unknown = sorted(set(obj) - OUTLET_FIELDS)
    if unknown:
        raise RecordError(index, unknown[0], "is not a field of an outlet")
    if obj["kind"] not in OUTLET_KINDS:
        raise RecordError(index, "kind", f"must be one of {', '.join(OUTLET_KINDS)}")
    if not isinstance(obj["slug"], str) or not SLUG_PATTERN.match(obj["slug"]):
        raise RecordError(index, "slug", "must be lowercase letters, digits and hyphens")
    prior = obj["prior_reliability"]
    if isinstance(prior, bool) or not isinstance(prior, int | float) or not 0 < prior < 1:
        raise RecordError(index, "prior_reliability", "must be a number strictly between 0 and 1")
    country = obj.get("country")
    if country is not None and (
        not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2}", country)
    ):
        raise RecordError(index, "country", "must be an ISO 3166-1 alpha-2 code such as 'GB'")
    aliases = _string_list(obj, "aliases", index)
    for alias in aliases:
        if not alias.strip() or len(alias) > MAX_NAME_LENGTH:
            raise RecordError(index, "aliases", f"{alias!r} is not a name of 1 to 200 characters")
    domains = _string_list(obj, "domains", index)
    for domain in domains:
        if not DOMAIN_PATTERN.match(domain):
            raise RecordError(
                index, "domains", f"{domain!r} is not a lower-case domain without 'www.'"
            )
    return OutletSeed(
        name=str(obj["name"]),
        slug=obj["slug"],
        kind=obj["kind"],
        prior_reliability=float(prior),
        rationale=str(obj["rationale"]),
        country=country,
        aliases=tuple(aliases),
        domains=tuple(domains),
    )


def _string_list(obj: dict, field: str, index: int) -> list[str]:
    values = obj.get(field, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RecordError(index, field, "must be a list of strings")
    return values


def read_outlets(path: Path = OUTLETS_FILE) -> list[OutletSeed]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(exc.lineno, None, f"{path.name} is not valid JSON ({exc.msg})") from None
    if not isinstance(raw, list):
        raise RecordError(None, None, f"{path.name} must hold a JSON list of outlets")
    outlets = [outlet_from_json(obj, index) for index, obj in enumerate(raw, start=1)]
    for attribute in ("name", "slug"):
        seen: set[str] = set()
        for index, outlet in enumerate(outlets, start=1):
            value = getattr(outlet, attribute)
            if value in seen:
                raise RecordError(index, attribute, f"duplicate outlet {attribute} {value!r}")
            seen.add(value)
    # A name or domain names one outlet: no alias repeats a name or another alias (case
    # aside; the service folds more, and its test holds the file to that), no domain
    # belongs to two outlets.
    holders = {outlet.name.casefold(): index for index, outlet in enumerate(outlets, start=1)}
    for index, outlet in enumerate(outlets, start=1):
        for alias in outlet.aliases:
            if holders.setdefault(alias.casefold(), index) != index:
                raise RecordError(index, "aliases", f"{alias!r} names two outlets")
    domains: set[str] = set()
    for index, outlet in enumerate(outlets, start=1):
        for domain in outlet.domains:
            if domain in domains:
                raise RecordError(index, "domains", f"{domain!r} belongs to two outlets")
            domains.add(domain)
    return outlets


def read_story(path: Path = STORY_FILE) -> list[InterchangeRecord]:
    with path.open(encoding="utf-8") as lines:
        return check_consistency(read_records(lines))


@dataclass(frozen=True)
class SeedStory:
    outlets: list[OutletSeed]
    reports: list[InterchangeRecord]


def read_seed_story(outlets_path: Path = OUTLETS_FILE, story_path: Path = STORY_FILE) -> SeedStory:
    """Both files, checked against each other: every report's outlet is a seeded outlet."""
    outlets = read_outlets(outlets_path)
    reports = read_story(story_path)
    names = {outlet.name for outlet in outlets}
    for index, report in enumerate(reports, start=1):
        if report.outlet not in names:
            raise RecordError(index, "outlet", f"{report.outlet!r} is not in {outlets_path.name}")
    return SeedStory(outlets=outlets, reports=reports)
