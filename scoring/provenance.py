"""Group a claim's reports into provenance clusters, and tell echoes from evidence.

The one implementation of provenance, used by the engine (claim by claim, through
:func:`provenance_clusters`), by the learner (over a whole table of reports at once, through
:func:`cluster_table`) and by everything built on them. Both go through the same
union-find (:func:`_cluster_roots`), so training and serving see the same clusters.

Two reports of one claim are in one cluster when one cites the other (transitively), or when
both quote the same originating source. Four outlets re-telling one Kan report are one
cluster, and so is the same "Turkish diplomatic source" quoted by Reuters and by Middle
East Eye. Citations across claims are ignored: a report repeating another story is not an
echo of this claim's evidence.

Sources are compared after :func:`normalize_source`: case, whitespace, punctuation and a
leading article ("a", "an", "the") are folded. Generic descriptions ("an anonymous
source") therefore join reports that may in fact be independent; the recording tools
should name sources as specifically as the report allows.

Within a cluster, a report is an *echo* (it adds nothing of its own) when it cites a report
of the **same stance** (:func:`repeats`): only then does it repeat what the cited report
said. A support that cites a denial rebuts it; a support that cites neutral coverage
asserts something the neutral report did not (issue 13, item 8). All handling of ``cites``
goes through :func:`cited_key`, the one place where an inferred-cites flag will be read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol

import numpy as np

_LEADING_ARTICLE = re.compile(r"^(?:a|an|the)\s+")


class Citing(Protocol):
    """What provenance reads of a report: its key, stance, quoted source and ``cites``."""

    @property
    def key(self) -> str: ...

    @property
    def stance(self) -> str: ...

    @property
    def source(self) -> str | None: ...

    @property
    def cites(self) -> str | None: ...


# ASCII punctuation (category P*) to spaces: one str.translate instead of a category lookup
# per character, for the sources that are plain ASCII (scoring normalises every report's).
_ASCII_PUNCTUATION = {
    code: " " for code in range(128) if unicodedata.category(chr(code)).startswith("P")
}


def normalize_source(source: str | None) -> str | None:
    """The comparable form of a quoted source.

    Case-folded, punctuation removed (Unicode category P*), whitespace collapsed, and one
    leading article ("a", "an", "the") dropped: "The Turkish diplomatic source." and
    "a turkish  diplomatic source" compare equal. Returns ``None`` for a missing or blank
    source (or one that is only punctuation or an article), which never joins a cluster.
    """
    if source is None:
        return None
    folded = source.casefold()
    if folded.isascii():
        text = folded.translate(_ASCII_PUNCTUATION)
    else:
        text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)
    folded = " ".join(text.split())
    folded = _LEADING_ARTICLE.sub("", folded)
    if folded in ("", "a", "an", "the"):
        return None
    return folded


def cited_key(report: Citing) -> str | None:
    """The key of the report that ``report`` cites, if any: the one reading of ``cites``."""
    return report.cites or None


def repeats(report: Citing, cited: Citing) -> bool:
    """Whether ``report``, citing ``cited``, only repeats it: same stance only.

    Citing a report of another stance is a rebuttal (supports vs denies) or a new assertion
    (a support or denial citing neutral coverage, or neutral coverage of an assertion).
    """
    return report.stance == cited.stance


def _cluster_roots(
    groups: Sequence[Hashable],
    keys: Sequence[str | None],
    sources: Sequence[str | None],
    cites: Sequence[str | None],
) -> list[int]:
    """Union-find over rows: the root row of each row's cluster.

    Rows join when they are of one group (claim) and one cites the other's key, or both
    quote the same normalised source. Each root is the smallest row index of its cluster,
    so with rows sorted by key the result does not depend on input order.
    """
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        # Path halving: iterative, so long or cyclic cites chains cannot recurse or hang.
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    row_of_key = {(g, k): i for i, (g, k) in enumerate(zip(groups, keys, strict=True)) if k}
    first_quoting: dict[tuple[Hashable, str], int] = {}
    for i, group in enumerate(groups):
        cited = row_of_key.get((group, cites[i])) if cites[i] else None
        if cited is not None:
            join(i, cited)
        source = normalize_source(sources[i])
        if source is not None:
            join(i, first_quoting.setdefault((group, source), i))
    return [root(i) for i in range(len(keys))]


def _echo_flags(
    groups: Sequence[Hashable],
    keys: Sequence[str | None],
    stances: Sequence[str],
    cites: Sequence[str | None],
) -> list[bool]:
    """Whether each row only repeats another of its claim (see :func:`is_echo`)."""
    row_of_key = {(g, k): i for i, (g, k) in enumerate(zip(groups, keys, strict=True)) if k}

    def repeated(i: int) -> int | None:
        j = row_of_key.get((groups[i], cites[i])) if cites[i] else None
        if j is None or stances[i] != stances[j]:
            return None
        return j

    flags = []
    for i in range(len(keys)):
        seen = {i}
        target = repeated(i)
        while target is not None and target not in seen:
            seen.add(target)
            target = repeated(target)
        # A cycle back to i: its members repeat each other in a circle; none is an echo, so
        # the cycle still counts once instead of vanishing.
        if target is None:
            flags.append(len(seen) > 1)  # the chain ends at an original: an echo of it
        else:
            flags.append(target != i)  # leads into a cycle it is not part of

    return flags


def provenance_clusters(reports: Iterable[Citing]) -> tuple[tuple[Citing, ...], ...]:
    """Group one claim's reports by provenance.

    Parameters
    ----------
    reports : iterable of ReportEvidence (anything with key, stance, source, cites)
        One claim's reports, in any order; keys must be unique.

    Returns
    -------
    tuple of tuple
        The clusters, each sorted by report key, ordered by their smallest key. The result
        does not depend on the order of ``reports``.

    Raises
    ------
    ValueError
        If two reports share a key.

    Notes
    -----
    ``cites`` naming a key that is not among ``reports`` is ignored (the cited report
    belongs to another claim or was never recorded). Citation cycles are harmless.
    """
    ordered = sorted(reports, key=lambda report: report.key)
    keys = [report.key for report in ordered]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key, nxt in zip(keys, keys[1:], strict=False) if key == nxt)
        raise ValueError(f"duplicate report key {duplicate!r}")
    roots = _cluster_roots(
        [0] * len(ordered), keys, [r.source for r in ordered], [cited_key(r) for r in ordered]
    )
    clusters: dict[int, list[Citing]] = {}
    for report, root in zip(ordered, roots, strict=True):
        clusters.setdefault(root, []).append(report)
    return tuple(tuple(members) for members in clusters.values())


def echo_keys(reports: Iterable[Citing]) -> frozenset[str]:
    """Keys of the reports of one claim that only repeat another (see :func:`repeats`).

    Following ``cites`` through same-stance links: a report is an echo when the chain from
    it ends at a report that repeats nothing; members of a same-stance citation cycle repeat
    each other in a circle and are not echoes (the cycle counts once).
    """
    ordered = sorted(reports, key=lambda report: report.key)
    keys = [r.key for r in ordered]
    flags = _echo_flags(
        [0] * len(ordered), keys, [r.stance for r in ordered], [cited_key(r) for r in ordered]
    )
    return frozenset(key for key, flag in zip(keys, flags, strict=True) if flag)


def cluster_table(
    claims: Sequence[Hashable],
    keys: Sequence[str | None],
    stances: Sequence[str],
    sources: Sequence[str | None],
    cites: Sequence[str | None],
) -> tuple[np.ndarray, np.ndarray]:
    """Provenance of many claims' reports at once: a cluster id and an echo flag per row.

    The same rule as :func:`provenance_clusters` and :func:`echo_keys`, applied to parallel
    columns (one entry per report); ``claims`` groups the rows, so cites and sources never
    join reports of different claims. A missing key cannot be cited.

    Returns
    -------
    cluster : ndarray of int
        Row index of the cluster's root (its report with the smallest key), unique across
        the table.
    echo : ndarray of bool
    """
    n = len(keys)
    # Rows sorted by (claim, key) so each root is the smallest key, as claim by claim.
    order = sorted(range(n), key=lambda i: (str(claims[i]), keys[i] or "", i))
    pick = [claims[i] for i in order]
    roots = _cluster_roots(
        pick, [keys[i] for i in order], [sources[i] for i in order], [cites[i] for i in order]
    )
    flags = _echo_flags(
        pick, [keys[i] for i in order], [stances[i] for i in order], [cites[i] for i in order]
    )
    cluster = np.empty(n, dtype=np.int64)
    echo = np.empty(n, dtype=bool)
    for position, row in enumerate(order):
        cluster[row] = order[roots[position]]
        echo[row] = flags[position]
    return cluster, echo
