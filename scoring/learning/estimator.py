"""The truth-discovery estimator: per-outlet stance confusions learned by EM over clusters.

:class:`ReliabilityEstimator` is of the Dawid–Skene family. Each claim is true with
probability ``base_rate_``; each provenance cluster of a claim casts one vote per stance (its
strongest original report of that stance, the engine's rule), drawn from the voting outlet's
stance confusion; an attribution shifts an assertion's log-likelihood ratio; a report quoting
an interested party of the claim is multiplied by the interested-party multiplier. EM
alternates the claims' probabilities of truth (resolved claims clamped to their verdict)
with the parameters:

- each outlet's confusion: the posterior mean under the hierarchical prior of
  :mod:`scoring.learning.prior` (outlet → kind → pooled, strengths learned by marginal
  likelihood), from the expected counts of its own counted, disinterested reports;
- each attribution's shift: the log-odds by which its assertions were right more (or less)
  often than their outlets' reliability predicts, shrunk towards 0 by
  ``attribution_pseudo_count`` pseudo-assertions, then centred so the average training
  assertion is unshifted;
- the interested-party multiplier: interested parties' mean signed log-likelihood ratio
  over an ordinary report's, in [0, 1], shrunk towards ``interested_prior`` by
  ``interested_pseudo_count`` pseudo-reports;
- the base rate, with a ``Beta(*base_rate_prior)`` prior.

An outlet whose learned one-coin reliability is below 0.5 but whose 90 % credible interval
still includes 0.5 is re-tilted to 0.5 ("noisy"): only a record that excludes chance may
count against what the outlet says (issue 13, item 6).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, logit
from scipy.stats import beta
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from scoring.confusion import (
    DENIES,
    NEUTRAL,
    STANCE_SIGN,
    SUPPORTS,
    confusion_reliability,
    stance_log_lr,
    tilted_confusion,
    typed_prior_centre,
)
from scoring.interchange import InterchangeRecord
from scoring.learning.prior import Hierarchy, fit_hierarchy, learn_strength, posterior_mean
from scoring.learning.tables import ReportTable
from scoring.vocabulary import ATTRIBUTIONS, OUTLET_KINDS

_LOGIT_CLIP = 30.0  # beyond ±30 log-odds a probability is 1 to machine precision
CREDIBLE_LEVEL = 0.90


@dataclass(frozen=True, eq=False)
class _State:
    """What one M-step learns."""

    hierarchy: Hierarchy
    confusion: np.ndarray  # (n_outlets, 2, 3)
    reliability_interval: np.ndarray  # (n_outlets, 2)
    shift: np.ndarray  # (n_attributions,)
    interested: float
    base_rate: float
    presence: np.ndarray  # (n_outlets,) log-LR of the outlet covering the claim at all
    presence_strength: float

    @property
    def outlet_log_lr(self) -> np.ndarray:
        return stance_log_lr(self.confusion) + self.presence[:, None]


def report_log_lr(
    table: ReportTable, outlet_log_lr: np.ndarray, shift: np.ndarray, interested: float
) -> np.ndarray:
    """Each report's signed log-likelihood ratio, as the engine weighs it."""
    stance = table.stance.astype(np.int64)
    ratio = outlet_log_lr[table.outlet, stance] + STANCE_SIGN[stance] * shift[table.attribution]
    return np.where(table.interested, interested * ratio, ratio)


