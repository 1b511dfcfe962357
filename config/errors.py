"""Every error of the project's HTTP API in one shape: ``{"error": {"code", "message"}}``.

The shape is the run streams' wire contract (streaming.http.error_response); the REST API's views
(through ``api_exception_handler``) and unknown or failing URLs under /api/ answer in it too.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf_exceptions

from streaming.http import ApiError, error_response

# The codes clients read where they differ from DRF's own (an exception's default_code); the most
# specific class comes first.
_CODES_FOR_DRF_DEFAULTS = (
    (drf_exceptions.ParseError, "invalid_json"),
    (drf_exceptions.AuthenticationFailed, "invalid_token"),
)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error of a DRF view as ``{"error": {"code", "message"}}``.

    A ValidationError adds ``"fields"``: the messages by field, as DRF gives them. A view may
    name what its 404 is about with a ``not_found_code`` attribute (e.g. ``studio_not_found``), and
    an exception raised with its own code (``NotFound(..., code="run_not_found")``) keeps it.
    Exceptions that are not request errors return None, and Django answers 500.
    """
    from rest_framework.views import set_rollback

    view = context.get("view") if context else None
    if isinstance(exc, ApiError):
        set_rollback()
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "body_too_large", "The request body is too large.")
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, drf_exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    extra = {}
    if isinstance(exc, drf_exceptions.ValidationError):
        code, message = "invalid", "The request is not valid; see fields."
        detail = exc.detail
        extra["fields"] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    else:
        code, message = _code(exc, view), _detail_text(exc.detail)
    set_rollback()
    return error_response(exc.status_code, code, message, headers, **extra)


def _code(exc, view):
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else "error"
    if code != exc.default_code:
        return code
    if isinstance(exc, drf_exceptions.NotFound):
        return getattr(view, "not_found_code", None) or code
    if isinstance(exc, drf_exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        return "csrf_failed"
    return next((mapped for cls, mapped in _CODES_FOR_DRF_DEFAULTS if isinstance(exc, cls)), code)


def _detail_text(detail):
    if isinstance(detail, (list, tuple)):
        return " ".join(_detail_text(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_detail_text(value)}" for key, value in detail.items())
    return str(detail)


def api_not_found(request, exception=None):
    """handler404: unknown URLs under /api/ answer JSON; every other path gets Django's page."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", f"There is no API endpoint at {request.path}.")
    return page_not_found(request, exception)


def api_server_error(request):
    """handler500: an unexpected error under /api/ answers JSON; every other path gets Django's page."""
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "The server failed to handle the request.")
    return server_error(request)
