from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(use_regex_path=False)
router.register("runs", api.RunViewSet, basename="run")

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/runs/<int:run_id>/events/", views.run_events, name="run-events"),
]
