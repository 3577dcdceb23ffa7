"""Wording as evidence: how sure a report's own words are of the claim.

A report's ``quote`` (its headline, or the sentence that carries the claim) hedges or
asserts. "Hamas leaders *reportedly* left Qatar", "*alleged* meeting", "*unconfirmed*
reports", a question mark, "X *claims*": the outlet passes the claim on without vouching
for it. "Qatar *confirmed*", "the ministry *announced*", or a named official's words in
quotation marks: the outlet, or a person on the record, stands behind it. The seed story
has both (Kan's "reportedly", Blinken's statement on the record).

**The model** is a cue lexicon and two multipliers. A quote that contains a hedging cue
multiplies the report's log-likelihood ratio by ``hedge_factor``; one that contains an
asserting cue (or is a named official's direct quote: quotation marks in the quote of a
report attributed to a ``named_official``) by ``assertion_factor``; both apply when both
occur; a report without a quote, or with neither cue, is unchanged. The multipliers scale
the report's evidence whatever its stance: a hedged denial is a weaker denial.

**Lexicon.** English cues as listed in :data:`HEDGE_CUES` and :data:`ASSERTION_CUES`,
matched as whole words, case-insensitively. Arabic cues (the Arabic corpus in
``../shared/data`` quotes Arabic rationales) are matched as substrings of the text with
the alef forms folded (أ إ آ → ا), since Arabic attaches conjunctions and articles to the
word (وأعلن, والمزاعم). They are a short list of common news-writing cues (أنباء "reports
of", تردد "it was rumoured", مزاعم / زعم "claims, alleged", شائعات "rumours", غير مؤكد
"unconfirmed"; أكد "confirmed", أعلن "announced", رسمي "official"), not a tested
resource.

**Fitting.** :func:`scoring.deployment.choose_wording` picks the two multipliers from
:data:`HEDGE_GRID` × :data:`ASSERTION_GRID` by inner cross-validated log loss of the
claim layer on the cross-fitted evidence of the training claims only, so in
``srs evaluate`` it never sees a test claim. ``(1, 1)`` is on the grid: where the words
carry no signal the fit can switch the cues off. A regularised text model (n-grams
weighted by a penalised regression) is not fitted: the only real quotes here are the
Arabic corpus's 561 rationale sentences, given only for supports and denials, too few to
fit more than two numbers on without fooling ourselves.

**Off by default.** ``ModelParameters.wording`` is ``None`` unless a fit is asked for it
(``srs fit --wording``); ``srs evaluate --wording`` measures the model with and without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEDGE_CUES: tuple[str, ...] = (
    "reportedly",
    "allegedly",
    "alleged",
    "unconfirmed",
    "unverified",
    "claims",
    "claimed",
    "purportedly",
    "rumour",
    "rumours",
    "rumor",
    "rumors",
    "rumoured",
    "rumored",
    "?",
    # Arabic (alef folded): reports of, rumoured, claims, alleged, rumours, unconfirmed.
    "انباء",
    "تردد",
    "مزاعم",
    "زعم",
    "مزعوم",
    "شائعات",
    "اشاعات",
    "غير مؤكد",
    "؟",
)
ASSERTION_CUES: tuple[str, ...] = (
    "confirmed",
    "confirms",
    "announced",
    "announces",
    "officially",
    "on the record",
    # Arabic (alef folded): confirmed, announced, official(ly).
    "اكد",
    "اكدت",
    "اعلن",
    "اعلنت",
    "رسمي",
)
HEDGE_GRID: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25)
ASSERTION_GRID: tuple[float, ...] = (1.0, 1.25, 1.5, 2.0)
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})
_DIRECT_QUOTE = re.compile(r"[\"“”«»].{3,}?[\"“”«»]")


@dataclass(frozen=True)
class WordingModel:
    """The cue lexicon and the multipliers a hedged or asserted report's evidence takes.

    Parameters
    ----------
    hedge_factor : float
        Multiplies the log-likelihood ratio of a report whose quote hedges (in [0, 1]).
    assertion_factor : float
        Multiplies that of a report whose quote asserts (≥ 1).
    hedge_cues, assertion_cues : tuple of str
        The lexicon (module docstring); stored with the model version.
    """

    hedge_factor: float = 0.5
    assertion_factor: float = 1.5
    hedge_cues: tuple[str, ...] = HEDGE_CUES
    assertion_cues: tuple[str, ...] = ASSERTION_CUES

    def __post_init__(self) -> None:
        if not 0.0 <= self.hedge_factor <= 1.0 or self.assertion_factor < 1.0:
            raise ValueError("hedge_factor must lie in [0, 1] and assertion_factor be ≥ 1")
        object.__setattr__(self, "hedge_cues", tuple(self.hedge_cues))
        object.__setattr__(self, "assertion_cues", tuple(self.assertion_cues))


def _has_cue(text: str, cues: tuple[str, ...]) -> bool:
    for cue in cues:
        if cue.isascii() and cue[0].isalpha():
            if re.search(rf"\b{re.escape(cue)}\b", text):
                return True
        elif cue in text:
            return True
    return False


def wording_cues(quote: str | None, attribution: str, model: WordingModel) -> tuple[bool, bool]:
    """``(hedged, asserted)`` for a report's quote and attribution."""
    if not quote:
        return False, False
    text = quote.lower().translate(_ALEF)
    hedged = _has_cue(text, model.hedge_cues)
    asserted = _has_cue(text, model.assertion_cues) or (
        attribution == "named_official" and _DIRECT_QUOTE.search(quote) is not None
    )
    return hedged, asserted


def wording_factor(quote: str | None, attribution: str, model: WordingModel | None) -> float:
    """What a report's log-likelihood ratio is multiplied by for its wording (1 without a
    model or a quote)."""
    if model is None:
        return 1.0
    hedged, asserted = wording_cues(quote, attribution, model)
    return (model.hedge_factor if hedged else 1.0) * (model.assertion_factor if asserted else 1.0)
