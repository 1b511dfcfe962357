from types import SimpleNamespace

import pytest

from studios.pipeline.extract import ExtractedEvent
from studios.pipeline.match import ArtistMatcher, normalise_name, split_artists


def artist(artist_id, name, aliases=()):
    # Matching reads only these attributes, so the matcher is tested without a database.
    return SimpleNamespace(pk=artist_id, artist_id=artist_id, name=name, aliases=list(aliases))


JANE = artist("jane.doe", "Jane Doe", ["JD"])
JOSE = artist("josebeats", "José Álvarez")
PRIYA = artist("priya_moves", "Priya Sharma", ["Priya S"])


@pytest.fixture
def matcher():
    return ArtistMatcher([JANE, JOSE, PRIYA], threshold=85)


@pytest.mark.parametrize("handle", ["jane.doe", "@Jane.Doe", " JANE.DOE "])
def test_handle_wins_over_any_name(matcher, handle):
    assert matcher.match("Somebody Else", handle) is JANE


def test_name_written_as_a_handle(matcher):
    assert matcher.match("@priya_moves") is PRIYA


@pytest.mark.parametrize(
    "name, expected",
    [("Jane Doe", JANE), ("jane  doe", JANE), ("JANE DOE!", JANE), ("Jose Alvarez", JOSE), ("josé álvarez", JOSE)],
)
def test_exact_name_ignoring_case_accents_punctuation_and_spacing(name, expected):
    # A threshold of 100 leaves no room for spelling differences: only normalisation makes these equal.
    assert ArtistMatcher([JANE, JOSE, PRIYA], threshold=100).match(name) is expected


def test_alias(matcher):
    assert matcher.match("Priya S.") is PRIYA
    assert matcher.match("jd") is JANE


@pytest.mark.parametrize("name", ["Doe Jane", "Priya Sharmaa", "Jose Alvares"])
def test_fuzzy_match_above_the_threshold(matcher, name):
    assert matcher.match(name) is not None


def test_fuzzy_match_below_the_threshold_is_no_match(matcher):
    assert matcher.match("Jane Smith") is None
    assert ArtistMatcher([JANE], threshold=99).match("Jane Doee") is None


def test_threshold_defaults_to_the_setting(settings):
    assert ArtistMatcher([JANE]).match("Jane") is None
    settings.ARTIST_MATCH_THRESHOLD = 60
    assert ArtistMatcher([JANE]).match("Jane") is JANE


def test_unknown_handle_falls_back_to_the_name(matcher):
    assert matcher.match("Jane Doe", "not_in_catalogue") is JANE


@pytest.mark.parametrize(
    "by, names",
    [
        ("Jane Doe & Priya Sharma", ["Jane Doe", "Priya Sharma"]),
        ("Jane Doe, Priya Sharma and José", ["Jane Doe", "Priya Sharma", "José"]),
        ("Jane Doe x Priya Sharma + José", ["Jane Doe", "Priya Sharma", "José"]),
        ("Jane Doe feat. Priya Sharma", ["Jane Doe", "Priya Sharma"]),
        ("Alexandra Andrews", ["Alexandra Andrews"]),
        ("", []),
    ],
)
def test_split_artists(by, names):
    assert split_artists(by) == names


def test_event_performers_are_matched_and_unmatched_reported(matcher):
    event = ExtractedEvent(
        title="Trio",
        by="ignored when performers are given",
        performers=[("Jane Doe", "jane.doe"), ("J. Doe", "jane.doe"), ("Mystery Guest", None), ("Mystery Guest", None)],
    )
    assert matcher.match_event(event) == ([JANE], ["Mystery Guest"])


def test_event_without_performers_splits_by(matcher):
    event = ExtractedEvent(title="Duo", by="Priya Sharma & Jose Alvarez & Nobody Known")
    assert matcher.match_event(event) == ([PRIYA, JOSE], ["Nobody Known"])


def test_one_performer_naming_several_people_is_split(matcher):
    event = ExtractedEvent(title="Duo", performers=[("Jane Doe & Priya Sharma", None)])
    assert matcher.match_event(event) == ([JANE, PRIYA], [])


def test_an_artist_whose_name_looks_like_a_list_is_not_split():
    crew = artist("kingsandqueens", "Kings and Queens")
    event = ExtractedEvent(title="Crew night", by="Kings and Queens")
    assert ArtistMatcher([crew, artist("kings", "Kings")]).match_event(event) == ([crew], [])


def test_event_without_anyone_named_has_nothing_to_report(matcher):
    assert matcher.match_event(ExtractedEvent(title="Open floor")) == ([], [])


def test_normalise_name():
    assert normalise_name("  Zoë   O'Neil-Smith ") == "zoe oneilsmith"
