"""Jobs are registered by name, so this app can run a domain's work without importing the domain."""

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Job:
    func: Callable
    result_links: Callable | None = None


_jobs = {}


def register_job(name, result_links=None):
    """Decorator: ``@register_job("process_studio")`` on ``def job(run, reporter) -> dict``.

    The function receives the Run and a Reporter (``log``, ``progress``, ``should_stop``) and
    returns the run's summary. Raising ends the run as ``failed`` with the exception's message.
    ``result_links(run) -> [(label, url)]`` names the pages where a finished run's results are seen.
    """

    def decorator(func):
        _jobs[name] = Job(func, result_links)
        return func

    return decorator


def get_job(name):
    job = _jobs.get(name)
    return job.func if job else None


def job_names():
    return sorted(_jobs)


def result_links(run):
    job = _jobs.get(run.job)
    return list(job.result_links(run)) if job and job.result_links else []
