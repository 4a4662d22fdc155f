"""Jobs over HTTP: follow a job, cancel it, list the caller's jobs (the endpoints that start
jobs belong to the apps that own the work: clips, exports)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import Pagination, error_responses, paginated_response
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


class JobStatusView(APIView):
    @extend_schema(responses={200: JobSerializer, **error_responses(401, 404)})
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        return Response(JobSerializer(get_job_for_user(request.user, job_id)).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses={200: JobSerializer, **error_responses(401, 404, 409)})
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        job = job_cancel(job=get_job_for_user(request.user, job_id, need="change"))
        return Response(JobSerializer(job).data)


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
