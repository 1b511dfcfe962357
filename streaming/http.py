"""Request handling shared by every endpoint that starts or streams a run, and by the REST API.

Errors come before any stream, as ``{"error": {"code", "message"}}`` with a 4xx status; the REST
API's views answer in the same shape through ``api_exception_handler``.
"""

import functools
import io
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser

MAX_JSON_BODY = 64 * 1024


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status, code, message, headers=None, **extra):
    response = JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_endpoint(methods):
    """Decorate a view: allowed methods, ApiError turned into its JSON response, CSRF checked here.

    Token clients (curl, scripts) carry no CSRF token, so Django's middleware check is replaced
    by `authenticate`, which enforces CSRF and same-origin only for cookie sessions.
    """

    def decorator(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        f"Method {request.method} is not allowed here; use {' or '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error_response(error.status, error.code, error.message, error.headers)

        return wrapper

    return decorator


def authenticate(request):
    """The user behind a request: a DRF token, else a staff session. Raises ApiError(401/403)."""
    if request.META.get("HTTP_AUTHORIZATION"):
        try:
            result = TokenAuthentication().authenticate(request)
        except AuthenticationFailed as exc:
            raise ApiError(401, "invalid_token", str(exc.detail)) from exc
        if result is None:
            raise ApiError(401, "invalid_token", "Use 'Authorization: Token <key>'.")
        return result[0]
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise ApiError(401, "not_authenticated", "Sign in as staff or send 'Authorization: Token <key>'.")
    _check_session_request(request)
    return user


def _check_session_request(request):
    # A cookie is sent by the browser whoever's page asked for it: refuse cross-site callers.
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    origin = request.META.get("HTTP_ORIGIN")
    if fetch_site in ("cross-site", "same-site") or (origin and not _origin_allowed(request, origin)):
        raise ApiError(403, "cross_site_refused", "Requests with a session cookie must come from this site.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {})
        if reason is not None:
            raise ApiError(403, "csrf_failed", "CSRF check failed; send the X-CSRFToken header.")


def _origin_allowed(request, origin):
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return parts.netloc == request.get_host() and parts.scheme == request.scheme


def require(allowed, message):
    if not allowed:
        raise ApiError(403, "permission_denied", message)


def read_capped(read):
    """At most MAX_JSON_BODY bytes through `read`, or ApiError 413: however the size was declared."""
    body = read(MAX_JSON_BODY + 1)
    if len(body) > MAX_JSON_BODY:
        raise ApiError(413, "body_too_large", f"The body may be at most {MAX_JSON_BODY} bytes.")
    return body


def json_body(request):
    """The request's JSON object body, or ApiError 413/415/400."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON with 'Content-Type: application/json'.")
    try:
        int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "invalid_request", "Content-Length is not a number.") from None
    body = read_capped(request.read)
    try:
        data = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


# --- the REST API's JSON parser and pagination ---
# REST_FRAMEWORK names these classes, and rest_framework.views loads them while it is itself
# loading: so this module must not import rest_framework.views at load time.


class JSONBodyParser(JSONParser):
    """DRF's JSON parser with the streaming endpoints' body limit (413 body_too_large)."""

    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(read_capped(stream.read)), media_type, parser_context)


class Pagination(PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (1 to 200, default 50) on every list."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= self.max_page_size:
            raise ApiError(
                400, "invalid_page_size", f"page_size must be a whole number from 1 to {self.max_page_size}."
            )
        return size

    def get_page_number(self, request, paginator):
        # DRF reads an empty ?page= as page 1; here it names no page, like ?page=abc.
        return request.query_params.get(self.page_query_param, 1)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            page = request.query_params.get(self.page_query_param, "")
            raise ApiError(404, "page_not_found", f"There is no page {page[:40]!r}; pages count from 1.") from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters


# --- Django REST framework views and unknown /api/ URLs: the same error shape ---

# DRF exception classes by the code clients read; the most specific class comes first.
_DRF_ERROR_CODES = (
    (drf_exceptions.ValidationError, "invalid"),
    (drf_exceptions.ParseError, "invalid_json"),
    (drf_exceptions.NotAuthenticated, "not_authenticated"),
    (drf_exceptions.AuthenticationFailed, "invalid_token"),
    (drf_exceptions.PermissionDenied, "permission_denied"),
    (drf_exceptions.NotFound, "not_found"),
    (drf_exceptions.MethodNotAllowed, "method_not_allowed"),
    (drf_exceptions.NotAcceptable, "not_acceptable"),
    (drf_exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (drf_exceptions.Throttled, "throttled"),
)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error of a DRF view as ``{"error": {"code", "message"}}``.

    A ValidationError adds ``"fields"``: the messages by field, as DRF gives them. A view may
    name what its 404 is about with a ``not_found_code`` attribute (e.g. ``studio_not_found``).
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
    code = next((code for cls, code in _DRF_ERROR_CODES if isinstance(exc, cls)), None)
    extra = {}
    if isinstance(exc, drf_exceptions.ValidationError):
        message = "The request is not valid; see fields."
        detail = exc.detail
        extra["fields"] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    else:
        message = _detail_text(exc.detail)
        if code is None:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "error"
        elif code == "not_found":
            code = getattr(view, "not_found_code", None) or code
        elif code == "permission_denied" and message.startswith("CSRF Failed"):
            code = "csrf_failed"
    set_rollback()
    return error_response(exc.status_code, code, message, headers, **extra)


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
