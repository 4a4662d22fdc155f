"""The timeline over HTTP: read it, save it whole, create, edit or delete one segment, list
its versions and restore one."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import (
    ApiError,
    Pagination,
    error_responses,
    json_text_validator,
    paginated_response,
)
from common.errors import ErrorCode
from projects.models import Role
from projects.selectors import get_project_for_user
from timeline import rules
from timeline.captions import CaptionsError, format_srt, format_vtt, parse_captions
from timeline.fonts import FONT_IDS, FONTS
from timeline.limits import segment_count_error
from timeline.models import TimelineChange, TimelineSegment
from timeline.selectors import (
    caption_cues,
    deleted_segment_for_user,
    get_segment_for_user,
    timeline_get,
    timeline_history,
)
from timeline.services import (
    GONE_MESSAGE,
    captions_import,
    segment_create,
    segment_delete,
    segment_update,
    timeline_replace,
    timeline_restore,
)

T = TypeVar("T")


class SecondsField(serializers.DecimalField):
    """Seconds as a JSON number, rounded to milliseconds (clients send floats like 1.2000001)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("rounding", ROUND_HALF_UP)
        super().__init__(**kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        try:
            value = self.quantize(value)
        except InvalidOperation:
            # More whole digits than the field holds: quantizing needs more precision than
            # max_digits gives the decimal context.
            whole_digits = (self.max_digits or 0) - (self.decimal_places or 0)
            self.fail("max_whole_digits", max_whole_digits=whole_digits)
        return super().validate_precision(value)


class TransitionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=rules.TRANSITION_TYPES)
    duration = SecondsField(help_text="Seconds, centred on the cut.")


class TextSerializer(serializers.Serializer):
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)
    font = serializers.ChoiceField(choices=FONT_IDS, help_text="An id of GET /api/fonts.")
    size = serializers.FloatField(help_text="Canvas pixels at 1080 on the short side.")
    color = serializers.CharField(help_text="#RRGGBB or #RRGGBBAA.")
    background = serializers.CharField(allow_null=True, help_text="#RRGGBB, #RRGGBBAA or null.")
    x = serializers.FloatField(min_value=0, max_value=1)
    y = serializers.FloatField(min_value=0, max_value=1)
    align = serializers.ChoiceField(choices=rules.ALIGNS)


class SegmentSerializer(serializers.ModelSerializer):
    clip_id = serializers.UUIDField(read_only=True, allow_null=True)
    start_time = SecondsField(read_only=True)
    source_start = SecondsField(read_only=True)
    duration = SecondsField(read_only=True)
    volume = serializers.DecimalField(max_digits=4, decimal_places=3, read_only=True)
    fade_in = SecondsField(read_only=True)
    fade_out = SecondsField(read_only=True)
    transition = TransitionSerializer(read_only=True, allow_null=True)
    text = TextSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TimelineSegment
        fields = [
            "id",
            "clip_id",
            "name",
            "layer",
            "start_time",
            "source_start",
            "duration",
            "volume",
            "fade_in",
            "fade_out",
            "fit",
            "transition",
            "duck",
            "text",
        ]
        read_only_fields = fields


class SegmentWithVersionSerializer(SegmentSerializer):
    timeline_version = serializers.IntegerField(source="project.timeline_version", read_only=True)

    class Meta(SegmentSerializer.Meta):
        fields = [*SegmentSerializer.Meta.fields, "timeline_version"]
        read_only_fields = fields


class TimelineSerializer(serializers.Serializer):
    project_id = serializers.UUIDField()
    version = serializers.IntegerField()
    duration = SecondsField(max_digits=12)
    segments = SegmentSerializer(many=True)


class SegmentInputSerializer(serializers.Serializer):
    """A segment as sent. The fields after `duration` have no serializer default: a segment
    that leaves one out keeps its stored value (or gets the default when it is new), which the
    services decide (timeline/rules.py)."""

    clip_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Required on video and audio; null on text."
    )
    name = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")
    layer = serializers.ChoiceField(
        choices=TimelineSegment.Layer.choices, required=False, default=TimelineSegment.Layer.VIDEO
    )
    start_time = SecondsField(min_value=Decimal("0"))
    source_start = SecondsField(min_value=Decimal("0"), required=False, default=Decimal("0"))
    duration = SecondsField(min_value=Decimal("0.001"))
    volume = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        rounding=ROUND_HALF_UP,
        min_value=Decimal("0"),
        max_value=rules.VOLUME_MAX,
        required=False,
        help_text="Linear gain: 0 (mute) to 2; default 1.",
    )
    fade_in = SecondsField(min_value=Decimal("0"), required=False, help_text="Default 0.")
    fade_out = SecondsField(min_value=Decimal("0"), required=False, help_text="Default 0.")
    fit = serializers.ChoiceField(
        choices=TimelineSegment.Fit.choices,
        required=False,
        help_text="Default: the project's settings.fit.",
    )
    transition = serializers.JSONField(
        required=False,
        allow_null=True,
        validators=[json_text_validator],
        help_text='Video only: null or {"type": "crossfade"|"dip_to_black"|"dip_to_white"|'
        '"wipe"|"slide", "duration": seconds}.',
    )
    duck = serializers.BooleanField(required=False, help_text="Audio only; default false.")
    text = serializers.JSONField(
        required=False,
        allow_null=True,
        validators=[json_text_validator],
        help_text="Text and caption only: {content, font, size, color, background, x, y, "
        "align}; keys left out take their defaults (or, in a segment edit, stored values).",
    )


