from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from streaming.metrics import metrics_view

from . import views

admin.site.site_header = "Studio workshops"
admin.site.site_title = "Studio workshops admin"
admin.site.index_title = "Catalogue and runs"
# The app list beside every page takes a quarter of a laptop screen that the lists need; the
# breadcrumbs and the home page lead everywhere it did.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("streaming.urls")),
    path("", include("studios.urls")),
]
if apps.is_installed("studios.demo"):
    urlpatterns.append(path("demo/sites/", include("studios.demo.urls")))

# Unknown URLs under /api/ (and unexpected errors there) answer JSON, like every API error.
handler404 = "config.errors.api_not_found"
handler500 = "config.errors.api_server_error"
