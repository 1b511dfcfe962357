"""/metrics counts the links and LLM tokens of studio runs, whether one studio or all were processed."""

import pytest
from django.contrib.auth.models import Permission
from prometheus_client.parser import text_string_to_metric_families

from streaming.services import start_run
from studios.jobs import ALL_STUDIOS, PROCESS_STUDIO
from studios.models import Studio
from tests.runs import wait_for_run

from .fake_openai import answer, completion

PLAIN_PAGE = "<html><body><h1>Heels Night</h1><p>Next month, in the evening.</p></body></html>"


def scraped(client, name, **labels):
    """The value of one sample in the /metrics answer (0 when not there yet)."""
    text = client.get("/metrics").content.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


@pytest.fixture
def watcher(client, django_user_model):
    user = django_user_model.objects.create_user("watcher", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(user)
    return client


@pytest.mark.parametrize("subject", ["llm_metrics", ALL_STUDIOS])
def test_a_studio_runs_links_and_llm_tokens_are_counted(
    transactional_db, llm_settings, llm_server, site, watcher, subject
):
    site.add("/workshops/one", PLAIN_PAGE)
    site.add("/workshops/two", PLAIN_PAGE)
    site.add("/", '<a href="/workshops/one">1</a> <a href="/workshops/two">2</a>')
    Studio.objects.create(
        studio_id="llm_metrics", name="LLM metrics", website=site.url("/"), link_pattern="/workshops/", extraction="llm"
    )
    llm_server.responder = lambda body: completion(answer(is_valid=False), prompt_tokens=500, completion_tokens=20)
    fetched = scraped(watcher, "studios_run_links_total", job=PROCESS_STUDIO, outcome="fetched")
    prompt = scraped(watcher, "studios_llm_tokens_total", kind="prompt")
    completion_tokens = scraped(watcher, "studios_llm_tokens_total", kind="completion")

    run, _created = start_run(PROCESS_STUDIO, subject)
    wait_for_run(run)

    assert scraped(watcher, "studios_run_links_total", job=PROCESS_STUDIO, outcome="fetched") == fetched + 2
    assert scraped(watcher, "studios_llm_tokens_total", kind="prompt") == prompt + 1000
    assert scraped(watcher, "studios_llm_tokens_total", kind="completion") == completion_tokens + 40
