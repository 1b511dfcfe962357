"""Jobs are registered by name, so this app can run a domain's work without importing the domain."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobFunction = Callable[[Any, Any], dict | None]
# Why a run of the job cannot start on a subject, as (code, message), or None when it can.
SubjectCheck = Callable[[str], tuple[str, str] | None]
ResultLinks = Callable[[Any], list[tuple[str, str]]]


@dataclass(frozen=True)
class Job:
    func: JobFunction
    check_subject: SubjectCheck | None = None
    result_links: ResultLinks | None = None


_jobs: dict[str, Job] = {}


def register_job(
    name: str, func: JobFunction, check_subject: SubjectCheck | None = None, result_links: ResultLinks | None = None
) -> None:
    """Make `func` runnable as job `name`.

    ``func(run, reporter) -> dict`` receives the Run and a Reporter (``log``, ``progress``,
    ``should_stop``) and returns the run's summary; raising ends the run as ``failed`` with the
    exception's message. ``check_subject(subject)`` says why a run cannot start on a subject
    (``start_run`` asks it on every path). ``result_links(run) -> [(label, url)]`` names the pages
    where a finished run's results are seen.
    """
    _jobs[name] = Job(func, check_subject, result_links)


def unregister_job(name: str) -> None:
    _jobs.pop(name, None)


def get_job(name: str) -> Job | None:
    return _jobs.get(name)


def job_names() -> list[str]:
    return sorted(_jobs)


def result_links(run: Any) -> list[tuple[str, str]]:
    job = _jobs.get(run.job)
    return list(job.result_links(run)) if job and job.result_links else []
