"""A resumed run carries on: its bar, its log and its summary go on from what was done before."""

import pytest

from streaming.models import Run, RunStatus
from studios.jobs import PROCESS_STUDIO
from studios.models import ProcessedLink
from studios.pipeline.process import process_studio
from studios.pipeline.reporting import StopRequested
from tests.pipeline.support import FakeReporter

PAGES = 6


@pytest.fixture
def fast_fetch(settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0


def test_a_resumed_run_carries_on_where_it_stopped(make_slow_studio, fast_fetch):
    studio = make_slow_studio("carry_on", pages=PAGES, delay=0)
    run = Run.objects.create(job=PROCESS_STUDIO, subject=studio.studio_id, status=RunStatus.RUNNING)
    before = FakeReporter(stop_after=2)
    with pytest.raises(StopRequested):
        process_studio(studio, before, run=run)
    done = ProcessedLink.objects.filter(run=run).count()
    assert done == 2

    after = FakeReporter()
    summary = process_studio(studio, after, run=run)
    assert [current for current, _total, _message in after.progress_calls] == list(range(done, PAGES + 1))
    assert f"Resuming: {done} links done before the interruption, not fetched again" in after.messages("info")
    site = make_slow_studio.sites[-1]
    for number in range(1, PAGES + 1):
        url = site.url(f"/workshops/slow-{number}/")
        lines = [message for message in before.messages() + after.messages() if url in message]
        assert lines == [f"{url}: 1 workshop (structured)"], "each link is logged once, before or after the stop"
    assert (summary["links_found"], summary["links_processed"], summary["links_failed"]) == (PAGES, PAGES, 0)
    assert (summary["events_found"], summary["workshops_created"]) == (PAGES, PAGES)
