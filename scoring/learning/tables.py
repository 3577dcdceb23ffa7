"""The reports of a set of claims as parallel numpy arrays: what the estimator learns from.

Provenance (clusters and echoes) comes from :func:`scoring.provenance.cluster_table`, the
same rule the engine applies claim by claim.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scoring.interchange import InterchangeRecord
from scoring.provenance import cited_key, cluster_table
from scoring.vocabulary import ATTRIBUTIONS, OUTLET_KINDS, STANCES

NO_KIND = -1
"""Outlet kind code of an outlet whose kind is not known: its parent is the pooled confusion."""


def record_keys(records: Sequence[InterchangeRecord]) -> list[str]:
    """Each report's key: its ``report_key``, else ``"<claim_key>#<n>"``, ``n`` its position
    among its claim's records from 1 (the keys :func:`scoring.interchange.records_evidence`
    gives the engine, so ties between equally strong reports break the same way)."""
    seen: dict[str, int] = {}
    keys = []
    for record in records:
        seen[record.claim_key] = seen.get(record.claim_key, 0) + 1
        keys.append(record.report_key or f"{record.claim_key}#{seen[record.claim_key]}")
    return keys


@dataclass(frozen=True, eq=False)
class ReportTable:
    """The reports of a set of claims, as parallel numpy arrays (one entry per report).

    Attributes
    ----------
    claim, outlet : ndarray of int
        Index of each report's claim in ``claim_keys`` and outlet in ``outlet_names``.
    stance, attribution : ndarray of int
        Codes in :data:`scoring.vocabulary.STANCES` / ``ATTRIBUTIONS`` order.
    interested : ndarray of bool
        Whether the quoted party is an interested party of the claim.
    cluster : ndarray of int
        Provenance cluster of each report, unique across the table.
    echo : ndarray of bool
        The report cites a report of the same stance in its claim: it adds nothing.
    rank : ndarray of int
        Order of the report keys (ties between equally strong reports go to the smaller).
    claim_keys, verdicts : ndarray, one entry per claim
        Verdicts are 1.0 (true), 0.0 (false) or nan (unresolved).
    outlet_names, outlet_kinds, outlet_priors : ndarray, one entry per outlet
        Kinds are codes in :data:`scoring.vocabulary.OUTLET_KINDS` order, :data:`NO_KIND`
        when unknown; priors are editor-typed reliabilities, nan when none.
    """

    claim: np.ndarray
    outlet: np.ndarray
    stance: np.ndarray
    attribution: np.ndarray
    interested: np.ndarray
    cluster: np.ndarray
    echo: np.ndarray
    rank: np.ndarray
    claim_keys: np.ndarray
    verdicts: np.ndarray
    outlet_names: np.ndarray
    outlet_kinds: np.ndarray
    outlet_priors: np.ndarray

    @property
    def n_claims(self) -> int:
        return len(self.claim_keys)

    @property
    def n_reports(self) -> int:
        return len(self.claim)

    def __len__(self) -> int:
        # A table's samples are its claims: predict_proba returns one row per claim.
        return self.n_claims

    @classmethod
    def from_records(
        cls,
        records: Iterable[InterchangeRecord],
        outlet_kinds: Mapping[str, str] | None = None,
        outlet_priors: Mapping[str, float | None] | None = None,
    ) -> ReportTable:
        """Build the table from interchange records, in first-seen order of claims/outlets.

        ``outlet_kinds`` maps outlet names to kinds and ``outlet_priors`` to typed prior
        reliabilities; outlets missing from them have no kind (pooled parent) and no prior.
        """
        records = list(records)
        kinds = dict(outlet_kinds or {})
        priors = dict(outlet_priors or {})
        claim_index: dict[str, int] = {}
        outlet_index: dict[str, int] = {}
        verdicts: list[float] = []
        for record in records:
            if record.claim_key not in claim_index:
                claim_index[record.claim_key] = len(claim_index)
                verdicts.append(math.nan if record.verdict is None else float(record.verdict))
            outlet_index.setdefault(record.outlet, len(outlet_index))
        stance_code = {name: code for code, name in enumerate(STANCES)}
        attribution_code = {name: code for code, name in enumerate(ATTRIBUTIONS)}
        keys = record_keys(records)
        cluster, echo = cluster_table(
            [r.claim_key for r in records],
            keys,
            [r.stance for r in records],
            [r.source for r in records],
            [cited_key(r) for r in records],
        )
        rank = np.empty(len(records), dtype=np.int64)
        rank[sorted(range(len(records)), key=keys.__getitem__)] = np.arange(len(records))
        names = np.array(list(outlet_index), dtype=object)
        return cls(
            claim=np.array([claim_index[r.claim_key] for r in records], dtype=np.int32),
            outlet=np.array([outlet_index[r.outlet] for r in records], dtype=np.int32),
            stance=np.array([stance_code[r.stance] for r in records], dtype=np.int8),
            attribution=np.array([attribution_code[r.attribution] for r in records], np.int8),
            interested=np.array([r.interested_party for r in records], dtype=bool),
            cluster=cluster,
            echo=echo,
            rank=rank,
            claim_keys=np.array(list(claim_index), dtype=object),
            verdicts=np.array(verdicts, dtype=float),
            outlet_names=names,
            outlet_kinds=np.array(
                [OUTLET_KINDS.index(kinds[n]) if n in kinds else NO_KIND for n in names], np.int8
            ),
            outlet_priors=np.array(
                [math.nan if priors.get(n) is None else float(priors[n]) for n in names]
            ),
        )

    def select_reports(self, keep: np.ndarray) -> ReportTable:
        """The same claims and outlets with only the reports where ``keep`` is true."""
        per_report = ("claim", "outlet", "stance", "attribution", "interested", "cluster")
        return replace(
            self, **{name: getattr(self, name)[keep] for name in (*per_report, "echo", "rank")}
        )

    def select_claims(self, claims: np.ndarray) -> ReportTable:
        """The sub-table of the given claim indices (or boolean mask), claims re-indexed
        in the given order; outlets are kept as they are."""
        claims = np.arange(self.n_claims)[np.asarray(claims)]
        new_index = np.full(self.n_claims, -1, dtype=np.int64)
        new_index[claims] = np.arange(len(claims))
        kept = self.select_reports(new_index[self.claim] >= 0)
        return replace(
            kept,
            claim=new_index[kept.claim].astype(np.int32),
            claim_keys=self.claim_keys[claims],
            verdicts=self.verdicts[claims],
        )
