"""One vote per report: duplicates and inferred echoes (issue 14, item 2). No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seeds.loader import read_story
from service.newsroom.report_identity import (
    ECHO_CONTAINMENT,
    MIN_SHARED_SHINGLES,
    ReportFacts,
    find_duplicate,
    inferred_echo_of,
    is_same_report,
    nearly_repeats,
    normalise_quote,
    normalise_url,
    shingle_similarity,
    shingles,
)

T0 = datetime(2024, 11, 18, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
WINDOW = timedelta(hours=24)

STORED = ReportFacts(
    outlet="Reuters",
    claim="hamas-leadership-moved-to-turkey",
    stance="denies",
    url="https://www.reuters.com/world/middle-east/turkey-denies-hamas-move/",
    quote="Claims that indicate the Hamas Political Bureau has moved to Turkey do not "
    "reflect the truth.",
    source="a Turkish diplomatic source",
    published_at=T0,
    received_at=T0 + HOUR,
    key="reuters-1",
)


def again(**changes) -> ReportFacts:
    """STORED posted again with ``changes`` (and nothing else by default)."""
    fields = {
        "outlet": STORED.outlet,
        "claim": STORED.claim,
        "stance": STORED.stance,
        "url": None,
        "quote": None,
        "source": None,
        "published_at": None,
        "received_at": T0 + 2 * HOUR,
    }
    return ReportFacts(**{**fields, **changes})


# -- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b",
    [
        ("Hamas's leaders LEFT Qatar.", "hamas' leaders left qatar"),
        ("“Rumours,” Hamas said — nothing more", '"rumours" hamas said - nothing more'),
        ("  Hamas\tleaders   left  ", "Hamas leaders left"),
        ("Le Monde a publié", "le monde a publie"),
    ],
)
def test_normalise_quote_folds_what_copies_change(a, b):
    assert normalise_quote(a) == normalise_quote(b)


def test_normalise_quote_of_nothing_is_none():
    assert normalise_quote(None) is None and normalise_quote(" ... ") is None


@pytest.mark.parametrize(
    "a, b",
    [
        ("https://www.reuters.com/world/x/", "http://reuters.com/world/x"),
        ("https://reuters.com/world/x?utm_source=tw&utm_medium=social", "reuters.com/world/x"),
        ("https://reuters.com/world/x#comments", "https://REUTERS.com/world/x"),
        ("https://reuters.com:443/world/x", "https://reuters.com/world/x"),
    ],
)
def test_normalise_url_keeps_only_what_names_the_page(a, b):
    assert normalise_url(a) == normalise_url(b)


def test_normalise_url_keeps_the_path_and_the_query_that_matter():
    assert normalise_url("https://reuters.com/a") != normalise_url("https://reuters.com/b")
    assert normalise_url("https://x.com/?id=1") != normalise_url("https://x.com/?id=2")
    assert normalise_url(None) is None and normalise_url("  ") is None


# -- duplicates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "new",
    [
        again(url="http://reuters.com/world/middle-east/turkey-denies-hamas-move?utm_source=x"),
        again(
            quote="CLAIMS that indicate the Hamas political bureau has moved to Turkey do not "
            "reflect the truth"
        ),
        again(source="A Turkish  diplomatic source", published_at=T0 + 3 * HOUR),
        again(source="a Turkish diplomatic source"),  # no published_at: its arrival counts
        # One of the three is enough, whatever else differs.
        again(url=STORED.url, quote="Another wording entirely.", source="someone else"),
    ],
    ids=["same url", "same quote", "same source in the window", "same source, arrival", "url"],
)
def test_the_same_report_posted_again_is_a_duplicate(new):
    assert is_same_report(new, STORED, WINDOW)


@pytest.mark.parametrize(
    "new",
    [
        again(url=STORED.url, outlet="Middle East Eye"),
        again(url=STORED.url, claim="qatar-asked-hamas-to-leave"),
        again(url=STORED.url, stance="supports"),
        again(source=STORED.source, published_at=T0 + 25 * HOUR),
        again(source=STORED.source, published_at=T0 - 25 * HOUR),
        again(url="https://www.reuters.com/world/another-story/"),
        again(quote="Hamas said the claims were rumours."),
        again(),  # no url, quote or source: nothing to match on
    ],
    ids=[
        "another outlet",
        "another claim",
        "another stance",
        "same source a day later",
        "same source a day earlier",
        "another url",
        "another quote",
        "nothing to compare",
    ],
)
def test_a_different_report_is_not_a_duplicate(new):
    assert not is_same_report(new, STORED, WINDOW)


def test_the_source_window_is_configurable():
    later = again(source=STORED.source, published_at=T0 + 3 * HOUR)
    assert is_same_report(later, STORED, timedelta(hours=3))
    assert not is_same_report(later, STORED, timedelta(hours=2))


def test_a_source_without_any_time_is_not_matched():
    timeless = ReportFacts("Reuters", "c", "denies", source="a Turkish diplomatic source")
    assert not is_same_report(timeless, timeless, WINDOW)


def test_find_duplicate_answers_the_first_stored_report_repeated():
    first = again(quote="Rumours the occupation is trying to publish.", received_at=T0)
    second = again(quote="Rumours the occupation is trying to publish!", received_at=T0 + HOUR)
    other = again(quote="Something else.", received_at=T0)
    new = again(quote="rumours the occupation is trying to publish")
    assert find_duplicate(new, [other, first, second], WINDOW) is first
    assert find_duplicate(again(quote="No."), [other, first, second], WINDOW) is None


def test_four_posts_of_one_report_are_one_report():
    """Issue 14's retrying client: the same Reuters report, same quote, no source, no key."""
    stored: list[ReportFacts] = []
    for attempt in range(4):
        new = again(quote="Senior members of Hamas's leadership have left Qatar.")
        new = ReportFacts(**{**new.__dict__, "received_at": T0 + attempt * HOUR})
        if find_duplicate(new, stored, WINDOW) is None:
            stored.append(new)
    assert len(stored) == 1


