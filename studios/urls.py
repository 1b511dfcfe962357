from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, calendar, views

router = SimpleRouter()
router.register("studios", api.StudioViewSet, basename="studio")
router.register("artists", api.ArtistViewSet, basename="artist")
router.register("workshops", api.WorkshopViewSet, basename="workshop")
router.register("webhooks", api.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("api/streaming/refresh-workshops", views.refresh_workshops, name="refresh-workshops"),
    path("api/streaming/process-studio", views.process_studio, name="process-studio"),
    path("streaming/test-client/", views.test_client, name="streaming-test-client"),
    path("api/runs/<int:run_id>/changes/", api.RunChangesView.as_view(), name="run-changes"),
    path("api/workshops.ics", calendar.workshops_ics, name="workshops-ics"),
    path("calendar/subscribe/", views.calendar_subscribe, name="calendar-subscribe"),
    path("api/", include(router.urls)),
]
