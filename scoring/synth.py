"""Synthetic claims and reports drawn from a known model, to test what the learner recovers.

Every outlet has a hidden reliability (probability that what it asserts is right), drawn
around a mean for its kind; every attribution type shifts that in log-odds; parties the
claim is about deny it whether or not it is true (a little more often when it is false);
some unreliable outlets are copied verbatim by several copier outlets, each copy citing the
report it repeats (sometimes via an earlier copy: an echo chain). Claims have a
heavy-tailed number of reports. Generation is vectorized and deterministic by seed;
interchange records are built only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from scoring.interchange import InterchangeRecord, write_records
from scoring.learning import DENIES, NEUTRAL, SUPPORTS, ReportTable
from scoring.vocabulary import ATTRIBUTIONS, OUTLET_KINDS, STANCES

KIND_RELIABILITY: Mapping[str, float] = {
    "wire_agency": 0.85,
    "public_broadcaster": 0.8,
    "newspaper": 0.75,
    "independent": 0.7,
    "aggregator": 0.6,
    "state_controlled": 0.55,
    "social_account": 0.55,
}
"""Mean hidden reliability by outlet kind (illustrative, not measured)."""

KIND_SHARE: Mapping[str, float] = {
    "wire_agency": 0.05,
    "public_broadcaster": 0.1,
    "newspaper": 0.3,
    "independent": 0.2,
    "aggregator": 0.1,
    "state_controlled": 0.1,
    "social_account": 0.15,
}

ATTRIBUTION_EFFECT: Mapping[str, float] = {
    "named_official": 0.8,
    "official_statement": 0.5,
    "official_source": 0.2,
    "anonymous_diplomat": 0.0,
    "anonymous_source": -0.2,
    "party_spokesperson": -0.3,
    "document": 0.9,
    "eyewitness": 0.3,
    "media_report": -0.1,
    "unattributed": -0.4,
}
"""Hidden log-odds shift of an assertion's correctness by attribution type."""

ATTRIBUTION_SHARE: Mapping[str, float] = {
    "named_official": 0.1,
    "official_statement": 0.1,
    "official_source": 0.1,
    "anonymous_diplomat": 0.05,
    "anonymous_source": 0.2,
    "party_spokesperson": 0.05,
    "document": 0.05,
    "eyewitness": 0.05,
    "media_report": 0.1,
    "unattributed": 0.2,
}

NEUTRAL_RATE = (0.25, 0.15)
"""P(neutral stance | claim false, true): hedging is a little more common on false claims."""

INTERESTED_DENIAL_RATE = (0.5, 0.35)
"""P(the party a claim is about denies it | false, true): they deny true claims too."""


@dataclass(frozen=True, eq=False)
class SyntheticDataset:
    """Reports of synthetic claims with the hidden truth they were drawn from.

    ``table`` holds the reports; the other per-report arrays align with it.
    ``outlet_reliability`` (hidden) aligns with ``table.outlet_names``.
    """

    table: ReportTable
    report_keys: np.ndarray
    cites: np.ndarray  # index of the cited report, -1 for none
    sources: np.ndarray  # quoted source or None
    is_copy: np.ndarray
    truth: np.ndarray  # per claim, never hidden (verdicts may be)
    outlet_reliability: np.ndarray
    outlet_kinds: Mapping[str, str]
    attribution_effect: Mapping[str, float] = field(default_factory=lambda: ATTRIBUTION_EFFECT)
    echo_sources: tuple[str, ...] = ()
    copiers: Mapping[str, str] = field(default_factory=dict)  # copier -> copied outlet

    @cached_property
    def records(self) -> list[InterchangeRecord]:
        """The reports as interchange records, in table order."""
        t = self.table
        return [
            InterchangeRecord(
                claim_key=t.claim_keys[claim],
                claim=f"Synthetic claim {t.claim_keys[claim]}",
                verdict=None if np.isnan(t.verdicts[claim]) else bool(t.verdicts[claim]),
                report_key=self.report_keys[i],
                outlet=t.outlet_names[t.outlet[i]],
                stance=STANCES[t.stance[i]],
                attribution=ATTRIBUTIONS[t.attribution[i]],
                source=self.sources[i],
                interested_party=bool(t.interested[i]),
                cites=self.report_keys[self.cites[i]] if self.cites[i] >= 0 else None,
            )
            for i, claim in enumerate(t.claim.tolist())
        ]

    def hidden_reliability(self) -> dict[str, float]:
        return dict(zip(self.table.outlet_names, self.outlet_reliability.tolist(), strict=True))

    def drop_copies(self) -> SyntheticDataset:
        """The same claims and original reports, with every copy removed."""
        keep = ~self.is_copy
        table = self.table.select_reports(keep)
        return SyntheticDataset(
            table=table,
            report_keys=self.report_keys[keep],
            cites=np.full(keep.sum(), -1),  # only copies cite
            sources=self.sources[keep],
            is_copy=self.is_copy[keep],
            truth=self.truth,
            outlet_reliability=self.outlet_reliability,
            outlet_kinds=self.outlet_kinds,
            attribution_effect=self.attribution_effect,
            echo_sources=self.echo_sources,
            copiers=self.copiers,
        )


