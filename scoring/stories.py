"""Deriving the optional ``story`` of claims whose files do not carry one.

A story groups the claims of one event. Some data sets name the event in the claim text
instead; a *story rule* turns such a text into a story name. Rules never override a story
a record already has, and a claim whose text does not match keeps no story, so data without
stories lose nothing.

Rules (by name, as ``srs evaluate --derive-story RULE`` takes them):

``parenthesised``
    The last parenthesised group at the end of the claim text, stripped and case-folded:
    RumourEval 2017's ``"Rumour thread 552783667052167168 (charliehebdo)"`` belongs to the
    story ``charliehebdo``. A text that does not end in ``(…)`` has no story. Names longer
    than :data:`~scoring.interchange.MAX_STORY_LENGTH` are not stories either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from scoring.interchange import MAX_STORY_LENGTH, InterchangeRecord

_PARENTHESISED = re.compile(r"\(([^()]*)\)\s*$")


def parenthesised_story(claim: str) -> str | None:
    """The story named in parentheses at the end of a claim text, else ``None``.

    >>> parenthesised_story("Rumour thread 552783667052167168 (charliehebdo)")
    'charliehebdo'
    >>> parenthesised_story("Hamas moved to Turkey") is None
    True
    """
    match = _PARENTHESISED.search(claim)
    if match is None:
        return None
    name = " ".join(match.group(1).split()).casefold()
    return name if 0 < len(name) <= MAX_STORY_LENGTH else None


STORY_RULES: Mapping[str, Callable[[str], str | None]] = MappingProxyType(
    {"parenthesised": parenthesised_story}
)
"""Story rules by name: each maps a claim text to a story name or ``None``."""


def derive_stories(records: Iterable[InterchangeRecord], rule: str) -> list[InterchangeRecord]:
    """The records with ``story`` set by ``rule`` where they have none.

    The rule sees the claim text, which is one per claim, so every record of a claim gets
    the same story. Records with a story keep it.

    Raises
    ------
    ValueError
        On an unknown rule name.
    """
    try:
        derive = STORY_RULES[rule]
    except KeyError:
        raise ValueError(
            f"unknown story rule {rule!r}; known: {', '.join(sorted(STORY_RULES))}"
        ) from None
    out = []
    for record in records:
        if record.story is None:
            story = derive(record.claim)
            if story is not None:
                record = replace(record, story=story)
        out.append(record)
    return out


def claim_stories(records: Iterable[InterchangeRecord]) -> dict[str, str | None]:
    """Each claim's story (``None`` when it has none), by claim key."""
    stories: dict[str, str | None] = {}
    for record in records:
        stories.setdefault(record.claim_key, record.story)
    return stories