# -- shingles ----------------------------------------------------------------------------------
def test_shingles_are_runs_of_three_normalised_words():
    assert shingles("Hamas's leaders LEFT Qatar.") == {
        ("hamas", "leaders", "left"),
        ("leaders", "left", "qatar"),
    }
    assert shingles("Two words") == frozenset() and shingles(None) == frozenset()


def test_shingle_similarity_is_containment_of_the_shorter_text():
    sentence = "Hamas members had left Doha for Turkey after Qatar requested their departure"
    embedded = f"Big news today. {sentence}, Israeli television said, citing unnamed sources."
    assert shingle_similarity(sentence, sentence) == 1.0
    assert shingle_similarity(sentence, embedded) == 1.0  # whatever is added around it
    assert shingle_similarity(embedded, sentence) == 1.0  # symmetric
    assert shingle_similarity(sentence, "Nothing in common at all here") == 0.0
    assert shingle_similarity("Too short", sentence) == 0.0


# -- inferred echoes ---------------------------------------------------------------------------
CLAIM = "hamas-leadership-moved-to-turkey"


def report(outlet, quote, *, stance="supports", published_at=None, **fields) -> ReportFacts:
    return ReportFacts(
        outlet=outlet,
        claim=fields.pop("claim", CLAIM),
        stance=stance,
        quote=quote,
        published_at=published_at,
        received_at=fields.pop("received_at", published_at),
        **fields,
    )


TOI = report(
    "The Times of Israel",
    "Senior members of Hamas's abroad leadership left Qatar last week for Turkey, an Arab "
    "diplomat told the paper.",
    published_at=T0,
)
KAN = report(
    "Kan",
    "Hamas members had left Doha for Turkey after Qatar reportedly requested their "
    "departure, according to unnamed sources.",
    published_at=T0 - 2 * HOUR,
)
BLINKEN = report(
    "Middle East Eye",
    "US Secretary of State Antony Blinken said last week that Qatar had asked Hamas members "
    "to leave the country.",
    published_at=T0,
    claim="qatar-asked-hamas-to-leave",
)


@pytest.mark.parametrize(
    "quote",
    [
        # the same words, other case and punctuation
        "SENIOR MEMBERS OF HAMAS' ABROAD LEADERSHIP LEFT QATAR LAST WEEK FOR TURKEY, AN ARAB "
        "DIPLOMAT TOLD THE PAPER",
        # attributed and trimmed
        "According to the Times of Israel, senior members of Hamas's abroad leadership left "
        "Qatar last week for Turkey.",
        # embedded in commentary of its own
        "A remarkable development, if true. Senior members of Hamas's abroad leadership left "
        "Qatar last week for Turkey, an Arab diplomat told the paper. Ankara has not "
        "commented, and the move would strain relations with Washington further.",
        # two words changed
        "Senior members of Hamas's exiled leadership left Qatar last week for Istanbul, an "
        "Arab diplomat told the paper.",
    ],
    ids=["recased", "attributed", "embedded", "two words changed"],
)
def test_a_near_repeat_of_another_outlets_quote_is_an_inferred_echo(quote):
    aggregator = report("Aggregator", quote, published_at=T0 + 5 * HOUR)
    assert inferred_echo_of(aggregator, [KAN, TOI]) is TOI


def test_the_echo_links_to_the_earliest_report_it_repeats():
    """Two outlets carry the same wording: the earliest by publication is the origin,
    whatever order they arrived in."""
    wire = report("Wire", TOI.quote, published_at=T0 - HOUR, received_at=T0 + 3 * HOUR)
    copy = report("Aggregator", TOI.quote + " Via Reuters.", published_at=T0 + 5 * HOUR)
    assert inferred_echo_of(copy, [TOI, wire]) is wire