def write_jsonl(dataset: SyntheticDataset, path: str | Path) -> int:
    """Write the dataset's reports as interchange JSON Lines; returns how many."""
    with open(path, "w", encoding="utf-8") as stream:
        return write_records(dataset.records, stream)


def generate(
    n_claims: int,
    n_outlets: int,
    seed: int,
    *,
    echo_outlets: int = 0,
    copies_per_echo: int = 0,
    copy_rate: float = 0.9,
    chain_rate: float = 0.3,
    unlabelled_fraction: float = 0.0,
    base_rate: float = 0.45,
    mean_reports: float = 5.0,
    reliability_spread: float = 0.8,
) -> SyntheticDataset:
    """Draw claims and their reports from the hidden model.

    Parameters
    ----------
    n_claims, n_outlets, seed : int
    echo_outlets, copies_per_echo : int
        ``echo_outlets`` unreliable outlets (hidden reliability about 0.3), each copied
        by ``copies_per_echo`` other outlets: each of an echoed outlet's reports is copied
        by each of its copiers with probability ``copy_rate``, the copy citing the
        original or, with probability ``chain_rate``, the previous copy.
    unlabelled_fraction : float
        Share of claims whose verdict is left null.
    base_rate : float
        Share of true claims.
    mean_reports : float
        Mean original reports per claim; the count is 1 + negative binomial (dispersion
        0.8), so most claims have a few reports and some have dozens.
    reliability_spread : float
        Standard deviation, in log-odds, of outlets' reliability around their kind's mean.
    """
    if n_outlets < echo_outlets * (1 + copies_per_echo) or n_outlets < 1:
        raise ValueError("not enough outlets for the echoed outlets and their copiers")
    rng = np.random.default_rng(seed)
    kinds, reliability, activity = _draw_outlets(rng, n_outlets, reliability_spread)
    chosen = rng.permutation(n_outlets)[: echo_outlets * (1 + copies_per_echo)]
    echoed, copier_of = (
        chosen[:echo_outlets],
        chosen[echo_outlets:].reshape(echo_outlets, copies_per_echo),
    )
    # Echoed outlets are unreliable and busy enough for their copies to matter.
    reliability[echoed] = expit(rng.normal(logit(0.3), 0.2, size=echo_outlets))
    activity[echoed] = np.maximum(activity[echoed], np.quantile(activity, 0.75))
    truth = rng.random(n_claims) < base_rate
    parts = [
        _draw_original_reports(rng, truth, reliability, activity, mean_reports),
        _draw_interested_denials(rng, truth, activity),
    ]
    parts.append(_draw_copies(rng, parts[0], echoed, copier_of, copy_rate, chain_rate))
    verdicts = truth.astype(float)
    verdicts[rng.random(n_claims) < unlabelled_fraction] = np.nan
    names = np.array([f"outlet-{i:04d}" for i in range(n_outlets)], dtype=object)
    return _assemble(parts, truth, verdicts, names, kinds, reliability, echoed, copier_of)


