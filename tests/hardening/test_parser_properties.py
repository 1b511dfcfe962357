"""Property tests: arbitrary bytes, deep JSON and odd Unicode at the request parsers and the id parsers.

Whatever a client sends, the parsers answer with the data or a request error (a 4xx), and the
endpoints never answer 5xx.
"""

import encodings.aliases
import io
import json
from urllib.parse import quote_from_bytes

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django_eventstream.utils import parse_last_event_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ParseError

from config.rest import JSONBodyParser
from streaming.http import MAX_JSON_BODY, ApiError, json_body
from streaming.models import Run, RunStatus
from streaming.sse import last_event_seq, resumed_run
from streaming.storage import parse_seq, run_id_from_channel
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio

# Characters that have broken id and text parsers: digits int() takes but ASCII does not have,
# NUL, lone surrogates, the separators of a Last-Event-ID, and characters outside the BMP.
ODD_CHARACTERS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\x00", "²", "٣", "۹", "߀", "१", "Ⅻ", "𝟗", ",", ":", "-", " ", "\n", "\U0001f483"]),
)
ODD_TEXT = st.one_of(
    st.lists(st.one_of(st.text(ODD_CHARACTERS, max_size=8), st.sampled_from(["run-", "run-1:", "1"])), max_size=6).map(
        "".join
    ),
    st.builds(
        lambda digits, prefix: prefix + digits,
        st.text("0123456789", min_size=18, max_size=6000),
        st.sampled_from(["", "run-", "run-1:"]),
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ODD_CHARACTERS, max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(ODD_CHARACTERS, max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def nested_json(draw):
    """JSON nested to a depth of up to a few thousand, as arrays, objects or both."""
    depth = draw(st.integers(min_value=1, max_value=5000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"studio_id":', "}]")]))
    inner = draw(st.sampled_from(["", "1", '"x"', "null"]))
    text = opener * depth + inner + closer * depth
    if draw(st.booleans()):
        text = '{"studio_id": ' + text + "}"
    return text.encode()


BODIES = st.one_of(
    st.binary(max_size=300),
    nested_json(),
    st.builds(
        lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"),
        JSON_VALUES,
        st.booleans(),
    ),
    st.builds(lambda value: json.dumps({"studio_id": value}).encode(), ODD_TEXT),
    # Just over the limit, whatever Content-Length says.
    st.builds(
        lambda chunk: (chunk * (MAX_JSON_BODY // len(chunk) + 1))[: MAX_JSON_BODY + 1],
        st.binary(min_size=1, max_size=3),
    ),
)
NOT_IN_HEADERS = str.maketrans("", "", "\x00\r\n")
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "APPLICATION/JSON ; charset=utf-8",
            "application/json; charset=latin-1",
            "application/json; charset=utf-16",
            "application/json; charset=zlib_codec",
            "application/json; charset=rot13",
            "application/json; charset=nonsense",
            "application/json;;",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "",
        ]
    ),
    st.text(ODD_CHARACTERS, max_size=30).map(lambda text: text.translate(NOT_IN_HEADERS)),
)

# The parser reads the request's encoding, which Django takes from the Content-Type's charset when
# codecs.lookup() knows it: any codec Python has, text or not. (A charset with NUL, which
# codecs.lookup() cannot even look up, never gets this far: daphne refuses NUL in a header.)
CHARSETS = st.sampled_from(
    sorted({*encodings.aliases.aliases, *encodings.aliases.aliases.values(), "undefined", "idna"})
)

# Header values reach Django as bytes read as Latin-1, without the NUL, CR and LF that daphne refuses.
HEADER_TEXT = st.one_of(st.binary(max_size=60), ODD_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass"))).map(
    lambda raw: raw.decode("latin-1").translate(NOT_IN_HEADERS)
)

FAST = settings(max_examples=300, deadline=None, derandomize=True)
WITH_DB = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

rf = RequestFactory()


def json_request(body, content_type, content_length=None):
    extra = {} if content_length is None else {"CONTENT_LENGTH": content_length}
    return rf.generic("POST", "/api/streaming/refresh-workshops", body, content_type=content_type, **extra)


@FAST
@given(
    body=BODIES, content_type=CONTENT_TYPES, content_length=st.one_of(st.none(), st.text(ODD_CHARACTERS, max_size=6))
)
def test_the_stream_endpoints_body_reader_returns_an_object_or_a_request_error(body, content_type, content_length):
    request = json_request(body, content_type, content_length)
    try:
        data = json_body(request)
    except ApiError as error:
        assert 400 <= error.status < 500, (error.status, error.code)
        return
    assert isinstance(data, dict)


@FAST
@given(value=st.dictionaries(st.text(ODD_CHARACTERS, max_size=10), JSON_VALUES, max_size=4))
def test_the_stream_endpoints_body_reader_reads_a_json_object_as_sent(value):
    body = json.dumps(value).encode()
    assert json_body(json_request(body, "application/json")) == json.loads(body)


@FAST
@given(body=BODIES, charset=CHARSETS)
def test_the_rest_parser_returns_data_or_a_parse_error(body, charset):
    try:
        JSONBodyParser().parse(io.BytesIO(body), "application/json", {"encoding": charset})
    except ApiError as error:
        assert error.status == 413, (error.status, error.code)
    except ParseError:
        pass


@FAST
@given(text=ODD_TEXT)
def test_id_parsers_take_ascii_digits_only(text):
    seq = parse_seq(text)
    if seq is not None:
        assert type(seq) is int and seq >= 0 and text.isascii() and text.isdigit()
    run_id = run_id_from_channel(text)
    if run_id is not None:
        assert type(run_id) is int and run_id >= 0 and text == f"run-{text[4:]}" and text[4:].isascii()


@FAST
@given(run_id=st.integers(min_value=0, max_value=10**18 - 1), seq=st.integers(min_value=0, max_value=10**18 - 1))
def test_ids_the_server_writes_are_read_back(run_id, seq):
    assert run_id_from_channel(f"run-{run_id}") == run_id
    assert parse_seq(str(seq)) == seq


@pytest.fixture
def finished_run(db):
    return Run.objects.create(job=PROCESS_STUDIO, subject="dance_n_addiction", status=RunStatus.SUCCEEDED)


@WITH_DB
@given(header=ODD_TEXT, query=ODD_TEXT, through=st.sampled_from(["header", "query", "both"]))
def test_a_last_event_id_is_a_seq_or_a_400(finished_run, header, query, through):
    meta = {"HTTP_LAST_EVENT_ID": header} if through in ("header", "both") else {}
    raw_query = "lastEventId=" + quote_from_bytes(query.encode("utf-8", "surrogatepass")) if through != "header" else ""
    request = rf.get(f"/api/runs/{finished_run.pk}/events/", QUERY_STRING=raw_query, **meta)
    try:
        seq = last_event_seq(request, finished_run)
    except ApiError as error:
        assert (error.status, error.code) == (400, "invalid_last_event_id")
        return
    assert type(seq) is int and seq >= 0


@WITH_DB
@given(seq=st.integers(min_value=0, max_value=10**18 - 1))
def test_a_last_event_id_the_server_sent_resumes_after_its_seq(finished_run, seq):
    request = rf.get("/", HTTP_LAST_EVENT_ID=f"run-{finished_run.pk}:{seq}")
    assert last_event_seq(request, finished_run) == seq


@WITH_DB
@given(header=st.one_of(ODD_TEXT, st.builds(lambda a, b: f"{a}:{b}", ODD_TEXT, ODD_TEXT)))
def test_a_start_endpoint_resumes_a_run_or_nothing(finished_run, header):
    request = rf.get("/api/streaming/process-studio", HTTP_LAST_EVENT_ID=header)
    resumed = resumed_run(request, PROCESS_STUDIO, finished_run.subject)
    if resumed is not None:
        run, seq = resumed
        assert run == finished_run and type(seq) is int and seq >= 0
        assert parse_last_event_id(header)[f"run-{run.pk}"] == str(seq)


# --- end to end, through Django's test client ---

REFRESH = "/api/streaming/refresh-workshops"
PROCESS = "/api/streaming/process-studio"


@pytest.fixture
def api(db):
    """A superuser's token client and session client, a studio whose runs fail at once (nothing
    listens on port 9), a run."""
    Studio.objects.create(studio_id="dance_n_addiction", name="Dance N Addiction", website="http://127.0.0.1:9/")
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", None)
    run = Run.objects.create(job=PROCESS_STUDIO, subject="dance_n_addiction", status=RunStatus.SUCCEEDED)
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    session = Client()
    session.force_login(admin)
    return {"client": client, "session": session, "run": run}


def assert_answered(response):
    """No 5xx, and an error is the API's JSON error."""
    try:
        assert response.status_code < 500, response.status_code
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/json", response["Content-Type"]
            assert json.loads(response.content)["error"]["code"]
    finally:
        if response.streaming:
            close_stream(response)


def close_stream(response):
    """Close a stream unread, which gives its user's stream slot back.

    Closing a response signals request_finished, whose database handler would close the test's
    connection mid-transaction: the test client keeps it disconnected while it closes responses too.
    """
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


E2E = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@E2E
@given(
    target=st.sampled_from(
        [
            ("POST", REFRESH),
            ("POST", "/api/runs/"),
            ("POST", "/api/studios/"),
            ("PUT", "/api/studios/dance_n_addiction/"),
            ("PATCH", "/api/studios/dance_n_addiction/"),
            ("POST", "/api/artists/"),
            ("POST", "/api/runs/{run}/cancel/"),
        ]
    ),
    body=BODIES,
    content_type=CONTENT_TYPES,
)
def test_any_body_gets_an_answer_not_a_server_error(api, target, body, content_type):
    method, path = target
    response = api["client"].generic(method, path.format(run=api["run"].pk), body, content_type=content_type)
    assert_answered(response)


@E2E
@given(
    path=st.sampled_from(
        [REFRESH, PROCESS, "/api/runs/{run}/events/", "/api/studios/", "/api/artists/", "/api/workshops/", "/api/runs/"]
    ),
    query=st.one_of(
        st.binary(max_size=80).map(lambda raw: raw.decode("latin-1")),
        st.builds(
            lambda name, value: f"{name}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}",
            st.sampled_from(
                ["studio_id", "lastEventId", "page", "page_size", "search", "status", "studio", "date_from", "archived"]
            ),
            st.one_of(ODD_TEXT, st.just("dance_n_addiction")),
        ),
    ),
    last_event_id=st.one_of(st.none(), HEADER_TEXT, st.builds(lambda seq: f"run-{{run}}:{seq}", st.integers(0, 5))),
)
def test_any_query_and_last_event_id_get_an_answer_not_a_server_error(api, path, query, last_event_id):
    headers = (
        {} if last_event_id is None else {"HTTP_LAST_EVENT_ID": last_event_id.replace("{run}", str(api["run"].pk))}
    )
    response = api["client"].get(path.format(run=api["run"].pk), QUERY_STRING=query, **headers)
    assert_answered(response)


# Text shaped like an Origin or a Referer, with the hosts urlsplit trips on (IPv6 brackets).
URL_LIKE = st.builds(
    lambda scheme, host, rest: scheme + host + rest,
    st.sampled_from(["http://", "https://", "", "null"]),
    st.one_of(st.sampled_from(["testserver", "evil.example", "[", "[::1", "[::1]", "]"]), HEADER_TEXT),
    st.one_of(st.just(""), st.sampled_from(["/", ":80", "/admin/"]), HEADER_TEXT),
)


@E2E
@given(
    target=st.sampled_from([("GET", PROCESS), ("GET", REFRESH), ("POST", REFRESH), ("GET", "/api/runs/{run}/events/")]),
    headers=st.dictionaries(
        st.sampled_from(["HTTP_ORIGIN", "HTTP_REFERER", "HTTP_SEC_FETCH_SITE"]), st.one_of(HEADER_TEXT, URL_LIKE)
    ),
)
def test_any_origin_referer_or_fetch_site_on_a_session_request_gets_an_answer_not_a_server_error(api, target, headers):
    method, path = target
    response = api["session"].generic(
        method,
        path.format(run=api["run"].pk) + "?studio_id=dance_n_addiction",
        b'{"studio_id": "dance_n_addiction"}',
        content_type="application/json",
        **headers,
    )
    assert_answered(response)
