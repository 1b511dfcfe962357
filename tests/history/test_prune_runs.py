"""`prune_runs`: old finished runs go with their events and link results; each subject's latest run,
active runs and recent runs stay; the scheduler prunes daily under RUN_RETENTION."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from streaming import pruning
from streaming.models import Run, RunEvent
from studios.models import ProcessedLink, Studio, WorkshopChange

pytestmark = pytest.mark.django_db


def make_run(subject, days_ago, status="succeeded", job="process_studio"):
    finished = timezone.now() - timedelta(days=days_ago)
    run = Run.objects.create(job=job, subject=subject, status=status)
    Run.objects.filter(pk=run.pk).update(
        created_at=finished - timedelta(minutes=5),
        finished_at=None if status in ("queued", "running", "interrupted") else finished,
    )
    for seq in (1, 2):
        RunEvent.objects.create(run=run, seq=seq, type="logs", data={"data": {"message": f"line {seq}"}})
    ProcessedLink.objects.create(run=run, url=f"https://{subject}.example/w/{run.pk}/", result={"events": []})
    return run


@pytest.fixture
def history():
    studio = Studio.objects.create(studio_id="groove", name="Groove", website="https://groove.example/")
    runs = {
        "old_1": make_run("groove", 200),
        "old_2": make_run("groove", 120, status="failed"),
        "recent": make_run("groove", 10),  # groove's latest, and recent
        "only_old": make_run("solo", 300),  # solo's latest: kept however old
        "old_cancelled": make_run("solo", 100, status="cancelled"),
        "interrupted": make_run("idle", 400, status="interrupted"),
    }
    Run.objects.filter(pk=runs["only_old"].pk).update(created_at=timezone.now() - timedelta(days=50))
    WorkshopChange.objects.create(
        run=runs["old_1"], studio=studio, kind="created", source_url="https://groove.example/w/1/"
    )
    return runs


def prune(*args):
    out = StringIO()
    call_command("prune_runs", *args, stdout=out)
    return out.getvalue()


def test_prune_runs_deletes_old_finished_runs_with_their_events_and_link_results(history):
    out = prune("--older-than", "90d")
    gone = {"old_1", "old_2", "old_cancelled"}
    assert "Deleted 3 run(s)" in out and "6 streaming.RunEvent" in out and "3 studios.ProcessedLink" in out
    remaining = set(Run.objects.values_list("pk", flat=True))
    assert remaining == {history[name].pk for name in history if name not in gone}
    assert not RunEvent.objects.filter(run_id__in=[history[name].pk for name in gone]).exists()
    assert ProcessedLink.objects.count() == 3 and WorkshopChange.objects.count() == 0
    assert RunEvent.objects.count() == 6, "kept runs keep their whole log"


def test_a_dry_run_deletes_nothing(history):
    assert "Would delete 3 run(s)" in prune("--older-than", "90d", "--dry-run")
    assert Run.objects.count() == 6


def test_the_age_is_checked(history):
    with pytest.raises(CommandError, match="like 90d"):
        prune("--older-than", "ninety")
    with pytest.raises(CommandError, match="RUN_RETENTION"):
        prune()
    assert "Deleted 0 run(s)" in prune("--older-than", "1000d")


@pytest.fixture
def first_pruning():
    """This process has not pruned yet, and the next test finds it so too."""
    pruning.forget_last_pruning()
    yield
    pruning.forget_last_pruning()


def test_the_scheduler_prunes_once_a_day_under_run_retention(history, settings, first_pruning):
    assert pruning.prune_if_due(now=0) is None, "off without RUN_RETENTION"
    settings.RUN_RETENTION = "90d"
    assert pruning.prune_if_due(now=1)["streaming.Run"] == 3
    make_run("groove", 95)
    make_run("groove", 1)
    assert pruning.prune_if_due(now=1 + 3600) is None, "not twice in a day"
    assert pruning.prune_if_due(now=1 + pruning.DAY)["streaming.Run"] == 1
