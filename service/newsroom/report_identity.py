"""One vote per report: duplicates of a stored report, and echoes nobody declared.

Pure logic, no database (issue 14, item 2). The recorder and the bulk import hand these
functions the stored reports of a claim and act on the answer.

**Duplicates** (:func:`is_same_report`). A report with the same outlet, claim and stance as
a stored one is the same report when, besides, it has

- the same ``url`` (compared without scheme, ``www.``, fragment, trailing slash or
  tracking parameters such as ``utm_*``), or
- the same normalised ``quote`` (:func:`normalise_quote`), or
- the same ``source`` (case and spacing folded) within a window of time (configurable;
  the times compared are ``published_at``, else when each report arrived).

A duplicate is not stored: the answer is the stored report. Empty fields never match: two
reports with no url, quote or source are two reports.

**Inferred echoes** (:func:`inferred_echo_of`). Across outlets, a report whose quote nearly
repeats an earlier report's quote of the same claim copies it, whether or not it says so;
it is linked to the earliest such report (by ``published_at``, else by arrival) and the
link is flagged as inferred, so scoring puts both in one provenance cluster. Never for a
report that names its ``cites`` (the sender said what it repeats) or says
``independent: true`` (the sender says it repeats nothing), nor across opposite stances
(a denial that restates the claim's words does not repeat the report it denies; a neutral
relay may repeat either side).

*How near is "nearly".* Quotes are compared as sets of word 3-shingles (every run of three
consecutive words of the normalised quote) by **containment**, the share of the shorter
quote's shingles found in the longer one: an aggregator that embeds a wire sentence in
paragraphs of its own commentary contains all of it, which Jaccard similarity (shared
over union) would dilute to nothing. An echo needs both

- containment of at least :data:`ECHO_CONTAINMENT` = 0.6: one changed word removes at most
  three shingles, so an 18-word sentence still counts as repeated with two words changed,
  or with a third of it cut and an attribution put in front ("According to the Times of
  Israel, senior members of Hamas's abroad leadership left Qatar last week for Turkey"
  against the paper's own 18 words: 0.625), and
- at least :data:`MIN_SHARED_SHINGLES` = 8 shingles in common, about ten words in runs.

The second bar is what keeps independent reports apart. All reports of a claim state the
same fact, often in the claim's own words, and reporters share stock phrases ("according
to a senior official", "the ministry said in a statement on Monday"): two headlines
"Hamas political leadership moved from Qatar to Turkey, sources say" and "…, officials
say" share 6 shingles (containment 0.75) and are not inferred to copy each other. A
quote under ten words is too short to tell copying from two outlets stating one fact. A
genuine paraphrase shares next to no shingle and is never an echo: rewording is what
independent reporting looks like. Two outlets quoting one statement verbatim at length
are linked, which is right: the same words have one origin and count once, as the
``source`` rule would count them. On the seed story no report is inferred an echo (the
highest containment between two outlets' quotes there is 0.45, MEE relaying Kan).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from service.newsroom.text_folding import fold

SHINGLE_SIZE = 3
ECHO_CONTAINMENT = 0.6
MIN_SHARED_SHINGLES = 8
DEFAULT_SOURCE_WINDOW = timedelta(hours=24)

_POSSESSIVE = re.compile(r"['\u2019\u02bc]s\b", re.IGNORECASE)
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid)$", re.IGNORECASE)


class ReportLike(Protocol):
    """What these functions read of a report: a stored row adapted, or a new one.

    ``outlet`` and ``claim`` are any hashable identity (ids, or names and keys);
    ``received_at`` is when the report arrived (``created_at`` once stored, now for a new
    one), None when unknown; ``cites`` is whatever names the cited report, None if none.
    """

    outlet: Hashable
    claim: Hashable
    stance: str
    url: str | None
    quote: str | None
    source: str | None
    published_at: datetime | None
    received_at: datetime | None
    cites: object | None
    independent: bool


R = TypeVar("R", bound=ReportLike)


@dataclass(frozen=True)
class ReportFacts:
    """A plain :class:`ReportLike`, for callers (and tests) that have no row to adapt."""

    outlet: Hashable
    claim: Hashable
    stance: str
    url: str | None = None
    quote: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    received_at: datetime | None = None
    cites: object | None = None
    independent: bool = False
    key: str | None = None
    ref: Any = None  # what a caller gets back when this report is matched

    @classmethod
    def of_record(
        cls,
        record: Any,
        outlet: Hashable,
        cites: object | None,
        received_at: datetime,
        key: str | None = None,
        ref: Any = None,
    ) -> ReportFacts:
        """A new report from an interchange record, its outlet resolved and its stated
        citation found (the claim is named by its key); ``key`` and ``ref`` once stored."""
        return cls(
            outlet=outlet,
            claim=record.claim_key,
            stance=record.stance,
            url=record.url,
            quote=record.quote,
            source=record.source,
            published_at=record.published_at,
            received_at=received_at,
            cites=cites,
            independent=record.independent,
            key=key,
            ref=ref,
        )


def _fold(text: str) -> str:
    """:func:`~service.newsroom.text_folding.fold`, a possessive ``'s`` dropped first."""
    return fold(_POSSESSIVE.sub("", unicodedata.normalize("NFKD", text)))


