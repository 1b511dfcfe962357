from django.urls import path

from . import views

app_name = "demo_sites"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:site>/", views.home, name="home"),
    path("<slug:site>/workshops/<slug:slug>/", views.workshop, name="workshop"),
    path("<slug:site>/book/<slug:slug>/", views.booking, name="booking"),
    path("<slug:site>/<slug:page>/", views.info_page, name="page"),
]
