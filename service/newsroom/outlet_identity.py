"""One name per outlet: how a report's ``outlet`` (and ``url``) is resolved to a stored outlet.

Pure logic over an in-memory :class:`OutletIndex`: no database, no Flask. The recorder,
the bulk import and the API build the index from the outlets, aliases and domains tables
and ask :func:`resolve_outlet`; what to do with an unresolved name (refuse with the
suggestions, or create the outlet unvetted) is theirs to decide (issue 14, item 1).

A name resolves, in this order, by

1. the canonical name, exactly as stored;
2. the slug, exactly (``reuters``, ``the-times-of-israel``);
3. its normalised form (:func:`normalise_outlet_name`: case, punctuation, a leading
   "The", diacritics and whitespace folded) against the normalised canonical names and
   the aliases ("REUTERS", "Reuters.", "Times of Israel", "ToI", "Kan 11");
4. the domain of the report's ``url`` (:func:`domain_of`), or of a parent domain, so that
   ``https://www.reuters.com/world/…`` and ``uk.reuters.com`` both name Reuters.

The name comes first: a report that says "Reuters" and links to a syndicated copy on
another site is Reuters' report. A normalised form shared by two stored outlets (stored
before aliases existed, such as "Reuters" and "Reuters.") is ambiguous: it resolves to
neither, and both come back as suggestions until an admin merges them.

An unresolved name gets up to three suggestions: the known names closest to it, scored
by rapidfuzz's ``token_set_ratio`` (0–100) on the normalised forms, each outlet's best
name counting once. Acronyms of multi-word names are candidates too ("MEE" for Middle
East Eye). The floor of :data:`SUGGESTION_FLOOR` = 60 was set on the seed outlets and a
few well-known ones: misspellings and partial names score 84–100 ("Reuter", "al jazira",
"times israel", "middle east monitor" → Middle East Eye 85), while unrelated names stay
at or below 45 ("the guardian", "jerusalem post", "cnn", "foo bar"). A suggestion is
never taken as a match: "Kan 12" scores 100 against "Kan" and is another channel.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from service.newsroom.text_folding import fold

MAX_NAME_LENGTH = 200  # of a name or an alias (the columns' length)
SUGGESTION_FLOOR = 60.0
SUGGESTIONS = 3

_LEADING_THE = re.compile(r"^the\s+(?=\S)")
# Two or more one-letter words in a row: an acronym written with dots or spaces.
_SPELLED_OUT = re.compile(r"(?<!\S)[^\W\d_](?: [^\W\d_])+(?!\S)")
_WWW = "www."
# "mailto:x", but not "reuters.com:443/…" (a host and its port).
_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")


def normalise_outlet_name(name: str) -> str:
    """The form two spellings of one name share: ``"The Times of Israel"`` → ``"times of
    israel"``, ``"REUTERS."`` → ``"reuters"``, ``"Al Jazéera"`` → ``"al jazeera"``.

    Folded as :func:`~service.newsroom.text_folding.fold` folds (diacritics, ligatures and
    full-width forms, case, apostrophes, punctuation, whitespace); ``&`` reads "and";
    letters spelled out one by one join (``"M.E.E."`` → ``"mee"``, ``"A P"`` → ``"ap"``);
    one leading "the" goes. A name of punctuation only normalises to ``""``.
    """
    # NFKD first, so that a full-width ampersand is one too.
    folded = fold(unicodedata.normalize("NFKD", name).replace("&", " and "))
    folded = _SPELLED_OUT.sub(lambda m: m.group(0).replace(" ", ""), folded)
    return _LEADING_THE.sub("", folded)


def domain_of(url: str | None) -> str | None:
    """The web domain of a URL as the outlet_domains table holds it: the host, lower-case,
    in ASCII (IDNA), without a port, a trailing dot or a leading ``www.``.

    ``"https://WWW.Reuters.com:443/world?x=1"`` → ``"reuters.com"``. A URL without a
    scheme (``"www.reuters.com/world"``) is read as a web address. None for what has no
    host, or a scheme other than http(s).
    """
    if not url or not url.strip():
        return None
    text = url.strip()
    if "://" not in text:
        if _OTHER_SCHEME.match(text):
            return None  # mailto:, javascript:, data: …
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("", "http", "https") or not host:
        return None
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    host = host.lower()
    if host.startswith(_WWW):
        host = host[len(_WWW) :]
    return host or None


def _parent_domains(domain: str) -> Iterable[str]:
    """``uk.reuters.com``, then ``reuters.com`` (never a bare top-level label)."""
    labels = domain.split(".")
    for start in range(len(labels) - 1):
        yield ".".join(labels[start:])


def _acronym(normalised: str) -> str | None:
    words = normalised.split()
    if len(words) < 2:
        return None
    return "".join(word[0] for word in words)


@dataclass(frozen=True)
class Suggestion:
    """A known outlet whose name is close to an unknown one."""

    outlet_id: int
    name: str  # the canonical name
    matched: str  # the name, alias or acronym that came close
    score: float  # rapidfuzz token_set_ratio on normalised forms, 0–100


def _rank(
    query: str,
    choices: Sequence[str],
    owners: Sequence[int],
    labels: Sequence[str],
    names: Mapping[int, str],
    limit: int,
) -> list[Suggestion]:
    if not query or not choices:
        return []
    hits = process.extract(
        query,
        choices,
        scorer=fuzz.token_set_ratio,
        processor=None,
        limit=None,
        score_cutoff=SUGGESTION_FLOOR,
    )
    best: dict[int, Suggestion] = {}
    for _, score, position in hits:
        outlet_id = owners[position]
        if outlet_id not in best or score > best[outlet_id].score:
            best[outlet_id] = Suggestion(
                outlet_id, names[outlet_id], labels[position], round(float(score), 1)
            )
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.name.casefold(), s.outlet_id))
    return ranked[:limit]


def _candidate_choices(
    candidates: Mapping[int, Sequence[str]],
) -> tuple[list[str], list[int], list[str]]:
    choices, owners, labels = [], [], []
    for outlet_id, outlet_names in candidates.items():
        for label in outlet_names:
            normalised = normalise_outlet_name(label)
            for choice in (normalised, _acronym(normalised)):
                if choice:
                    choices.append(choice)
                    owners.append(outlet_id)
                    labels.append(label)
    return choices, owners, labels


def closest_outlets(
    name: str, candidates: Mapping[int, Sequence[str]], limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The known outlets whose names are closest to ``name``, best first.

    Parameters
    ----------
    name:
        The name that did not resolve.
    candidates:
        Outlet id → the names it goes by, its canonical name first (aliases after).
    limit:
        At most this many suggestions, one per outlet, each scoring at least
        :data:`SUGGESTION_FLOOR`.
    """
    choices, owners, labels = _candidate_choices(candidates)
    names = {outlet_id: outlet_names[0] for outlet_id, outlet_names in candidates.items()}
    return _rank(normalise_outlet_name(name), choices, owners, labels, names, limit)


