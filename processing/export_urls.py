"""Routes of exports and timeline interchange (views in processing/export_api.py)."""

from django.urls import path

from processing import export_api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/export",
        export_api.ProjectExportView.as_view(),
        name="project-export",
    ),
    path("process/export", export_api.ProcessExportView.as_view(), name="process-export"),
    path(
        "process/export/<uuid:job_id>/download",
        export_api.ExportDownloadView.as_view(),
        name="export-download",
    ),
    path(
        "projects/<uuid:project_id>/timeline.otio",
        export_api.TimelineOtioView.as_view(),
        name="timeline-otio",
    ),
    path(
        "projects/<uuid:project_id>/timeline/import-otio",
        export_api.TimelineOtioImportView.as_view(),
        name="timeline-import-otio",
    ),
    path(
        "projects/<uuid:project_id>/chapters",
        export_api.ChaptersView.as_view(),
        name="project-chapters",
    ),
]
