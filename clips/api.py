"""Clips and uploads over HTTP: thin views that parse, fetch with permission, call one
service and serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clips.media_links import MediaLinkListSerializer, MediaLinks, media_links_for
from clips.models import Clip, UploadSession
from clips.selectors import (
    clips_for_project,
    get_clip_for_user,
    get_upload_for_user,
    upload_missing_chunks,
    upload_progress,
)
from clips.services import clips as clip_services
from clips.services import operations
from clips.services import uploads as upload_services
from common.api import (
    ApiError,
    Pagination,
    error_responses,
    json_text_validator,
    paginated_response,
)
from common.errors import ErrorCode
from common.parsers import JSONParser
from processing.api import JobSerializer
from projects.models import Role
from projects.selectors import get_project_for_user

# Multipart framing around the file: boundaries, headers and the `name` field.
MULTIPART_OVERHEAD = 64 * 1024


# --- serializers ------------------------------------------------------------------------------


class ClipSerializer(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    proxy_url = serializers.SerializerMethodField()
    filmstrip_url = serializers.SerializerMethodField()
    waveform_url = serializers.SerializerMethodField()
    upload_id = serializers.SerializerMethodField()

    class Meta:
        model = Clip
        fields = [
            "id",
            "project_id",
            "name",
            "description",
            "original_filename",
            "file_size",
            "duration",
            "resolution",
            "status",
            "metadata",
            "tags",
            "thumbnail_url",
            "proxy_url",
            "filmstrip_url",
            "waveform_url",
            "upload_id",
            "error_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        list_serializer_class = MediaLinkListSerializer

    def _link(self, clip: Clip, key: str) -> str | None:
        # Issued per request, for a caller who may see the clip's project; never stored.
        links = media_links_for(self.context)
        return links.url(project_id=clip.project_id, key=key) if links is not None else None

    def get_thumbnail_url(self, clip: Clip) -> str | None:
        return self._link(clip, clip.thumbnail_path)

    def get_proxy_url(self, clip: Clip) -> str | None:
        return self._link(clip, clip.proxy_path)

    def get_filmstrip_url(self, clip: Clip) -> str | None:
        return self._link(clip, clip.filmstrip_path)

    def get_waveform_url(self, clip: Clip) -> str | None:
        return self._link(clip, clip.waveform_path)

    def get_upload_id(self, clip: Clip) -> str | None:
        try:
            return str(clip.upload.pk)
        except ObjectDoesNotExist:
            return None


class UploadSerializer(serializers.ModelSerializer):
    """An upload with its progress, passed in the context by the view (one aggregate query)."""

    clip_id = serializers.UUIDField(read_only=True)
    received_chunks = serializers.SerializerMethodField()
    received_bytes = serializers.SerializerMethodField()

    class Meta:
        model = UploadSession
        fields = [
            "id",
            "clip_id",
            "filename",
            "size",
            "chunk_size",
            "total_chunks",
            "received_chunks",
            "received_bytes",
            "status",
            "expires_at",
        ]
        read_only_fields = fields

    def get_received_chunks(self, upload: UploadSession) -> int:
        return self.context["progress"].received_chunks

    def get_received_bytes(self, upload: UploadSession) -> int:
        return self.context["progress"].received_bytes


class UploadStatusSerializer(UploadSerializer):
    missing_chunks = serializers.SerializerMethodField()

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "missing_chunks"]
        read_only_fields = fields

    def get_missing_chunks(self, upload: UploadSession) -> list[int]:
        return upload_missing_chunks(upload=upload)


def upload_data(upload: UploadSession, *, with_missing: bool = False) -> dict[str, Any]:
    serializer_class = UploadStatusSerializer if with_missing else UploadSerializer
    return serializer_class(upload, context={"progress": upload_progress(upload=upload)}).data


class ClipUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=clip_services.MAX_TAG_LENGTH),
        max_length=clip_services.MAX_TAGS,
        required=False,
    )


class ClipFileInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)


class UploadStartInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    filename = serializers.CharField(max_length=1000)
    size = serializers.IntegerField(min_value=1)
    sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ChunkQuerySerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    index = serializers.IntegerField(min_value=0)


class UploadCompleteInputSerializer(serializers.Serializer):
    upload_id = serializers.UUIDField()
    sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True)


class OctetStreamParser(BaseParser):
    """Declares the raw chunk body; the view reads `request.stream` itself, bounded by the
    chunk size, so DRF never buffers or parses it."""

    media_type = "application/octet-stream"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream


class UploadStartedSerializer(serializers.Serializer):
    clip = ClipSerializer()
    upload = UploadSerializer()


# --- clips ------------------------------------------------------------------------------------


class ProjectClipListView(APIView):
    parser_classes = [JSONParser, MultiPartParser]
    throttle_scope = "upload"
    # Declared on the view so the schema describes the {count, next, previous, results} page.
    pagination_class = Pagination

    @extend_schema(responses={200: ClipSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, project_id: Any) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        return paginated_response(request, clips_for_project(project), ClipSerializer, view=self)

    @extend_schema(
        request={
            "application/json": UploadStartInputSerializer,
            "multipart/form-data": ClipFileInputSerializer,
        },
        # A file (multipart) answers the clip; a chunked upload's start (JSON), clip and upload.
        responses={
            201: PolymorphicProxySerializer(
                component_name="ClipCreated",
                serializers=[ClipSerializer, UploadStartedSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(400, 401, 404, 409, 413, 415),
        },
    )
    def post(self, request: Request, project_id: Any) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        if request.content_type.startswith("multipart/"):
            return self._create_from_file(request, project)
        data = UploadStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = upload_services.upload_start(
            user=request.user, project=project, **data.validated_data
        )
        return Response(
            {
                "clip": ClipSerializer(upload.clip, context={"request": request}).data,
                "upload": upload_data(upload),
            },
            status=status.HTTP_201_CREATED,
        )

    def _create_from_file(self, request: Request, project: Any) -> Response:
        # Refuse an oversized body before Django reads (and spools) a byte of it.
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.UPLOAD_SINGLE_REQUEST_MAX + MULTIPART_OVERHEAD:
            clip_services.raise_single_request_too_large(length)
        data = ClipFileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clip = clip_services.clip_create_from_file(
            user=request.user,
            project=project,
            file=data.validated_data["file"],
            name=data.validated_data.get("name"),
        )
        return Response(
            ClipSerializer(clip, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ClipDetailView(APIView):
    @extend_schema(responses={200: ClipSerializer, **error_responses(401, 404)})
    def get(self, request: Request, clip_id: Any) -> Response:
        clip = get_clip_for_user(request.user, clip_id, role=Role.VIEWER)
        return Response(ClipSerializer(clip, context={"request": request}).data)

    @extend_schema(
        request=ClipUpdateInputSerializer,
        responses={200: ClipSerializer, **error_responses(400, 401, 404)},
    )
    def put(self, request: Request, clip_id: Any) -> Response:
        return self._update(request, clip_id, partial=False)

    @extend_schema(
        request=ClipUpdateInputSerializer,
        responses={200: ClipSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request: Request, clip_id: Any) -> Response:
        return self._update(request, clip_id, partial=True)

    def _update(self, request: Request, clip_id: Any, *, partial: bool) -> Response:
        clip = get_clip_for_user(request.user, clip_id, role=Role.EDITOR)
        data = ClipUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        clip = clip_services.clip_update(clip=clip, **data.validated_data)
        return Response(ClipSerializer(clip, context={"request": request}).data)

    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, clip_id: Any) -> Response:
        clip = get_clip_for_user(request.user, clip_id, role=Role.EDITOR)
        clip_services.clip_delete(clip=clip, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClipDownloadView(APIView):
    @extend_schema(responses={302: None, **error_responses(401, 404, 409)})
    def get(self, request: Request, clip_id: Any) -> HttpResponseRedirect:
        clip = get_clip_for_user(request.user, clip_id, role=Role.VIEWER)
        if not clip.file_path:
            raise ApiError(
                ErrorCode.CONFLICT,
                "This clip has no stored file to download"
                + (
                    " yet: its upload is not complete."
                    if clip.status == Clip.Status.UPLOADING
                    else "."
                ),
                {"status": clip.status},
            )
        url = MediaLinks(request.user).url(
            project_id=clip.project_id,
            key=clip.file_path,
            download_name=clip.original_filename or clip.name,
        )
        if url is None:
            raise Http404("No such clip.")
        return HttpResponseRedirect(url)


class ClipRetryView(APIView):
    @extend_schema(request=None, responses={202: JobSerializer, **error_responses(401, 404, 409)})
    def post(self, request: Request, clip_id: Any) -> Response:
        clip = get_clip_for_user(request.user, clip_id, role=Role.EDITOR)
        job = clip_services.clip_retry(clip=clip)
        return Response(
            JobSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


# --- chunked uploads --------------------------------------------------------------------------


class UploadChunkView(APIView):
    """Store chunk `index` (from 0) of an upload: the raw bytes are the body.

    Every chunk but the last is exactly `chunk_size` bytes. With `X-Chunk-SHA256` a damaged
    chunk is refused (400) and nothing is kept. Sending a stored chunk again with the same
    bytes is a no-op (200); with other bytes it is refused (409): stored chunks are never
    replaced, cancel the upload to start over. Chunks may arrive in any order and in parallel.
    """

    parser_classes = [OctetStreamParser]
    throttle_scope = "upload"

    @extend_schema(
        parameters=[
            ChunkQuerySerializer,
            OpenApiParameter(
                "X-Chunk-SHA256",
                str,
                OpenApiParameter.HEADER,
                description="The chunk's SHA-256 (hex): a damaged chunk is refused.",
            ),
        ],
        request={"application/octet-stream": bytes},
        responses={200: UploadSerializer, **error_responses(400, 401, 404, 409, 413)},
    )
    def post(self, request: Request) -> Response:
        query = ChunkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        upload = get_upload_for_user(
            request.user, query.validated_data["upload_id"], role=Role.EDITOR
        )
        upload = upload_services.upload_chunk_store(
            upload=upload,
            index=query.validated_data["index"],
            stream=request.stream,
            sha256=request.headers.get("X-Chunk-SHA256"),
        )
        return Response(upload_data(upload))


class UploadCompleteView(APIView):
    """Assemble the chunks into the clip's file and start processing (200 clip).

    Missing chunks answer 409 UPLOAD_INCOMPLETE with `details.missing_chunks`. When a
    `sha256` (here or at the start) does not match the assembled file, the answer is 400 and
    every chunk is discarded: the upload stays active and the whole file must be sent again.
    """

    parser_classes = [JSONParser]
    throttle_scope = "upload"

    @extend_schema(
        request=UploadCompleteInputSerializer,
        # 503: the storage could not assemble the chunks; completing again retries.
        responses={200: ClipSerializer, **error_responses(400, 401, 404, 409, 413, 503)},
    )
    def post(self, request: Request) -> Response:
        data = UploadCompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = get_upload_for_user(
            request.user, data.validated_data["upload_id"], role=Role.EDITOR
        )
        clip = upload_services.upload_complete(
            upload=upload, sha256=data.validated_data.get("sha256")
        )
        return Response(ClipSerializer(clip, context={"request": request}).data)


class UploadStatusView(APIView):
    @extend_schema(responses={200: UploadStatusSerializer, **error_responses(401, 404)})
    def get(self, request: Request, upload_id: Any) -> Response:
        upload = get_upload_for_user(request.user, upload_id, role=Role.EDITOR)
        return Response(upload_data(upload, with_missing=True))


class UploadCancelView(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 404, 409)})
    def delete(self, request: Request, upload_id: Any) -> Response:
        upload = get_upload_for_user(request.user, upload_id, role=Role.EDITOR)
        upload_services.upload_cancel(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- processing operations --------------------------------------------------------------------


class ProcessClipInputSerializer(serializers.Serializer):
    clip_id = serializers.UUIDField()
    operation = serializers.ChoiceField(choices=operations.CLIP_OPERATIONS, default="transcode")
    params = serializers.DictField(
        required=False, default=dict, allow_empty=True, validators=[json_text_validator]
    )


class ProcessClipView(APIView):
    @extend_schema(
        request=ProcessClipInputSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = ProcessClipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clip = get_clip_for_user(request.user, data.validated_data["clip_id"], role=Role.EDITOR)
        job = operations.clip_process_start(
            user=request.user,
            clip=clip,
            operation=data.validated_data["operation"],
            params=data.validated_data["params"],
        )
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )
