"""Who may watch, start and cancel runs: one rule for the stream endpoints, the REST API and admin.

- watch (a run's stream, the runs API's list and detail): an active user with ``streaming.view_run``;
- start (the start endpoints, ``POST /api/runs/``, admin's Process and Retry): also ``streaming.add_run``,
  since starting a run shows its stream;
- cancel: a watcher with ``streaming.change_run`` or ``streaming.add_run`` (whoever may start runs
  may stop them, as in the live panel).

Staff status is not asked for: a token of a service user with these permissions may do the same
as a staff user. Django admin itself admits staff only.
"""

from collections.abc import Callable
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


def can_watch_runs(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("streaming.view_run"))


def can_start_runs(user: Any) -> bool:
    return can_watch_runs(user) and user.has_perm("streaming.add_run")


def can_cancel_runs(user: Any) -> bool:
    return can_watch_runs(user) and (user.has_perm("streaming.change_run") or user.has_perm("streaming.add_run"))


class RunPermission(BasePermission):
    """The runs API's actions under the rule above; anonymous requests fail and DRF answers 401."""

    RULES: dict[str, Callable[[Any], bool]] = {"create": can_start_runs, "cancel": can_cancel_runs}

    def has_permission(self, request: Request, view: APIView) -> bool:
        rule = self.RULES.get(getattr(view, "action", None) or "", can_watch_runs)
        return rule(request.user)
