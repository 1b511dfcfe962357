"""django-eventstream channel manager: who may read which run's events."""

from django_eventstream.channelmanager import ChannelManagerBase

from .storage import run_id_from_channel


def can_view_runs(user):
    return bool(user and user.is_active and user.has_perm("streaming.view_run"))


def can_start_runs(user):
    return bool(user and user.is_active and user.has_perm("streaming.add_run"))


class RunChannelManager(ChannelManagerBase):
    def get_channels_for_request(self, request, view_kwargs):
        return set(view_kwargs.get("channels", ()))

    def can_read_channel(self, user, channel):
        return run_id_from_channel(channel) is not None and can_view_runs(user)

    def is_channel_reliable(self, channel):
        return run_id_from_channel(channel) is not None
