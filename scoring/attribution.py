"""Prior credibility of attribution types and prior reliability of outlet kinds.

These are the documented starting points of the model (version ``prior-1``); the learner
replaces outlet reliabilities with values fitted on resolved claims. Two quantities:

*Outlet reliability* ``r``: the probability that an outlet relays what its source said
faithfully and exercises sound judgement about whom to quote. It is mapped to the Admiralty
code's source-reliability letters (A completely reliable … E unreliable, F cannot be
judged).

*Attribution credibility* ``c``: the probability that what an attribution type relays is
true *when relayed faithfully*. It is mapped to the Admiralty code's information-credibility
digits (1 confirmed … 5 improbable, 6 truth cannot be judged).

How the numbers were chosen (general principles, not fitted to the seed story or any data
set):

- Accountability raises credibility. A named person on the record stakes a reputation and
  can be held to the words; an institution's statement is reviewed before release; an
  unnamed official has inside knowledge but risks nothing by being wrong; an anonymous
  diplomat or source may be well placed or may be floating a trial balloon, and the reader
  cannot tell which. Hence named official > official statement > official source >
  anonymous diplomat ≈ anonymous source > unattributed.
- Direct material is high-ish: a document is primary evidence but may be forged, partial or
  misread; an eyewitness saw something but from one place and through memory.
- A party spokesperson speaks on the record about the party's own affairs, so knows the
  facts, but speaks for an interest: moderate. When the claim is about that party, the
  report is also flagged ``interested_party`` and the engine discounts it further.
- A media report only relays another outlet. Its credibility is the relayed outlet's, which
  the provenance clusters account for through ``cites``; of its own it is near neutral.
- Unattributed assertions give the reader nothing to check: barely above even.
- No prior is above 0.85 or below 0.5: one report of any kind should move an editor, not
  settle the question; being *worse* than chance is something only a track record (the
  learned outlet reliabilities) can show.

Outlet kinds follow the same logic: editorial process and the cost of being caught wrong
(a wire agency's copy is reused verbatim by thousands of outlets) raise reliability; outlets
that add no reporting of their own (aggregators, social accounts) are left at 0.5, which
makes their reports carry no weight until a track record says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scoring.evidence import ModelParameters
from scoring.vocabulary import DEFAULT_OUTLET_KIND


@dataclass(frozen=True)
class AttributionPrior:
    """One attribution type's prior credibility and how explanations name it."""

    credibility: float
    grade: int
    phrase: str
    rationale: str


@dataclass(frozen=True)
class OutletKindPrior:
    """One outlet kind's default reliability, used when the outlet has no value of its own."""

    reliability: float
    grade: str
    rationale: str


ADMIRALTY_RELIABILITY: Mapping[str, str] = MappingProxyType(
    {
        "A": "completely reliable",
        "B": "usually reliable",
        "C": "fairly reliable",
        "D": "not usually reliable",
        "E": "unreliable",
        "F": "reliability cannot be judged",
    }
)

ADMIRALTY_CREDIBILITY: Mapping[int, str] = MappingProxyType(
    {
        1: "confirmed by other sources",
        2: "probably true",
        3: "possibly true",
        4: "doubtful",
        5: "improbable",
        6: "truth cannot be judged",
    }
)

# The digit follows the ICD 203 band of the credibility (see scoring.labels.credibility_grade):
# very likely → 2, likely → 3, roughly even chance → 6. Grade 1 needs corroboration, which
# no attribution type has on its own.
ATTRIBUTION_PRIORS: Mapping[str, AttributionPrior] = MappingProxyType(
    {
        "named_official": AttributionPrior(
            0.85, 2, "named official on the record",
            "on the record and accountable for the words; may still be mistaken or spinning",
        ),
        "official_statement": AttributionPrior(
            0.82, 2, "official statement",
            "reviewed and released by an institution that answers for it",
        ),
        "official_source": AttributionPrior(
            0.70, 3, "unnamed official",
            "inside knowledge, but nothing is risked by being wrong",
        ),
        "anonymous_diplomat": AttributionPrior(
            0.62, 3, "anonymous diplomat",
            "plausibly well placed, but may be floating a message; cannot be checked",
        ),
        "anonymous_source": AttributionPrior(
            0.60, 3, "anonymous source",
            "access unknown to the reader; rests on the outlet's judgement of its source",
        ),
        "party_spokesperson": AttributionPrior(
            0.65, 3, "party spokesperson",
            "on the record and knows the party's affairs, but speaks for an interest",
        ),
        "document": AttributionPrior(
            0.78, 3, "document",
            "primary material, but may be forged, partial or misread",
        ),
        "eyewitness": AttributionPrior(
            0.72, 3, "eyewitness",
            "saw it directly, from one place and through memory",
        ),
        "media_report": AttributionPrior(
            0.52, 6, "relaying another outlet's report",
            "adds nothing of its own; the relayed outlet's weight counts through provenance",
        ),
        "unattributed": AttributionPrior(
            0.55, 6, "unattributed",
            "the outlet's unsourced word: nothing for the reader to check",
        ),
    }
)  # fmt: skip

