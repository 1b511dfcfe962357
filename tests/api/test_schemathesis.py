"""schemathesis against /api/schema/ on a live daphne: no 5xx, and every response as the schema says.

Each operation gets generated requests, valid (positive) and invalid (negative) ones, from a fixed
seed and a bounded number of examples; every response is checked by schemathesis's checks (status
code, content type, headers and body against the schema, invalid data rejected, ...).

The streaming operations stay in the schema but are not called (their responses last as long as a
run), nor is POST /api/runs/ (a generated studio's website could be anywhere, and a run would crawl
it); tests/api/test_runs.py covers it.

schemathesis's own pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9
(it sets ``Node._nodeid``, which pytest 9 no longer has), so this drives its Python API with
Hypothesis directly.
"""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from streaming.models import Run, RunStatus
from studios.demo.loader import load_demo

pytestmark = [pytest.mark.live]

EXAMPLES_PER_MODE = 20
NOT_CALLED = [
    {"path_regex": r"^/api/streaming/"},
    {"path_regex": r"/events/$"},
    {"method": "POST", "path": "/api/runs/"},
]


@pytest.fixture
def api_auth(daphne_server, catalogue, transactional_db):
    load_demo(base_url=daphne_server.url)
    admin = get_user_model().objects.create_superuser("schemathesis", "s@example.com", None)
    return {"Authorization": f"Token {Token.objects.create(user=admin).key}"}


@pytest.fixture
def known_ids(catalogue):
    """Ids that exist, so that generated requests also reach real objects, not only 404."""
    finished = Run.objects.create(
        job="process_studio", subject="dance_n_addiction", status=RunStatus.SUCCEEDED, summary={"workshops_created": 1}
    )
    Run.objects.create(job="process_studio", subject="vibe", status=RunStatus.FAILED, error="boom")
    return {
        "studio_id": "dance_n_addiction",
        "artist_id": "meghna.kapoor_",
        "id": catalogue["workshops"]["today"].pk,
        "run_id": finished.pk,
    }


def operations(schema):
    for exclusion in NOT_CALLED:
        schema = schema.exclude(**exclusion)
    return [result.ok() for result in schema.get_all_operations()]


def test_api_conforms_to_its_schema(daphne_server, api_auth, known_ids):
    schema = schemathesis.openapi.from_url(f"{daphne_server.url}/api/schema/", headers=api_auth, timeout=30)
    # Text with NUL characters is refused by every field (PostgreSQL cannot store it): not generated.
    schema.config.generation.update(allow_x00=False)
    tested = operations(schema)
    assert len(tested) >= 17, [operation.label for operation in tested]
    stats = {"cases": 0, "statuses": {}, "no_negative_data": []}
    failures = {}

    for operation in tested:
        path_names = {parameter.name for parameter in operation.path_parameters}
        passes = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if path_names:
            passes.append((GenerationMode.POSITIVE, {name: known_ids[name] for name in path_names}))
        for mode, path_parameters in passes:

            @settings(
                max_examples=EXAMPLES_PER_MODE,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            def check(case):
                response = case.call(headers=api_auth, timeout=30)
                stats["cases"] += 1
                stats["statuses"][response.status_code] = stats["statuses"].get(response.status_code, 0) + 1
                assert response.status_code < 500, f"{case.as_curl_command()}\n{response.status_code} {response.text[:2000]}"
                case.validate_response(response, headers=api_auth)

            try:
                check()
            except Unsatisfiable:
                # Nothing outside the schema can be sent there (a path parameter of any text but "/").
                assert mode is GenerationMode.NEGATIVE, operation.label
                stats["no_negative_data"].append(operation.label)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (collected, reported below)
                failures[f"{operation.label} ({mode.value}{', known ids' if path_parameters else ''})"] = f"{type(exc).__name__}: {exc}"[:12000]

    print(
        f"\nschemathesis: {len(tested)} operations, {stats['cases']} cases, "
        f"statuses {dict(sorted(stats['statuses'].items()))}, no negative data for {stats['no_negative_data']}"
    )
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert stats["statuses"].get(200, 0) > 0 and stats["statuses"].get(400, 0) > 0
