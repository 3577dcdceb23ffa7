"""Learning outlet reliability and attribution credibility from resolved and open claims.

:class:`ReliabilityEstimator` is a truth-discovery estimator of the Dawid–Skene family:
it alternates between the probability that each claim is true (E-step) and, given those,
each outlet's stance confusion, each attribution type's credibility and the claim base
rate (M-step, maximum a posteriori under documented priors). Its input is a
:class:`ReportTable`: the reports of a set of claims as numpy arrays, built once from
interchange records, so that every iteration is a handful of sparse matrix products.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from scoring.evidence import Calibration, ModelParameters
from scoring.interchange import InterchangeRecord
from scoring.vocabulary import ATTRIBUTIONS, DEFAULT_OUTLET_KIND, OUTLET_KINDS, STANCES

SUPPORTS, DENIES, NEUTRAL = (STANCES.index(name) for name in ("supports", "denies", "neutral"))
STANCE_SIGN = np.array([1.0, -1.0, 0.0])[[SUPPORTS, DENIES, NEUTRAL]]
N_COMBOS = len(ATTRIBUTIONS) * len(OUTLET_KINDS) * 2
"""Report feature combinations: attribution × outlet kind × interested party."""

_LOGIT_CLIP = 30.0  # beyond ±30 log-odds a probability is 1 to machine precision


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
    counted : ndarray of bool
        True for the one report of each cluster that counts as its vote (the root).
    claim_keys, verdicts : ndarray, one entry per claim
        Verdicts are 1.0 (true), 0.0 (false) or nan (unresolved).
    outlet_names, outlet_kinds : ndarray, one entry per outlet
        Kinds are codes in :data:`scoring.vocabulary.OUTLET_KINDS` order.
    """

    claim: np.ndarray
    outlet: np.ndarray
    stance: np.ndarray
    attribution: np.ndarray
    interested: np.ndarray
    cluster: np.ndarray
    counted: np.ndarray
    claim_keys: np.ndarray
    verdicts: np.ndarray
    outlet_names: np.ndarray
    outlet_kinds: np.ndarray

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
    ) -> ReportTable:
        """Build the table from interchange records, in first-seen order of claims/outlets.

        ``outlet_kinds`` maps outlet names to kinds; outlets missing from it (the
        interchange format does not carry kinds) get ``DEFAULT_OUTLET_KIND``.
        """
        records = list(records)
        kinds = dict(outlet_kinds or {})
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
        claim = np.array([claim_index[r.claim_key] for r in records], dtype=np.int32)
        cluster, counted = provenance_clusters(records, claim)
        names = np.array(list(outlet_index), dtype=object)
        return cls(
            claim=claim,
            outlet=np.array([outlet_index[r.outlet] for r in records], dtype=np.int32),
            stance=np.array([stance_code[r.stance] for r in records], dtype=np.int8),
            attribution=np.array([attribution_code[r.attribution] for r in records], np.int8),
            interested=np.array([r.interested_party for r in records], dtype=bool),
            cluster=cluster,
            counted=counted,
            claim_keys=np.array(list(claim_index), dtype=object),
            verdicts=np.array(verdicts, dtype=float),
            outlet_names=names,
            outlet_kinds=np.array(
                [OUTLET_KINDS.index(kinds.get(n, DEFAULT_OUTLET_KIND)) for n in names], np.int8
            ),
        )

    def select_reports(self, keep: np.ndarray) -> ReportTable:
        """The same claims and outlets with only the reports where ``keep`` is true."""
        per_report = (
            "claim",
            "outlet",
            "stance",
            "attribution",
            "interested",
            "cluster",
            "counted",
        )
        return replace(self, **{name: getattr(self, name)[keep] for name in per_report})

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


