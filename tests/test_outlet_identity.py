"""Outlet names as newsrooms write them resolve to one outlet (issue 14, item 1). No database."""

from __future__ import annotations

import pytest

from seeds.loader import read_outlets
from service.newsroom.outlet_identity import (
    SUGGESTION_FLOOR,
    OutletIndex,
    closest_outlets,
    domain_of,
    normalise_outlet_name,
    resolve_outlet,
)

REUTERS, TOI, KAN, MEE, TASS, ALJAZEERA = 1, 2, 3, 4, 5, 6


@pytest.fixture
def index() -> OutletIndex:
    return OutletIndex.build(
        outlets=[
            (REUTERS, "Reuters", "reuters"),
            (TOI, "The Times of Israel", "the-times-of-israel"),
            (KAN, "Kan", "kan"),
            (MEE, "Middle East Eye", "middle-east-eye"),
            (TASS, "TASS", "tass"),
            (ALJAZEERA, "Al Jazeera", "al-jazeera"),
        ],
        aliases=[(TOI, "ToI"), (KAN, "Kan 11"), (KAN, "Kan News"), (MEE, "MEE")],
        domains=[
            (REUTERS, "reuters.com"),
            (TOI, "timesofisrael.com"),
            (KAN, "kan.org.il"),
            (MEE, "middleeasteye.net"),
        ],
    )


@pytest.mark.parametrize(
    "name, normalised",
    [
        ("Reuters", "reuters"),
        ("reuters", "reuters"),
        ("REUTERS", "reuters"),
        ("Reuters.", "reuters"),
        ("  Reuters \t", "reuters"),
        ("The Times of Israel", "times of israel"),
        ("Times of Israel", "times of israel"),
        ("THE  TIMES OF ISRAEL!", "times of israel"),
        ("Kan 11", "kan 11"),
        ("Kan-11", "kan 11"),
        ("Al Jazeera", "al jazeera"),
        ("Al Jazéera", "al jazeera"),  # diacritic, precomposed
        ("Al Jaze\u0301era", "al jazeera"),  # the same, as a combining accent
        ("Al-Jazeera", "al jazeera"),
        ("Ha'aretz", "haaretz"),
        ("Ha\u2019aretz", "haaretz"),
        ("Süddeutsche Zeitung", "suddeutsche zeitung"),
        ("Die Straße", "die strasse"),
        ("Ｒｅｕｔｅｒｓ", "reuters"),  # full-width forms
        ("Tom & Jerry News", "tom and jerry news"),
        ("The", "the"),  # a name that is only "The" keeps it
        ("Theater Times", "theater times"),  # "The" only as a word
        ("الجزيرة", "الجزيرة"),  # other scripts are letters too
        ("الْجَزِيرَة", "الجزيرة"),  # Arabic vowel marks are diacritics
        ("...", ""),
        ("M.E.E.", "mee"),  # an acronym with dots
        ("A. P.", "ap"),
        ("The A Team", "a team"),  # one letter alone stays a word
        ("Kan 1 1", "kan 1 1"),  # digits are not spelled-out letters
    ],
)
def test_normalise_outlet_name(name, normalised):
    assert normalise_outlet_name(name) == normalised


@pytest.mark.parametrize(
    "url, domain",
    [
        ("https://www.reuters.com/world/middle-east/", "reuters.com"),
        ("HTTPS://WWW.Reuters.COM:443/x?y=1#z", "reuters.com"),
        ("http://uk.reuters.com/", "uk.reuters.com"),
        ("www.reuters.com/world", "reuters.com"),
        ("reuters.com:8080/a", "reuters.com"),
        ("https://reuters.com./a", "reuters.com"),
        ("https://user:pw@www.kan.org.il/item", "kan.org.il"),
        ("https://bücher.de/", "xn--bcher-kva.de"),
        ("https://www2.example.com/", "www2.example.com"),
        ("mailto:desk@reuters.com", None),
        ("javascript:alert(1)", None),
        ("ftp://reuters.com/file", None),
        ("", None),
        (None, None),
        ("https://", None),
        ("http://[::1", None),
    ],
)
def test_domain_of(url, domain):
    assert domain_of(url) == domain


@pytest.mark.parametrize(
    "name, outlet_id, by",
    [
        ("Reuters", REUTERS, "name"),
        ("reuters", REUTERS, "slug"),
        ("REUTERS", REUTERS, "normalised name"),
        ("Reuters.", REUTERS, "normalised name"),
        ("The Times of Israel", TOI, "name"),
        ("the-times-of-israel", TOI, "slug"),
        ("Times of Israel", TOI, "normalised name"),
        ("ToI", TOI, "alias"),
        ("TOI", TOI, "alias"),
        ("Kan 11", KAN, "alias"),
        ("KAN NEWS", KAN, "alias"),
        ("MEE", MEE, "alias"),
        ("Al Jazéera", ALJAZEERA, "normalised name"),
        ("Al-Jazeera", ALJAZEERA, "normalised name"),
    ],
)
def test_names_newsrooms_use_resolve_to_one_outlet(index, name, outlet_id, by):
    resolution = resolve_outlet(name, None, index)
    assert (resolution.outlet_id, resolution.by) == (outlet_id, by)
    assert resolution.found and resolution.suggestions == ()