class TimelineSegmentInputSerializer(SegmentInputSerializer):
    id = serializers.UUIDField(required=False, allow_null=True)


class SegmentListField(serializers.ListField):
    """Refuses too many segments before validating each one (which would take seconds)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list):
            error = segment_count_error(len(data))
            if error is not None:
                raise serializers.ValidationError(error.message)
        return super().to_internal_value(data)


class TimelineInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0)
    segments = SegmentListField(child=TimelineSegmentInputSerializer(), allow_empty=True)


class SegmentUpdateInputSerializer(SegmentInputSerializer):
    version = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="The timeline version this edit is based on; 409 if someone saved since.",
    )


class VersionQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, required=False)


class RestoreInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The version to bring back.")


class ChangeAuthorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    # As everywhere else a member is named: a user without a name goes by their address's start.
    name = serializers.CharField(source="display_name")
    avatar_url = serializers.CharField()


class TimelineChangeSerializer(serializers.ModelSerializer):
    by = ChangeAuthorSerializer(allow_null=True, read_only=True)
    op = serializers.CharField(source="kind", read_only=True)

    class Meta:
        model = TimelineChange
        fields = ["version", "by", "at", "summary", "op"]
        read_only_fields = fields


def _first(messages: Any) -> str:
    while isinstance(messages, list | dict) and messages:
        messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
    return str(messages)


def _validation_error(errors: dict[str, Any]) -> ApiError:
    """Name the first bad segment and field, as the editor highlights that one."""
    details: dict[str, Any] = {"fields": errors}
    items = errors.get("segments")
    # DRF reports a list's errors either per position or keyed by the bad positions only.
    if isinstance(items, list):
        items = {i: item for i, item in enumerate(items) if isinstance(item, dict) and item}
    bad = {i: item for i, item in (items or {}).items() if isinstance(i, int)}
    if bad:
        index = min(bad)
        field = next(iter(bad[index]))
        details |= {"segment": index, "field": field}
        where = f"segments[{index}]" + ("" if field == "non_field_errors" else f".{field}")
        text = _first(bad[index][field])
    else:
        where = next(iter(errors))
        details["field"] = where
        text = _first(errors[where])
    if where == "non_field_errors":
        return ApiError(ErrorCode.VALIDATION_ERROR, f"Please correct the request: {text}", details)
    return ApiError(ErrorCode.VALIDATION_ERROR, f"Please correct {where}: {text}", details)


def _parse(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        raise _validation_error(serializer.errors)
    return dict(serializer.validated_data)


def _timed(call: Callable[[], T]) -> tuple[T, str]:
    """Run one timeline operation; also return its Server-Timing header, which tells clients
    (and bench/collab.py) how long the server spent applying it, lock wait included."""
    started = time.perf_counter()
    result = call()
    return result, f"apply;dur={(time.perf_counter() - started) * 1000:.2f}"


def _segment_for_edit(request: Request, segment_id: str) -> TimelineSegment:
    """The segment to edit (editor role); 409 (not 404) if it existed in a project of the
    caller's and was deleted."""
    try:
        return get_segment_for_user(request.user, segment_id, role=Role.EDITOR)
    except Http404:
        deleted = deleted_segment_for_user(request.user, segment_id, role=Role.EDITOR)
        if deleted is None:
            raise
        raise ApiError(
            ErrorCode.CONFLICT,
            GONE_MESSAGE,
            {"segment": None, "current_version": deleted.project.timeline_version},
        ) from None


