"""Words and grades for a confidence: ICD 203 estimative language and Admiralty-style grades.

*Verbal label*: the US Intelligence Community Directive 203 scale (almost no chance 1–5 %,
very unlikely 5–20 %, unlikely 20–45 %, roughly even chance 45–55 %, likely 55–80 %, very
likely 80–95 %, almost certain 95–99 %). Confidences beyond 1 % or 99 % take the end labels.
At a band's edge the label nearer even chance wins (0.80 is "likely", 0.20 "unlikely"): a
label should never say more than the number does.

*Grade*: two characters in the style of the Admiralty (NATO) code, e.g. ``"C3"``. The letter
is the source-reliability grade (A–F, :func:`scoring.attribution.reliability_letter`) of the
source that weighs most; the digit is the information-credibility grade (1–6) of the
probability, read from its ICD 203 band: almost certain → 2 (1 only when corroborated by
independent sources), very likely → 2, likely → 3, roughly even chance → 6 (truth cannot be
judged), unlikely → 4, very unlikely and almost no chance → 5. For a report the pair is
(outlet, attribution); for a claim it is (the outlet of the cluster that moved the score
most, the claim's confidence).
"""

from __future__ import annotations

from scoring.attribution import reliability_letter

# (upper edge, label) above even chance, and (lower edge, label) below it; edges belong to
# the band nearer 0.5.
_ABOVE_EVEN = ((0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"))
_BELOW_EVEN = ((0.45, "roughly even chance"), (0.20, "unlikely"), (0.05, "very unlikely"))

ICD_203_LABELS: tuple[str, ...] = (
    "almost no chance",
    "very unlikely",
    "unlikely",
    "roughly even chance",
    "likely",
    "very likely",
    "almost certain",
)

_CREDIBILITY_BY_LABEL = {
    "almost no chance": 5,
    "very unlikely": 5,
    "unlikely": 4,
    "roughly even chance": 6,
    "likely": 3,
    "very likely": 2,
    "almost certain": 2,
}


def verbal_label(probability: float) -> str:
    """The ICD 203 estimative term for a probability.

    Parameters
    ----------
    probability : float
        A confidence in [0, 1]; values past the 1 % / 99 % ends take the end labels.

    Returns
    -------
    str
        One of :data:`ICD_203_LABELS`.
    """
    if probability >= 0.5:
        for edge, label in _ABOVE_EVEN:
            if probability <= edge:
                return label
        return "almost certain"
    for edge, label in _BELOW_EVEN:
        if probability >= edge:
            return label
    return "almost no chance"


def credibility_grade(probability: float, corroborated: bool = False) -> int:
    """The Admiralty information-credibility digit (1–6) of a probability.

    Parameters
    ----------
    probability : float
        Probability that the information is true.
    corroborated : bool
        Whether independent sources confirm it; only then can "almost certain" be grade 1
        ("confirmed by other sources").

    Returns
    -------
    int
        The digit, following the ICD 203 band of ``probability`` (see the module docstring).
    """
    label = verbal_label(probability)
    if label == "almost certain" and corroborated:
        return 1
    return _CREDIBILITY_BY_LABEL[label]


def admiralty_grade(
    reliability: float | None, probability: float, corroborated: bool = False
) -> str:
    """A two-character Admiralty-style grade such as ``"B2"``.

    Parameters
    ----------
    reliability : float or None
        The source's reliability (``None``: no source carried weight, letter ``F``).
    probability : float
        Probability that the information is true.
    corroborated : bool
        Passed to :func:`credibility_grade`.

    Returns
    -------
    str
        Reliability letter followed by credibility digit.
    """
    return f"{reliability_letter(reliability)}{credibility_grade(probability, corroborated)}"