def normalise_quote(text: str | None) -> str | None:
    """The form two copies of one quote share, None for no quote (or one of punctuation).

    Case, diacritics, punctuation (typographic quotes and dashes included), a possessive
    ``'s`` and spacing are folded: ``"Hamas's leaders LEFT Qatar…"`` and ``"Hamas'
    leaders left Qatar"`` are the same quote.
    """
    if text is None:
        return None
    return _fold(text) or None


def _normalise_source(source: str | None) -> str | None:
    return _fold(source) if source else None


def normalise_url(url: str | None) -> str | None:
    """A URL as two copies of one link compare: ``https://www.Reuters.com/world/?utm_source=x``
    and ``http://reuters.com/world#top`` are the same. None for no URL."""
    if url is None or not url.strip():
        return None
    text = url.strip()
    try:
        parts = urlsplit(text if "://" in text else "//" + text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return text
    if parts.scheme not in ("", "http", "https") or not host:
        return text
    if host.startswith("www."):
        host = host[4:]
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in pairs if not _TRACKING.match(k)])
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{query}" if query else "")


def _when(report: ReportLike) -> datetime | None:
    return report.published_at or report.received_at


def is_same_report(
    new: ReportLike, stored: ReportLike, source_window: timedelta = DEFAULT_SOURCE_WINDOW
) -> bool:
    """Whether ``new`` is ``stored`` sent again (see the module docstring for the rules)."""
    if (new.outlet, new.claim, new.stance) != (stored.outlet, stored.claim, stored.stance):
        return False
    url = normalise_url(new.url)
    if url is not None and url == normalise_url(stored.url):
        return True
    quote = normalise_quote(new.quote)
    if quote is not None and quote == normalise_quote(stored.quote):
        return True
    source = _normalise_source(new.source)
    if source and source == _normalise_source(stored.source):
        new_time, stored_time = _when(new), _when(stored)
        if new_time is not None and stored_time is not None:
            return abs(new_time - stored_time) <= source_window
    return False


def find_duplicate(
    new: ReportLike, stored: Iterable[R], source_window: timedelta = DEFAULT_SOURCE_WINDOW
) -> R | None:
    """The first of ``stored`` (in the order given: arrival) that ``new`` repeats."""
    for candidate in stored:
        if is_same_report(new, candidate, source_window):
            return candidate
    return None


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> frozenset[tuple[str, ...]]:
    """The word ``size``-shingles of a normalised text; empty for fewer than ``size`` words."""
    words = (normalise_quote(text) or "").split()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def _overlap(a: str | None, b: str | None) -> tuple[float, int]:
    first, second = shingles(a), shingles(b)
    if not first or not second:
        return 0.0, 0
    shared = len(first & second)
    return shared / min(len(first), len(second)), shared


def shingle_similarity(a: str | None, b: str | None) -> float:
    """Containment of the shorter text's word 3-shingles in the longer's, in [0, 1]: 1 when
    one text repeats the other whole (whatever it adds around it), 0 when they share no
    run of three words or either has fewer than three."""
    return _overlap(a, b)[0]


def nearly_repeats(a: str | None, b: str | None) -> bool:
    """Whether one quote nearly repeats the other: containment of at least
    :data:`ECHO_CONTAINMENT` with at least :data:`MIN_SHARED_SHINGLES` shingles shared."""
    containment, shared = _overlap(a, b)
    return containment >= ECHO_CONTAINMENT and shared >= MIN_SHARED_SHINGLES


def _stances_can_repeat(new: str, earlier: str) -> bool:
    return new == earlier or new == "neutral"


def inferred_echo_of(new: ReportLike, earlier_reports: Sequence[R]) -> R | None:
    """The report ``new`` repeats without saying so, or None.

    Parameters
    ----------
    new:
        The report being recorded.
    earlier_reports:
        The claim's stored live reports (and those recorded before ``new`` in the same
        batch), in arrival order.

    Returns
    -------
    The earliest (by ``published_at``, else arrival; ties by arrival) report of another
    outlet, of the same claim and a stance ``new`` can repeat, whose quote ``new`` nearly
    repeats and which was not published after ``new``. None when ``new`` names ``cites``
    or says ``independent``.
    """
    if new.cites is not None or new.independent or normalise_quote(new.quote) is None:
        return None
    candidates = []
    for position, earlier in enumerate(earlier_reports):
        if earlier.outlet == new.outlet or earlier.claim != new.claim:
            continue
        if not _stances_can_repeat(new.stance, earlier.stance):
            continue
        if (
            new.published_at is not None
            and earlier.published_at is not None
            and earlier.published_at > new.published_at
        ):
            continue  # published after the new one: it cannot be what the new one copied
        if not nearly_repeats(new.quote, earlier.quote):
            continue
        when = _when(earlier)
        # Known times first, earliest first; then those of unknown time; ties by arrival.
        candidates.append(((0, when, position) if when else (1, position), earlier))
    if not candidates:
        return None
    return min(candidates, key=lambda pair: pair[0])[1]
