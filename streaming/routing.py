"""WebSocket routes of the streaming app, for the project's ASGI application."""

from django.urls import path, re_path

from .consumers import NoSuchSocket, RunEventsConsumer

websocket_urlpatterns = [
    path("ws/runs/<int:run_id>/", RunEventsConsumer.as_asgi()),
    # Last: any other path is refused at the handshake (403), not answered with a server error.
    re_path(r"", NoSuchSocket.as_asgi()),
]