def provenance_clusters(
    records: Sequence[InterchangeRecord], claim: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Group each claim's reports into provenance clusters and pick each cluster's vote.

    Two reports of a claim share a cluster when one ``cites`` the other (transitively) or
    both quote the same ``source`` (compared case-insensitively). The counted report is
    the cluster's root: the earliest (by ``published_at``, then file order) report that
    cites nothing inside its cluster. Citations across claims are ignored: a report
    repeating another story is not an echo of this claim's evidence.
    """
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_of_key = {r.report_key: i for i, r in enumerate(records) if r.report_key}
    first_with_source: dict[tuple[int, str], int] = {}
    cites_inside = np.zeros(len(records), dtype=bool)
    for i, record in enumerate(records):
        cited = row_of_key.get(record.cites) if record.cites else None
        if cited is not None and claim[cited] == claim[i]:
            cites_inside[i] = True
            parent[root(i)] = root(cited)
        if record.source:
            first = first_with_source.setdefault((int(claim[i]), record.source.casefold()), i)
            parent[root(i)] = root(first)
    cluster = np.array([root(i) for i in range(len(records))], dtype=np.int64)
    far_future = float("inf")  # an undated report sorts after every dated one
    when = np.array([r.published_at.timestamp() if r.published_at else far_future for r in records])
    # Order: originating reports first, then by time, then file order; first per cluster.
    order = np.lexsort((np.arange(len(records)), when, cites_inside, cluster))
    counted = np.zeros(len(records), dtype=bool)
    first_of_cluster = np.ones(len(order), dtype=bool)
    first_of_cluster[1:] = cluster[order][1:] != cluster[order][:-1]
    counted[order[first_of_cluster]] = True
    return cluster, counted


def _combo_features() -> np.ndarray:
    """One-hot rows (attribution, outlet kind, interested flag) of every feature combo."""
    n_kinds = len(OUTLET_KINDS)
    features = np.zeros((N_COMBOS, len(ATTRIBUTIONS) + n_kinds + 1))
    for combo in range(N_COMBOS):
        attribution, rest = divmod(combo, n_kinds * 2)
        kind, interested = divmod(rest, 2)
        features[combo, attribution] = 1.0
        features[combo, len(ATTRIBUTIONS) + kind] = 1.0
        features[combo, -1] = interested
    return features


COMBO_FEATURES = _combo_features()
COMBO_ATTRIBUTION = COMBO_FEATURES[:, : len(ATTRIBUTIONS)].argmax(axis=1)
COMBO_INTERESTED = COMBO_FEATURES[:, -1]


def report_combos(table: ReportTable) -> np.ndarray:
    """Each report's feature combo code: (attribution, its outlet's kind, interested)."""
    kind = table.outlet_kinds[table.outlet].astype(np.int64)
    attribution = table.attribution.astype(np.int64)
    return (attribution * len(OUTLET_KINDS) + kind) * 2 + table.interested


def _vote_blocks(n_outlets: int) -> tuple[slice, slice, slice, slice]:
    """Column ranges of the vote matrix: outlet × stance, interested stance, combo, outlet."""
    o = 3 * n_outlets
    return (
        slice(0, o),
        slice(o, o + 3),
        slice(o + 3, o + 3 + N_COMBOS),
        slice(o + 3 + N_COMBOS, o + 3 + N_COMBOS + n_outlets),
    )


@dataclass(frozen=True, eq=False)
class _VoteDesign:
    """Sparse maps between parameters and claims, built once per fit.

    Column blocks of ``votes``: outlet × stance (disinterested votes), the interested
    party's stance, feature combo (signed assertions, all votes) and outlet (signed
    disinterested assertions). ``votes @`` :meth:`_MStep.parameter_vector` is each claim's
    summed log-likelihood ratio; ``votes.T @ p_true`` gives in one product every expected
    count the M-step needs.
    """

    votes: sparse.csr_matrix
    n_outlets: int
    outlet_stance_counts: np.ndarray  # (n_outlets, 3) disinterested votes
    interested_stance_counts: np.ndarray  # (3,)
    outlet_combo: sparse.csr_matrix  # (n_outlets, N_COMBOS) disinterested assertions
    combo_assertions: np.ndarray
    combo_denials: np.ndarray
    majority: np.ndarray  # Laplace-smoothed share of supports among each claim's votes

    @property
    def blocks(self) -> tuple[slice, slice, slice, slice]:
        return _vote_blocks(self.n_outlets)

    @classmethod
    def build(cls, table: ReportTable, counted_only: bool) -> _VoteDesign:
        keep = table.counted if counted_only else np.ones(table.n_reports, dtype=bool)
        claim, outlet = table.claim[keep], table.outlet[keep].astype(np.int64)
        stance, combo = table.stance[keep].astype(np.int64), report_combos(table)[keep]
        own = ~table.interested[keep]  # the outlet's own assertion, not a party's it relays
        n_claims, n_outlets = table.n_claims, len(table.outlet_names)
        asserts = stance != NEUTRAL
        own_asserts = asserts & own
        _, interested_block, combo_block, outlet_block = _vote_blocks(n_outlets)
        sign = STANCE_SIGN[stance]
        entries = [  # (rows, columns, values) of each block
            (claim[own], (outlet * 3 + stance)[own], np.ones(own.sum())),
            (claim[~own], interested_block.start + stance[~own], np.ones((~own).sum())),
            (claim[asserts], combo_block.start + combo[asserts], sign[asserts]),
            (claim[own_asserts], outlet_block.start + outlet[own_asserts], sign[own_asserts]),
        ]
        rows, columns, values = (np.concatenate(part) for part in zip(*entries, strict=True))
        rows, columns = rows.astype(np.int32), columns.astype(np.int32)  # halves peak memory
        votes = sparse.csr_matrix((values, (rows, columns)), shape=(n_claims, outlet_block.stop))
        supports = np.bincount(claim[stance == SUPPORTS], minlength=n_claims)
        denials = np.bincount(claim[stance == DENIES], minlength=n_claims)
        return cls(
            votes=votes,
            n_outlets=n_outlets,
            outlet_stance_counts=np.bincount(
                (outlet * 3 + stance)[own], minlength=3 * n_outlets
            ).reshape(n_outlets, 3),
            interested_stance_counts=np.bincount(stance[~own], minlength=3).astype(float),
            outlet_combo=sparse.csr_matrix(
                (np.ones(own_asserts.sum()), (outlet[own_asserts], combo[own_asserts])),
                shape=(n_outlets, N_COMBOS),
            ),
            combo_assertions=np.bincount(combo[asserts], minlength=N_COMBOS).astype(float),
            combo_denials=np.bincount(combo[stance == DENIES], minlength=N_COMBOS).astype(float),
            majority=(supports + 1.0) / (supports + denials + 2.0),
        )


def tilted_confusion(pooled: np.ndarray, reliability: np.ndarray) -> np.ndarray:
    """The pooled stance confusion re-tilted to have the given one-coin reliability.

    Keeps the pooled neutral rates and the pooled lean towards supporting (the mean of the
    two rows' log-odds of supports among assertions) and sets the half-gap between the
    rows to ``logit(reliability)``, so that :func:`confusion_reliability` of the result is
    ``reliability``. Returns shape ``(len(reliability), 2, 3)``; rows are truth false, true.
    """
    reliability = np.clip(np.asarray(reliability, dtype=float), 1e-6, 1 - 1e-6)
    neutral = pooled[:, NEUTRAL]
    supports_share = pooled[:, SUPPORTS] / (pooled[:, SUPPORTS] + pooled[:, DENIES])
    lean = logit(supports_share).mean()
    half_gap = logit(reliability)
    out = np.empty((len(reliability), 2, 3))
    for truth, direction in ((0, -1.0), (1, 1.0)):
        share = expit(lean + direction * half_gap)
        out[:, truth, SUPPORTS] = (1 - neutral[truth]) * share
        out[:, truth, DENIES] = (1 - neutral[truth]) * (1 - share)
        out[:, truth, NEUTRAL] = neutral[truth]
    return out


def confusion_reliability(confusion: np.ndarray) -> np.ndarray:
    """One-coin reliability of stance confusions (``(..., 2, 3)``, rows false/true).

    Its logit is the mean of the log-likelihood ratios a support (for true) and a denial
    (for false) carry, so an engine that adds ``±logit(reliability)`` per assertion moves
    a claim as much, on average over the two directions, as the full confusion does.
    """
    log_ratio = np.log(confusion[..., 1, :]) - np.log(confusion[..., 0, :])
    return expit(0.5 * (log_ratio[..., SUPPORTS] - log_ratio[..., DENIES]))


def _interested_discount(step: _MStep, design: _VoteDesign) -> float:
    """Interested parties' mean signed log-likelihood ratio over an ordinary outlet's."""
    pooled = np.log(step.pooled_confusion[1]) - np.log(step.pooled_confusion[0])
    counts = design.interested_stance_counts * STANCE_SIGN
    if not counts.any():
        return 0.3  # no interested party seen: ModelParameters' documented default
    ratio = (counts @ step.interested_log_odds) / (counts @ pooled)
    return float(np.clip(ratio, 0.0, 1.0))


def by_attribution(per_combo: np.ndarray) -> np.ndarray:
    """Sum a per-combo quantity over outlet kinds and interested flags."""
    return per_combo.reshape(len(ATTRIBUTIONS), -1).sum(axis=1)


def _probability(log_odds: np.ndarray) -> np.ndarray:
    return expit(np.clip(log_odds, -_LOGIT_CLIP, _LOGIT_CLIP))


def _as_table(reports: ReportTable | Iterable[InterchangeRecord]) -> ReportTable:
    if isinstance(reports, ReportTable):
        return reports
    return ReportTable.from_records(reports)


def _verdict_array(verdicts, n_claims: int) -> np.ndarray:
    out = np.array([math.nan if v is None else float(v) for v in verdicts], dtype=float)
    if out.shape != (n_claims,):
        raise ValueError(f"expected {n_claims} verdicts (one per claim), got {out.shape}")
    return out


@dataclass(frozen=True, eq=False)
class _MStep:
    """Everything one M-step learns; the estimator keeps the last one."""

    confusion: np.ndarray  # (n_outlets, 2, 3)
    pooled_confusion: np.ndarray  # (2, 3)
    interested_confusion: np.ndarray  # (2, 3)
    outlet_prior: np.ndarray  # (n_outlets,)
    credibility: np.ndarray  # (n_attributions,)
    combo_offset: np.ndarray  # (N_COMBOS,)
    outlet_offset: np.ndarray  # (n_outlets,)
    mean_offset: float
    kind_reliability: np.ndarray  # (n_kinds,)
    base_rate: float
    feature_model: LogisticRegression | None

    @property
    def stance_log_odds(self) -> np.ndarray:
        return np.log(self.confusion[:, 1, :]) - np.log(self.confusion[:, 0, :])

    @property
    def interested_log_odds(self) -> np.ndarray:
        return np.log(self.interested_confusion[1]) - np.log(self.interested_confusion[0])

    def parameter_vector(self) -> np.ndarray:
        """Log-likelihood ratios and offsets in the column order of the vote matrix."""
        return np.concatenate(
            [
                self.stance_log_odds.ravel(),
                self.interested_log_odds,
                self.combo_offset,
                -self.outlet_offset,
            ]
        )


class ReliabilityEstimator(BaseEstimator):
    """Learns outlet reliability and attribution credibility jointly over all claims.

    A semi-supervised Dawid–Skene estimator. Each claim is true with probability
    ``base_rate_``; each provenance cluster of a claim casts one vote, the stance of its
    root report, drawn from the root outlet's stance confusion (supports / denies /
    neutral given true / false); a report's attribution shifts the log-odds of its
    assertion around its outlet's average. A report quoting an interested party of the
    claim carries that party's word, not the outlet's: such votes share one pooled
    interested-party confusion, and do not count in the relaying outlet's record.
    EM alternates the claims' probabilities of truth (claims with a verdict clamped to it)
    with maximum a posteriori parameters:

    - each outlet's confusion: expected counts plus a Dirichlet prior of
      ``prior_strength`` pseudo-reports per truth row, centred on the pooled confusion
      tilted to the outlet's prior reliability (posterior mean, so never 0 or 1);
    - the prior reliability: ``outlet_priors[name]`` when given, else a logistic model
      (scikit-learn, weighted by the E-step posteriors) of "the assertion is right" from
      attribution, outlet kind and interested party, averaged over the outlet's reports;
      an outlet never seen takes its kind's prediction (cold start);
    - each attribution's credibility: expected right/wrong assertions plus a Beta prior of
      ``prior_strength`` centred on ``attribution_priors[name]`` or the logistic model;
    - the base rate, with a ``Beta(*base_rate_prior)`` prior.

    Echoes (reports citing another report of the claim, transitively, or quoting the same
    source) are not votes: only each cluster's root counts, and a copying outlet's
    reliability is learned only from its own non-echo reports; an outlet that only echoes
    keeps its prior. The per-iteration work is a few sparse matrix products.

    ``sklearn.utils.estimator_checks.check_estimator`` does not apply: the samples are
    claims, each a variable-size set of reports, not rows of a numeric matrix.

    Parameters
    ----------
    prior_strength : float, default=10.0
        Pseudo-reports behind each prior. Ten because a short run of luck should not make
        an outlet's record: a 0.7-reliable outlet is right 3 times out of 3 a third of the
        time, so its own counts should outweigh its prior only after a dozen or so reports.
    outlet_priors : mapping of str to float, optional
        Prior reliability by outlet name (e.g. the seeds' Admiralty grades).
    attribution_priors : mapping of str to float, optional
        Prior credibility by attribution type; by default learned from the features.
    base_rate_prior : tuple of float, default=(2.0, 2.0)
        Beta prior of the share of true claims: one pseudo-claim each way at the mode,
        enough to keep the base rate off 0 and 1 with a handful of verdicts.
    feature_regularization : float, default=1.0
        ``C`` of the logistic feature model (scikit-learn's default); the weights are
        report counts, so it matters only while there are few reports.
    respect_provenance : bool, default=True
        Count one vote per provenance cluster. False counts every report (for comparison).
    max_iter : int, default=100
    tol : float, default=1e-4
        Stop when no claim's probability of truth moves more than this.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[False, True]``: the columns of :meth:`predict_proba`.
    outlet_names_ : ndarray of str
    outlet_reliability_ : ndarray of shape (n_outlets,)
        One-coin reliability (see :func:`confusion_reliability`), aligned with
        ``outlet_names_``; below 0.5 for an outlet reliably wrong.
    outlet_prior_ : ndarray of shape (n_outlets,)
        The prior reliability each outlet was shrunk towards.
    n_outlet_votes_ : ndarray of shape (n_outlets,)
        Counted (non-echo) reports per outlet.
    confusion_ : ndarray of shape (n_outlets, 2, 3)
        P(stance | truth) per outlet; rows false, true; columns in ``STANCES`` order.
    pooled_confusion_ : ndarray of shape (2, 3)
    attribution_credibility_ : dict of str to float
        Probability that an assertion with this attribution is right.
    interested_confusion_ : ndarray of shape (2, 3)
        P(stance | truth) of reports quoting an interested party of the claim, whichever
        outlet relays them.
    interested_party_discount_ : float
        How much an interested party's assertion weighs against an ordinary outlet's
        (ratio of their mean log-likelihood ratios, in [0, 1]).
    kind_reliability_ : dict of str to float
        Prior reliability of an outlet of each kind with no record.
    base_rate_ : float
    n_iter_ : int
    feature_model_ : LogisticRegression or None

    Examples
    --------
    >>> from scoring.synth import generate
    >>> dataset = generate(n_claims=300, n_outlets=20, seed=1)
    >>> table = dataset.table
    >>> model = ReliabilityEstimator().fit(table)
    >>> model.predict_proba(table).shape
    (300, 2)
    """

    def __init__(
        self,
        prior_strength: float = 10.0,
        outlet_priors: Mapping[str, float] | None = None,
        attribution_priors: Mapping[str, float] | None = None,
        base_rate_prior: tuple[float, float] = (2.0, 2.0),
        feature_regularization: float = 1.0,
        respect_provenance: bool = True,
        max_iter: int = 100,
        tol: float = 1e-4,
    ):
        self.prior_strength = prior_strength
        self.outlet_priors = outlet_priors
        self.attribution_priors = attribution_priors
        self.base_rate_prior = base_rate_prior
        self.feature_regularization = feature_regularization
        self.respect_provenance = respect_provenance
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: ReportTable | Iterable[InterchangeRecord], y=None) -> ReliabilityEstimator:
        """Learn from the reports of a set of claims.

        Parameters
        ----------
        X : ReportTable or iterable of InterchangeRecord
            The reports of every claim to learn from (resolved or not).
        y : array-like of shape (n_claims,), optional
            Verdicts by claim (True/False/None or 1/0/nan); default ``X.verdicts``.
            Claims without a verdict are learned from but not clamped.

        Returns
        -------
        self
        """
        table = _as_table(X)
        verdicts = table.verdicts if y is None else _verdict_array(y, table.n_claims)
        design = _VoteDesign.build(table, counted_only=self.respect_provenance)
        resolved = ~np.isnan(verdicts)
        p_true = np.where(resolved, verdicts, design.majority)
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            step = self._m_step(table, design, p_true)
            log_odds = logit(step.base_rate) + design.votes @ step.parameter_vector()
            updated = np.where(resolved, verdicts, _probability(log_odds))
            change = np.max(np.abs(updated - p_true), initial=0.0)
            p_true = updated
            if change < self.tol:
                break
        self._store(table, design, self._m_step(table, design, p_true), n_iter)
        return self

    def _m_step(self, table: ReportTable, design: _VoteDesign, p_true: np.ndarray) -> _MStep:
        expected = design.votes.T @ p_true
        stance_block, interested_block, combo_block, _ = design.blocks
        true_counts = expected[stance_block].reshape(design.n_outlets, 3)
        counts = np.stack([design.outlet_stance_counts - true_counts, true_counts], axis=1)
        counts = np.clip(counts, 0.0, None)  # rounding can leave -1e-16
        interested_true = expected[interested_block]
        interested_counts = np.clip(
            np.stack([design.interested_stance_counts - interested_true, interested_true]),
            0.0,
            None,
        )
        combo_right = expected[combo_block] + design.combo_denials
        features, combo_log_odds = self._fit_features(design, combo_right)
        # The pooled confusion has a flat Dirichlet(1, 1, 1) prior: it pools every outlet.
        pooled = (counts.sum(axis=0) + 1.0) / (counts.sum(axis=(0, 2))[:, None] + 3.0)
        prior = self._outlet_prior(table, design, combo_log_odds, features["kind_reliability"])
        strength = self.prior_strength
        confusion = (counts + strength * tilted_confusion(pooled, prior)) / (
            counts.sum(axis=2, keepdims=True) + strength
        )
        # Interested parties are one pooled source, whatever outlet relays them: what they
        # say is theirs, not the outlet's. Starts as an ordinary outlet, learns its own way.
        interested_confusion = (interested_counts + strength * pooled) / (
            interested_counts.sum(axis=1, keepdims=True) + strength
        )
        alpha, beta = self.base_rate_prior
        base_rate = (p_true.sum() + alpha - 1.0) / (len(p_true) + alpha + beta - 2.0)
        return _MStep(
            confusion=confusion,
            pooled_confusion=pooled,
            interested_confusion=interested_confusion,
            outlet_prior=prior,
            base_rate=float(np.clip(base_rate, 1e-6, 1 - 1e-6)),
            **features,
        )

    def _fit_features(self, design: _VoteDesign, combo_right: np.ndarray):
        """Feature model, attribution credibilities and the per-report assertion offsets."""
        total = design.combo_assertions
        model, intercept, coef = self._fit_feature_model(combo_right, total)
        n_attributions, n_kinds = len(ATTRIBUTIONS), len(OUTLET_KINDS)
        attribution_coef = coef[:n_attributions]
        kind_coef = coef[n_attributions : n_attributions + n_kinds]
        # Mix effects average a coefficient block over the assertions actually seen, so a
        # kind's prior assumes the usual attributions, and an attribution's the usual kinds.
        share = total / max(total.sum(), 1.0)
        kind_mix = share @ (COMBO_FEATURES[:, n_attributions:-1] @ kind_coef)
        own_share = np.where(COMBO_INTERESTED == 0, total, 0.0)
        own_share /= max(own_share.sum(), 1.0)
        attribution_mix = own_share @ (COMBO_FEATURES[:, :n_attributions] @ attribution_coef)
        attribution_prior = expit(intercept + attribution_coef + kind_mix)
        for code, name in enumerate(ATTRIBUTIONS):
            if self.attribution_priors and name in self.attribution_priors:
                attribution_prior[code] = self.attribution_priors[name]
        # Credibility counts disinterested assertions only: an interested party's words are
        # weighed by the interested-party confusion, not by how the outlet attributed them.
        disinterested = COMBO_INTERESTED == 0
        right_by_attribution = by_attribution(combo_right * disinterested)
        total_by_attribution = by_attribution(total * disinterested)
        credibility = (right_by_attribution + self.prior_strength * attribution_prior) / (
            total_by_attribution + self.prior_strength
        )
        credibility = np.clip(credibility, 1e-6, 1 - 1e-6)
        # Offsets apply to an outlet's own assertions; interested parties have their own
        # confusion instead.
        combo_offset = np.where(disinterested, logit(credibility)[COMBO_ATTRIBUTION], 0.0)
        mean_offset = float(own_share @ combo_offset)
        outlet_assertions = np.asarray(design.outlet_combo.sum(axis=1)).ravel()
        outlet_offset = np.where(
            outlet_assertions > 0,
            design.outlet_combo @ combo_offset / np.maximum(outlet_assertions, 1.0),
            mean_offset,
        )
        features = {
            "credibility": credibility,
            "combo_offset": combo_offset,
            "outlet_offset": outlet_offset,
            "mean_offset": mean_offset,
            "kind_reliability": expit(intercept + kind_coef + attribution_mix),
            "feature_model": model,
        }
        return features, intercept + COMBO_FEATURES @ coef

    def _fit_feature_model(self, combo_right: np.ndarray, combo_total: np.ndarray):
        """Weighted logistic regression of "the assertion is right" on report features.

        Rows are feature combos, once as right and once as wrong, weighted by the expected
        number of right / wrong assertions: the same fit as one row per report, at a cost
        independent of the number of reports.
        """
        present = combo_total > 0
        wrong = np.clip(combo_total - combo_right, 0.0, None)
        features = np.vstack([COMBO_FEATURES[present]] * 2)
        outcome = np.r_[np.ones(present.sum()), np.zeros(present.sum())]
        weight = np.r_[combo_right[present], wrong[present]]
        keep = weight > 1e-9
        if np.unique(outcome[keep]).size < 2:
            # All right (or all wrong): no contrast to learn from; Laplace's rule of succession.
            share = (combo_right.sum() + 1.0) / (combo_total.sum() + 2.0)
            return None, float(logit(share)), np.zeros(COMBO_FEATURES.shape[1])
        # Newton steps: exact and fast with 18 features (lbfgs pays thread start-up per fit).
        model = LogisticRegression(C=self.feature_regularization, solver="newton-cholesky")
        model.fit(features[keep], outcome[keep], sample_weight=weight[keep])
        return model, float(model.intercept_[0]), model.coef_[0]

    def _outlet_prior(
        self,
        table: ReportTable,
        design: _VoteDesign,
        combo_log_odds: np.ndarray,
        kind_reliability: np.ndarray,
    ) -> np.ndarray:
        """Prior reliability per outlet: given, else the feature model over its reports."""
        assertions = np.asarray(design.outlet_combo.sum(axis=1)).ravel()
        from_features = expit(design.outlet_combo @ combo_log_odds / np.maximum(assertions, 1))
        prior = np.where(
            assertions > 0, from_features, kind_reliability[table.outlet_kinds.astype(int)]
        )
        if self.outlet_priors:
            given = [self.outlet_priors.get(name) for name in table.outlet_names]
            prior = np.array([p if g is None else g for p, g in zip(prior, given, strict=True)])
        return prior

    def _store(self, table: ReportTable, design: _VoteDesign, step: _MStep, n_iter: int):
        self.classes_ = np.array([False, True])
        self.outlet_names_ = table.outlet_names.copy()
        self.outlet_kinds_ = table.outlet_kinds.copy()
        self.outlet_index_ = {name: i for i, name in enumerate(self.outlet_names_)}
        self.confusion_ = step.confusion
        self.pooled_confusion_ = step.pooled_confusion
        self.outlet_reliability_ = confusion_reliability(step.confusion)
        self.outlet_prior_ = step.outlet_prior
        self.n_outlet_votes_ = design.outlet_stance_counts.sum(axis=1)
        self.outlet_attribution_counts_ = np.asarray(
            design.outlet_combo.toarray().reshape(design.n_outlets, len(ATTRIBUTIONS), -1).sum(2)
        )
        self.attribution_credibility_ = dict(zip(ATTRIBUTIONS, step.credibility, strict=True))
        self.interested_confusion_ = step.interested_confusion
        self.interested_party_discount_ = _interested_discount(step, design)
        self.kind_reliability_ = dict(zip(OUTLET_KINDS, step.kind_reliability, strict=True))
        self.base_rate_ = step.base_rate
        self.feature_model_ = step.feature_model
        self.n_iter_ = n_iter
        self._step_ = step

    def predict_log_odds(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """Log-odds that each claim of ``X`` is true, from its reports alone.

        Verdicts in ``X`` are ignored. Outlets not seen in fitting take their prior
        (``outlet_priors`` or their kind's reliability) with the pooled confusion.
        """
        check_is_fitted(self, "confusion_")
        table = _as_table(X)
        step = self._step_
        fitted = np.array([self.outlet_index_.get(n, -1) for n in table.outlet_names], int)
        unseen = fitted < 0
        priors = dict(zip(OUTLET_KINDS, step.kind_reliability, strict=True))
        unseen_prior = [
            (self.outlet_priors or {}).get(name, priors[OUTLET_KINDS[kind]])
            for name, kind in zip(
                table.outlet_names[unseen], table.outlet_kinds[unseen], strict=True
            )
        ]
        confusion = step.confusion[np.maximum(fitted, 0)]
        confusion[unseen] = tilted_confusion(step.pooled_confusion, np.array(unseen_prior))
        outlet_offset = np.where(unseen, step.mean_offset, step.outlet_offset[fitted])
        stance_log_odds = np.log(confusion[:, 1, :]) - np.log(confusion[:, 0, :])
        keep = table.counted if self.respect_provenance else np.ones(table.n_reports, bool)
        outlet, stance = table.outlet[keep], table.stance[keep].astype(np.int64)
        evidence = stance_log_odds[outlet, stance] + STANCE_SIGN[stance] * (
            step.combo_offset[report_combos(table)[keep]] - outlet_offset[outlet]
        )
        interested = table.interested[keep]
        evidence[interested] = step.interested_log_odds[stance[interested]]
        summed = np.bincount(table.claim[keep], weights=evidence, minlength=table.n_claims)
        return logit(self.base_rate_) + summed

    def predict_proba(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """Probability that each claim of ``X`` is false / true, shape ``(n_claims, 2)``.

        ``X`` is a :class:`ReportTable` (or interchange records): one row per claim, in
        ``X.claim_keys`` order, columns in ``classes_`` order. Verdicts are not used.
        """
        p_true = _probability(self.predict_log_odds(X))
        return np.column_stack([1.0 - p_true, p_true])

    def predict(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """The more probable verdict of each claim of ``X``."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def to_model_parameters(
        self, version: str, calibration: Calibration | None = None
    ) -> ModelParameters:
        """The learned model as parameters of the online scorer (:mod:`scoring.engine`).

        The engine weighs an assertion by ``p = r·c + (1 − r)·(1 − c)`` from outlet
        reliability ``r`` and attribution credibility ``c``, i.e. ``2p − 1 = (2r − 1)(2c −
        1)``, whereas this model adds log-odds. :func:`engine_factors` fits ``r`` and ``c``
        so that the engine's ``p`` matches this model's for every (outlet, attribution)
        pair, weighted by how often the pair occurs. Only outlets with at least one counted
        report are included: for the others the learned value is only a prior, and the
        scorer's own outlet table should stand. ``interested_party_discount`` is the
        learned :attr:`interested_party_discount_`, which the engine applies the same way.
        """
        check_is_fitted(self, "confusion_")
        outlet_factor, credibility, kind_factor = engine_factors(
            self._step_, self.outlet_attribution_counts_
        )
        learned = self.n_outlet_votes_ > 0
        return ModelParameters(
            version=version,
            base_rate=float(self.base_rate_),
            interested_party_discount=float(self.interested_party_discount_),
            attribution_credibility=dict(zip(ATTRIBUTIONS, credibility.tolist(), strict=True)),
            outlet_reliability=dict(
                zip(
                    self.outlet_names_[learned].tolist(),
                    outlet_factor[learned].tolist(),
                    strict=True,
                )
            ),
            kind_reliability=dict(zip(OUTLET_KINDS, kind_factor.tolist(), strict=True)),
            calibration=calibration or Calibration(),
        )


def engine_factors(
    step: _MStep, outlet_attribution_counts: np.ndarray, n_rounds: int = 25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outlet, attribution and kind factors of the engine's noisy channel.

    Weighted rank-one least squares of ``2p − 1 ≈ (2r − 1)(2c − 1)`` by alternating
    updates, where ``p`` is this model's probability that outlet o's assertion with
    attribution a is right. Outlets without assertions (and outlet kinds) take the overall
    attribution mix. The product fixes only ``(2r − 1)(2c − 1)``; the scale is set so the
    most credible attribution has ``c = 0.99``, the engine's upper bound, which leaves
    outlets the most room before they hit it.

    Returns
    -------
    tuple of ndarray
        Outlet reliabilities, attribution credibilities, kind reliabilities.
    """
    mix = outlet_attribution_counts.sum(axis=0)
    mix = mix / max(mix.sum(), 1.0)
    kinds = logit(step.kind_reliability)
    outlet_log_odds = np.r_[logit(confusion_reliability(step.confusion)), kinds]
    offset = np.r_[step.outlet_offset, np.full(len(kinds), step.mean_offset)]
    counts = np.vstack([outlet_attribution_counts, np.tile(mix, (len(kinds), 1))])
    counts[counts.sum(axis=1) == 0] = mix
    attribution_log_odds = logit(step.credibility)
    target = 2 * expit(outlet_log_odds[:, None] + attribution_log_odds - offset[:, None]) - 1
    attribution = 2 * step.credibility - 1
    for _ in range(n_rounds):
        outlet = (counts * target) @ attribution / np.maximum(counts @ attribution**2, 1e-12)
        weight = counts.T @ outlet**2
        seen = weight > 1e-12
        attribution[seen] = ((counts * target).T @ outlet)[seen] / weight[seen]
    scale = 0.98 / max(np.abs(attribution).max(), 1e-12)
    outlet = np.clip(outlet / scale, -0.98, 0.98)
    attribution = attribution * scale
    factor = (outlet + 1) / 2
    return factor[: len(step.outlet_offset)], (attribution + 1) / 2, factor[-len(kinds) :]
