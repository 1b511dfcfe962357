"""schemathesis against /api/schema/ on a live daphne: no 5xx, and every response as the schema says.

Two phases, each with all of schemathesis's checks on every response (status code, content type,
headers and body against the schema, schema-valid data accepted, invalid data rejected, and in the
stateful phase resources that stay available after they are created and gone after they are
deleted):

- stateless: each operation gets generated requests, valid (positive) and invalid (negative) ones;
- stateful: sequences of calls chained through the links between operations (schemathesis infers
  them from the schema: POST /api/studios/ -> GET/PUT/PATCH/DELETE /api/studios/{studio_id}/, ...).

Both use a fixed seed and bounded example counts; SCHEMATHESIS_EXAMPLES and SCHEMATHESIS_SCENARIOS
raise them for a longer run.

The start endpoints under /api/streaming/ stay in the schema but are not called, nor is
POST /api/runs/: a run crawls its studio's website, and a generated studio's website could be
anywhere (tests/hardening/test_parser_properties.py and tests/api/test_runs.py cover them). The run
events stream is called: every run here has finished, so each stream ends. Its Last-Event-ID must
name the run in the path, which the schema cannot say: requests with another run's id are not sent.

schemathesis's own pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9
(it sets ``Node._nodeid``, which pytest 9 no longer has), so this drives its Python API with
Hypothesis directly.
"""

import os
import re
from collections import Counter

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import serializers
from django.db import transaction
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from streaming.events import envelope
from streaming.models import Run, RunEvent, RunStatus
from streaming.schema import LAST_EVENT_ID_PATTERN
from studios.demo.loader import load_demo
from studios.models import Artist, Session, Studio, WebhookDelivery, WebhookEndpoint, Workshop

pytestmark = [pytest.mark.live]

EXAMPLES_PER_MODE = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "40"))
NOT_CALLED = [
    {"path_regex": r"^/api/streaming/"},
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
    events = [
        envelope("logs", {"message": "Found 1 workshop link", "level": "info"}),
        envelope("progress_bar", {"percentage": 100.0, "current": 1, "total": 1, "message": "Processed 1 of 1"}),
        envelope(
            "complete",
            {"message": "Process completed", "run_id": finished.pk, "status": "succeeded", "summary": finished.summary},
        ),
    ]
    for seq, event in enumerate(events, start=1):
        RunEvent.objects.create(run=finished, seq=seq, type=event["type"], data=event)
    Run.objects.create(job="process_studio", subject="vibe", status=RunStatus.FAILED, error="boom")
    return {
        "studio_id": "dance_n_addiction",
        "artist_id": "meghna.kapoor_",
        "id": catalogue["workshops"]["today"].pk,
        "run_id": finished.pk,
    }


# In the order they can be created in: each refers only to those before it.
CATALOGUE_MODELS = [Studio, Artist, Run, RunEvent, Workshop, Session, WebhookEndpoint, WebhookDelivery]


def catalogue_snapshot():
    return serializers.serialize("json", [obj for model in CATALOGUE_MODELS for obj in model.objects.all()])


def restore_catalogue(snapshot):
    with transaction.atomic():
        for model in reversed(CATALOGUE_MODELS):
            model.objects.all().delete()
        for stored in serializers.deserialize("json", snapshot):
            stored.save()


def load_schema(daphne_server, api_auth):
    schema = schemathesis.openapi.from_url(f"{daphne_server.url}/api/schema/", headers=api_auth, timeout=30)
    for exclusion in NOT_CALLED:
        schema = schema.exclude(**exclusion)
    return schema


def names_another_run(case):
    """A well-formed Last-Event-ID (or lastEventId) of a run other than the one in the path."""
    run_id = (case.path_parameters or {}).get("run_id")
    sent = [(case.headers or {}).get("Last-Event-ID"), (case.query or {}).get("lastEventId")]
    return run_id is not None and any(
        isinstance(value, str)
        and value
        and re.fullmatch(LAST_EVENT_ID_PATTERN, value)
        and not value.startswith(f"run-{run_id}:")
        for value in sent
    )


def test_api_conforms_to_its_schema(daphne_server, api_auth, known_ids):
    schema = load_schema(daphne_server, api_auth)
    tested = [result.ok() for result in schema.get_all_operations()]
    assert len(tested) >= 18, [operation.label for operation in tested]
    stats = {"cases": 0, "statuses": Counter(), "no_negative_data": []}
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
                assume(not names_another_run(case))
                response = case.call(headers=api_auth, timeout=30)
                stats["cases"] += 1
                stats["statuses"][response.status_code] += 1
                assert response.status_code < 500, (
                    f"{case.as_curl_command()}\n{response.status_code} {response.text[:2000]}"
                )
                case.validate_response(response, headers=api_auth)

            try:
                check()
            except Unsatisfiable:
                # Nothing outside the schema can be sent there (a path parameter of any text but "/").
                assert mode is GenerationMode.NEGATIVE, operation.label
                stats["no_negative_data"].append(operation.label)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (collected, reported below)
                failures[f"{operation.label} ({mode.value}{', known ids' if path_parameters else ''})"] = (
                    f"{type(exc).__name__}: {exc}"[:12000]
                )

    print(
        f"\nschemathesis stateless: {len(tested)} operations, {stats['cases']} cases, "
        f"statuses {dict(sorted(stats['statuses'].items()))}, no negative data for {stats['no_negative_data']}"
    )
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert stats["statuses"][200] > 0 and stats["statuses"][400] > 0


def test_api_conforms_to_its_schema_across_calls(daphne_server, api_auth, known_ids):
    steps = Counter()
    statuses = Counter()
    failures = {}
    snapshot = catalogue_snapshot()

    class Workflow(load_schema(daphne_server, api_auth).as_state_machine()):
        def teardown(self):
            # Every scenario starts from the same catalogue. Hypothesis expects the same choices to
            # enable the same steps: a studio that an earlier scenario created would answer 409 where
            # it answered 201, and Hypothesis would stop, reporting its generation as flaky.
            restore_catalogue(snapshot)
            super().teardown()

        def step(self, input):
            assume(not names_another_run(input.case))
            steps["linked" if input.transition is not None else "first"] += 1
            return super().step(input)

        def get_call_kwargs(self, case):
            return {"headers": api_auth, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            statuses[response.status_code] += 1
            # Collected, not raised: Hypothesis would replay a failing scenario against a server
            # whose state has moved on since, and report only that the replay went differently.
            try:
                assert response.status_code < 500, f"{response.status_code} {response.text[:2000]}"
                super().validate_response(response, case, additional_checks, **kwargs)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
                failures.setdefault(
                    case.operation.label, f"{case.as_curl_command()}\n{type(exc).__name__}: {exc}"[:12000]
                )

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    print(
        f"\nschemathesis stateful: {SCENARIOS} scenarios, {steps.total()} calls of which {steps['linked']} "
        f"followed a link, statuses {dict(sorted(statuses.items()))}"
    )
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert steps["linked"] > 0, "the stateful phase chains calls through links"
    assert statuses[201] > 0 and statuses[204] > 0, "it creates objects and deletes them"
