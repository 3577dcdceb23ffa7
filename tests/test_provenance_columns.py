"""The vectorised provenance (``ReportTable.from_records`` through
``scoring.provenance.cluster_columns``) against the row-by-row rule (``cluster_table``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.interchange import InterchangeRecord
from scoring.learning import ReportTable
from scoring.learning.tables import record_keys
from scoring.provenance import cluster_table, normalize_source, source_classes
from scoring.vocabulary import ATTRIBUTIONS, STANCES

PROPERTY = settings(max_examples=300, deadline=None, database=None)

# Sources that fold together (case, whitespace, punctuation, a leading article) and apart.
SOURCES = (
    None,
    "",
    "Turkish diplomatic source",
    " turkish diplomatic  SOURCE.",
    "The Turkish diplomatic source",
    "a turkish\tdiplomatic source",
    "Hamas",
    "hamas!",
    "the",
    "...",
    "an official",
    "Official",
    "Straße officials",
    "STRASSE OFFICIALS",
    "Ministère, porte-parole",
    "ministère porte parole",
    "x" * 80,
    "X" * 80 + ".",
)
KEYS = ("k0", "k1", "k2", "k3", "k4", "K1", "k1 ", "é")

reports = st.tuples(
    st.integers(0, 3),  # claim
    st.one_of(st.none(), st.sampled_from(KEYS)),  # report key: None gives "<claim>#<n>"
    st.sampled_from(STANCES),
    st.sampled_from(SOURCES),
    st.booleans(),  # interested party
    st.one_of(st.none(), st.sampled_from(KEYS), st.sampled_from(("c0#1", "c1#2", "c2#1"))),
)


def _records(rows) -> list[InterchangeRecord]:
    return [
        InterchangeRecord(
            claim_key=f"c{claim}",
            claim=f"claim {claim}",
            outlet=f"outlet {n % 3}",
            stance=stance,
            report_key=key,
            attribution=ATTRIBUTIONS[n % len(ATTRIBUTIONS)],
            source=source,
            interested_party=interested,
            cites=cites,
        )
        for n, (claim, key, stance, source, interested, cites) in enumerate(rows)
    ]


@PROPERTY
@given(st.lists(reports, max_size=30))
def test_the_vectorised_table_gives_the_reference_clusters_echoes_and_ranks(rows):
    """Same cluster ids (the row of the cluster's smallest key), echoes and key order as
    the row-by-row rule, for cites chains and cycles, cites across claims and to unknown
    keys, duplicate keys, sources that differ in case, whitespace, punctuation or article,
    interested parties and neutral coverage."""
    records = _records(rows)
    keys = record_keys(records)
    cluster, echo = cluster_table(
        [r.claim_key for r in records],
        keys,
        [r.stance for r in records],
        [r.source for r in records],
        [r.cites for r in records],
    )
    table = ReportTable.from_records(records)
    assert table.cluster.tolist() == cluster.tolist()
    assert table.echo.tolist() == echo.tolist()
    by_key = sorted(range(len(keys)), key=keys.__getitem__)
    assert table.rank.tolist() == np.argsort(by_key).tolist()


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.text(max_size=70), st.sampled_from(SOURCES)), max_size=40))
def test_source_classes_are_equal_exactly_when_the_normalised_sources_are(texts):
    classes = source_classes(texts).tolist()
    normal = [normalize_source(t) for t in texts]
    assert [c == -1 for c in classes] == [n is None for n in normal]
    for i in range(len(texts)):
        for j in range(len(texts)):
            if normal[i] is not None and normal[j] is not None:
                assert (classes[i] == classes[j]) == (normal[i] == normal[j])


@PROPERTY
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=70))
def test_every_ascii_text_folds_as_the_rule_folds_it(text):
    """The byte-table path (ASCII, up to 64 characters) against normalize_source, with the
    text's own variants: upper case, a leading article, padding with punctuation."""
    variants = [text, text.upper(), f"The {text}", f"  a {text} .", f"an{text}", text + "\x00"]
    classes = source_classes(variants).tolist()
    normal = [normalize_source(t) for t in variants]
    for i in range(len(variants)):
        assert (classes[i] == -1) == (normal[i] is None)
        for j in range(len(variants)):
            if normal[i] is not None and normal[j] is not None:
                assert (classes[i] == classes[j]) == (normal[i] == normal[j])