OUTLET_KIND_PRIORS: Mapping[str, OutletKindPrior] = MappingProxyType(
    {
        "wire_agency": OutletKindPrior(
            0.85, "B", "editorial code and corrections; errors are reused widely, so costly"
        ),
        "public_broadcaster": OutletKindPrior(
            0.75, "C", "editorial standards, but close to the state it reports on"
        ),
        "newspaper": OutletKindPrior(
            0.70, "C", "named reporters and corrections; scoops often rest on one source"
        ),
        "independent": OutletKindPrior(
            0.60, "D", "small newsroom, editorial line, less checking; the default kind"
        ),
        "state_controlled": OutletKindPrior(
            0.50, "F", "accurate on routine facts, steered where the state has stakes"
        ),
        "aggregator": OutletKindPrior(0.50, "F", "re-tells others' reports, adds no reporting"),
        "social_account": OutletKindPrior(0.50, "F", "no editorial process or track record"),
    }
)

DEFAULT_OUTLET_RELIABILITY: float = OUTLET_KIND_PRIORS[DEFAULT_OUTLET_KIND].reliability
"""Used when neither the outlet nor its kind is known: an independent outlet's prior."""


PRIOR_AGGREGATION_EXPONENT: float = 0.5
"""Diminishing returns of the documented priors: the k-th independent cluster of a stance
weighs ``k ** -0.5``, so n equal supports add up like ``√n`` of one. Chosen, before any
data, as the midpoint between counting every cluster fully (0) and counting only the
strongest (∞): outlets that the provenance rules cannot join still often follow each other.
A fit learns its own exponent."""


def reliability_letter(reliability: float | None) -> str:
    """The Admiralty source-reliability letter of an outlet reliability.

    Parameters
    ----------
    reliability : float or None
        Probability that the outlet is right; ``None`` when unknown.

    Returns
    -------
    str
        ``A`` (≥ 0.95), ``B`` (≥ 0.80), ``C`` (≥ 0.65), ``D`` (≥ 0.55), ``F`` (unknown, or
        strictly between 0.45 and 0.55: a record no better than a coin cannot be judged),
        ``E`` (≤ 0.45: worse than chance, a history of invalid information).
    """
    if reliability is None:
        return "F"
    for floor, letter in ((0.95, "A"), (0.80, "B"), (0.65, "C"), (0.55, "D")):
        if reliability >= floor:
            return letter
    return "F" if reliability > 0.45 else "E"


def default_parameters(version: str = "prior-1") -> ModelParameters:
    """Model parameters made of the documented priors alone (no learned outlets).

    Parameters
    ----------
    version : str
        The model version to record with every score computed from these parameters.

    Returns
    -------
    ModelParameters
        Base rate 0.5, interested-party discount 0.3, attribution credibility and outlet-kind
        reliability from this module's tables (reports weigh the noisy channel
        ``±logit(r·c + (1 − r)(1 − c))``, neutral coverage nothing), diminishing returns
        :data:`PRIOR_AGGREGATION_EXPONENT`, the identity claim layer, the default settling
        model and identity calibration.
    """
    return ModelParameters(
        version=version,
        base_rate=0.5,
        interested_party_discount=0.3,
        attribution_credibility={k: v.credibility for k, v in ATTRIBUTION_PRIORS.items()},
        kind_reliability={k: v.reliability for k, v in OUTLET_KIND_PRIORS.items()},
        aggregation_exponent=PRIOR_AGGREGATION_EXPONENT,
    )
