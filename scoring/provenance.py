"""Group a claim's reports into provenance clusters: reports that share where they came from.

Two reports are in one cluster when one cites the other (transitively), or when both quote
the same originating source. Four outlets re-telling one Kan report are one cluster, and so
is the same "Turkish diplomatic source" quoted by Reuters and by Middle East Eye. The engine
lets each cluster count roughly once.

Sources are compared after folding case and whitespace only. Generic descriptions ("an
anonymous source") therefore join reports that may in fact be independent; the recording
tools should name sources as specifically as the report allows.
"""

from __future__ import annotations

from collections.abc import Iterable

from scoring.evidence import ReportEvidence


def normalize_source(source: str | None) -> str | None:
    """The comparable form of a quoted source: case-folded, whitespace collapsed.

    Returns ``None`` for a missing or blank source, which never joins a cluster.
    """
    if source is None:
        return None
    folded = " ".join(source.split()).casefold()
    return folded or None


class _Partition:
    """Union-find over report keys; the smallest key is always a cluster's root."""

    def __init__(self, keys: Iterable[str]):
        self._parent = {key: key for key in keys}

    def __contains__(self, key: object) -> bool:
        return key in self._parent

    def root(self, key: str) -> str:
        # Path halving: iterative, so long or cyclic cites chains cannot recurse or hang.
        parent = self._parent
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def join(self, a: str, b: str) -> None:
        root_a, root_b = self.root(a), self.root(b)
        if root_a != root_b:
            low, high = sorted((root_a, root_b))
            self._parent[high] = low


def provenance_clusters(
    reports: Iterable[ReportEvidence],
) -> tuple[tuple[ReportEvidence, ...], ...]:
    """Group reports by provenance.

    Parameters
    ----------
    reports : iterable of ReportEvidence
        One claim's reports, in any order; keys must be unique.

    Returns
    -------
    tuple of tuple of ReportEvidence
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
    partition = _Partition(keys)
    first_quoting: dict[str, str] = {}
    for report in ordered:
        if report.cites is not None and report.cites in partition:
            partition.join(report.key, report.cites)
        source = normalize_source(report.source)
        if source is not None:
            partition.join(report.key, first_quoting.setdefault(source, report.key))
    clusters: dict[str, list[ReportEvidence]] = {}
    for report in ordered:
        clusters.setdefault(partition.root(report.key), []).append(report)
    return tuple(tuple(members) for members in clusters.values())
