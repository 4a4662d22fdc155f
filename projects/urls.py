from django.urls import path

from projects import api

urlpatterns = [
    path("projects", api.ProjectListView.as_view(), name="project-list"),
    path("projects/<uuid:project_id>", api.ProjectDetailView.as_view(), name="project-detail"),
    path("templates", api.TemplateListView.as_view(), name="template-list"),
]
