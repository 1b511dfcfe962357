"""Jobs are registered by name, so this app can run a domain's work without importing the domain."""

_jobs = {}


def register_job(name):
    """Decorator: ``@register_job("process_studio")`` on ``def job(run, reporter) -> dict``.

    The function receives the Run and a Reporter (``log``, ``progress``, ``should_stop``) and
    returns the run's summary. Raising ends the run as ``failed`` with the exception's message.
    """

    def decorator(func):
        _jobs[name] = func
        return func

    return decorator


def get_job(name):
    return _jobs.get(name)


def job_names():
    return sorted(_jobs)
