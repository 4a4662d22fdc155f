"""Timeline interchange over HTTP: the timeline as OTIO and YouTube chapters, and import an OTIO
timeline (exports themselves are the exports app's). Thin views: parse, fetch with permission,
call one service, serialize."""

from __future__ import annotations

import json
import re
import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ApiError, error_responses
from common.errors import ErrorCode
from common.parsers import JSONParser
from processing.interchange import chapters_for, timeline_import_otio, timeline_to_otio
from projects.models import Role
from projects.selectors import get_project_for_user
from timeline.api import TimelineSerializer
from timeline.selectors import timeline_get

OTIO_MAX_BYTES = 5 * 1024**2


def _filename(name: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", name).strip() or "timeline"
    return f"{stem[:80]}.{extension}"


class TimelineOtioView(APIView):
    """GET /api/projects/:id/timeline.otio → the timeline as an OpenTimelineIO JSON file."""

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **error_responses(401, 404)}
    )
    def get(self, request: Request, project_id: uuid.UUID) -> HttpResponse:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        response = HttpResponse(timeline_to_otio(project=project), content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="{_filename(project.name, "otio")}"'
        )
        return response


class OtioImportInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, required=False)


class TimelineOtioImportView(APIView):
    """POST /api/projects/:id/timeline/import-otio — the .otio document as the JSON body, or as
    a multipart field `file`; `?version=N` guards against overwriting someone's newer save."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        parameters=[OtioImportInputSerializer],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={200: TimelineSerializer, **error_responses(400, 401, 404, 409, 413)},
    )
    def post(self, request: Request, project_id: uuid.UUID) -> Response:
        params = OtioImportInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        upload = request.FILES.get("file") if request.FILES else None
        if upload is not None:
            if upload.size > OTIO_MAX_BYTES:
                raise ApiError(
                    ErrorCode.FILE_TOO_LARGE,
                    f"An .otio file may be at most {OTIO_MAX_BYTES // 1024**2} MiB.",
                )
            document = upload.read().decode("utf-8", errors="replace")
        elif isinstance(request.data, dict) and request.data:
            document = json.dumps(request.data)
        else:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                "Send the .otio document as the JSON body or as a file in the field 'file'.",
            )
        project = timeline_import_otio(
            project=project,
            user=request.user,
            document=document,
            version=params.validated_data.get("version"),
        )
        # The same answer as GET /api/projects/:id/timeline.
        return Response(TimelineSerializer(timeline_get(project=project)).data)


class ChaptersView(APIView):
    """GET /api/projects/:id/chapters → YouTube chapters (`00:00 Name` lines) or a 400 that
    names the YouTube rule the timeline breaks."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "Chapters",
                {
                    "chapters": serializers.ListField(child=serializers.DictField()),
                    "text": serializers.CharField(),
                },
            ),
            **error_responses(400, 401, 404),
        }
    )
    def get(self, request: Request, project_id: uuid.UUID) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        chapters, text = chapters_for(project=project)
        hours = text.split(" ", 1)[0].count(":") == 2
        return Response(
            {
                "chapters": [
                    {"start": c.start, "timestamp": c.timestamp(hours=hours), "title": c.title}
                    for c in chapters
                ],
                "text": text,
            }
        )
