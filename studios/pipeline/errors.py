"""What can go wrong in the pipeline, by what it means for the run.

* ``StudioCannotBeProcessed``: the studio's run fails before anything is saved, and nothing
  changes (an unreadable start page, an invalid link pattern, no Chromium, no LLM where one is
  required, every link failed). An all-studios run logs it and goes on with the next studio.
* ``LinkFailed``: one link could not be read or understood; the run logs it and goes on.
* ``StopRequested``: a cancel arrived, or the server is stopping; the run ends and nothing is saved.
"""


class PipelineError(Exception):
    """Base of the pipeline's own errors; str() is a short reason fit for a log line."""


class Transient(PipelineError):
    """A failure worth retrying, with the pause the server asked for (Retry-After), if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class StudioCannotBeProcessed(PipelineError):
    """The studio's run fails and changes nothing."""


class DiscoveryError(StudioCannotBeProcessed):
    """Discovery cannot start (dead start page, invalid pattern)."""


class LLMNotConfigured(StudioCannotBeProcessed):
    """The studio's extraction is 'llm' but no LLM is configured."""


class RenderingUnavailable(StudioCannotBeProcessed):
    """Chromium (or Playwright) cannot be started for a render_js studio."""


class AllLinksFailed(StudioCannotBeProcessed):
    """Every workshop link failed: nothing changes, as when the site cannot be crawled, instead of
    passing for a studio with nothing on. Carries the summary so far, for the run's record."""

    def __init__(self, message: str, summary: dict) -> None:
        super().__init__(message)
        self.summary = summary


class LinkFailed(PipelineError):
    """One link gave nothing usable; the run goes on with the others."""


class FetchError(LinkFailed):
    """A page could not be read."""


class NotHTML(FetchError):
    """The page is something other than HTML (a PDF, an image); callers log it as a warning."""


class TransientFetchError(Transient, FetchError):
    """A failure worth retrying: 5xx, 429, timeouts and broken connections."""


class LLMError(LinkFailed):
    """The LLM gave no usable answer for a page."""


class TransientLLMError(Transient, LLMError):
    """A failure worth retrying: 429, 5xx, a timeout."""


class StopRequested(PipelineError):
    """A cancel arrived: the pipeline stops, aborting the fetches in flight, and saves nothing."""
