"""Which stored claims read like a given text: TF-IDF cosine similarity, kept up to date.

Word n-grams (1-2) and character n-grams (3-5, within words) together: words catch shared
vocabulary, character n-grams catch inflections and transliterations ("Erdogan" /
"Erdoğan"). Each view is weighted by its idf and normalised on its own, so a score is the
mean of the two cosines.

The index is *maintained*, not rebuilt per claim:

- Features are hashed (``HashingVectorizer``), so a new claim needs no refitted
  vocabulary: it is vectorised alone and appended.
- Every search first catches up with the claims stored since the index's last id (one
  indexed query, ``claims.id > :last``), in every process: a claim created by another
  gunicorn worker is found by the next search anywhere.
- The idf weights are fitted when the index is built and kept until the next build; a
  claim appended later is weighted with them. A build happens after ``REFIT_AFTER``
  appended claims (or a tenth of the index, if more), or ``REFRESH_SECONDS`` after the
  last one unless no claim's ``updated_at`` (indexed) is newer than a minute before the
  index read its claims, in a background thread (searches meanwhile use the old index),
  or at once while the index is small (under ``SYNC_BUILD_BELOW`` claims, tens of ms).
- A claim's text edited in this process is seen by the next search here (small index)
  or once the background build it starts has finished; edited by another process, it is
  seen within ``REFRESH_SECONDS``, as is a claim whose id was allocated before, but
  committed after, a higher one that was caught up with.
- The search runs over an inverted index (the matrix by column): it reads the postings
  of the query's rarest features only, as far as the rest could not by themselves lift a
  claim to the floor, then completes the scores of those candidates exactly. Its cost
  follows the postings of rare features, not the number of claims.

Only matches at or above ``SIMILARITY_FLOOR`` are ever answered.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction.text import HashingVectorizer
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from models import Claim
from models.base import utcnow

# The lowest score answered, by GET /claims/similar and by the new-claim warning. Measured
# on tests/similarity_cases.py (claims on eight topics, written for the test, with the
# seed story's claims beside them): a paraphrase of a stored claim scores 0.50 to 0.70, a
# sentence on another subject that shares words with one (a "Madrid" or "historic town")
# 0.09 to 0.24, an unrelated sentence under 0.09. 0.3 keeps every paraphrase with a
# margin and answers nothing for the rest; a search that finds nothing answers [].
SIMILARITY_FLOOR = 0.3

# Staleness bounds (see the module docstring).
REFRESH_SECONDS = float(os.environ.get("SRS_SIMILAR_REFRESH_SECONDS", "300"))
REFIT_AFTER = 1000
SYNC_BUILD_BELOW = 2000
# A feature in at most this share of the claims (1/RARE_SHARE, or RARE_AT_LEAST claims)
# has postings in the inverted index.
RARE_SHARE = 100
RARE_AT_LEAST = 50

_FEATURES = 2**20
# Counts of hashed features: no vocabulary to fit, so a claim is vectorised on its own.
_HASHED = {
    "strip_accents": "unicode",
    "alternate_sign": False,
    "norm": None,
    "n_features": _FEATURES,
    "dtype": np.float32,
}
_VIEWS = (
    HashingVectorizer(ngram_range=(1, 2), **_HASHED),
    HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **_HASHED),
)


@dataclass(frozen=True)
class SimilarClaim:
    claim_id: int
    key: str
    text: str
    similarity: float


def _term_frequencies(texts: list[str]) -> list[csr_matrix]:
    """One sparse matrix per view, sublinear term frequencies (1 + log tf)."""
    parts = []
    for view in _VIEWS:
        matrix = view.transform(texts).tocsr()
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1
        parts.append(matrix)
    return parts


def _rows_of(matrix: csr_matrix) -> np.ndarray:
    """The row of each stored value."""
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _normalised(data: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=n))
    return (data / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)


def _weigh(parts: list[csr_matrix], idfs: list[np.ndarray]) -> csr_matrix:
    """Each view times its idf, normalised on its own, side by side, normalised again
    (elementwise on the stored values: no step costs more than the values)."""
    n = parts[0].shape[0]
    rows, columns, values = [], [], []
    for offset, (part, idf) in enumerate(zip(parts, idfs, strict=True)):
        part_rows = _rows_of(part)
        rows.append(part_rows)
        columns.append(part.indices.astype(np.int64) + offset * _FEATURES)
        values.append(_normalised(part.data * idf[part.indices], part_rows, n))
    row = np.concatenate(rows)
    data = _normalised(np.concatenate(values), row, n)
    return csr_matrix((data, (row, np.concatenate(columns))), shape=(n, len(parts) * _FEATURES))


class ClaimIndex:
    """The claims of one database as of ``last_id``, idf fitted at build time."""

    def __init__(self, rows: list[tuple[int, str, str]], read_at: datetime | None = None):
        self.built_at = time.monotonic()
        # When the rows were read (before): every change stamped later is not in them.
        self.read_at = read_at or utcnow()
        self.ids = [row[0] for row in rows]
        self.keys = [row[1] for row in rows]
        self.texts = [row[2] for row in rows]
        self.key_set = set(self.keys)
        self.last_id = max(self.ids, default=0)
        parts = _term_frequencies(self.texts) if rows else [csr_matrix((0, _FEATURES))] * 2
        n = len(rows)
        self.idfs = []
        dfs = []
        for part in parts:
            df = np.bincount(part.indices, minlength=_FEATURES)
            dfs.append(df)
            self.idfs.append((np.log((1 + n) / (1 + df)) + 1).astype(np.float32))
        self.df = np.concatenate(dfs)
        base = _weigh(parts, self.idfs) if rows else csr_matrix((0, 2 * _FEATURES))
        self.base = base
        # Each feature's highest value in any stored claim, for the search's bound.
        self.column_max = np.zeros(base.shape[1], dtype=np.float32)
        np.maximum.at(self.column_max, base.indices, base.data)
        # The inverted index, of rare features only (in at most RARE_SHARE of the claims):
        # a common feature's postings would be as long as the claims are many.
        self.rare_df = max(RARE_AT_LEAST, n // RARE_SHARE)
        rare = self.df[base.indices] <= self.rare_df
        postings = csr_matrix(
            (np.ones(int(rare.sum()), dtype=np.bool_), (base.indices[rare], _rows_of(base)[rare])),
            shape=(base.shape[1], max(n, 1)),
        )
        postings.sort_indices()
        self.postings_indptr, self.postings = postings.indptr, postings.indices
        self.n_base = n
        self._tail: list[csr_matrix] = []
        self._tail_matrix: csr_matrix | None = None

    @property
    def appended(self) -> int:
        return len(self.ids) - self.n_base

    def append(self, rows: list[tuple[int, str, str]]) -> None:
        rows = [row for row in rows if row[0] > self.last_id]
        if not rows:
            return
        self._tail.append(_weigh(_term_frequencies([r[2] for r in rows]), self.idfs))
        self._tail_matrix = None
        for claim_id, key, text in rows:
            self.ids.append(claim_id)
            self.keys.append(key)
            self.texts.append(text)
            self.key_set.add(key)
        self.last_id = rows[-1][0]

    def has_key(self, key: str) -> bool:
        return key in self.key_set

    def query(self, text: str, k: int, floor: float = SIMILARITY_FLOOR) -> list[SimilarClaim]:
        """The ``k`` claims scoring at least ``floor``, best first (exact scores)."""
        floor = max(floor, SIMILARITY_FLOOR)
        q = _weigh(_term_frequencies([text]), self.idfs)
        if q.nnz == 0 or not self.ids:
            return []
        rows, scores = self._base_scores(q.indices, q.data, floor)
        if self._tail:
            if self._tail_matrix is None:
                self._tail_matrix = vstack(self._tail).tocsr()
            tail_scores = _dot(self._tail_matrix, q)
            rows = np.concatenate([rows, np.arange(self.n_base, len(self.ids))])
            scores = np.concatenate([scores, tail_scores])
        keep = scores >= floor - 1e-6
        rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:k]
        return [
            SimilarClaim(self.ids[i], self.keys[i], self.texts[i], float(min(1.0, scores[j])))
            for j, i in ((j, int(rows[j])) for j in order)
        ]

    def _base_scores(
        self, features: np.ndarray, weights: np.ndarray, floor: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.n_base == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        # Rarest features first. A claim sharing none of the first ``split`` features
        # scores at most what the others can add: once that is under the floor, such a
        # claim cannot be answered, so the candidates are the claims in the postings of
        # those rare features, and only their scores are computed (exactly).
        order = np.argsort(self.df[features], kind="stable")
        features, weights = features[order], weights[order]
        # Two bounds on what features i..end add to a claim's score: the norm of their
        # weights (Cauchy-Schwarz), and the sum of each weight times the feature's highest
        # value in any stored claim (common features weigh little in every claim).
        rest = np.minimum(
            np.sqrt(np.cumsum((weights**2)[::-1])[::-1]),
            np.cumsum((weights * self.column_max[features])[::-1])[::-1],
        )
        below = np.nonzero(rest < floor * 0.999)[0]
        split = int(below[0]) if len(below) else len(features)
        query = csr_matrix((weights, features, [0, len(features)]), shape=(1, self.base.shape[1]))
        query.sort_indices()
        if split > int(np.sum(self.df[features] <= self.rare_df)):
            # The query is mostly common features: score every claim (rare; still exact).
            scores = _dot(self.base, query)
            candidates = np.nonzero(scores)[0]
            return candidates, scores[candidates]
        starts = self.postings_indptr[features[:split]]
        ends = self.postings_indptr[features[:split] + 1]
        found = [self.postings[s:e] for s, e in zip(starts, ends, strict=True)]
        candidates = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
        if not len(candidates):
            return candidates.astype(np.int64), np.zeros(0)
        return candidates.astype(np.int64), _dot(self.base[candidates], query)


def _dot(matrix: csr_matrix, query: csr_matrix) -> np.ndarray:
    """Each row of ``matrix`` times the (sorted, one-row) ``query``: no step costs more
    than the matrix's stored values."""
    if not len(query.indices) or not matrix.nnz:
        return np.zeros(matrix.shape[0])
    if matrix.nnz > 50 * matrix.shape[1] // 1000:  # many values: a dense query is cheaper
        dense = np.zeros(matrix.shape[1], dtype=np.float32)
        dense[query.indices] = query.data
        return np.asarray(matrix @ dense, dtype=np.float64)
    at = np.searchsorted(query.indices, matrix.indices)
    at[at >= len(query.indices)] = len(query.indices) - 1
    hit = query.indices[at] == matrix.indices
    return np.bincount(
        _rows_of(matrix)[hit],
        weights=matrix.data[hit].astype(np.float64) * query.data[at[hit]],
        minlength=matrix.shape[0],
    )


