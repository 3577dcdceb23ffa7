"""Group a claim's reports into provenance clusters, and tell echoes from evidence.

The one rule of provenance, used by the engine (claim by claim, through
:func:`provenance_clusters`), by the learner (over a whole table of reports at once) and by
everything built on them. :func:`provenance_clusters`, :func:`echo_keys` and
:func:`cluster_table` go through the same union-find (:func:`_cluster_roots`);
:func:`cluster_columns` is the same rule over numpy columns (the learner's path, vectorised),
with sources folded by :func:`source_classes` through
:func:`normalize_source`'s own steps; hypothesis properties hold it equal to
:func:`cluster_table`, so training and serving see the same clusters.

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

import functools
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
    folded = " ".join(_fold_characters(source).split())
    folded = _LEADING_ARTICLE.sub("", folded)
    if folded in _NO_SOURCE:
        return None
    return folded


_NO_SOURCE = ("", "a", "an", "the")


def _fold_characters(text: str) -> str:
    """The character step of :func:`normalize_source`: case folded, punctuation as spaces."""
    folded = text.casefold()
    if folded.isascii():
        return folded.translate(_ASCII_PUNCTUATION)
    return "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)


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


# The same rule over columns: what the learner runs on a whole table at once.
# `cluster_table` above is the reference, row by row; `cluster_columns` gives the same
# clusters and echoes with numpy group-bys (tests/test_provenance_columns.py holds them
# equal), and `source_classes` folds sources with `normalize_source`'s own character step.

_FOLD_WIDTH = 64  # longer sources (rare) go through normalize_source itself
_FOLD_CHUNK = 1 << 15  # sources folded at a time: bounds the padded matrices' memory


@functools.cache
def _ascii_rule() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...], tuple[bytes, ...]]:
    """normalize_source's steps as byte tables, derived from the rule itself.

    The character step (``_fold_characters``) of every ASCII character, which folded
    characters separate words (``str.split``'s whitespace), the leading articles
    ``_LEADING_ARTICLE`` drops (each followed by one space, as after collapsing), and the
    folded texts that are no source.
    """
    fold = np.zeros(128, dtype=np.uint8)
    for byte in range(1, 128):
        folded = _fold_characters(chr(byte))
        fold[byte] = ord(folded)  # ASCII folds character for character
    separates = np.array([chr(byte).isspace() for byte in range(128)])
    articles = tuple(
        np.frombuffer(f"{word} ".encode(), dtype=np.uint8)
        for word in ("a", "an", "the")
        if _LEADING_ARTICLE.match(f"{word} ")
    )
    return fold, separates, articles, tuple(word.encode() for word in _NO_SOURCE)


def _fold_ascii(codes: np.ndarray) -> np.ndarray:
    """normalize_source over rows of ASCII codes (zero-padded, no NUL inside): the folded
    rows, zero-padded, all-zero where the source is no source."""
    fold, separates, articles, no_source = _ascii_rule()
    folded = fold[codes]
    present = codes != 0
    space = separates[folded] & present
    word = present & ~space
    # One space between words, none at either end: " ".join(text.split()).
    before = np.zeros_like(word)
    before[:, 1:] = word[:, :-1]
    after = np.zeros_like(word)
    after[:, :-1] = np.logical_or.accumulate(word[:, ::-1], axis=1)[:, ::-1][:, 1:]
    keep = word | (space & before & after)
    out = np.where(keep, np.where(space, ord(" "), folded), 0).astype(np.uint8)
    moved = np.flatnonzero((present & ~keep).any(axis=1))  # rows with spaces to squeeze out
    if len(moved):
        kept = keep[moved]
        rows, columns = np.nonzero(kept)
        squeezed = np.zeros((len(moved), out.shape[1]), dtype=np.uint8)
        squeezed[rows, (np.cumsum(kept, axis=1) - 1)[rows, columns]] = out[moved][rows, columns]
        out[moved] = squeezed
    # One leading article and its space dropped (the regex's single anchored match).
    width = out.shape[1]
    shift = np.zeros(len(out), dtype=np.int64)
    for article in articles:
        if len(article) <= width:
            hit = (shift == 0) & (out[:, : len(article)] == article).all(axis=1)
            shift[hit] = len(article)
    if shift.any():
        index = np.arange(width) + shift[:, None]
        out = np.where(index < width, np.take_along_axis(out, np.minimum(index, width - 1), 1), 0)
    padded = np.zeros((len(out), width + max(map(len, no_source)) + 1), dtype=np.uint8)
    padded[:, :width] = out
    for word in no_source:
        gone = (padded[:, : len(word) + 1] == np.frombuffer(word + b"\0", np.uint8)).all(axis=1)
        out[gone] = 0
    return out


def _equal_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A class per row of a uint8 matrix, equal exactly when the rows are, and the first row
    of each class: rows hashed to 64 bits and grouped by sorting the hashes, every row then
    checked against its class's first row (byte-exact sort only on a hash collision)."""
    words = matrix.view(np.uint64)
    hashed = np.zeros(len(matrix), dtype=np.uint64)
    for column in words.T:  # a multiply-xorshift mix per 8 bytes
        hashed = (hashed ^ column) * np.uint64(0x9E3779B97F4A7C15)
        hashed ^= hashed >> np.uint64(29)
    order = np.argsort(hashed, kind="stable")
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = hashed[order][1:] != hashed[order][:-1]
    classes = np.empty(len(order), dtype=np.int64)
    classes[order] = np.cumsum(starts) - 1
    first = order[starts]
    if not (words == words[first][classes]).all():
        _, first, classes = np.unique(
            words.view(f"V{matrix.shape[1]}").ravel(), return_index=True, return_inverse=True
        )
    return classes, first


def source_classes(texts: Sequence[str | None]) -> np.ndarray:
    """A class per quoted source: equal exactly when :func:`normalize_source` is equal.

    Returns an int64 array, -1 where the source normalises to no source. ASCII sources
    (the common case) are folded as byte matrices by the rule's own tables; any other
    goes through :func:`normalize_source` itself.
    """
    texts = np.asarray(texts, dtype=object)
    given = np.not_equal(texts, None)
    length = np.full(len(texts), -1, dtype=np.int64)
    length[given] = np.fromiter(map(len, texts[given]), np.int64, int(given.sum()))
    classes = np.full(len(texts), -1, dtype=np.int64)
    candidates = np.flatnonzero((length > 0) & (length <= _FOLD_WIDTH))
    width = max(8, -(-int(length[candidates].max(initial=0)) // 8) * 8)  # 64-bit words
    folded = np.zeros((len(candidates), width), dtype=np.uint8)
    by_ascii = np.zeros(len(candidates), dtype=bool)
    for start in range(0, len(candidates), _FOLD_CHUNK):
        chunk = candidates[start : start + _FOLD_CHUNK]
        longest = int(length[chunk].max())
        points = texts[chunk].astype(f"U{longest}").view(np.uint32).reshape(len(chunk), -1)
        # ASCII, and no NUL inside (numpy strings drop trailing NULs): else the rule itself.
        ascii_ = (points < 128).all(axis=1) & ((points != 0).sum(axis=1) == length[chunk])
        at = start + np.flatnonzero(ascii_)
        folded[at, :longest] = _fold_ascii(points[ascii_].astype(np.uint8))
        by_ascii[at] = True
    named = by_ascii & folded.any(axis=1)
    class_of_row, first = _equal_rows(folded[named])
    classes[candidates[named]] = class_of_row
    others = np.r_[candidates[~by_ascii], np.flatnonzero(length > _FOLD_WIDTH)]
    if len(others):
        known = folded[named][first].view(f"S{width}").ravel().tolist()
        class_of = {text.decode("ascii"): n for n, text in enumerate(known)}
        for row in others.tolist():
            normal = normalize_source(texts[row])
            if normal is not None:
                classes[row] = class_of.setdefault(normal, len(class_of))
    return classes


def cluster_columns(
    claim: np.ndarray,
    rank: np.ndarray,
    stance: np.ndarray,
    source_class: np.ndarray,
    cited_row: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cluster_table`'s clusters and echoes over columns, with numpy group-bys.

    Parameters
    ----------
    claim, stance : ndarray of int
        Each row's claim and stance code.
    rank : ndarray of int
        Each row's position in report-key order, ties by row (a permutation).
    source_class : ndarray of int
        :func:`source_classes` of each row's source (-1 none).
    cited_row : ndarray of int
        The row whose key the row cites (-1 none); rows of another claim are ignored.

    Returns
    -------
    cluster, echo : ndarray
        As :func:`cluster_table`: the row of each cluster's smallest key, and whether the
        row only repeats another.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(claim)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    rows = np.arange(n)
    target = np.where(cited_row >= 0, cited_row, rows)
    cites = (cited_row >= 0) & (claim[target] == claim)

    def graph(tails: np.ndarray, heads: np.ndarray) -> csr_matrix:
        return csr_matrix((np.ones(len(tails), np.int8), (tails, heads)), shape=(n, n))

    # Rows quoting one source in one claim join the first of them.
    sourced = np.flatnonzero(source_class >= 0)
    group = claim[sourced].astype(np.int64) * (int(source_class.max(initial=0)) + 1)
    group += source_class[sourced]
    order = np.argsort(group, kind="stable")
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = group[order][1:] != group[order][:-1]
    first = sourced[order][starts][np.cumsum(starts) - 1]
    tails = np.concatenate([sourced[order], rows[cites]])
    heads = np.concatenate([first, cited_row[cites]])
    joined = tails != heads
    _, component = connected_components(
        graph(tails[joined], heads[joined]), directed=False, return_labels=True
    )
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, component, rank)
    row_at_rank = np.empty(n, dtype=np.int64)
    row_at_rank[rank] = rows
    cluster = row_at_rank[smallest[component]]

    # A row repeating a same-stance report is an echo unless it lies on a cycle of them.
    repeats_row = cites & (stance[target] == stance)
    echo = repeats_row.copy()
    if repeats_row.any():
        tails, heads = rows[repeats_row], cited_row[repeats_row]
        _, strong = connected_components(
            graph(tails, heads), directed=True, connection="strong", return_labels=True
        )
        on_cycle = np.bincount(strong)[strong] > 1
        on_cycle[tails[tails == heads]] = True
        echo &= ~on_cycle
    return cluster, echo


def rank_and_cited_rows(
    claim: np.ndarray, keys: np.ndarray, cites: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position in report-key order (ties by row), and the row its ``cites``
    names: the last row of its own claim with that key (:func:`cluster_table`'s lookup),
    -1 when none. ``keys`` and ``cites`` are numpy string arrays, ``""`` for none."""
    n = len(keys)
    in_order = bool((keys[1:] >= keys[:-1]).all())  # as exported, often: no sort needed
    order = np.arange(n) if in_order else np.argsort(keys, kind="stable")
    ordered_keys = keys if in_order else keys[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    cited_row = np.full(n, -1, dtype=np.int64)
    citing = np.flatnonzero(cites != "")
    if not len(citing):
        return rank, cited_row
    wanted = cites[citing]
    low = np.minimum(np.searchsorted(ordered_keys, wanted), n - 1)
    found = ordered_keys[low] == wanted
    repeated = np.zeros(n + 1, dtype=bool)  # the key at this sorted position recurs next
    repeated[: n - 1] = ordered_keys[1:] == ordered_keys[:-1]
    single = found & ~repeated[low] & (claim[order[low]] == claim[citing])
    cited_row[citing[single]] = order[low[single]]
    # A key held by several rows (never in a checked file): the last row of the claim.
    for at in np.flatnonzero(found & repeated[low]).tolist():
        row, first = int(citing[at]), int(low[at])
        last = first + 1
        while last < n and ordered_keys[last] == ordered_keys[first]:
            last += 1
        same = [r for r in order[first:last].tolist() if claim[r] == claim[row]]
        cited_row[row] = max(same, default=-1)
    return rank, cited_row
