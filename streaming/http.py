"""Request handling of the plain endpoints that start or stream a run: who asks, CSRF, the body.

Errors come before any stream, as ``{"error": {"code", "message"}}`` with a 4xx status (the wire
contract of run streams); a project can answer its other API errors in the same shape with
``error_response``.
"""

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .conf import conf

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

MAX_JSON_BODY = 64 * 1024

# A Django view function: the request, then the URL's arguments.
ViewFunction = Callable[..., HttpResponseBase]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Token"  # the challenge every 401 carries, as the REST API's do
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_endpoint(methods: Sequence[str]) -> Callable[[ViewFunction], ViewFunction]:
    """Decorate a view: allowed methods, ApiError turned into its JSON response, CSRF checked here.

    Token clients (curl, scripts) carry no CSRF token, so Django's middleware check is replaced
    by `authenticate`, which enforces CSRF and same-origin only for cookie sessions.
    """

    def decorator(view: ViewFunction) -> ViewFunction:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
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


def authenticate(request: HttpRequest) -> "AbstractBaseUser":
    """The user behind a request: a DRF token, else a staff session. Raises ApiError(401/403)."""
    if request.META.get("HTTP_AUTHORIZATION"):
        try:
            result = _TokenAuthentication().authenticate(request)
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


def token_user(key: str) -> "AbstractBaseUser | None":
    """The user a DRF token key belongs to, active or not; None for a key no token has.

    One plain statement: every start, stream and socket asks, and the ORM took about 0.5 ms to
    build the query that SQLite answers in 0.05 ms.
    """
    users, tokens = get_user_model(), TokenAuthentication().get_model()
    quote = connection.ops.quote_name
    token_user_id, token_key = (quote(tokens._meta.get_field(name).column) for name in ("user", "key"))
    found = users.objects.raw(
        f"SELECT u.* FROM {quote(users._meta.db_table)} u JOIN {quote(tokens._meta.db_table)} t"
        f" ON t.{token_user_id} = u.{quote(users._meta.pk.column)} WHERE t.{token_key} = %s",
        [key],
    )
    return next(iter(found), None)


class _TokenAuthentication(TokenAuthentication):
    """DRF's token authentication (the same header, errors and users), with the user read by
    `token_user`. Returns the key in place of the Token object."""

    def authenticate_credentials(self, key: str) -> tuple["AbstractBaseUser", str]:
        user = token_user(key)
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, key


def _check_session_request(request: HttpRequest) -> None:
    # A cookie is sent by the browser whoever's page asked for it: refuse cross-site callers.
    # Older browsers send neither Sec-Fetch-Site nor Origin on a GET, but most still send a Referer.
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    origin = request.META.get("HTTP_ORIGIN")
    referer = request.META.get("HTTP_REFERER")
    if (
        fetch_site in ("cross-site", "same-site")
        or (origin and not origin_allowed(origin, request.get_host(), request.scheme))
        or (referer and not origin_allowed(_origin_of(referer), request.get_host(), request.scheme))
    ):
        raise ApiError(403, "cross_site_refused", "Requests with a session cookie must come from this site.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {})
        if reason is not None:
            raise ApiError(403, "csrf_failed", "CSRF check failed; send the X-CSRFToken header.")


def _origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""  # not a URL: no origin, which origin_allowed refuses
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(origin: str, host: str, scheme: str) -> bool:
    """Whether a page at `origin` may use a session of this site, served at `host` over `scheme`."""
    if origin in conf.CORS_ALLOWED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. an IPv6 host left unclosed, "http://[::1": no page of this site sent it
        return False
    return parts.netloc == host and parts.scheme == scheme


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ApiError(403, "permission_denied", message)


def is_text(value: object) -> TypeGuard[str]:
    """A string that can be stored: JSON may carry lone UTF-16 surrogates (\\ud800), UTF-8 cannot,
    and PostgreSQL refuses NUL in text (SQLite takes it)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_capped(read: Callable[[int], bytes]) -> bytes:
    """At most MAX_JSON_BODY bytes through `read`, or ApiError 413: however the size was declared."""
    body = read(MAX_JSON_BODY + 1)
    if len(body) > MAX_JSON_BODY:
        raise ApiError(413, "body_too_large", f"The body may be at most {MAX_JSON_BODY} bytes.")
    return body


def json_body(request: HttpRequest) -> dict[str, Any]:
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
    except RecursionError:
        raise ApiError(400, "invalid_json", "The body is not valid JSON: it is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data
