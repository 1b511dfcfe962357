from django.urls import include, path

from . import views

urlpatterns = [
    path("api/streaming/refresh-workshops", views.refresh_workshops, name="refresh-workshops"),
    path("api/streaming/process-studio", views.process_studio, name="process-studio"),
    path("streaming/test-client/", views.test_client, name="streaming-test-client"),
    path("demo/sites/", include("studios.demo.urls")),
]
