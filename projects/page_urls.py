from django.urls import path

from projects import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("projects/<uuid:project_id>/", pages.editor, name="project-editor"),
]
