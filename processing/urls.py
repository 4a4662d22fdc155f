from django.urls import path

from processing import api

urlpatterns = [
    path("process/status/<uuid:job_id>", api.JobStatusView.as_view(), name="process-status"),
    path("process/cancel/<uuid:job_id>", api.JobCancelView.as_view(), name="process-cancel"),
    path("jobs", api.JobListView.as_view(), name="job-list"),
]