@dataclass(frozen=True)
class Resolution:
    """What a name (and URL) resolved to: an outlet, or the suggestions."""

    outlet_id: int | None
    by: str | None = None  # "name", "slug", "normalised name", "alias" or "domain"
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def found(self) -> bool:
        return self.outlet_id is not None


@dataclass
class OutletIndex:
    """Every way of naming the stored outlets, in memory.

    Build it with :meth:`build` from rows (or add to it as outlets, aliases and domains
    are created, as a batch does). Lookups are dictionary hits; only an unresolved name
    pays for fuzzy suggestions.
    """

    names: dict[int, str] = field(default_factory=dict)  # id → canonical name
    by_name: dict[str, int] = field(default_factory=dict)  # exact canonical name → id
    by_slug: dict[str, int] = field(default_factory=dict)
    by_normalised: dict[str, int] = field(default_factory=dict)  # names and aliases
    aliases: set[str] = field(default_factory=set)  # normalised forms that are aliases
    ambiguous: dict[str, set[int]] = field(default_factory=dict)
    by_domain: dict[str, int] = field(default_factory=dict)
    _labels: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        outlets: Iterable[tuple[int, str, str]],
        aliases: Iterable[tuple[int, str]] = (),
        domains: Iterable[tuple[int, str]] = (),
    ) -> OutletIndex:
        """From ``(id, name, slug)``, ``(outlet id, alias)`` and ``(outlet id, domain)``."""
        index = cls()
        for outlet_id, name, slug in sorted(outlets):
            index.add_outlet(outlet_id, name, slug)
        for outlet_id, alias in aliases:
            index.add_alias(outlet_id, alias)
        for outlet_id, domain in domains:
            index.add_domain(outlet_id, domain)
        return index

    def _add_normalised(self, normalised: str, outlet_id: int) -> None:
        if not normalised:
            return
        if normalised in self.ambiguous:
            self.ambiguous[normalised].add(outlet_id)
            return
        holder = self.by_normalised.get(normalised)
        if holder is None or holder == outlet_id:
            self.by_normalised[normalised] = outlet_id
            return
        del self.by_normalised[normalised]
        self.aliases.discard(normalised)
        self.ambiguous[normalised] = {holder, outlet_id}

    def add_outlet(self, outlet_id: int, name: str, slug: str) -> None:
        self.names[outlet_id] = name
        self.by_name[name] = outlet_id
        self.by_slug[slug] = outlet_id
        self._labels.setdefault(outlet_id, []).insert(0, name)
        self._add_normalised(normalise_outlet_name(name), outlet_id)

    def add_alias(self, outlet_id: int, alias: str) -> None:
        normalised = normalise_outlet_name(alias)
        known = normalised in self.by_normalised or normalised in self.ambiguous
        self._add_normalised(normalised, outlet_id)
        if not known and normalised in self.by_normalised:
            self.aliases.add(normalised)
        self._labels.setdefault(outlet_id, []).append(alias)

    def add_domain(self, outlet_id: int, domain: str) -> None:
        self.by_domain[domain] = outlet_id

    def owner_of(self, name: str) -> int | None:
        """The outlet that already answers to ``name`` (by any rule but the domain)."""
        for found in (
            self.by_name.get(name),
            self.by_slug.get(name),
            self.by_normalised.get(normalise_outlet_name(name)),
        ):
            if found is not None:
                return found
        return None

    def suggest(self, name: str, limit: int = SUGGESTIONS) -> list[Suggestion]:
        normalised = normalise_outlet_name(name)
        if normalised in self.ambiguous:
            return [
                Suggestion(outlet_id, self.names[outlet_id], self.names[outlet_id], 100.0)
                for outlet_id in sorted(self.ambiguous[normalised])
            ][:limit]
        return closest_outlets(name, self._labels, limit)


def resolve_outlet(
    name: str | None, url: str | None, index: OutletIndex, *, suggest: bool = True
) -> Resolution:
    """Resolve a report's ``outlet`` name and ``url`` to a stored outlet (see the module
    docstring for the order); unresolved, the closest names come back as suggestions
    unless ``suggest`` is false (a caller that creates the outlet then: ranking every
    known name for each new one made a large import quadratic in its outlets)."""
    if name is not None:
        for by, found in (
            ("name", index.by_name.get(name)),
            ("slug", index.by_slug.get(name)),
        ):
            if found is not None:
                return Resolution(found, by)
        normalised = normalise_outlet_name(name)
        found = index.by_normalised.get(normalised)
        if found is not None:
            by = "alias" if normalised in index.aliases else "normalised name"
            return Resolution(found, by)
    domain = domain_of(url)
    if domain is not None:
        for candidate in _parent_domains(domain):
            found = index.by_domain.get(candidate)
            if found is not None:
                return Resolution(found, "domain")
    if name is None or not suggest:
        return Resolution(None)
    return Resolution(None, suggestions=tuple(index.suggest(name)))
