"""Property tests: the date reader and the lenient JSON-LD reader read right or refuse, never raise."""

import json
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from studios.pipeline.jsonld import lenient_loads, read_block
from studios.pipeline.validate import read_date

MOMENTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


def loose_offset(offset, style):
    minutes = int(offset.utcoffset(None).total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return {
        "colon": f"{sign}{hours:02d}:{rest:02d}",
        "short": f"{sign}{hours}:{rest:02d}",
        "compact": f"{sign}{hours:02d}{rest:02d}",
    }[style]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(moment=MOMENTS, pad=st.booleans(), sep=st.sampled_from(["T", " "]))
def test_naive_date_times_read_back_as_written(moment, pad, sep):
    day = f"{moment.year}-{moment.month:02d}-{moment.day:02d}" if pad else f"{moment.year}-{moment.month}-{moment.day}"
    assert read_date(f"{day}{sep}{moment:%H:%M:%S}") == moment
    assert read_date(day) == moment.date()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(moment=MOMENTS, offset=OFFSETS, style=st.sampled_from(["colon", "short", "compact"]))
def test_loose_offsets_give_the_same_instant(moment, offset, style):
    text = f"{moment:%Y-%m-%dT%H:%M:%S}{loose_offset(offset, style)}"
    read = read_date(text)
    assert read == moment.replace(tzinfo=offset)
    assert read.astimezone(UTC) == moment.replace(tzinfo=offset).astimezone(UTC)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(moment=MOMENTS)
def test_dashed_times_read_as_the_clock_time(moment):
    assert read_date(f"{moment:%Y-%m-%dT%H-%M-%S}-00") == moment


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.from_regex(
            r"\d{1,4}[-/. ]\d{1,2}[-/. ]\d{1,4}([T ]\d{1,2}[-:.]\d{1,2}([-:.]\d{1,2})?)?[+\-Z]?\d{0,4}", fullmatch=True
        ),
    )
)
def test_any_text_reads_as_a_real_date_or_is_refused(text):
    read = read_date(text)
    assert read is None or isinstance(read, date)
    if isinstance(read, datetime) and read.tzinfo is not None:
        read.astimezone(UTC)  # a real instant


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
OBJECTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, min_size=1, max_size=5)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 2]))
def test_valid_json_reads_as_itself(value, indent):
    assert lenient_loads(json.dumps(value, indent=indent)) == value


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=OBJECTS,
    damage=st.sampled_from(
        ["trailing comma", "comment", "line comment", "cdata", "html comment", "stray brace", "missing brace"]
    ),
)
def test_common_damage_is_repaired_to_the_original_value(value, damage):
    text = json.dumps(value)
    broken = {
        "trailing comma": text[:-1] + ",}",
        "comment": "/* generated */" + text,
        "line comment": "// generated\n" + text,
        "cdata": "//<![CDATA[\n" + text + "\n//]]>",
        "html comment": "<!--\n" + text + "\n-->",
        "stray brace": text + "}",
        "missing brace": text[:-1],
    }[damage]
    assert lenient_loads(broken) == value


WORDS = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\"\\'"), max_size=10),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(words=WORDS)
def test_php_escapes_and_raw_control_characters_in_strings_are_read(words):
    php = '{"name": "' + "\\'".join(words) + '\n\tx"}'  # PHP's \' and a raw newline and tab
    assert lenient_loads(php) == {"name": "'".join(words) + "\n\tx"}


@settings(max_examples=500, deadline=None, derandomize=True)
@given(text=st.one_of(st.text(), st.text(alphabet="{}[]\",:\\/*'<>!-ab1 \n", max_size=80)))
def test_any_block_parses_or_is_refused(text):
    values = read_block(text)
    assert isinstance(values, list)
    json.dumps(values)  # plain JSON values
