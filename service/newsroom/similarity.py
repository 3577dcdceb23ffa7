"""Which stored claims read like a given text: TF-IDF cosine similarity (scikit-learn).

Word and character n-grams together: words catch shared vocabulary, character n-grams
catch inflections and transliterations ("Erdogan" / "Erdoğan", "Türkiye" / "Turkey" less
so). The index is rebuilt when the set of claims or their texts change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Claim


@dataclass(frozen=True)
class SimilarClaim:
    claim_id: int
    key: str
    text: str
    similarity: float


class _ClaimIndex:
    def __init__(self, rows: list[tuple[int, str, str]]):
        self.rows = rows
        texts = [text for _, _, text in rows]
        self.vectorizers: list[TfidfVectorizer] = []
        parts = []
        for vectorizer in (
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode"),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode"
            ),
        ):
            try:
                parts.append(vectorizer.fit_transform(texts))
            except ValueError:
                # No term at all (every claim is one letter, say): this view contributes
                # nothing rather than failing the request that recorded such a claim.
                continue
            self.vectorizers.append(vectorizer)
        if not parts:
            parts = [csr_matrix((len(texts), 1))]
        self.matrix = hstack(parts).tocsr()
        norms = np.sqrt(np.asarray(self.matrix.multiply(self.matrix).sum(axis=1))).ravel()
        self.norms = np.where(norms > 0, norms, 1.0)

    def query(self, text: str, k: int) -> list[SimilarClaim]:
        if not self.vectorizers:
            return []
        vector = hstack([v.transform([text]) for v in self.vectorizers]).tocsr()
        norm = float(np.sqrt(vector.multiply(vector).sum())) or 1.0
        scores = np.asarray(self.matrix @ vector.T.toarray()).ravel() / (self.norms * norm)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            SimilarClaim(self.rows[i][0], self.rows[i][1], self.rows[i][2], float(scores[i]))
            for i in order
            if scores[i] > 0
        ]


_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple, _ClaimIndex]] = {}


def _index(session: Session) -> _ClaimIndex | None:
    # Cheap fingerprint of the claim texts; a changed or added claim rebuilds the index.
    count, max_id, text_length = session.execute(
        select(func.count(Claim.id), func.max(Claim.id), func.sum(func.length(Claim.text)))
    ).one()
    if not count:
        return None
    fingerprint = (count, max_id, text_length)
    url = str(session.get_bind().url)
    with _cache_lock:
        cached = _cache.get(url)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    rows = [
        tuple(row)
        for row in session.execute(select(Claim.id, Claim.key, Claim.text).order_by(Claim.id))
    ]
    index = _ClaimIndex(rows)
    with _cache_lock:
        _cache[url] = (fingerprint, index)
    return index


def similar_claims(session: Session, text: str, k: int = 5) -> list[SimilarClaim]:
    index = _index(session)
    if index is None:
        return []
    return index.query(text, k)


def forget_index() -> None:
    """Drop the cached index (a claim's text was edited in this process)."""
    with _cache_lock:
        _cache.clear()