def test_without_publication_times_the_first_to_arrive_is_the_origin():
    first = report("Wire", TOI.quote, received_at=T0)
    second = report("Other", TOI.quote, received_at=T0 + HOUR)
    copy = report("Aggregator", TOI.quote)
    assert inferred_echo_of(copy, [second, first]) is first
    assert inferred_echo_of(copy, [report("A", TOI.quote), report("B", TOI.quote)]).outlet == "A"


def test_a_report_published_after_the_new_one_is_not_its_origin():
    earlier = report("Aggregator", TOI.quote, published_at=T0 - HOUR)
    assert inferred_echo_of(earlier, [TOI]) is None


@pytest.mark.parametrize(
    "new",
    [
        report("Aggregator", TOI.quote, cites="toi-1"),
        report("Aggregator", TOI.quote, independent=True),
        report("The Times of Israel", TOI.quote + " Updated."),  # same outlet
        report("Aggregator", TOI.quote, claim="another-claim"),
        report("Aggregator", TOI.quote, stance="denies"),  # opposite stances repeat nothing
        report("Aggregator", None),
    ],
    ids=["names cites", "independent", "same outlet", "other claim", "opposite stance", "no quote"],
)
def test_no_echo_is_inferred_where_the_rules_say_not(new):
    assert inferred_echo_of(new, [TOI]) is None


def test_a_neutral_relay_may_repeat_either_side():
    relay = report("Aggregator", TOI.quote, stance="neutral", published_at=T0 + HOUR)
    assert inferred_echo_of(relay, [TOI]) is TOI


@pytest.mark.parametrize(
    "quote",
    [
        # a genuine paraphrase: rewording is what independent reporting looks like
        "After a reported request from Qatar, members of Hamas departed Doha and went to "
        "Turkey last week.",
        "Turkey is now hosting the Hamas officials who were asked to leave Doha, two "
        "sources familiar with the matter said.",
    ],
)
def test_a_paraphrase_is_not_an_echo(quote):
    assert inferred_echo_of(report("Other", quote, published_at=T0 + HOUR), [KAN, TOI]) is None


@pytest.mark.parametrize(
    "first, second",
    [
        (
            "Hamas political leaders have relocated to Istanbul, according to a senior official.",
            "Qatar has not expelled anyone from Doha, according to a senior official.",
        ),
        (
            "Hamas's political bureau has moved to Turkey, the ministry said in a statement on "
            "Monday.",
            "There is no truth to reports that Hamas's bureau moved to Ankara, the ministry "
            "said in a statement on Monday.",
        ),
        (
            "The ministry said in a statement that Hamas leaders left Qatar for Turkey last week.",
            "The ministry said in a statement that it had no information about Hamas leaders "
            "in Turkey.",
        ),
        # the claim in its own words, with different attributions
        (
            "Hamas political leadership moved from Qatar to Turkey, sources say",
            "Hamas political leadership moved from Qatar to Turkey, officials say",
        ),
        (
            "Hamas's political leadership has moved from Qatar to Turkey, an Arab diplomat "
            "told our correspondent on Sunday.",
            "Hamas's political leadership has moved from Qatar to Turkey, two Israeli "
            "officials said, without giving details.",
        ),
    ],
    ids=["senior official", "ministry statement", "statement that", "headline", "claim words"],
)
def test_independent_reports_sharing_stock_phrases_are_not_echoes(first, second):
    earlier = report("Outlet A", first, published_at=T0)
    later = report("Outlet B", second, published_at=T0 + HOUR)
    assert not nearly_repeats(first, second)
    assert inferred_echo_of(later, [earlier]) is None


def test_the_thresholds_are_the_documented_ones():
    assert (ECHO_CONTAINMENT, MIN_SHARED_SHINGLES) == (0.6, 8)
    # Blinken's words with two changed: 12 shingles shared, containment 0.75.
    changed = (
        "Secretary of State Antony Blinken said on Thursday that Qatar had asked Hamas "
        "members to leave the country."
    )
    assert shingle_similarity(changed, BLINKEN.quote) == pytest.approx(0.75)
    assert nearly_repeats(changed, BLINKEN.quote)


def test_no_report_of_the_seed_story_is_inferred_an_echo():
    """The seed story's echoes all name what they cite; nothing else repeats another."""
    records = read_story()
    facts = [
        report(
            r.outlet,
            r.quote,
            stance=r.stance,
            published_at=r.published_at,
            claim=r.claim_key,
            cites=r.cites,
        )
        for r in records
    ]
    for position, new in enumerate(facts):
        uncited = ReportFacts(**{**new.__dict__, "cites": None})
        assert inferred_echo_of(uncited, facts[:position]) is None, records[position].report_key
