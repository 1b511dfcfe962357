"""The OpenAPI schema's conventions (``DEFAULT_SCHEMA_CLASS`` and a preprocessing hook in settings).

Every operation lists the JSON errors it may answer, and the plain Django views that stream runs
(not DRF views, so drf-spectacular cannot see them) are added through the DRF view that documents
each (``streaming.schema.documented_by``).
"""

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from streaming.schema import error_doc

ERROR_CODES = {
    "400": "`invalid` (the body or a query parameter is not valid; `fields` says which and why), "
    "`invalid_json`, `invalid_page_size`",
    "401": "`not_authenticated` (no credentials), `invalid_token`",
    "403": "`permission_denied` (not staff, or the model permission is missing), "
    "`csrf_failed` (a session request without the CSRF token)",
    "413": "`body_too_large`: a body over 64 KiB",
    "415": "`unsupported_media_type`: the body is not `application/json`",
}


# Every text input refuses NUL (DRF's ProhibitNullCharactersValidator: PostgreSQL cannot store it).
NO_NUL_PATTERN = r"^[^\u0000]*$"

# What Django's URLValidator takes, as a JSON Schema pattern: http(s) or ftp(s), a host name whose
# labels have at most 63 characters and whose last label is letters (or punycode), an IPv4 address
# or localhost, a port, then anything but whitespace (Python's \s, spelled out) and NUL. Host names
# are ASCII here ("uri" is), and user:password excludes the brackets Python's urlsplit refuses.
_NOT_TEXT = r"\u0000\t\n\u000b\f\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_TLD = r"(?:[a-zA-Z][a-zA-Z-]{0,61}[a-zA-Z]|xn--[a-zA-Z0-9]{1,59})"
_IPV4_PART = r"(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)"
URL_PATTERN = (
    r"^(?:[hH][tT][tT][pP][sS]?|[fF][tT][pP][sS]?)://"
    rf"(?:[^{_NOT_TEXT}:@/\[\]]+(?::[^{_NOT_TEXT}:@/\[\]]*)?@)?"
    rf"(?:{_IPV4_PART}(?:\.{_IPV4_PART}){{3}}|{_LABEL}(?:\.{_LABEL})*\.{_TLD}\.?|[lL][oO][cC][aA][lL][hH][oO][sS][tT])"
    r"(?::[0-9]{1,5})?"
    rf"(?:[/?#][^{_NOT_TEXT}]*)?$"
)

# The same, for http(s) only and a port from 0 to 65535: the URLs the server itself sends requests
# to (webhooks), which must be requestable as well as valid.
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
HTTP_URL_PATTERN = URL_PATTERN.replace(r"|[fF][tT][pP][sS]?", "", 1).replace(r"[0-9]{1,5})?", _PORT + ")?", 1)


def _state_what_text_input_takes(schema, field):
    """Add to a text input's schema the limits its validators apply that drf-spectacular leaves out."""
    if isinstance(field, serializers.URLField):
        # A blank-able URL is a oneOf of a URL and "": the limits go on the URL.
        for branch in (branch for branch in schema.get("oneOf", [schema]) if branch.get("format") == "uri"):
            branch["pattern"] = URL_PATTERN
            if field.max_length is not None:
                branch["maxLength"] = field.max_length
    elif schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = NO_NUL_PATTERN


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the JSON error responses every operation may give, and
    stating what text inputs take."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_statuses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_doc(description), code, media_types=["application/json"], direction=direction
                )
        return dict(sorted(responses.items()))

    def _map_basic_serializer(self, serializer, direction):
        # Noted for _insert_field_validators, which drf-spectacular calls without the direction.
        self._mapping_direction = direction
        return super()._map_basic_serializer(serializer, direction)

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # After drf-spectacular's own: its patterns come from the validators, and it would wrap a
        # blank-able text field with a pattern in a oneOf that "" matches twice.
        if getattr(self, "_mapping_direction", None) == "request" and isinstance(field, serializers.CharField):
            _state_what_text_input_takes(schema, field)

    def _get_filter_parameters(self):
        # django-filter takes an empty value (?status=) as no filter; say so, since an empty value
        # is otherwise outside an enum's, a date's or a boolean's schema. Its text filters are form
        # fields, which refuse NUL.
        parameters = []
        for parameter in super()._get_filter_parameters():
            schema = parameter["schema"]
            if schema == {"type": "string"}:
                schema = {**schema, "pattern": NO_NUL_PATTERN}
            parameters.append({**parameter, "schema": schema, "allowEmptyValue": True})
        return parameters

    def _error_statuses(self):
        statuses = {"401": ERROR_CODES["401"], "403": ERROR_CODES["403"]}
        not_found = []
        if "{" in self.path:
            not_found.append(f"`{getattr(self.view, 'not_found_code', None) or 'not_found'}`")
        if self.method == "GET" and self._is_list_view():
            statuses["400"] = "`invalid` (a filter's value; `fields` says which), `invalid_page_size`"
            not_found.append("`page_not_found`")
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses.update({code: ERROR_CODES[code] for code in ("400", "413", "415")})
        if not_found:
            statuses["404"] = ", ".join(not_found)
        conflict_code = getattr(self.view, "conflict_code", None)
        if conflict_code and self.method == "POST" and getattr(self.view, "action", None) == "create":
            statuses["409"] = f"`{conflict_code}`: an object with this id exists already"
        return statuses


def add_plain_views_to_schema(endpoints, **kwargs):
    """SPECTACULAR_SETTINGS PREPROCESSING_HOOKS entry: each documented plain view at its real route."""
    enumerator = EndpointEnumerator()
    for path_regex, view in _routes(get_resolver().url_patterns):
        schema_view = getattr(view, "schema_view", None)
        if schema_view is None:
            continue
        callback = schema_view.as_view()
        for method in enumerator.get_allowed_methods(callback):
            endpoints.append((enumerator.get_path_from_regex(path_regex), path_regex, method, callback))
    return endpoints


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback
        elif isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