class TimelineView(APIView):
    @extend_schema(responses={200: TimelineSerializer, **error_responses(401, 404)})
    def get(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        return Response(TimelineSerializer(timeline_get(project=project)).data)

    @extend_schema(
        request=TimelineInputSerializer,
        responses={200: TimelineSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        data = _parse(TimelineInputSerializer(data=request.data))
        project = timeline_replace(project=project, user=request.user, **data)
        return Response(TimelineSerializer(timeline_get(project=project)).data)


class SegmentListView(APIView):
    @extend_schema(
        request=SegmentInputSerializer,
        responses={201: SegmentWithVersionSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        data = _parse(SegmentInputSerializer(data=request.data))
        segment, timing = _timed(lambda: segment_create(project=project, user=request.user, **data))
        return Response(
            SegmentWithVersionSerializer(segment).data,
            status=status.HTTP_201_CREATED,
            headers={"Server-Timing": timing},
        )


class SegmentDetailView(APIView):
    @extend_schema(
        request=SegmentUpdateInputSerializer,
        responses={200: SegmentWithVersionSerializer, **error_responses(400, 401, 404, 409)},
    )
    def put(self, request: Request, segment_id: str) -> Response:
        return self._update(request, segment_id, partial=False)

    @extend_schema(
        request=SegmentUpdateInputSerializer,
        responses={200: SegmentWithVersionSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request: Request, segment_id: str) -> Response:
        return self._update(request, segment_id, partial=True)

    def _update(self, request: Request, segment_id: str, *, partial: bool) -> Response:
        segment = _segment_for_edit(request, segment_id)
        data = _parse(SegmentUpdateInputSerializer(data=request.data, partial=partial))
        segment, timing = _timed(lambda: segment_update(segment=segment, user=request.user, **data))
        return Response(
            SegmentWithVersionSerializer(segment).data, headers={"Server-Timing": timing}
        )

    @extend_schema(
        parameters=[VersionQuerySerializer],
        responses={204: None, **error_responses(400, 401, 404, 409)},
    )
    def delete(self, request: Request, segment_id: str) -> Response:
        segment = _segment_for_edit(request, segment_id)
        query = _parse(VersionQuerySerializer(data=request.query_params))
        _, timing = _timed(lambda: segment_delete(segment=segment, user=request.user, **query))
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Server-Timing": timing})


class TimelineHistoryView(APIView):
    pagination_class = Pagination

    @extend_schema(
        # 404: a page number past the last page.
        responses={200: TimelineChangeSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        return paginated_response(
            request, timeline_history(project=project), TimelineChangeSerializer, view=self
        )


class TimelineRestoreView(APIView):
    @extend_schema(
        request=RestoreInputSerializer,
        responses={200: TimelineSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        data = _parse(RestoreInputSerializer(data=request.data))
        project = timeline_restore(project=project, user=request.user, **data)
        return Response(TimelineSerializer(timeline_get(project=project)).data)


class FontSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The value of a text segment's `text.font`.")
    name = serializers.CharField()
    url = serializers.CharField(help_text="The font file (OTF or TTF), for @font-face.")
    family = serializers.CharField()
    weight = serializers.IntegerField()
    license = serializers.CharField()


class FontListView(APIView):
    """GET /api/fonts: the fonts `text.font` accepts, the default ones first."""

    @extend_schema(responses={200: FontSerializer(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(FontSerializer(FONTS, many=True).data)


# Subtitles of a 12-hour timeline are far below this; anything larger is not a subtitle file.
CAPTIONS_MAX_BYTES = 2 * 1024**2


def _attachment_name(name: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", name).strip() or "captions"
    return f"{stem[:80]}.{extension}"


class CaptionsImportQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="The timeline version the import is based on; 409 if someone saved since.",
    )


class CaptionsImportView(APIView):
    """POST /api/projects/:id/captions/import: an SRT or WebVTT file (multipart field `file`)
    becomes the caption layer, replacing the captions there were."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[CaptionsImportQuerySerializer],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={200: TimelineSerializer, **error_responses(400, 401, 403, 404, 409, 413)},
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = get_project_for_user(request.user, project_id, role=Role.EDITOR)
        query = _parse(CaptionsImportQuerySerializer(data=request.query_params))
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                "Send the subtitles (.srt or .vtt) as a file in the field 'file'.",
                {"field": "file"},
            )
        if upload.size is not None and upload.size > CAPTIONS_MAX_BYTES:
            raise ApiError(
                ErrorCode.FILE_TOO_LARGE,
                f"A subtitle file may be at most {CAPTIONS_MAX_BYTES // 1024**2} MiB.",
                {"max_bytes": CAPTIONS_MAX_BYTES},
            )
        try:
            cues = parse_captions(upload.read(), filename=upload.name or "")
        except CaptionsError as exc:
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                f"These subtitles cannot be read. {exc.message}",
                {"field": "file", "line": exc.line},
            ) from None
        project = captions_import(
            project=project,
            user=request.user,
            cues=cues,
            filename=(upload.name or "")[:100],
            **query,
        )
        return Response(TimelineSerializer(timeline_get(project=project)).data)


class CaptionsSrtView(APIView):
    """GET /api/projects/:id/captions.srt: the caption layer as SubRip."""

    @extend_schema(responses={(200, "application/x-subrip"): str, **error_responses(401, 404)})
    def get(self, request: Request, project_id: str) -> HttpResponse:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        response = HttpResponse(
            format_srt(caption_cues(project=project)),
            content_type="application/x-subrip; charset=utf-8",
        )
        name = _attachment_name(project.name, "srt")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CaptionsVttView(APIView):
    """GET /api/projects/:id/captions.vtt: the caption layer as WebVTT."""

    @extend_schema(responses={(200, "text/vtt"): str, **error_responses(401, 404)})
    def get(self, request: Request, project_id: str) -> HttpResponse:
        project = get_project_for_user(request.user, project_id, role=Role.VIEWER)
        response = HttpResponse(
            format_vtt(caption_cues(project=project), defaults=rules.TEXT_DEFAULTS["caption"]),
            content_type="text/vtt; charset=utf-8",
        )
        name = _attachment_name(project.name, "vtt")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
