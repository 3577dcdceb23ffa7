"""The reports of a set of claims as parallel numpy arrays: what the estimator learns from.

:class:`ReportColumns` is the parsed input (one entry per report, strings
dictionary-encoded); :class:`ReportTable` adds provenance (clusters and echoes) from
:func:`scoring.provenance.cluster_columns`, the same rule the engine applies claim by claim,
vectorised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from numpy.dtypes import StringDType

from scoring.interchange import InterchangeRecord
from scoring.provenance import cited_key, cluster_columns, rank_and_cited_rows, source_classes
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
class ReportColumns:
    """Parsed reports as columns, one entry per report, before any provenance work.

    Repeated strings are dictionary-encoded, as a columnar file stores them: codes into
    ``claim_keys``, ``outlet_names`` and ``source_texts``. Report keys and ``cites`` are
    string columns (numpy ``StringDType``, ``""`` for none).

    Attributes
    ----------
    claim, outlet : ndarray of int
        Index into ``claim_keys`` / ``outlet_names``.
    stance, attribution : ndarray of int
        Codes in :data:`scoring.vocabulary.STANCES` / ``ATTRIBUTIONS`` order.
    interested : ndarray of bool
    key, cites : ndarray of str
        Each report's key and the key it cites.
    source : ndarray of int
        Index into ``source_texts`` of the quoted source as written, -1 for none.
    claim_keys, verdicts : ndarray, one entry per claim
    outlet_names : ndarray, one entry per outlet
    source_texts : ndarray of str, one entry per distinct source text
    """

    claim: np.ndarray
    outlet: np.ndarray
    stance: np.ndarray
    attribution: np.ndarray
    interested: np.ndarray
    key: np.ndarray
    cites: np.ndarray
    source: np.ndarray
    claim_keys: np.ndarray
    verdicts: np.ndarray
    outlet_names: np.ndarray
    source_texts: np.ndarray

    @classmethod
    def from_records(cls, records: Sequence[InterchangeRecord]) -> ReportColumns:
        """Parse interchange records into columns, claims and outlets in first-seen order."""
        claim_index: dict[str, int] = {}
        outlet_index: dict[str, int] = {}
        source_index: dict[str, int] = {}
        verdicts: list[float] = []
        claim, outlet, source = [], [], []
        for record in records:
            if record.claim_key not in claim_index:
                claim_index[record.claim_key] = len(claim_index)
                verdicts.append(math.nan if record.verdict is None else float(record.verdict))
            claim.append(claim_index[record.claim_key])
            outlet.append(outlet_index.setdefault(record.outlet, len(outlet_index)))
            text = record.source
            source.append(-1 if text is None else source_index.setdefault(text, len(source_index)))
        stance_code = {name: code for code, name in enumerate(STANCES)}
        attribution_code = {name: code for code, name in enumerate(ATTRIBUTIONS)}
        return cls(
            claim=np.array(claim, dtype=np.int32),
            outlet=np.array(outlet, dtype=np.int32),
            stance=np.array([stance_code[r.stance] for r in records], dtype=np.int8),
            attribution=np.array([attribution_code[r.attribution] for r in records], np.int8),
            interested=np.array([r.interested_party for r in records], dtype=bool),
            key=np.array(record_keys(records), dtype=StringDType()),
            cites=np.array([cited_key(r) or "" for r in records], dtype=StringDType()),
            source=np.array(source, dtype=np.int32),
            claim_keys=np.array(list(claim_index), dtype=object),
            verdicts=np.array(verdicts, dtype=float),
            outlet_names=np.array(list(outlet_index), dtype=object),
            source_texts=np.array(list(source_index), dtype=object),
        )


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
        return cls.from_columns(
            ReportColumns.from_records(list(records)), outlet_kinds, outlet_priors
        )

    @classmethod
    def from_columns(
        cls,
        columns: ReportColumns,
        outlet_kinds: Mapping[str, str] | None = None,
        outlet_priors: Mapping[str, float | None] | None = None,
    ) -> ReportTable:
        """Add provenance to parsed columns (vectorised); kinds and priors as in
        :meth:`from_records`."""
        kinds = dict(outlet_kinds or {})
        priors = dict(outlet_priors or {})
        rank, cited_row = rank_and_cited_rows(columns.claim, columns.key, columns.cites)
        text_class = np.append(source_classes(columns.source_texts), -1)  # [-1]: no source
        cluster, echo = cluster_columns(
            columns.claim, rank, columns.stance, text_class[columns.source], cited_row
        )
        names = columns.outlet_names
        return cls(
            claim=columns.claim,
            outlet=columns.outlet,
            stance=columns.stance,
            attribution=columns.attribution,
            interested=columns.interested,
            cluster=cluster,
            echo=echo,
            rank=rank,
            claim_keys=columns.claim_keys,
            verdicts=columns.verdicts,
            outlet_names=names,
            outlet_kinds=np.array(
                [OUTLET_KINDS.index(kinds[n]) if n in kinds else NO_KIND for n in names], np.int8
            ),
            outlet_priors=np.array(
                [math.nan if priors.get(n) is None else float(priors[n]) for n in names]
            ),
        )

    @cached_property
    def claim_outlet_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct (claim, outlet) pairs in (claim, outlet) order: each report's pair,
        and each pair's claim and outlet (computed once per table, for the estimator)."""
        pair = self.claim.astype(np.int64) * len(self.outlet_names) + self.outlet
        order = np.argsort(pair, kind="stable")
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = pair[order][1:] != pair[order][:-1]
        report_pair = np.empty(len(pair), dtype=np.int64)
        report_pair[order] = np.cumsum(starts) - 1
        first = order[starts]
        return report_pair, self.claim[first], self.outlet[first]

    @cached_property
    def cluster_stance_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which non-echo reports are alone in their (cluster, stance) (a mask), the rows of
        those sharing one, and their group ids (computed once per table, for the
        estimator)."""
        rows = np.flatnonzero(~self.echo)
        group = self.cluster[rows].astype(np.int64) * 3 + self.stance[rows]
        shared = np.bincount(group, minlength=3 * self.n_reports)[group] > 1
        alone = np.zeros(self.n_reports, dtype=bool)
        alone[rows[~shared]] = True
        return alone, rows[shared], group[shared]

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