def counted_reports(table: ReportTable, log_lr: np.ndarray, respect_provenance: bool = True):
    """The reports that count: the strongest non-echo report of each stance per cluster."""
    if not respect_provenance:
        return np.ones(table.n_reports, dtype=bool)
    # A report alone in its cluster and stance always counts: only shared groups are sorted
    # (most groups are singletons, and sorting them all dominated the fit).
    alone, rows, group = table.cluster_stance_groups
    counted = alone.copy()
    order = np.lexsort((table.rank[rows], -np.abs(log_lr[rows]), group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    counted[rows[order[first]]] = True
    return counted


def _as_table(X, outlet_priors: Mapping[str, float] | None) -> ReportTable:
    table = X if isinstance(X, ReportTable) else ReportTable.from_records(X)
    if outlet_priors:
        given = np.array([outlet_priors.get(n, math.nan) for n in table.outlet_names], float)
        given = np.where(np.isnan(given), table.outlet_priors, given)
        table = replace(table, outlet_priors=given)
    return table


def _probability(log_odds: np.ndarray) -> np.ndarray:
    return expit(np.clip(log_odds, -_LOGIT_CLIP, _LOGIT_CLIP))


class ReliabilityEstimator(BaseEstimator):
    """Learns each outlet's stance confusion, attribution shifts and the interested-party
    multiplier jointly over all claims (see the module docstring).

    ``sklearn.utils.estimator_checks.check_estimator`` does not apply: the samples are
    claims, each a variable-size set of reports, not rows of a numeric matrix.

    Parameters
    ----------
    prior_strength : float, optional
        Fixed pseudo-reports per truth row behind each outlet's prior; by default learned by
        marginal likelihood in every M-step.
    outlet_priors : mapping of str to float, optional
        Editor-typed prior reliability by outlet name (clamped to [0.5, 0.99]); they tilt
        the outlet's prior centre.
    base_rate_prior : tuple of float, default=(2.0, 2.0)
        Beta prior of the share of true claims.
    attribution_pseudo_count : float, default=20.0
        Pseudo-assertions pulling each attribution's shift to 0: a shift needs a few dozen
        assertions of that type before it moves far.
    interested_prior, interested_pseudo_count : float, default=0.3, 20.0
        The documented interested-party discount and how many interested reports it is
        worth.
    respect_provenance : bool, default=True
        Count one vote per cluster and stance. False counts every report (for comparison).
    max_iter : int, default=100
    tol : float, default=1e-4
        Stop when no claim's probability of truth moves more than this.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[False, True]``: the columns of :meth:`predict_proba`.
    outlet_names_ : ndarray of str
    confusion_ : ndarray of shape (n_outlets, 2, 3)
        P(stance | truth) per outlet; rows false, true; columns in ``STANCES`` order.
    outlet_reliability_ : ndarray of shape (n_outlets,)
        One-coin reliability of each confusion.
    outlet_reliability_interval_ : ndarray of shape (n_outlets, 2)
        Its 90 % credible interval (Beta posterior of the outlet's assertions).
    n_outlet_votes_ : ndarray of shape (n_outlets,)
        Counted disinterested reports per outlet: its record.
    pooled_confusion_ : ndarray of shape (2, 3)
    kind_confusion_ : ndarray of shape (n_kinds, 2, 3)
    kind_seen_ : ndarray of bool
        Kinds with at least one outlet in the training data.
    kind_reliability_ : dict of str to float
        One-coin reliability of each kind's confusion (the pooled one for kinds not seen).
    prior_strength_, kind_prior_strength_ : float
        The learned (or given) Dirichlet strengths.
    attribution_shift_ : dict of str to float
    interested_party_discount_ : float
    base_rate_ : float
    n_iter_ : int

    Examples
    --------
    >>> from scoring.synth import generate
    >>> dataset = generate(n_claims=300, n_outlets=20, seed=1)
    >>> model = ReliabilityEstimator().fit(dataset.table)
    >>> model.predict_proba(dataset.table).shape
    (300, 2)
    """

    def __init__(
        self,
        prior_strength: float | None = None,
        outlet_priors: Mapping[str, float] | None = None,
        base_rate_prior: tuple[float, float] = (2.0, 2.0),
        attribution_pseudo_count: float = 20.0,
        interested_prior: float = 0.3,
        interested_pseudo_count: float = 20.0,
        respect_provenance: bool = True,
        outlet_presence: bool = True,
        max_iter: int = 100,
        tol: float = 1e-4,
    ):
        self.prior_strength = prior_strength
        self.outlet_priors = outlet_priors
        self.base_rate_prior = base_rate_prior
        self.attribution_pseudo_count = attribution_pseudo_count
        self.interested_prior = interested_prior
        self.interested_pseudo_count = interested_pseudo_count
        self.respect_provenance = respect_provenance
        self.outlet_presence = outlet_presence
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

        Returns
        -------
        self
        """
        table = _as_table(X, self.outlet_priors)
        verdicts = table.verdicts if y is None else _verdict_array(y, table.n_claims)
        resolved = ~np.isnan(verdicts)
        p_true = np.where(resolved, verdicts, _majority(table))
        n_outlets = len(table.outlet_names)
        log_lr = np.zeros(table.n_reports)
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            counted = counted_reports(table, log_lr, self.respect_provenance)
            state = self._m_step(table, counted, p_true, n_outlets)
            log_lr = report_log_lr(table, state.outlet_log_lr, state.shift, state.interested)
            counted = counted_reports(table, log_lr, self.respect_provenance)
            summed = np.bincount(table.claim[counted], log_lr[counted], table.n_claims)
            updated = np.where(resolved, verdicts, _probability(logit(state.base_rate) + summed))
            change = np.max(np.abs(updated - p_true), initial=0.0)
            p_true = updated
            if change < self.tol:
                break
        self._store(table, counted, state, n_iter)
        return self

    def _m_step(self, table, counted, p_true, n_outlets) -> _State:
        own = counted & ~table.interested
        counts = _truth_stance_counts(table, own, p_true, table.outlet, n_outlets)
        hierarchy = fit_hierarchy(
            counts, table.outlet_kinds, table.outlet_priors, len(OUTLET_KINDS), self.prior_strength
        )
        strength = hierarchy.outlet_strength
        confusion = posterior_mean(counts, hierarchy.centres, strength)
        interval = _reliability_interval(counts, hierarchy.centres, strength)
        reliability = confusion_reliability(confusion)
        noisy = (reliability < 0.5) & (interval[:, 1] >= 0.5)
        for o in np.flatnonzero(noisy):
            confusion[o] = tilted_confusion(confusion[o], 0.5)
        shift = self._attribution_shift(table, own, p_true, confusion_reliability(confusion))
        interested = self._interested(table, counted, p_true, hierarchy.pooled, strength)
        a, b = self.base_rate_prior
        base_rate = float(
            np.clip((p_true.sum() + a - 1.0) / (len(p_true) + a + b - 2.0), 1e-6, 1 - 1e-6)
        )
        presence, presence_strength = self._presence(table, own, p_true, n_outlets)
        return _State(
            hierarchy,
            confusion,
            interval,
            shift,
            interested,
            base_rate,
            presence,
            presence_strength,
        )

    def _presence(self, table, own, p_true, n_outlets) -> tuple[np.ndarray, float]:
        """Log-LR of an outlet covering a claim at all: which claims an outlet takes up is
        evidence too (``P(outlet, stance | truth) = P(outlet | truth) · P(stance | outlet,
        truth)``). From the share of true claims among the claims it covered, under a Beta
        prior centred on the share among all covered claims, strength learned by marginal
        likelihood; 0 for an outlet with no record."""
        if not self.outlet_presence or not own.any():
            return np.zeros(n_outlets), 0.0
        # The distinct (claim, outlet) pairs of own reports, sorted: marked on the table's
        # pairs (found once) instead of np.unique every iteration, which was most of the fit.
        report_pair, pair_claim, pair_outlet = table.claim_outlet_pairs
        present = np.zeros(len(pair_claim), dtype=bool)
        present[report_pair[own]] = True
        claim, outlet = pair_claim[present], pair_outlet[present]
        w = p_true[claim]
        n = np.bincount(outlet, minlength=n_outlets).astype(float)
        true = np.bincount(outlet, w, n_outlets)
        centre = float(np.clip(w.mean(), 1e-3, 1 - 1e-3))
        counts = np.stack([n - true, true], axis=-1)[:, None, :]
        centres = np.broadcast_to(np.array([1 - centre, centre]), counts.shape)
        strength = learn_strength(counts, centres)
        share = (true + strength * centre) / (n + strength)
        return logit(share) - logit(centre), strength

    def _attribution_shift(self, table, own, p_true, reliability) -> np.ndarray:
        asserts = own & (table.stance != NEUTRAL)
        w = p_true[table.claim[asserts]]
        right = np.where(table.stance[asserts] == SUPPORTS, w, 1.0 - w)
        expected = np.clip(reliability[table.outlet[asserts]], 1e-6, 1 - 1e-6)
        attribution = table.attribution[asserts].astype(np.int64)
        n_att = len(ATTRIBUTIONS)
        n = np.bincount(attribution, minlength=n_att).astype(float)
        if not n.sum():
            return np.zeros(n_att)
        right_sum = np.bincount(attribution, right, n_att)
        expected_mean = np.bincount(attribution, expected, n_att) / np.maximum(n, 1.0)
        expected_mean = np.clip(np.where(n > 0, expected_mean, 0.5), 1e-6, 1 - 1e-6)
        k = self.attribution_pseudo_count
        observed = (right_sum + k * expected_mean) / (n + k)
        shift = logit(np.clip(observed, 1e-6, 1 - 1e-6)) - logit(expected_mean)
        return shift - (n @ shift) / n.sum()

    def _interested(self, table, counted, p_true, pooled, strength) -> float:
        rows = counted & table.interested
        if not rows.any():
            return float(self.interested_prior)
        counts = _truth_stance_counts(table, rows, p_true, np.zeros(table.n_reports, int), 1)[0]
        confusion = posterior_mean(counts, pooled, strength)
        signed = counts.sum(axis=0) * STANCE_SIGN
        ordinary = signed @ stance_log_lr(pooled)
        ratio = (signed @ stance_log_lr(confusion)) / ordinary if ordinary > 1e-9 else 0.0
        n, k = float(rows.sum()), self.interested_pseudo_count
        return float((n * np.clip(ratio, 0.0, 1.0) + k * self.interested_prior) / (n + k))

    def _store(self, table: ReportTable, counted, state: _State, n_iter: int) -> None:
        self.classes_ = np.array([False, True])
        self.outlet_names_ = table.outlet_names.copy()
        self.outlet_kinds_ = table.outlet_kinds.copy()
        self.outlet_priors_ = table.outlet_priors.copy()
        self.outlet_index_ = {name: i for i, name in enumerate(self.outlet_names_)}
        self.confusion_ = state.confusion
        self.outlet_reliability_ = confusion_reliability(state.confusion)
        self.outlet_reliability_interval_ = state.reliability_interval
        own = counted & ~table.interested
        self.n_outlet_votes_ = np.bincount(table.outlet[own], minlength=len(table.outlet_names))
        self.pooled_confusion_ = state.hierarchy.pooled
        self.kind_confusion_ = state.hierarchy.kinds
        self.kind_seen_ = state.hierarchy.kind_seen
        self.kind_reliability_ = dict(
            zip(OUTLET_KINDS, confusion_reliability(state.hierarchy.kinds).tolist(), strict=True)
        )
        self.prior_strength_ = state.hierarchy.outlet_strength
        self.kind_prior_strength_ = state.hierarchy.kind_strength
        self.attribution_shift_ = dict(zip(ATTRIBUTIONS, state.shift.tolist(), strict=True))
        self.interested_party_discount_ = state.interested
        self.base_rate_ = state.base_rate
        self.outlet_presence_ = state.presence
        self.presence_strength_ = state.presence_strength
        self.n_iter_ = n_iter
        self._state_ = state

    def outlet_log_lr_for(self, table: ReportTable) -> np.ndarray:
        """Per-stance log-LRs of ``table``'s outlets: learned, else their prior centre."""
        check_is_fitted(self, "confusion_")
        fitted = np.array([self.outlet_index_.get(n, -1) for n in table.outlet_names], int)
        kinds = table.outlet_kinds.astype(int)
        centre = np.where(
            (kinds >= 0)[:, None, None],
            self.kind_confusion_[np.maximum(kinds, 0)],
            self.pooled_confusion_,
        )
        for o in np.flatnonzero(~np.isnan(table.outlet_priors)):
            centre[o] = typed_prior_centre(centre[o], table.outlet_priors[o])
        confusion = np.where((fitted >= 0)[:, None, None], self.confusion_[fitted], centre)
        presence = np.where(fitted >= 0, self.outlet_presence_[fitted], 0.0)
        return stance_log_lr(confusion) + presence[:, None]

    def predict_log_odds(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """Log-odds that each claim of ``X`` is true, from its reports alone (a linear sum
        of counted votes; verdicts in ``X`` are ignored)."""
        check_is_fitted(self, "confusion_")
        table = _as_table(X, self.outlet_priors)
        state = self._state_
        log_lr = report_log_lr(table, self.outlet_log_lr_for(table), state.shift, state.interested)
        counted = counted_reports(table, log_lr, self.respect_provenance)
        summed = np.bincount(table.claim[counted], log_lr[counted], table.n_claims)
        return logit(self.base_rate_) + summed

    def predict_proba(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """Probability that each claim of ``X`` is false / true, shape ``(n_claims, 2)``."""
        p_true = _probability(self.predict_log_odds(X))
        return np.column_stack([1.0 - p_true, p_true])

    def predict(self, X: ReportTable | Iterable[InterchangeRecord]) -> np.ndarray:
        """The more probable verdict of each claim of ``X``."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def to_model_parameters(self, version: str, calibration=None):
        """The learned confusions as parameters of the engine (see
        :func:`scoring.learning.export.to_model_parameters`)."""
        from scoring.learning.export import to_model_parameters

        return to_model_parameters(self, version, calibration)


def _truth_stance_counts(table, rows, p_true, index, n) -> np.ndarray:
    """Expected counts by ``index`` (e.g. outlet), truth and stance of the given reports."""
    w = p_true[table.claim[rows]]
    cell = index[rows].astype(np.int64) * 3 + table.stance[rows]
    false = np.bincount(cell, 1.0 - w, 3 * n).reshape(n, 3)
    true = np.bincount(cell, w, 3 * n).reshape(n, 3)
    return np.clip(np.stack([false, true], axis=1), 0.0, None)


def _reliability_interval(counts, centres, strength) -> np.ndarray:
    """90 % credible interval of each outlet's one-coin reliability (Beta on assertions)."""
    right = counts[:, 1, SUPPORTS] + counts[:, 0, DENIES]
    wrong = counts[:, 0, SUPPORTS] + counts[:, 1, DENIES]
    centre = confusion_reliability(centres)
    weight = strength * (1.0 - centres[:, :, NEUTRAL].mean(axis=1))
    a, b = right + weight * centre + 1e-9, wrong + weight * (1.0 - centre) + 1e-9
    tail = (1.0 - CREDIBLE_LEVEL) / 2
    return np.column_stack([beta.ppf(tail, a, b), beta.ppf(1 - tail, a, b)])


def _majority(table: ReportTable) -> np.ndarray:
    supports = np.bincount(table.claim[table.stance == SUPPORTS], minlength=table.n_claims)
    denials = np.bincount(table.claim[table.stance == DENIES], minlength=table.n_claims)
    return (supports + 1.0) / (supports + denials + 2.0)


def _verdict_array(verdicts, n_claims: int) -> np.ndarray:
    out = np.array([math.nan if v is None else float(v) for v in verdicts], dtype=float)
    if out.shape != (n_claims,):
        raise ValueError(f"expected {n_claims} verdicts (one per claim), got {out.shape}")
    return out
