"""The OpenAPI schema: valid without warnings, describing the stream endpoints; the reference page offline."""

import subprocess
import sys

import yaml
from django.conf import settings

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
        assert ok["content"]["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/RunEvent"}, path
        assert {"X-Run-Id", "Cache-Control", "X-Accel-Buffering"} <= set(ok["headers"])
        for status in ("400", "401", "403", "404"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (path, status)
    body = schema["paths"]["/api/streaming/refresh-workshops"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]


def test_reference_page_is_served_offline(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "https://" not in html, "no asset from the network"
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
