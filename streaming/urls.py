from django.urls import path

from . import views

urlpatterns = [
    path("api/runs/<int:run_id>/events/", views.run_events, name="run-events"),
    path("api/runs/<int:run_id>/cancel/", views.run_cancel, name="run-cancel"),
]
