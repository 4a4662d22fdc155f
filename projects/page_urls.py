from django.urls import path

from projects import pages

urlpatterns = [
    path("", pages.home, name="home"),
]
