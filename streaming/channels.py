"""django-eventstream channel manager: who may read which run's events."""

from django_eventstream.channelmanager import ChannelManagerBase

from .permissions import can_watch_runs
from .storage import run_id_from_channel


class RunChannelManager(ChannelManagerBase):
    def get_channels_for_request(self, request, view_kwargs):
        return set(view_kwargs.get("channels", ()))

    def can_read_channel(self, user, channel):
        return run_id_from_channel(channel) is not None and can_watch_runs(user)

    def is_channel_reliable(self, channel):
        return run_id_from_channel(channel) is not None