class _Shared:
    """One database's index in this process, and whether a new one is being built."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: ClaimIndex | None = None
        self.due = False
        self.building: threading.Thread | None = None


_states_lock = threading.Lock()
_states: dict[str, _Shared] = {}


def _all_rows(session: Session) -> list[tuple[int, str, str]]:
    return [
        tuple(row)
        for row in session.execute(select(Claim.id, Claim.key, Claim.text).order_by(Claim.id))
    ]


def _fresh(session: Session) -> ClaimIndex:
    read_at = utcnow()
    return ClaimIndex(_all_rows(session), read_at)


def _engine(session: Session):
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _unchanged_since(session: Session, index: ClaimIndex) -> bool:
    """No claim was touched (``updated_at``, indexed; an edit sets it) since a minute
    before the index read its claims: the minute covers transactions that stamped a
    claim before that read and committed after it."""
    latest = session.scalar(select(func.max(Claim.updated_at)))
    return latest is None or latest < index.read_at - timedelta(seconds=60)


def _build_in_background(state: _Shared, engine, timed_out: ClaimIndex | None = None) -> None:
    """Build anew in a thread; if only ``timed_out``'s refresh time has passed and no claim
    was touched since it read them, keep it for another REFRESH_SECONDS instead."""

    def build() -> None:
        try:
            with Session(engine) as session:
                if timed_out is not None and _unchanged_since(session, timed_out):
                    timed_out.built_at = time.monotonic()
                    return
                index = _fresh(session)
            with state.lock:
                state.index = index
        finally:
            with state.lock:
                state.building = None

    with state.lock:
        if state.building is not None:
            return
        state.due = False
        state.building = threading.Thread(target=build, name="similar-claims-index", daemon=True)
        state.building.start()


def cached_claim_index(session: Session) -> ClaimIndex | None:
    """This process's index of the session's database as it is, without a query."""
    with _states_lock:
        state = _states.get(str(_engine(session).url))
    return None if state is None else state.index


def claim_index(session: Session) -> ClaimIndex:
    """This database's index, caught up with every claim stored since it was last read."""
    url = str(_engine(session).url)
    with _states_lock:
        state = _states.setdefault(url, _Shared())
    with state.lock:
        index = state.index
        due = state.due
    if index is None or (due and index.n_base + index.appended < SYNC_BUILD_BELOW):
        index = _fresh(session)
        with state.lock:
            state.index, state.due = index, False
        return index
    # The claims after the index's last one, and that one again: if it is gone or is
    # another claim, the database was emptied or replaced under us, and is read anew.
    rows = [
        tuple(row)
        for row in session.execute(
            select(Claim.id, Claim.key, Claim.text)
            .where(Claim.id >= index.last_id)
            .order_by(Claim.id)
        )
    ]
    if index.last_id:
        if not rows or rows[0][0] != index.last_id or rows[0][1] != index.keys[-1]:
            index = _fresh(session)
            with state.lock:
                state.index, state.due = index, False
            return index
        rows = rows[1:]
    if rows:
        with state.lock:
            index.append(rows)
    size = index.n_base + index.appended
    refit = due or index.appended > max(REFIT_AFTER, index.n_base // 10)
    timed_out = time.monotonic() - index.built_at > REFRESH_SECONDS
    if not (refit or timed_out):
        return index
    if size >= SYNC_BUILD_BELOW:
        _build_in_background(state, _engine(session), None if refit else index)
    elif refit or not _unchanged_since(session, index):
        index = _fresh(session)
        with state.lock:
            state.index, state.due = index, False
    else:
        index.built_at = time.monotonic()
    return index


def similar_claims(
    session: Session, text: str, k: int = 5, floor: float = SIMILARITY_FLOOR
) -> list[SimilarClaim]:
    """Stored claims scoring at least ``floor`` (never under ``SIMILARITY_FLOOR``)."""
    return claim_index(session).query(text, k, floor)


def forget_index() -> None:
    """A claim's text was edited in this process: rebuild before (small index) or soon
    after (large index, in the background) the next search."""
    with _states_lock:
        states = list(_states.values())
    for state in states:
        with state.lock:
            state.due = True


def forget_all() -> None:
    """Drop every index of this process (tests that replace their database)."""
    wait_for_builds()
    with _states_lock:
        _states.clear()


def wait_for_builds(timeout: float = 30.0) -> None:
    """Wait for background builds to finish (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    with _states_lock:
        states = list(_states.values())
    for state in states:
        thread = state.building
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
