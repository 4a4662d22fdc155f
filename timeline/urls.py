from django.urls import path

from timeline import api

urlpatterns = [
    path("fonts", api.FontListView.as_view(), name="font-list"),
    path("projects/<uuid:project_id>/timeline", api.TimelineView.as_view(), name="timeline"),
    path(
        "projects/<uuid:project_id>/timeline/segments",
        api.SegmentListView.as_view(),
        name="timeline-segments",
    ),
    path(
        "projects/<uuid:project_id>/timeline/history",
        api.TimelineHistoryView.as_view(),
        name="timeline-history",
    ),
    path(
        "projects/<uuid:project_id>/timeline/restore",
        api.TimelineRestoreView.as_view(),
        name="timeline-restore",
    ),
    path(
        "projects/<uuid:project_id>/captions/import",
        api.CaptionsImportView.as_view(),
        name="captions-import",
    ),
    path(
        "projects/<uuid:project_id>/captions.srt",
        api.CaptionsSrtView.as_view(),
        name="captions-srt",
    ),
    path(
        "projects/<uuid:project_id>/captions.vtt",
        api.CaptionsVttView.as_view(),
        name="captions-vtt",
    ),
    path(
        "timeline/segments/<uuid:segment_id>",
        api.SegmentDetailView.as_view(),
        name="timeline-segment",
    ),
]
