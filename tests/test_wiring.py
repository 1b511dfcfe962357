"""The project's wiring: a health probe for load balancers, and the demo only where it is turned on."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_healthz_answers_without_credentials_or_database(client):
    # No `db` fixture: any database query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_the_demo_is_served_only_when_turned_on():
    probe = (
        "import json, django; django.setup()\n"
        "from django.core.management import get_commands\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "print(json.dumps({'sites': client.get('/demo/sites/').status_code, 'health': client.get('/healthz').status_code,"
        " 'command': 'demo' in get_commands()}))\n"
    )

    def project(demo):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEMO": demo}
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    assert project("") == {"sites": 404, "health": 200, "command": False}
    assert project("1") == {"sites": 200, "health": 200, "command": True}
