"""Exports over HTTP: start an export of a project's timeline and fetch its file. Thin views:
parse, fetch with permission, call one service, serialize."""

from __future__ import annotations

import uuid

from django.http import HttpResponse, HttpResponseRedirect
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clips.media_links import MediaLinks
from common.api import error_responses
from exports.loudness import LOUDNESS_TARGETS
from exports.plan import CAPTIONS_MODES, DEFAULT_FORMAT, DEFAULT_PRESET, FORMATS, PRESET_NAMES
from exports.services import export_download_url, export_start
from processing.api import JobSerializer
from processing.selectors import get_job_for_user
from projects.models import Role
from projects.selectors import get_project_for_user


class ExportInputSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(
        choices=PRESET_NAMES,
        required=False,
        help_text=f"Default the project's export_preset, else {DEFAULT_PRESET}.",
    )
    format = serializers.ChoiceField(
        choices=FORMATS,
        required=False,
        help_text=f"Default the project's export_format, else {DEFAULT_FORMAT}.",
    )
    captions = serializers.ChoiceField(
        choices=CAPTIONS_MODES,
        required=False,
        help_text="none, burn (drawn into the picture) or sidecar (.srt/.vtt beside the file); "
        "default the project's export_captions, else none.",
    )
    loudness_target = serializers.ChoiceField(
        choices=LOUDNESS_TARGETS,
        required=False,
        help_text="Integrated loudness in LUFS; default the project's setting, else -14.",
    )


class ProcessExportInputSerializer(ExportInputSerializer):
    project_id = serializers.UUIDField()


def _start(request: Request, project_id: uuid.UUID, data: dict) -> Response:
    project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
    job = export_start(
        user=request.user,
        project=project,
        preset=data.get("preset"),
        fmt=data.get("format"),
        loudness_target=data.get("loudness_target"),
        captions=data.get("captions"),
    )
    return Response(
        JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
    )


class ProjectExportView(APIView):
    """POST /api/projects/:id/export `{preset?, format?, loudness_target?, captions?}` → 202."""

    @extend_schema(
        request=ExportInputSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request, project_id: uuid.UUID) -> Response:
        data = ExportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _start(request, project_id, data.validated_data)


class ProcessExportView(APIView):
    """POST /api/process/export `{project_id, preset?, format?, loudness_target?, captions?}`
    → 202 job."""

    @extend_schema(
        request=ProcessExportInputSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = ProcessExportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _start(request, data.validated_data["project_id"], data.validated_data)


class ExportDownloadView(APIView):
    """GET /api/process/export/:job_id/download → 302 to a fresh (signed) URL of the file."""

    @extend_schema(responses={302: None, **error_responses(401, 404, 409)})
    def get(self, request: Request, job_id: uuid.UUID) -> HttpResponse:
        job = get_job_for_user(request.user, job_id, need="view")
        url = export_download_url(job=job, links=MediaLinks(request.user))
        return HttpResponseRedirect(url)
