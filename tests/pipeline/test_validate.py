from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from studios.pipeline.validate import is_past, normalise_sessions, parse_moment, studio_zone

KOLKATA = ZoneInfo("Asia/Kolkata")


def test_offsets_are_converted_to_the_studio_zone():
    sessions = normalise_sessions([("2099-03-14T12:30:00Z", "2099-03-14T14:30:00+00:00")], KOLKATA)
    assert sessions == [(date(2099, 3, 14), time(18, 0), time(20, 0))]


def test_conversion_can_move_the_date():
    assert normalise_sessions([("2099-03-14T20:00:00-05:00", None)], KOLKATA) == [
        (date(2099, 3, 15), time(6, 30), None)
    ]


def test_naive_times_are_studio_local():
    assert normalise_sessions([("2099-03-14T18:00", "2099-03-14T20:00")], KOLKATA) == [
        (date(2099, 3, 14), time(18, 0), time(20, 0))
    ]


def test_date_only_has_no_times():
    assert normalise_sessions([("2099-03-14", None)], KOLKATA) == [(date(2099, 3, 14), None, None)]


def test_sessions_are_sorted_and_deduplicated():
    raw = [
        ("2099-03-15T18:00:00+05:30", "2099-03-15T20:00:00+05:30"),
        ("2099-03-14T18:00:00+05:30", "2099-03-14T20:00:00+05:30"),
        ("2099-03-15T12:30:00Z", "2099-03-15T14:30:00Z"),  # the first one again, in UTC
        ("2099-03-14", None),
    ]
    assert normalise_sessions(raw, KOLKATA) == [
        (date(2099, 3, 14), None, None),
        (date(2099, 3, 14), time(18), time(20)),
        (date(2099, 3, 15), time(18), time(20)),
    ]


def test_range_over_several_days_is_one_session_a_day():
    assert normalise_sessions([("2099-06-01T10:00:00+05:30", "2099-06-03T13:00:00+05:30")], KOLKATA) == [
        (date(2099, 6, 1), time(10), time(13)),
        (date(2099, 6, 2), time(10), time(13)),
        (date(2099, 6, 3), time(10), time(13)),
    ]


def test_date_range_without_times():
    assert normalise_sessions([("2099-06-01", "2099-06-02")], KOLKATA) == [
        (date(2099, 6, 1), None, None),
        (date(2099, 6, 2), None, None),
    ]


def test_long_range_is_capped_at_31_days():
    sessions = normalise_sessions([("2099-01-01", "2099-12-31")], KOLKATA)
    assert len(sessions) == 31
    assert sessions[-1][0] == date(2099, 1, 31)


def test_late_session_past_midnight_stays_one_session():
    assert normalise_sessions([("2099-03-14T22:00:00+05:30", "2099-03-15T02:00:00+05:30")], KOLKATA) == [
        (date(2099, 3, 14), time(22), time(2))
    ]


def test_end_before_start_is_ignored():
    assert normalise_sessions([("2099-03-14T18:00", "2099-03-13T20:00")], KOLKATA) == [
        (date(2099, 3, 14), time(18), None)
    ]


@pytest.mark.parametrize(
    "raw",
    [
        None,
        42,
        [None],
        [("next Friday", None)],
        [("", "")],
        [(None, "2099-01-01")],
        [("2099-02-30", None)],
        [("2099-03-14T25:00", None)],
        [(["2099-03-14"], None)],
        [("2099-03-14", "soon")],
        [("2099-03-14", "2099-03-14", "extra")],
        [{"start": "2099-03-14"}],
    ],
)
def test_unreadable_input_never_raises(raw):
    sessions = normalise_sessions(raw, KOLKATA)
    assert all(isinstance(day, date) for day, _start, _end in sessions)


def test_unreadable_end_keeps_the_start():
    assert normalise_sessions([("2099-03-14", "soon")], KOLKATA) == [(date(2099, 3, 14), None, None)]


def test_parse_moment_accepts_python_values():
    aware = datetime(2099, 3, 14, 12, 30, tzinfo=UTC)
    assert parse_moment(aware, KOLKATA) == datetime(2099, 3, 14, 18, 0)
    assert parse_moment(date(2099, 3, 14), KOLKATA) == date(2099, 3, 14)
    assert parse_moment(3.5, KOLKATA) is None


def test_event_is_past_only_when_every_session_is_before_today():
    today = date(2099, 3, 15)
    assert is_past([(date(2099, 3, 13), None, None), (date(2099, 3, 14), time(18), None)], today)
    assert not is_past([(date(2099, 3, 14), None, None), (date(2099, 3, 15), time(18), None)], today)
    assert not is_past([(date(2099, 3, 15), time(9), None)], today)
    assert not is_past([], today)


def test_past_is_judged_in_the_studio_zone():
    # 20:00 UTC on the 14th is already the 15th in Kolkata, so the session is today there.
    sessions = normalise_sessions([("2099-03-14T20:00:00Z", None)], KOLKATA)
    assert not is_past(sessions, date(2099, 3, 15))
    assert is_past(normalise_sessions([("2099-03-14T20:00:00Z", None)], ZoneInfo("UTC")), date(2099, 3, 15))


def test_unknown_zone_falls_back_to_the_site_zone(settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    assert studio_zone("Mars/Olympus_Mons") == ZoneInfo("Europe/Lisbon")
    assert studio_zone("") == ZoneInfo("Europe/Lisbon")
    assert studio_zone("Asia/Kolkata") == KOLKATA