def test_an_unknown_name_resolves_by_the_domain_of_its_url(index):
    resolution = resolve_outlet("Reuter", "https://www.reuters.com/world/x", index)
    assert (resolution.outlet_id, resolution.by) == (REUTERS, "domain")
    # A subdomain of a known domain is the same outlet's.
    assert resolve_outlet("Reuters UK", "https://uk.reuters.com/a", index).outlet_id == REUTERS
    # The URL alone is enough.
    assert resolve_outlet(None, "https://www.middleeasteye.net/news/x", index).outlet_id == MEE


def test_the_name_comes_before_the_domain(index):
    """A report that says Kan and links to a copy on Reuters' site is Kan's."""
    resolution = resolve_outlet("Kan", "https://www.reuters.com/x", index)
    assert (resolution.outlet_id, resolution.by) == (KAN, "name")


def test_a_domain_is_not_matched_by_its_suffix_alone(index):
    assert not resolve_outlet("Notreuters", "https://notreuters.com/x", index).found
    assert not resolve_outlet("Com", "https://com/x", index).found


def test_a_misspelt_name_is_not_resolved_but_suggested(index):
    resolution = resolve_outlet("Reuter", None, index)
    assert not resolution.found
    assert [s.outlet_id for s in resolution.suggestions] == [REUTERS]
    (suggestion,) = resolution.suggestions
    assert suggestion.name == "Reuters" and suggestion.score > 90


@pytest.mark.parametrize(
    "name, first",
    [
        ("Reutres", REUTERS),
        ("Times Israel", TOI),
        ("Times of Isreal", TOI),
        ("Al Jazira", ALJAZEERA),
        ("Middle East Monitor", MEE),
        ("Kann", KAN),
        ("TASS News", TASS),
    ],
)
def test_suggestions_put_the_closest_outlet_first(index, name, first):
    suggestions = resolve_outlet(name, None, index).suggestions
    assert suggestions and suggestions[0].outlet_id == first
    assert len(suggestions) <= 3
    assert len({s.outlet_id for s in suggestions}) == len(suggestions)
    assert all(s.score >= SUGGESTION_FLOOR for s in suggestions)


@pytest.mark.parametrize("name", ["The Guardian", "Jerusalem Post", "CNN", "foo bar"])
def test_unrelated_names_get_no_suggestion(index, name):
    assert resolve_outlet(name, None, index).suggestions == ()


def test_an_acronym_of_a_name_is_suggested():
    suggestions = closest_outlets("MEE", {MEE: ["Middle East Eye"], KAN: ["Kan"]})
    assert [(s.outlet_id, s.matched) for s in suggestions] == [(MEE, "Middle East Eye")]


def test_closest_outlets_names_the_canonical_name_and_the_alias_that_matched():
    suggestions = closest_outlets("Kan News 11", {KAN: ["Kan", "Kan 11"], REUTERS: ["Reuters"]})
    assert suggestions[0].outlet_id == KAN and suggestions[0].name == "Kan"
    assert suggestions[0].matched in {"Kan", "Kan 11"}


def test_closest_outlets_respects_the_limit():
    candidates = {i: [f"Daily News {i}"] for i in range(10)}
    assert len(closest_outlets("Daily News", candidates)) == 3
    assert len(closest_outlets("Daily News", candidates, limit=5)) == 5
    assert closest_outlets("", candidates) == [] and closest_outlets("x", {}) == []


def test_two_stored_outlets_with_one_normalised_name_are_ambiguous():
    """Stored before aliases existed, "Reuters" and "Reuters." each still resolve by their
    exact name, but "REUTERS" names neither: both are suggested, for an admin to merge."""
    index = OutletIndex.build([(1, "Reuters", "reuters"), (7, "Reuters.", "reuters-2")])
    assert resolve_outlet("Reuters.", None, index).outlet_id == 7
    resolution = resolve_outlet("REUTERS", None, index)
    assert not resolution.found
    assert [s.outlet_id for s in resolution.suggestions] == [1, 7]


def test_an_alias_another_outlet_already_answers_to_is_ambiguous_not_stolen():
    index = OutletIndex.build(
        [(1, "Kan", "kan"), (2, "Kan Educational", "kan-educational")], aliases=[(2, "KAN")]
    )
    assert resolve_outlet("Kan", None, index).outlet_id == 1  # the exact name still wins
    assert not resolve_outlet("kan.", None, index).found


def test_the_index_grows_as_outlets_are_created(index):
    assert not resolve_outlet("Ynet", None, index).found
    index.add_outlet(9, "Ynet", "ynet")
    index.add_alias(9, "Ynetnews")
    index.add_domain(9, "ynetnews.com")
    assert resolve_outlet("YNET", None, index).outlet_id == 9
    assert resolve_outlet("ynetnews", None, index).by == "alias"
    assert resolve_outlet("Yedioth", "https://www.ynetnews.com/a", index).outlet_id == 9
    assert index.owner_of("Ynet News") is None and index.owner_of("YNETNEWS") == 9


def test_every_seed_outlet_resolves_by_its_own_name_and_slug():
    outlets = read_outlets()
    index = OutletIndex.build((i, o.name, o.slug) for i, o in enumerate(outlets, start=1))
    for number, outlet in enumerate(outlets, start=1):
        for name in (outlet.name, outlet.slug, outlet.name.upper()):
            assert resolve_outlet(name, None, index).outlet_id == number
