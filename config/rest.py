"""The project's REST conventions, named by ``REST_FRAMEWORK`` in settings and used by every app's API.

JSON bodies with a size limit, page-number pagination, model permissions, objects looked up and
created by their public id, and input taken as the schema says. Errors are in config.errors.
"""

import io
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission

from streaming.http import ApiError, is_text, read_capped

# REST_FRAMEWORK names the parser and pagination classes, and rest_framework.views loads them while
# it is itself loading: so this module must not import rest_framework.views at load time.


class JSONBodyParser(JSONParser):
    """DRF's JSON parser with the streaming endpoints' body limit (413 body_too_large).

    Deeply nested JSON exhausts Python's recursion limit while decoding: that is invalid input too.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = read_capped(stream.read)
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


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


PERMISSION_FOR_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ModelPermission(BasePermission):
    """Reads need the model's view permission; writes need a staff user with add/change/delete.

    A view names other permissions for one of its actions in ``action_permissions``: a list of
    permissions that are all needed (``{"workshops": ["studios.view_studio", "studios.view_workshop"]}``).
    Anonymous requests fail here and DRF answers 401.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method not in SAFE_METHODS and not user.is_staff:
            self.message = "Only staff may change this."
            return False
        return all(user.has_perm(perm) for perm in self.required_permissions(request, view))

    @staticmethod
    def required_permissions(request, view):
        custom = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if custom is not None:
            return custom
        opts = view.get_queryset().model._meta
        return [f"{opts.app_label}.{PERMISSION_FOR_METHOD.get(request.method, 'change')}_{opts.model_name}"]


class PublicIdLookupMixin:
    # get_object by `lookup_field` that answers 404 `<not_found_code>` with a message naming the id.
    # No integer is assumed: a value the field cannot hold (NUL in a text id included) finds
    # nothing. (A comment, not a docstring: drf-spectacular would show a docstring as every
    # operation's description.)

    not_found_code = "not_found"
    not_found_noun = "object"

    def get_object(self):
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: value}).first() if is_text(str(value)) else None
        except (TypeError, ValueError, DjangoValidationError):
            obj = None
        if obj is None:
            shown = value if isinstance(value, int) else str(value)[:100]
            raise ApiError(404, self.not_found_code, f"There is no {self.not_found_noun} {shown!r}.")
        self.check_object_permissions(self.request, obj)
        return obj


def save_new_or_conflict(serializer, model, field, code, noun):
    """Save a validated create serializer; an id already taken answers 409 `code`, not 400.

    The create serializers leave uniqueness to this function, so that a conflict with an existing
    object (or a simultaneous create) is told apart from invalid input.
    """
    value = serializer.validated_data[field]
    message = f"There is already {noun} {value!r}."
    if model.objects.filter(**{field: value}).exists():
        raise ApiError(409, code, message)
    try:
        with transaction.atomic():
            serializer.save()
    except IntegrityError:
        raise ApiError(409, code, message) from None


class PublicIdCreateMixin:
    """Create through `create_serializer_class`; an id already taken answers 409 `conflict_code`."""

    create_serializer_class = None
    conflict_code = "conflict"
    conflict_noun = "an object"

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        return super().get_serializer_class()

    def perform_create(self, serializer):
        model = self.get_queryset().model
        save_new_or_conflict(serializer, model, self.lookup_field, self.conflict_code, self.conflict_noun)


class StrictInputMixin:
    """Serializer mixin: input is taken as the schema says, not as DRF would coerce it.

    DRF accepts 5 or 5.0 for a text field, "yes" or 1 for a boolean and "5" for an integer, and
    measures a text's length after stripping its surrounding whitespace. The schema promises JSON
    types and a maxLength of the value as sent, so values outside them are refused here.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for name, field in self.fields.items():
                if not field.read_only and name in data:
                    message = _not_as_documented(field, data[name])
                    if message:
                        errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _not_as_documented(field, value):
    if value is None:
        return None  # DRF's own allow_null check answers
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return None  # DRF's own message
        return next(filter(None, (_not_as_documented(field.child, item) for item in value)), None)
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be a whole number."
    if isinstance(field, serializers.FloatField):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "Must be a number."
    if isinstance(field, (serializers.CharField, serializers.ChoiceField)):
        if not isinstance(value, str):
            return "Must be a string."
        limit = getattr(field, "max_length", None)
        if limit is not None and len(value) > limit:
            return f"Ensure this field has no more than {limit} characters."
    return None
