"""Routes of exports (views in exports/api.py); the paths are the contract's (API.md)."""

from django.urls import path

from exports import api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/export",
        api.ProjectExportView.as_view(),
        name="project-export",
    ),
    path("process/export", api.ProcessExportView.as_view(), name="process-export"),
    path(
        "process/export/<uuid:job_id>/download",
        api.ExportDownloadView.as_view(),
        name="export-download",
    ),
]