def _draw_outlets(rng: np.random.Generator, n_outlets: int, spread: float):
    kind_names = list(KIND_SHARE)
    shares = np.array(list(KIND_SHARE.values()))
    kind_draw = rng.choice(len(kind_names), size=n_outlets, p=shares / shares.sum())
    kinds = np.array([OUTLET_KINDS.index(kind_names[k]) for k in kind_draw], dtype=np.int8)
    mean = np.array([KIND_RELIABILITY[OUTLET_KINDS[k]] for k in kinds])
    reliability = expit(logit(mean) + rng.normal(0.0, spread, size=n_outlets))
    activity = rng.lognormal(0.0, 0.8, size=n_outlets)  # a few busy outlets, many quiet ones
    return kinds, reliability, activity


def _draw_original_reports(rng, truth, reliability, activity, mean_reports) -> dict:
    n_claims = len(truth)
    dispersion = 0.8
    extra = rng.negative_binomial(
        dispersion, dispersion / (dispersion + mean_reports - 1.0), size=n_claims
    )
    claim = np.repeat(np.arange(n_claims), 1 + np.minimum(extra, 200))
    n = len(claim)
    outlet = rng.choice(len(activity), size=n, p=activity / activity.sum())
    shares = np.array([ATTRIBUTION_SHARE[a] for a in ATTRIBUTIONS])
    attribution = rng.choice(len(ATTRIBUTIONS), size=n, p=shares / shares.sum())
    effect = np.array([ATTRIBUTION_EFFECT[a] for a in ATTRIBUTIONS])[attribution]
    right = rng.random(n) < expit(logit(reliability[outlet]) + effect)
    asserts_true = right == truth[claim]
    stance = np.where(asserts_true, SUPPORTS, DENIES)
    neutral = rng.random(n) < np.where(truth[claim], NEUTRAL_RATE[1], NEUTRAL_RATE[0])
    stance[neutral] = NEUTRAL
    return {
        "claim": claim,
        "outlet": outlet,
        "stance": stance,
        "attribution": attribution,
        "interested": np.zeros(n, dtype=bool),
        "group": np.arange(n),  # each original report is its own provenance cluster
        "cites": np.full(n, -1),
        "source_kind": np.where(attribution == ATTRIBUTIONS.index("unattributed"), 0, 1),
    }


def _draw_interested_denials(rng, truth, activity) -> dict:
    """Outlets relaying the denial of the party a claim is about: one shared source."""
    rate = np.where(truth, INTERESTED_DENIAL_RATE[1], INTERESTED_DENIAL_RATE[0])
    denied = np.flatnonzero(rng.random(len(truth)) < rate)
    claim = np.repeat(denied, 1 + rng.poisson(1.0, size=len(denied)))
    n = len(claim)
    return {
        "claim": claim,
        "outlet": rng.choice(len(activity), size=n, p=activity / activity.sum()),
        "stance": np.full(n, DENIES),
        "attribution": np.full(n, ATTRIBUTIONS.index("party_spokesperson")),
        "interested": np.ones(n, dtype=bool),
        "group": claim,  # relays of one party's denial share its source
        "cites": np.full(n, -1),
        "source_kind": np.full(n, 2),
    }


