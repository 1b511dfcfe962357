"""django-eventstream channel manager: who may read which run's events."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django_eventstream.channelmanager import ChannelManagerBase

from .permissions import can_watch_runs
from .storage import run_id_from_channel

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class RunChannelManager(ChannelManagerBase):
    def get_channels_for_request(self, request: HttpRequest, view_kwargs: Mapping[str, Any]) -> set[str]:
        return set(view_kwargs.get("channels", ()))

    def can_read_channel(self, user: "AbstractBaseUser | AnonymousUser | None", channel: str) -> bool:
        return run_id_from_channel(channel) is not None and can_watch_runs(user)

    def is_channel_reliable(self, channel: str) -> bool:
        return run_id_from_channel(channel) is not None
