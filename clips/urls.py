from django.urls import path

from clips import api

urlpatterns = [
    path(
        "projects/<uuid:project_id>/clips",
        api.ProjectClipListView.as_view(),
        name="project-clip-list",
    ),
    path("clips/<uuid:clip_id>", api.ClipDetailView.as_view(), name="clip-detail"),
    path("clips/<uuid:clip_id>/download", api.ClipDownloadView.as_view(), name="clip-download"),
    path("clips/<uuid:clip_id>/retry", api.ClipRetryView.as_view(), name="clip-retry"),
    path("process/clip", api.ProcessClipView.as_view(), name="process-clip"),
    path("upload/chunk", api.UploadChunkView.as_view(), name="upload-chunk"),
    path("upload/complete", api.UploadCompleteView.as_view(), name="upload-complete"),
    path("upload/status/<uuid:upload_id>", api.UploadStatusView.as_view(), name="upload-status"),
    path("upload/cancel/<uuid:upload_id>", api.UploadCancelView.as_view(), name="upload-cancel"),
]