def _draw_copies(rng, originals: dict, echoed, copier_of, copy_rate, chain_rate) -> dict:
    """Verbatim copies of the echoed outlets' reports by their copiers.

    ``cites`` holds an original's index, or ``-(k + 2)`` for the k-th copy (resolved to a
    report index by :func:`_assemble`).
    """
    echo_rank = np.full(int(originals["outlet"].max(initial=0)) + 1, -1)
    present = echoed < len(echo_rank)
    echo_rank[echoed[present]] = np.flatnonzero(present)
    copied = np.flatnonzero(echo_rank[originals["outlet"]] >= 0)
    original = np.repeat(copied, copier_of.shape[1])
    copier = copier_of[echo_rank[originals["outlet"][copied]]].ravel()
    made = rng.random(len(original)) < copy_rate
    original, copier = original[made], copier[made]
    # Each copy cites the original, or sometimes the copy made just before it.
    cites = original.copy()
    previous_same = np.r_[False, original[1:] == original[:-1]]
    via_previous = previous_same & (rng.random(len(original)) < chain_rate)
    copy_ids = -(np.arange(len(original)) + 2)  # resolved to report indices in _assemble
    cites[via_previous] = copy_ids[np.flatnonzero(via_previous) - 1]
    copy = {key: originals[key][original] for key in ("claim", "stance", "attribution")}
    copy.update(
        outlet=copier,
        interested=np.zeros(len(original), dtype=bool),
        group=originals["group"][original],
        cites=cites,
        source_kind=originals["source_kind"][original],
    )
    return copy


def _assemble(parts, truth, verdicts, names, kinds, reliability, echoed, copier_of):
    """Concatenate originals, interested denials and copies; order reports by claim."""
    originals, denials, copies = parts
    n_originals, n_denials = len(originals["claim"]), len(denials["claim"])
    cites = copies["cites"]
    cites = np.where(cites >= 0, cites, n_originals + n_denials + (-cites - 2))
    # Cluster ids: originals by index, denials by claim (offset past the originals).
    group = np.concatenate([originals["group"], n_originals + denials["group"], copies["group"]])
    cites = np.concatenate([originals["cites"], denials["cites"], cites])
    column = {key: np.concatenate([p[key] for p in parts]) for key in originals}
    # Stable by claim: within a claim, originals then denials then copies, so each
    # cluster's first report is its root, and every cited report precedes its copies.
    order = np.argsort(column["claim"], kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    group, cites = group[order], np.where(cites[order] >= 0, position[cites[order]], -1)
    # Cluster ids as scoring.provenance gives them: the row of each cluster's first report.
    first = np.unique(group, return_index=True)[1]
    root = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
    root[group[first]] = first
    claim_keys = np.array([f"claim-{j:06d}" for j in range(len(truth))], dtype=object)
    is_copy = np.r_[np.zeros(n_originals + n_denials, bool), np.ones(len(copies["claim"]), bool)]
    is_copy_sorted = is_copy[order]  # copies repeat verbatim, citing: echoes
    claim = column["claim"][order]
    source_kind = column["source_kind"][order]
    sources = np.array(
        [
            None if k == 0 else f"source {g}" if k == 1 else f"spokesperson ({claim_keys[c]})"
            for k, g, c in zip(source_kind.tolist(), group.tolist(), claim.tolist(), strict=True)
        ],
        dtype=object,
    )
    table = ReportTable(
        claim=claim.astype(np.int32),
        outlet=column["outlet"][order].astype(np.int32),
        stance=column["stance"][order].astype(np.int8),
        attribution=column["attribution"][order].astype(np.int8),
        interested=column["interested"][order],
        cluster=root[group],
        echo=is_copy_sorted,
        rank=np.arange(len(order)),
        claim_keys=claim_keys,
        verdicts=verdicts,
        outlet_names=names,
        outlet_kinds=kinds,
        outlet_priors=np.full(len(names), np.nan),
    )
    return SyntheticDataset(
        table=table,
        report_keys=np.array([f"r{i:07d}" for i in range(len(order))], dtype=object),
        cites=cites,
        sources=sources,
        is_copy=is_copy_sorted,
        truth=truth,
        outlet_reliability=reliability,
        outlet_kinds={n: OUTLET_KINDS[k] for n, k in zip(names, kinds, strict=True)},
        echo_sources=tuple(names[echoed]),
        copiers={names[c]: names[e] for e, row in zip(echoed, copier_of, strict=True) for c in row},
    )
