"""Jobs over HTTP: follow a job, cancel it, list the caller's jobs (the endpoints that start
jobs belong to the apps that own the work: clips, exports)."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import Pagination, error_responses, paginated_response
from processing.links import LinkIssuer, link_issuer_for
from processing.models import ProcessingJob
from processing.selectors import get_job_for_user, job_list
from processing.services import job_cancel


class JobSerializer(serializers.ModelSerializer):
    clip_id = serializers.UUIDField(read_only=True, allow_null=True)
    project_id = serializers.UUIDField(read_only=True, allow_null=True)
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = ProcessingJob
        # Never developer_error: FFmpeg's stderr is for staff, through the admin.
        fields = [
            "id",
            "job_type",
            "status",
            "progress",
            "clip_id",
            "project_id",
            "input_params",
            "output_data",
            "error_message",
            "created_at",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ProcessingJob) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["output_data"] = job_output_with_links(instance, link_issuer_for(self.context))
        return data


def job_output_with_links(job: ProcessingJob, links: LinkIssuer | None) -> dict[str, Any]:
    """A job's output_data with media links issued now for this caller: an export's
    `download_url`, and a `url` beside each stored file's `key`. Stored output never holds a
    link (older rows may: those are replaced)."""
    output = dict(job.output_data or {})
    output.pop("download_url", None)

    def link(key: Any, **extra: Any) -> str | None:
        if links is None or not isinstance(key, str):
            return None
        return links.url(project_id=job.project_id, key=key, **extra)

    storage_key = output.get("storage_key")
    finished = job.status == ProcessingJob.Status.COMPLETED
    if job.job_type == ProcessingJob.JobType.EXPORT and finished and isinstance(storage_key, str):
        # Saved under the project's name (`file_name`; older exports: <job id>.<format>).
        name = output.get("file_name") or storage_key.rsplit("/", 1)[-1]
        output["download_url"] = link(storage_key, download_name=name)
        # Captions beside the export (captions: "sidecar"), saved under the same name.
        stem = str(name).rsplit(".", 1)[0]
        for key_field, url_field, extension in (
            ("captions_key", "captions_url", "srt"),
            ("captions_vtt_key", "captions_vtt_url", "vtt"),
        ):
            if key_field in output:
                output[url_field] = link(output[key_field], download_name=f"{stem}.{extension}")
    if "key" in output:
        output["url"] = link(output["key"])
    for name, value in output.items():
        if isinstance(value, dict) and "key" in value:
            output[name] = {**value, "url": link(value["key"])}
    return output


class JobStatusView(APIView):
    @extend_schema(responses={200: JobSerializer, **error_responses(401, 404)})
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        job = get_job_for_user(request.user, job_id)
        return Response(JobSerializer(job, context={"request": request}).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses={200: JobSerializer, **error_responses(401, 404, 409)})
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        job = job_cancel(job=get_job_for_user(request.user, job_id, need="change"))
        return Response(JobSerializer(job, context={"request": request}).data)


class JobListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProcessingJob.Status.choices, required=False)
    project = serializers.UUIDField(required=False)
    job_type = serializers.ChoiceField(choices=ProcessingJob.JobType.choices, required=False)


class JobListView(APIView):
    # Declared on the view so the schema describes the {count, next, previous, results} page.
    pagination_class = Pagination

    @extend_schema(
        parameters=[JobListFilterSerializer],
        # 404: a page number past the last page.
        responses={200: JobSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = JobListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = job_list(user=request.user, **filters.validated_data)
        return paginated_response(request, jobs, JobSerializer, view=self)
