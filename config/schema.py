"""The OpenAPI schema's conventions (``DEFAULT_SCHEMA_CLASS`` and a preprocessing hook in settings).

Every operation lists the JSON errors it may answer, and the plain Django views that stream runs
(not DRF views, so drf-spectacular cannot see them) are added through the DRF view that documents
each (``streaming.schema.documented_by``).
"""

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.openapi import AutoSchema

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


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the JSON error responses every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_statuses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_doc(description), code, media_types=["application/json"], direction=direction
                )
        return dict(sorted(responses.items()))

    def _get_filter_parameters(self):
        # django-filter takes an empty value (?status=) as no filter; say so, since an empty value
        # is otherwise outside an enum's, a date's or a boolean's schema.
        return [{**parameter, "allowEmptyValue": True} for parameter in super()._get_filter_parameters()]

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
