"""Routes of timeline interchange (views in processing/export_api.py); exports are routed by
exports/urls.py."""

from django.urls import path

from processing import export_api

urlpatterns = [
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
