from django.urls import path

from timeline import api

urlpatterns = [
    path("projects/<uuid:project_id>/timeline", api.TimelineView.as_view(), name="timeline"),
    path(
        "timeline/segments/<uuid:segment_id>",
        api.SegmentDetailView.as_view(),
        name="timeline-segment",
    ),
]
