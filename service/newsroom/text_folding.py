"""The text folding that outlet names and report quotes share (see their modules)."""

from __future__ import annotations

import unicodedata

APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4"


def fold(text: str) -> str:
    """Words as two spellings of one text share them.

    Compatibility decomposition (NFKD) folds ligatures and full-width forms and splits
    diacritics off as combining marks, which are dropped (Arabic vowel marks too);
    apostrophes vanish (``Ha'aretz`` → ``haaretz``); any other character that is not a
    letter or a digit, in any script, separates words; case is folded (``casefold``:
    ß → ss); whitespace collapses to single spaces.
    """
    out = []
    for char in unicodedata.normalize("NFKD", text):
        category = unicodedata.category(char)
        if category.startswith("M") or char in APOSTROPHES:
            continue
        out.append(char if category[0] in "LN" else " ")
    return " ".join("".join(out).casefold().split())
