"""The OpenAPI schema: valid without warnings, describing the stream endpoints; the reference page offline."""

import re
import string
import subprocess
import sys

import pytest
import yaml
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from rest_framework.exceptions import ValidationError
from rest_framework.fields import URLField

from config.schema import URL_PATTERN

SSE_OPERATIONS = [
    ("/api/streaming/refresh-workshops", "get"),
    ("/api/streaming/refresh-workshops", "post"),
    ("/api/streaming/process-studio", "get"),
    ("/api/runs/{run_id}/events/", "get"),
]


def test_spectacular_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    schema = yaml.safe_load(out.read_text())
    assert set(schema["paths"]) >= {
        "/api/studios/",
        "/api/studios/{studio_id}/",
        "/api/studios/{studio_id}/workshops/",
        "/api/artists/",
        "/api/artists/{artist_id}/",
        "/api/workshops/",
        "/api/workshops/{id}/",
        "/api/runs/",
        "/api/runs/{run_id}/",
        "/api/runs/{run_id}/cancel/",
        *(path for path, _method in SSE_OPERATIONS),
    }


def test_stream_endpoints_are_described(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    event = components["RunEvent"]
    assert event["discriminator"]["propertyName"] == "type"
    assert set(event["discriminator"]["mapping"]) == {"logs", "progress_bar", "complete", "error", "close"}
    for name in ("LogsEvent", "ProgressBarEvent", "CompleteEvent", "ErrorEvent", "CloseEvent"):
        assert set(components[name]["properties"]) == {"type", "timestamp", "data"}, name
    for path, method in SSE_OPERATIONS:
        operation = schema["paths"][path][method]
        ok = operation["responses"]["200"]
        assert ok["content"]["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/RunStreamFrame"}, path
        assert {"X-Run-Id", "Cache-Control", "X-Accel-Buffering"} <= set(ok["headers"])
        for status in ("400", "401", "403", "404"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (path, status)
        assert "too_many_streams" in operation["responses"]["429"]["description"], path
    body = schema["paths"]["/api/streaming/refresh-workshops"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]


def test_a_stream_frame_is_described_as_an_sse_client_reads_it(client):
    components = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    frame = components["RunStreamFrame"]
    assert set(frame["required"]) == {"event", "data"}
    event_types = components[frame["properties"]["event"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(event_types) == {
        *("logs", "progress_bar", "complete", "error", "close"),
        *("stream-open", "keep-alive", "stream-reset", "stream-error"),
    }
    assert frame["properties"]["data"]["x-contentSchema"] == {"$ref": "#/components/schemas/RunEvent"}
    id_pattern = frame["properties"]["id"]["pattern"]
    assert re.search(id_pattern, "run-12:3") and re.search(id_pattern, "error")
    assert not re.search(id_pattern, "run-12") and not re.search(id_pattern, "run-x:3")


def parameter(operation, name):
    return next(item for item in operation["parameters"] if item["name"] == name)


def test_stream_parameters_say_what_the_server_takes(client):
    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    for path, method, all_taken in [
        ("/api/streaming/refresh-workshops", "get", True),
        ("/api/streaming/process-studio", "get", False),
    ]:
        validator = Draft4Validator(parameter(paths[path][method], "studio_id")["schema"])
        assert validator.is_valid("dance_n_addiction") and validator.is_valid("x" * 100), path
        for refused in ("", "x" * 101, "a\x00b"):
            assert not validator.is_valid(refused), (path, refused)
        assert validator.is_valid("all") == all_taken, path
    events = paths["/api/runs/{run_id}/events/"]["get"]
    for name in ("Last-Event-ID", "lastEventId"):
        pattern = parameter(events, name)["schema"]["pattern"]
        assert re.search(pattern, "run-7:12") and re.search(pattern, ""), name
        for refused in (
            "run-7:x",
            "run-7:²",
            "run-٣:1",
            "run-07:1",
            f"run-7:{'9' * 19}",
            "run-7:1,run-8:2",
            " run-7:1",
        ):
            assert not re.search(pattern, refused), (name, refused)


def test_text_inputs_refuse_nul_in_the_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    for name in ("StudioCreateRequest", "PatchedStudioRequest", "ArtistCreateRequest", "RunStartRequest"):
        for field, spec in components[name]["properties"].items():
            if spec.get("type") == "string":
                assert "pattern" in spec and not re.search(spec["pattern"], "a\x00b"), (name, field)
                assert re.search(spec["pattern"], "a") or field in ("website",), (name, field)
    alias = components["ArtistCreateRequest"]["properties"]["aliases"]["items"]
    assert not re.search(alias["pattern"], "\x00")
    search = parameter(schema["paths"]["/api/artists/"]["get"], "search")["schema"]
    assert not re.search(search["pattern"], "\x00")


def url_pattern(client):
    components = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    website = components["StudioCreateRequest"]["properties"]["website"]
    image_url = components["StudioCreateRequest"]["properties"]["image_url"]["oneOf"][0]
    assert website["maxLength"] == image_url["maxLength"] == 200
    assert website["pattern"] == image_url["pattern"] == URL_PATTERN
    return website["pattern"]


def takes_url(url):
    try:
        URLField(max_length=200, trim_whitespace=False).run_validation(url)  # as the API reads it
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "url, taken",
    [
        ("https://" + "a" * 63 + ".example.com/", True),
        ("https://" + "a" * 64 + ".example.com/", False),
        ("https://example." + "a" * 63, True),
        ("https://example.a", False),
        ("https://example.a1", False),
        ("https://localhost:8008/x", True),
        ("http://127.0.0.1:9/", True),
        ("https://user:pw@example.com/a?b#c", True),
        ("https://example.com/a b", False),
        ("https://example.com/\x00", False),
        ("mailto:someone@example.com", False),
        ("https://-example.com/", False),
    ],
)
def test_the_url_pattern_agrees_with_the_server(client, url, taken):
    assert takes_url(url) is taken
    assert bool(re.search(url_pattern(client), url)) is taken


LABELS = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=70)
URLISH = st.builds(
    lambda scheme, userinfo, labels, tld, port, path: f"{scheme}://{userinfo}{'.'.join(labels)}{tld}{port}{path}",
    st.sampled_from(["http", "https", "HTTPS", "ftp", "ftps", "gopher", ""]),
    st.sampled_from(["", "u@", "u:p@", "u[@", ":@"]),
    st.lists(LABELS, min_size=1, max_size=4),
    st.one_of(st.just(""), st.just("."), LABELS.map(".".__add__), st.just(".xn--p1ai")),
    st.one_of(st.just(""), st.integers(0, 999999).map(lambda port: f":{port}")),
    st.one_of(st.just(""), st.text(max_size=20).map("/".__add__)),
)


@hypothesis_settings(max_examples=500, deadline=None, derandomize=True)
@given(url=URLISH)
def test_every_url_the_schema_allows_is_taken(url):
    if re.search(URL_PATTERN, url) and len(url) <= 200:
        assert takes_url(url), url
