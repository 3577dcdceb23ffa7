"""Reading and writing the JSON Lines interchange format (one report a line).

Pure: parses text into :class:`InterchangeRecord` dataclasses and refuses bad input with a
:class:`RecordError` that names the line and the field. The seed loader, ``srs import``,
``srs evaluate`` and the API's ``POST /reports`` body all speak this format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO, Any

from scoring.vocabulary import ATTRIBUTIONS, DEFAULT_ATTRIBUTION, STANCES

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
    }
)
MAX_TEXT_LENGTH = 10_000


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

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object, leaving out empty optional fields."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if name == "verdict":
                out[name] = value  # null is meaningful: repeats on every line
                continue
            if value is None or (name == "interested_party" and value is False):
                continue
            if isinstance(value, datetime):
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            out[name] = value
        return out


def _text(obj: dict[str, Any], field: str, line: int | None, required: bool) -> str | None:
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
    if len(value) > MAX_TEXT_LENGTH:
        raise RecordError(line, field, f"is longer than {MAX_TEXT_LENGTH} characters")
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
    interested = obj.get("interested_party", False)
    if interested is None:
        interested = False
    if not isinstance(interested, bool):
        raise RecordError(line, "interested_party", "must be true or false")
    published_raw = _text(obj, "published_at", line, False)
    published_at = None
    if published_raw is not None:
        try:
            published_at = parse_timestamp(published_raw)
        except ValueError:
            raise RecordError(
                line, "published_at", f"is not an ISO 8601 date-time: {published_raw!r}"
            ) from None
    report_key = _text(obj, "report_key", line, False)
    cites = _text(obj, "cites", line, False)
    if cites is not None and cites == report_key:
        raise RecordError(line, "cites", "a report cannot cite itself")
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
    )


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
    """Check what single lines cannot: unique report keys, one text and verdict per claim,
    and ``cites`` naming a report of the same file. Returns the records as a list."""
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
