"""WebSocket routes of the streaming app, for the project's ASGI application."""

from django.urls import path

from .consumers import RunEventsConsumer

websocket_urlpatterns = [
    path("ws/runs/<int:run_id>/", RunEventsConsumer.as_asgi()),
]
