"""Reading and writing the JSON Lines interchange format (one report a line).

Pure: parses text into :class:`InterchangeRecord` dataclasses and refuses bad input with a
:class:`RecordError` that names the line and the field. The seed loader, ``srs import``,
``srs evaluate`` and the API's ``POST /reports`` body all speak this format.

:func:`report_evidence` is the one mapping from a record to what the scorer sees
(:class:`~scoring.evidence.ReportEvidence`); :func:`outlets_as_imported` fills in the outlet
kinds and priors a fresh import would give outlets the format does not describe.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO, Any

from scoring.evidence import ReportEvidence
from scoring.vocabulary import ATTRIBUTIONS, DEFAULT_ATTRIBUTION, DEFAULT_OUTLET_KIND, STANCES

REQUIRED_FIELDS = ("claim_key", "claim", "outlet", "stance")
KNOWN_FIELDS = frozenset(
    {
        "claim_key",
        "claim",
        "verdict",
        "report_key",
        "outlet",
        "stance",
        "attribution",
        "source",
        "interested_party",
        "cites",
        "published_at",
        "url",
        "quote",
        "story",
        "independent",
        "cites_inferred",
        "retracted_at",
        "retraction_reason",
    }
)
MAX_TEXT_LENGTH = 10_000
_FALSE_BY_DEFAULT = ("interested_party", "independent", "cites_inferred")
MAX_STORY_LENGTH = 100
"""A story is a short name for an event ("charliehebdo", "hamas-leadership-2024")."""


class RecordError(ValueError):
    """A record of the interchange format is invalid; names where and which field."""

    def __init__(self, line: int | None, field: str | None, message: str):
        self.line = line
        self.field = field
        self.message = message
        where = f"line {line}" if line is not None else "record"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class InterchangeRecord:
    claim_key: str
    claim: str
    outlet: str
    stance: str
    verdict: bool | None = None
    report_key: str | None = None
    attribution: str = DEFAULT_ATTRIBUTION
    source: str | None = None
    interested_party: bool = False
    cites: str | None = None
    published_at: datetime | None = None
    url: str | None = None
    quote: str | None = None
    story: str | None = None
    # The sender says the report repeats no other: never inferred to be an echo.
    independent: bool = False
    # ``cites`` was inferred from near-identical wording, not stated by the sender.
    cites_inferred: bool = False
    # A retracted report: kept (others may cite it) but not counted in any score.
    retracted_at: datetime | None = None
    retraction_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object, leaving out empty optional fields."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if name == "verdict":
                out[name] = value  # null is meaningful: repeats on every line
                continue
            if value is None or (name in _FALSE_BY_DEFAULT and value is False):
                continue
            if isinstance(value, datetime):
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            out[name] = value
        return out


def _text(
    obj: dict[str, Any],
    field: str,
    line: int | None,
    required: bool,
    max_length: int = MAX_TEXT_LENGTH,
) -> str | None:
    value = obj.get(field)
    if value is None:
        if required:
            raise RecordError(line, field, "is required")
        return None
    if not isinstance(value, str):
        raise RecordError(line, field, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if not value:
        if required:
            raise RecordError(line, field, "must not be empty")
        return None
    if len(value) > max_length:
        raise RecordError(line, field, f"is longer than {max_length} characters")
    return value


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 with a zone (``Z`` accepted); a naive time is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def record_from_json(obj: Any, line: int | None = None) -> InterchangeRecord:
    """Validate one decoded JSON object as an interchange record."""
    if not isinstance(obj, dict):
        raise RecordError(line, None, "must be a JSON object")
    unknown = sorted(set(obj) - KNOWN_FIELDS)
    if unknown:
        raise RecordError(line, unknown[0], "is not a field of the interchange format")
    claim_key = _text(obj, "claim_key", line, True)
    claim = _text(obj, "claim", line, True)
    outlet = _text(obj, "outlet", line, True)
    stance = _text(obj, "stance", line, True)
    if stance not in STANCES:
        raise RecordError(line, "stance", f"must be one of {', '.join(STANCES)}; got {stance!r}")
    attribution = _text(obj, "attribution", line, False) or DEFAULT_ATTRIBUTION
    if attribution not in ATTRIBUTIONS:
        raise RecordError(
            line, "attribution", f"must be one of {', '.join(ATTRIBUTIONS)}; got {attribution!r}"
        )
    verdict = obj.get("verdict")
    if verdict is not None and not isinstance(verdict, bool):
        raise RecordError(line, "verdict", "must be true, false or null")
    interested, independent, inferred = (
        _flag(obj, name, line) for name in ("interested_party", "independent", "cites_inferred")
    )
    published_at = _timestamp(obj, "published_at", line)
    retracted_at = _timestamp(obj, "retracted_at", line)
    retraction_reason = _text(obj, "retraction_reason", line, False)
    if retraction_reason is not None and retracted_at is None:
        raise RecordError(line, "retraction_reason", "is given, but retracted_at is empty")
    report_key = _text(obj, "report_key", line, False)
    cites = _text(obj, "cites", line, False)
    if cites is not None and cites == report_key:
        raise RecordError(line, "cites", "a report cannot cite itself")
    if inferred and cites is None:
        raise RecordError(line, "cites_inferred", "says cites was inferred, but cites is empty")
    if inferred and independent:
        raise RecordError(line, "cites_inferred", "an independent report is never inferred an echo")
    return InterchangeRecord(
        claim_key=claim_key,
        claim=claim,
        outlet=outlet,
        stance=stance,
        verdict=verdict,
        report_key=report_key,
        attribution=attribution,
        source=_text(obj, "source", line, False),
        interested_party=interested,
        cites=cites,
        published_at=published_at,
        url=_text(obj, "url", line, False),
        quote=_text(obj, "quote", line, False),
        story=_text(obj, "story", line, False, MAX_STORY_LENGTH),
        independent=independent,
        cites_inferred=inferred,
        retracted_at=retracted_at,
        retraction_reason=retraction_reason,
    )


def _timestamp(obj: dict[str, Any], field: str, line: int | None) -> datetime | None:
    """An optional ISO 8601 date-time field."""
    raw = _text(obj, field, line, False)
    if raw is None:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise RecordError(line, field, f"is not an ISO 8601 date-time: {raw!r}") from None


def _flag(obj: dict[str, Any], field: str, line: int | None) -> bool:
    """An optional boolean field: true, false, or absent / null (false)."""
    value = obj.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordError(line, field, "must be true or false")
    return value


def read_numbered_records(
    lines: Iterable[str], start_line: int = 1
) -> Iterator[tuple[int, InterchangeRecord]]:
    """Stream ``(line number, record)`` pairs from JSON Lines text; blank lines are skipped.

    Raises :class:`RecordError` at the first bad line, naming it.
    """
    for number, raw in enumerate(lines, start=start_line):
        text = raw.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(number, None, f"is not valid JSON ({exc.msg})") from None
        yield number, record_from_json(obj, number)


def read_records(lines: Iterable[str], start_line: int = 1) -> Iterator[InterchangeRecord]:
    """Stream records from JSON Lines text (see :func:`read_numbered_records`)."""
    for _, record in read_numbered_records(lines, start_line):
        yield record


def check_consistency(records: Iterable[InterchangeRecord]) -> list[InterchangeRecord]:
    """Check what single lines cannot: unique report keys, one text, verdict and story per
    claim, and ``cites`` naming a report of the same file. Returns the records as a list."""
    seen_reports: dict[str, int] = {}
    claims: dict[str, InterchangeRecord] = {}
    out = list(records)
    for index, record in enumerate(out, start=1):
        if record.report_key is not None:
            if record.report_key in seen_reports:
                raise RecordError(index, "report_key", f"duplicate key {record.report_key!r}")
            seen_reports[record.report_key] = index
        first = claims.setdefault(record.claim_key, record)
        if first.claim != record.claim:
            raise RecordError(index, "claim", f"differs from the text of {record.claim_key!r}")
        if first.verdict != record.verdict:
            raise RecordError(index, "verdict", f"differs from the verdict of {record.claim_key!r}")
        if first.story != record.story:
            raise RecordError(index, "story", f"differs from the story of {record.claim_key!r}")
    for index, record in enumerate(out, start=1):
        if record.cites is not None and record.cites not in seen_reports:
            raise RecordError(index, "cites", f"names no report of this file: {record.cites!r}")
    return out


def write_records(records: Iterable[InterchangeRecord], stream: IO[str]) -> int:
    """Write records as JSON Lines; returns how many were written."""
    count = 0
    for record in records:
        stream.write(json.dumps(record.to_json(), ensure_ascii=False, sort_keys=False) + "\n")
        count += 1
    return count


def report_evidence(
    record: InterchangeRecord,
    key: str | None = None,
    *,
    outlet_kind: str | None = None,
    outlet_prior: float | None = None,
) -> ReportEvidence:
    """What the scorer sees of one record: the one record-to-evidence mapping.

    Parameters
    ----------
    record : InterchangeRecord
    key : str, optional
        The report's key; default ``record.report_key``. A record without one needs a key
        unique within its claim (see :func:`records_evidence`).
    outlet_kind, outlet_prior : optional
        The outlet's kind and prior reliability from the outlet table, which the format
        does not carry.
    """
    key = key or record.report_key
    if key is None:
        raise ValueError(f"a report of {record.claim_key!r} has no report_key and no key given")
    return ReportEvidence(
        key=key,
        outlet=record.outlet,
        stance=record.stance,
        attribution=record.attribution,
        source=record.source,
        interested_party=record.interested_party,
        cites=record.cites,
        outlet_reliability=outlet_prior,
        outlet_kind=outlet_kind,
        published_at=record.published_at,
        cites_inferred=record.cites_inferred,
        story=record.story,
        quote=record.quote,
    )


def records_evidence(
    records: Iterable[InterchangeRecord],
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float] | None = None,
) -> dict[str, list[ReportEvidence]]:
    """Each claim's reports as evidence, by claim key, in the order of ``records``.

    A record without ``report_key`` is keyed ``"<claim_key>#<n>"``, ``n`` its position
    among its claim's records (from 1), so the keys of a claim do not depend on which other
    claims are in ``records``. A retracted record is not evidence (its claim is kept).
    """
    kinds, priors = outlet_kinds or {}, outlet_priors or {}
    out: dict[str, list[ReportEvidence]] = {}
    for record in records:
        reports = out.setdefault(record.claim_key, [])
        if record.retracted_at is not None:
            continue
        reports.append(
            report_evidence(
                record,
                record.report_key or f"{record.claim_key}#{len(reports) + 1}",
                outlet_kind=kinds.get(record.outlet),
                outlet_prior=priors.get(record.outlet),
            )
        )
    return out


def outlets_as_imported(
    records: Iterable[InterchangeRecord],
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float] | None = None,
) -> tuple[dict[str, str], dict[str, float]]:
    """Every outlet's kind and prior as the service holds them after importing ``records``.

    The format names outlets only; an outlet the service has not seen is recorded with
    kind :data:`~scoring.vocabulary.DEFAULT_OUTLET_KIND` and the documented prior of its
    kind (model ``prior-1``). Given kinds and priors are kept; an outlet with a given kind
    but no prior takes its kind's documented prior. Returns ``(kinds, priors)`` covering
    every outlet of ``records``.
    """
    from scoring.attribution import OUTLET_KIND_PRIORS

    given_kinds, given_priors = outlet_kinds or {}, outlet_priors or {}
    kinds: dict[str, str] = {}
    priors: dict[str, float] = {}
    for record in records:
        outlet = record.outlet
        if outlet in kinds:
            continue
        kind = given_kinds.get(outlet, DEFAULT_OUTLET_KIND)
        kinds[outlet] = kind
        prior = given_priors.get(outlet)
        priors[outlet] = OUTLET_KIND_PRIORS[kind].reliability if prior is None else prior
    return kinds, priors
